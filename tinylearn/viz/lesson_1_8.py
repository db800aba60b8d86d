"""The interactive figures of lesson 1.8 (convolutional networks): filters, output sizes, channels,
pooling, landmark architectures and the gradient highway of residual connections.

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure`` (no pyplot, no global
state); :func:`widget` wraps one in ipywidgets controls. The numbers come from the library itself:
``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``, :func:`tinylearn.nn.conv_output_size` and real
backward passes through :mod:`tinylearn.nn` layers.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`kernel_slide`                   1.8.1    a 3×3 filter sliding over a digit, the feature map
                                                filling in (``frame`` = window position);
                                                :func:`kernel_slide_animation` animates it
:func:`output_size_explorer`           1.8.2    input size, kernel, stride, padding, dilation:
                                                the windows on the grid and ⌊(W − K + 2P)/S⌋ + 1
:func:`channel_conv_step`              1.8.3    one output channel = Σ over input channels + bias,
                                                one window per step
:func:`pooling_view`                   1.8.3    max vs average pooling, the winners of the max
:func:`gradient_flow`                  1.8.5    gradient norm per layer, plain CNN vs residual
=====================================  =======  ==================================================

Also: :data:`KERNELS` (the named 3×3 filters), :func:`digit`, :func:`feature_map`,
:func:`layer_shapes` / :func:`alexnet_layers` / :func:`architecture_figure` (the static diagrams
of 1.8.4) and :func:`layer_gradient_norms` (the numbers behind :func:`gradient_flow`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CONTROLS",
    "KERNELS",
    "alexnet_layers",
    "architecture_figure",
    "channel_conv_step",
    "channel_example",
    "digit",
    "feature_map",
    "gradient_flow",
    "kernel_slide",
    "kernel_slide_animation",
    "layer_gradient_norms",
    "layer_shapes",
    "output_size_explorer",
    "pooling_example",
    "pooling_view",
    "widget",
]

# The named 3×3 filters of 1.8.1 (cross-correlation weights, as conv2d uses them).
KERNELS: dict[str, np.ndarray] = {
    "vertical edge": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),  # Sobel x
    "horizontal edge": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),  # Sobel y
    "outline": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32),  # Laplacian
    "blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float32),
}


# ------------------------------------------------------------------------------------------------
# The numbers
# ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _digits() -> np.ndarray:
    from ..data import FontDigits

    return FontDigits(train=False, n_samples=10, seed=0).data.astype(np.float32) / 255.0


def digit(index: int = 0) -> np.ndarray:
    """Image ``index`` (0-9) of a fixed set of 10 FontDigits test images, (28, 28) float32 in [0, 1]."""
    return _digits()[index % 10]


def feature_map(image: np.ndarray, kernel: np.ndarray, padding: int = 0) -> np.ndarray:
    """``F.conv2d`` of one (H, W) image with one (k, k) filter, as a NumPy (Ho, Wo) array."""
    from .. import tensor
    from ..nn import functional as F

    x = tensor(np.asarray(image, dtype=np.float32)[None, None])
    w = tensor(np.asarray(kernel, dtype=np.float32)[None, None])
    return F.conv2d(x, w, padding=padding).numpy()[0, 0]


def channel_example(seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """A small integer example for 1.8.3: input (3, 5, 5), one filter (3, 3, 3) and a bias."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(3, 5, 5)).astype(np.float32)
    w = rng.integers(-1, 2, size=(3, 3, 3)).astype(np.float32)
    return x, w, 1.0


def pooling_example(seed: int = 0) -> np.ndarray:
    """An (8, 8) grid of small integers, the input of :func:`pooling_view`."""
    return np.random.default_rng(seed).integers(0, 10, size=(8, 8)).astype(np.float32)


_MERGED = ("BatchNorm2d", "ReLU", "Tanh", "Identity", "Dropout")


def _layer_name(module: Any) -> str:
    kind = type(module).__name__
    if kind == "Conv2d":
        (k, _), (s, _) = module.kernel_size, module.stride
        return f"conv {k}×{k}" + (f"/{s}" if s > 1 else "")
    if kind in ("MaxPool2d", "AvgPool2d"):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return f"{kind[:3].lower()}pool {k}×{k}"
    if kind == "AdaptiveAvgPool2d":
        return "global avgpool"
    if kind == "Linear":
        return f"fc {module.out_features}"
    if kind in ("BasicBlock", "Bottleneck"):
        return "res block" + (f"/{module.stride}" if module.stride > 1 else "")
    return kind


def layer_shapes(modules: list[Any], input_shape: tuple[int, ...]) -> list[tuple[str, tuple, int]]:
    """Run a zero batch of ``input_shape`` through ``modules`` in order (under ``no_grad``); return one
    ``(name, output shape without the batch, parameters)`` row per convolution, pooling, linear layer
    or residual block. BatchNorm, activations, dropout and flatten are folded into the row before
    (their parameters counted there), as diagrams usually draw them."""
    from .. import no_grad, zeros

    rows: list[tuple[str, tuple, int]] = []
    x = zeros(1, *input_shape)
    with no_grad():
        for module in modules:
            x = module(x)
            params = sum(p.numel() for p in module.parameters())
            if type(module).__name__ == "Flatten":
                continue
            if type(module).__name__ in _MERGED and rows:
                name, _, before = rows[-1]
                rows[-1] = (name, tuple(x.shape[1:]), before + params)
            else:
                rows.append((_layer_name(module), tuple(x.shape[1:]), params))
    return rows


def alexnet_layers() -> list[tuple[str, tuple, int]]:
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012) from its published layer list, one-tower
    version (no split across two GPUs), 227×227 inputs: ``(name, output shape, parameters)``,
    the sizes computed with :func:`tinylearn.nn.conv_output_size`."""
    from ..nn import conv_output_size

    spec = [  # (kind, out_channels, kernel, stride, padding)
        ("conv", 96, 11, 4, 0),
        ("pool", None, 3, 2, 0),
        ("conv", 256, 5, 1, 2),
        ("pool", None, 3, 2, 0),
        ("conv", 384, 3, 1, 1),
        ("conv", 384, 3, 1, 1),
        ("conv", 256, 3, 1, 1),
        ("pool", None, 3, 2, 0),
    ]
    c, h = 3, 227
    rows = []
    for kind, out, k, s, p in spec:
        h = conv_output_size(h, k, s, p)
        if kind == "conv":
            rows.append((f"conv {k}×{k}/{s}", (out, h, h), out * c * k * k + out))
            c = out
        else:
            rows.append((f"maxpool {k}×{k}/{s}", (c, h, h), 0))
    width = c * h * h
    for out in (4096, 4096, 1000):
        rows.append((f"fc {out}", (out,), width * out + out))
        width = out
    return rows


def layer_gradient_norms(
    depth: int = 20, residual: bool = False, width: int = 8, seed: int = 0
) -> np.ndarray:
    """The gradient norm ‖∂L/∂Wₗ‖ of each of ``depth`` 3×3 convolutions, from one real backward pass.

    The network: a stem convolution (3 → ``width`` channels), then ``depth // 2`` blocks of
    conv → ReLU → conv, each followed by ReLU; with ``residual`` a block computes
    ``ReLU(x + conv(ReLU(conv(x))))`` (the identity shortcut of a ResNet ``BasicBlock``), without it
    ``ReLU(conv(ReLU(conv(x))))``. Then a global average pool and a linear layer to 10 classes,
    cross-entropy on random labels. PyTorch's default initialisation, no normalisation, so the
    only difference between the two networks is the ``+ x``. Returns the norms, first layer first
    (the stem included: ``depth + 1`` numbers).
    """
    return _gradient_norms(int(depth), bool(residual), int(width), int(seed)).copy()


@lru_cache(maxsize=64)
def _gradient_norms(depth: int, residual: bool, width: int, seed: int) -> np.ndarray:
    from .. import Generator, manual_seed, nn, randn, tensor
    from ..nn import functional as F

    manual_seed(seed)
    stem = nn.Conv2d(3, width, 3, padding=1)
    convs = [nn.Conv2d(width, width, 3, padding=1) for _ in range(2 * (depth // 2))]
    head = nn.Linear(width, 10)
    gen = Generator().manual_seed(seed + 1)
    x = randn(8, 3, 8, 8, generator=gen)
    labels = tensor(np.random.default_rng(seed).integers(0, 10, size=8))
    h = F.relu(stem(x))
    for i in range(0, len(convs), 2):
        f = convs[i + 1](F.relu(convs[i](h)))
        h = F.relu(h + f if residual else f)
    loss = F.cross_entropy(head(h.mean((2, 3))), labels)
    loss.backward()
    return np.array([float(np.linalg.norm(c.weight.grad.numpy())) for c in [stem, *convs]])


# ------------------------------------------------------------------------------------------------
# 1.8.1: a filter sliding over a digit
# ------------------------------------------------------------------------------------------------


def _grid_values(ax: Any, values: np.ndarray, fmt: str = "{:g}", size: float = 8.0) -> None:
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=size, color="black")


def _slide_panels(fig: Any, kernel: str, index: int) -> tuple[Any, ...]:
    img, k = digit(index), KERNELS[kernel]
    out = feature_map(img, k)
    left, middle, right = fig.subplots(1, 3, width_ratios=[1.0, 0.45, 1.0])
    left.imshow(img, cmap="gray", vmin=0, vmax=1)
    left.set_title("input: a FontDigits digit, 28×28")
    middle.imshow(k, cmap="coolwarm", vmin=-np.abs(k).max(), vmax=np.abs(k).max())
    _grid_values(middle, k, "{:.2g}", 10)
    middle.set_title(f"filter '{kernel}'")
    lim = float(np.abs(out).max()) or 1.0
    for ax in (left, middle, right):
        ax.set_xticks([])
        ax.set_yticks([])
    return img, k, out, lim, left, middle, right


def _window_patch(row: int, col: int, size: int = 3, color: str = "tab:red") -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((col - 0.5, row - 0.5), size, size, fill=False, edgecolor=color, lw=2)


@interactive(section="1.8.1", title="a filter sliding over a digit, the feature map filling in (animated)")
def kernel_slide(frame: int = 300, kernel: str = "vertical edge", image: int = 0) -> Figure:
    """Window position ``frame`` (row-major over the 26×26 outputs) of a 3×3 ``kernel`` over digit
    ``image``: the window on the input, the filter, and the output map computed up to that window.
    The title prints the window's weighted sum, equal to the ``F.conv2d`` output at that place."""
    fig = new_figure(figsize=(9.5, 3.6), layout="constrained")
    img, k, out, lim, left, _, right = _slide_panels(fig, kernel, image)
    ho, wo = out.shape
    frame = int(np.clip(frame, 0, ho * wo - 1))
    r, c = divmod(frame, wo)
    partial = np.full(out.shape, np.nan)
    partial.flat[: frame + 1] = out.flat[: frame + 1]
    left.add_patch(_window_patch(r, c))
    right.imshow(partial, cmap="coolwarm", vmin=-lim, vmax=lim)
    right.add_patch(_window_patch(r, c, 1, "black"))
    patch = img[r : r + 3, c : c + 3]
    value = float(np.sum(patch * k))
    right.set_title(f"output[{r}, {c}] = Σ window · filter = {value:.3f}")
    fig.suptitle(f"window {frame + 1} of {ho * wo} (conv2d gives {out[r, c]:.3f} here)")
    return fig


def kernel_slide_animation(
    kernel: str = "vertical edge", image: int = 0, frames: int = 26, interval: int = 150
) -> Any:
    """:func:`kernel_slide` as a ``FuncAnimation`` of ``frames`` window positions spread evenly over
    the image (show it with :func:`tinylearn.viz.animation_html`)."""
    from matplotlib.animation import FuncAnimation

    fig = new_figure(figsize=(9.5, 3.6), layout="constrained")
    _, _, out, lim, left, _, right = _slide_panels(fig, kernel, image)
    ho, wo = out.shape
    positions = np.linspace(0, ho * wo - 1, frames).round().astype(int)
    shown = right.imshow(np.full(out.shape, np.nan), cmap="coolwarm", vmin=-lim, vmax=lim)
    window, cell = _window_patch(0, 0), _window_patch(0, 0, 1, "black")
    left.add_patch(window)
    right.add_patch(cell)

    def draw(i: int) -> tuple[Any, ...]:
        pos = int(positions[i])
        r, c = divmod(pos, wo)
        partial = np.full(out.shape, np.nan)
        partial.flat[: pos + 1] = out.flat[: pos + 1]
        shown.set_data(partial)
        window.set_xy((c - 0.5, r - 0.5))
        cell.set_xy((c - 0.5, r - 0.5))
        right.set_title(f"output[{r}, {c}] = {out[r, c]:.3f}")
        return shown, window, cell

    return FuncAnimation(fig, draw, frames=len(positions), interval=interval, blit=False)


# ------------------------------------------------------------------------------------------------
# 1.8.2: the output size
# ------------------------------------------------------------------------------------------------


def _conv_shape(size: int, kernel: int, stride: int, padding: int, dilation: int) -> tuple[int, ...] | str:
    """The spatial shape of an actual ``F.conv2d`` output, or the library's error message."""
    from .. import ones, zeros
    from ..nn import functional as F

    try:
        y = F.conv2d(zeros(1, 1, size, size), ones(1, 1, kernel, kernel), stride=stride, padding=padding,
                     dilation=dilation)  # fmt: skip
    except RuntimeError as exc:
        return str(exc).split(":")[0] + ": no window fits"
    return tuple(y.shape[2:])


@interactive(section="1.8.2", title="output-size explorer: input, kernel, stride, padding, dilation")
def output_size_explorer(
    size: int = 7, kernel: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1
) -> Figure:
    """The padded input grid (padding shaded), the taps of the first and the last window along a row
    and the start of every window; the output grid; the formula with the numbers, from
    :func:`tinylearn.nn.conv_output_size` and checked against the shape ``F.conv2d`` returns."""
    from matplotlib.patches import Rectangle

    from ..nn import conv_output_size

    out = conv_output_size(size, kernel, stride, padding, dilation)
    actual = _conv_shape(size, kernel, stride, padding, dilation)
    full = size + 2 * padding
    span = dilation * (kernel - 1) + 1
    fig = new_figure(figsize=(9.5, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.3, 1.0])
    for r in range(full):
        for c in range(full):
            pad = not (padding <= r < padding + size and padding <= c < padding + size)
            left.add_patch(
                Rectangle((c, r), 1, 1, facecolor="0.85" if pad else "white", edgecolor="0.6", lw=0.5)
            )
    starts = [i * stride for i in range(out)]
    for idx, (s, color) in enumerate(((starts[0], "tab:red"), (starts[-1], "tab:blue")) if out else ()):
        for i in range(kernel):
            for j in range(kernel):
                rr, cc = i * dilation, s + j * dilation
                left.add_patch(
                    Rectangle((cc + 0.12, rr + 0.12), 0.76, 0.76, facecolor=color, alpha=0.45 + 0.1 * idx)
                )
    for s in starts:
        left.plot(s + 0.5, -0.45, "v", color="black", markersize=5, clip_on=False)
    left.set_xlim(-0.2, max(full, span) + 0.2)
    left.set_ylim(max(full, span) + 0.2, -1.0)
    left.set_aspect("equal")
    left.axis("off")
    left.set_title(f"input {size}×{size}, padding {padding} (grey); first window red, last blue; "
                   f"▼ = window starts", fontsize=9)  # fmt: skip
    for r in range(out):
        for c in range(out):
            right.add_patch(Rectangle((c, r), 1, 1, facecolor="tab:green", alpha=0.5, edgecolor="black"))
    right.set_xlim(-0.2, max(out, 1) + 0.2)
    right.set_ylim(max(out, 1) + 0.2, -0.2)
    right.set_aspect("equal")
    right.axis("off")
    formula = (
        f"⌊(W − D·(K−1) − 1 + 2P) / S⌋ + 1 = "
        f"⌊({size} − {dilation}·{kernel - 1} − 1 + 2·{padding}) / {stride}⌋ + 1 = {out}"
    )
    right.set_title(f"output {out}×{out}\nF.conv2d output: {actual}", fontsize=10)
    fig.suptitle(formula + ("   (D = 1: ⌊(W − K + 2P)/S⌋ + 1)" if dilation == 1 else ""), fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------------
# 1.8.3: channels and pooling
# ------------------------------------------------------------------------------------------------


@interactive(section="1.8.3", title="step through a convolution over 3 input channels: Σ channels + bias")
def channel_conv_step(step: int = 0, seed: int = 0) -> Figure:
    """One output channel of a 3-channel input (5×5) and a (3, 3, 3) filter with a bias, at window
    ``step`` (0-8): each channel's window · its filter slice, their sum plus the bias, and the output
    grid computed so far (the full grid is ``F.conv2d``'s)."""
    from .. import tensor
    from ..nn import functional as F

    x, w, b = channel_example(seed)
    y = F.conv2d(tensor(x[None]), tensor(w[None]), tensor(np.array([b], dtype=np.float32))).numpy()[0, 0]
    step = int(np.clip(step, 0, y.size - 1))
    r, c = divmod(step, y.shape[1])
    fig = new_figure(figsize=(10.0, 5.2), layout="constrained")
    axes = fig.subplots(2, 4)
    sums = []
    for ch in range(3):
        top, bottom = axes[0, ch], axes[1, ch]
        top.imshow(x[ch], cmap="Blues", vmin=-2, vmax=8)
        _grid_values(top, x[ch], size=9)
        top.add_patch(_window_patch(r, c))
        bottom.imshow(w[ch], cmap="coolwarm", vmin=-2.5, vmax=2.5)
        _grid_values(bottom, w[ch], size=10)
        part = float(np.sum(x[ch, r : r + 3, c : c + 3] * w[ch]))
        sums.append(part)
        top.set_title(f"input channel {ch}")
        bottom.set_title(f"filter slice {ch}: Σ = {part:g}", fontsize=10)
    total = sum(sums) + b
    partial = np.full(y.shape, np.nan)
    partial.flat[: step + 1] = y.flat[: step + 1]
    out_ax = axes[0, 3]
    out_ax.imshow(partial, cmap="Greens", vmin=y.min() - 1, vmax=y.max() + 1)
    for (i, j), v in np.ndenumerate(partial):
        if not np.isnan(v):
            out_ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=10)
    out_ax.add_patch(_window_patch(r, c, 1, "black"))
    out_ax.set_title("output channel (3×3)")
    note = axes[1, 3]
    note.axis("off")
    note.text(0.0, 0.5, " + ".join(f"{s:g}" for s in sums) + f"\n+ bias {b:g}\n= {total:g}"
              f"\n\nF.conv2d: {y[r, c]:g}", fontsize=11, va="center")  # fmt: skip
    for ax in axes.flat[:7]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"window {step + 1} of {y.size}: output[{r}, {c}] = Σ over channels of (window · slice) + bias"
    )
    return fig


@interactive(section="1.8.3", title="max vs average pooling, kernel and stride; which input won the max")
def pooling_view(mode: str = "max", kernel: int = 2, stride: int = 2, seed: int = 0) -> Figure:
    """Pooling an 8×8 grid with ``kernel``×``kernel`` windows moved by ``stride``: ``"max"`` (each
    winner, from ``F.max_pool2d(..., return_indices=True)``, circled in its window's colour) or
    ``"avg"`` (``F.avg_pool2d``); the output grid beside it."""
    from matplotlib.patches import Circle, Rectangle

    from .. import tensor
    from ..nn import functional as F

    grid = pooling_example(seed)
    x = tensor(grid[None, None])
    if mode == "max":
        y, idx = F.max_pool2d(x, kernel, stride, return_indices=True)
        winners = idx.numpy()[0, 0]
    else:
        y, winners = F.avg_pool2d(x, kernel, stride), None
    y = y.numpy()[0, 0]
    fig = new_figure(figsize=(9.5, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.0, 0.8])
    left.imshow(grid, cmap="Greys", vmin=-2, vmax=25)
    _grid_values(left, grid, size=10)
    colors = [f"C{i % 10}" for i in range(y.size)]
    for n, (r, c) in enumerate(np.ndindex(*y.shape)):
        r0, c0 = r * stride, c * stride
        inset = 0.06 * (n % 3)
        left.add_patch(Rectangle((c0 - 0.5 + inset, r0 - 0.5 + inset), kernel - 2 * inset, kernel - 2 * inset,
                                 fill=False, edgecolor=colors[n], lw=1.6))  # fmt: skip
        if winners is not None:
            wr, wc = divmod(int(winners[r, c]), grid.shape[1])
            left.add_patch(Circle((wc, wr), 0.38, fill=False, edgecolor=colors[n], lw=2.2))
    left.set_xticks([])
    left.set_yticks([])
    left.set_title(f"input 8×8, {kernel}×{kernel} windows, stride {stride}")
    right.imshow(y, cmap="Greys", vmin=-2, vmax=25)
    for n, ((r, c), v) in enumerate(np.ndenumerate(y)):
        right.text(
            c, r, f"{v:.3g}", ha="center", va="center", fontsize=10, color=colors[n], fontweight="bold"
        )
    right.set_xticks([])
    right.set_yticks([])
    right.set_title(f"{mode} pool → {y.shape[0]}×{y.shape[1]}")
    if winners is not None:
        fig.suptitle("max pooling: each circled input won its window (return_indices); only it gets gradient")
    else:
        fig.suptitle("average pooling: each output is its window's mean; the gradient is shared equally")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.8.4: architecture diagrams (static, no interactive)
# ------------------------------------------------------------------------------------------------

_KIND_COLORS = {"conv": "#8ecae6", "pool": "#ffb703", "fc": "#b7e4c7", "block": "#cdb4db", "other": "0.85"}


def _kind(name: str) -> str:
    low = name.lower()
    for key, kind in (("pool", "pool"), ("conv", "conv"), ("fc", "fc"), ("linear", "fc"), ("layer", "block"),
                      ("block", "block")):  # fmt: skip
        if key in low:
            return kind
    return "other"


def architecture_figure(rows: list[tuple[str, tuple, int]], title: str, max_boxes: int = 24) -> Figure:
    """A chain of layer boxes, one per ``(name, output shape, parameters)`` row (from
    :func:`layer_shapes` or :func:`alexnet_layers`): the box height grows with the spatial size,
    the colour says the kind (convolution, pooling, fully connected, residual block)."""
    from matplotlib.patches import FancyBboxPatch

    rows = rows[:max_boxes]
    fig = new_figure(figsize=(max(6.0, 0.78 * len(rows) + 1), 2.6), layout="constrained")
    ax = fig.add_subplot()
    sides = [shape[-1] if len(shape) == 3 else 1 for _, shape, _ in rows]
    biggest = max(sides)
    for i, ((name, shape, _), side) in enumerate(zip(rows, sides, strict=True)):
        height = 0.35 + 1.4 * np.sqrt(side / biggest)
        ax.add_patch(FancyBboxPatch((i + 0.08, -height / 2), 0.78, height, boxstyle="round,pad=0.02",
                                    facecolor=_KIND_COLORS[_kind(name)], edgecolor="0.3"))  # fmt: skip
        ax.text(i + 0.47, height / 2 + 0.12, name, rotation=60, fontsize=7, ha="left", va="bottom")
        ax.text(
            i + 0.47, 0, "×".join(str(s) for s in shape), rotation=90, fontsize=7, ha="center", va="center"
        )
        if i:
            ax.annotate("", (i + 0.08, 0), (i - 0.14, 0), arrowprops={"arrowstyle": "->", "color": "0.4"})
    total = sum(p for *_, p in rows)
    ax.set_xlim(-0.2, len(rows) + 0.2)
    ax.set_ylim(-1.2, 2.6)
    ax.axis("off")
    ax.set_title(f"{title}: {total:,} parameters", fontsize=10, loc="left")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.8.5: gradient flow with and without the shortcut
# ------------------------------------------------------------------------------------------------


@interactive(section="1.8.5", title="gradient norm per layer: plain CNN vs residual, depth slider")
def gradient_flow(depth: int = 20, log_scale: bool = True) -> Figure:
    """‖∂L/∂Wₗ‖ for every convolution of a plain network and of the same network with identity
    shortcuts (:func:`layer_gradient_norms`, real backward passes on a batch of 8 random 8×8
    images), first layer on the left; and the ratio first/last layer of each."""
    plain = layer_gradient_norms(depth, residual=False)
    res = layer_gradient_norms(depth, residual=True)
    fig = new_figure(figsize=(9.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    layers = np.arange(len(plain))
    ax.plot(layers, plain, "o-", color="tab:red", label="plain: h = ReLU(F(h))")
    ax.plot(layers, res, "s-", color="tab:blue", label="residual: h = ReLU(h + F(h))")
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("layer (0 = first convolution, input side)")
    ax.set_ylabel("‖∂L/∂W‖ of the layer")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    ax.set_title(f"{len(plain)} convolutions: first/last gradient norm {plain[0] / plain[-1]:.2g} (plain), "
                 f"{res[0] / res[-1]:.2g} (residual)")  # fmt: skip
    return fig


CONTROLS: dict[str, dict[str, Any]] = {
    "kernel_slide": {"frame": (0, 675, 1), "kernel": list(KERNELS), "image": (0, 9, 1)},
    "output_size_explorer": {
        "size": (1, 12, 1),
        "kernel": (1, 7, 1),
        "stride": (1, 4, 1),
        "padding": (0, 3, 1),
        "dilation": (1, 3, 1),
    },
    "channel_conv_step": {"step": (0, 8, 1), "seed": (0, 9, 1)},
    "pooling_view": {"mode": ["max", "avg"], "kernel": (1, 4, 1), "stride": (1, 4, 1), "seed": (0, 9, 1)},
    "gradient_flow": {"depth": (2, 40, 2), "log_scale": bool},
}

"""The interactive figures of lesson 1.6 (initializing weights): signals through depth, initializers raced.

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure``; :func:`widget` puts
controls around it. The numbers come from tinylearn itself: weights filled by :mod:`tinylearn.nn.init`,
forward and backward passes by autograd, training by :class:`tinylearn.optim.SGD`.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`signal_through_depth`           1.6.1    activations (histograms) and activation/gradient
                                                std layer by layer for a chosen weight std,
                                                activation and depth; constant init (symmetry)
:func:`initializers_compared`          1.6.4    zeros, small normal, PyTorch default, Xavier, He
                                                on tanh and ReLU nets: per-layer std at init and
                                                the loss of a short training run (cached)
=====================================  =======  ==================================================

The numbers behind them: :func:`signal_stats` (one pass through a deep stack of layers),
:func:`train_run` (one cached training run), :func:`init_scheme` (fill a layer as a scheme says) and
:func:`init_distribution` (which distribution an initializer of :mod:`tinylearn.nn.init` draws from).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import random as tl_random
from ..data.toy import make_spirals
from ..dtypes import float64
from ..nn import functional as F
from ..nn import init
from ..tensor import Tensor, tensor, zeros
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACTIVATIONS",
    "CONTROLS",
    "SCHEMES",
    "SignalStats",
    "TrainRun",
    "forked_rng",
    "init_distribution",
    "init_scheme",
    "initializers_compared",
    "signal_stats",
    "signal_through_depth",
    "spiral_data",
    "train_run",
    "widget",
]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
_ACT: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": F.tanh,
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "linear": lambda t: t,
}

# The initializers of 1.6.4, in the order they are drawn, with a label and a colour each.
SCHEMES = ("zeros", "small", "default", "xavier", "he")
_LABEL = {
    "zeros": "zeros",
    "small": "small normal N(0, 0.01²)",
    "default": "PyTorch default (nn.Linear)",
    "xavier": "Xavier/Glorot normal",
    "he": "He/Kaiming normal",
}
_COLOR = {
    "zeros": "tab:gray",
    "small": "tab:purple",
    "default": "tab:orange",
    "xavier": "tab:blue",
    "he": "tab:red",
}
_STYLE = {"zeros": (0, (6, 3)), "small": (0, (1, 2)), "default": "-", "xavier": "-", "he": "-"}
# Three of the loss curves can sit on top of each other at ln 3: the widest one goes underneath.
_WIDTH = {"zeros": 1.6, "small": 2.0, "default": 4.0, "xavier": 1.8, "he": 1.8}
_Z = {"zeros": 4, "small": 3, "default": 1, "xavier": 2, "he": 2}


@contextlib.contextmanager
def forked_rng(seed: int) -> Iterator[None]:
    """Seed tinylearn's default generator with ``seed`` inside the block and restore its state after,
    so a figure can use code that draws from the default generator (``nn.Linear``) and still be pure."""
    state = tl_random.get_rng_state()
    tl_random.manual_seed(seed)
    try:
        yield
    finally:
        tl_random.set_rng_state(state)


# ------------------------------------------------------------------------------------------------
# Asking an initializer which distribution it draws from
# ------------------------------------------------------------------------------------------------


class _Probe:
    """A stand-in tensor of a given shape that records the distribution an initializer asks for
    (``uniform_(a, b)`` or ``normal_(mean, std)``) instead of drawing numbers."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.ndim = len(self.shape)
        self.drawn: tuple[str, float, float] | None = None

    def numel(self) -> int:
        return math.prod(self.shape)

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> _Probe:
        self.drawn = ("uniform", float(a), float(b))
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> _Probe:
        self.drawn = ("normal", float(mean), float(std))
        return self


def init_distribution(initializer: Callable[..., Any], shape: tuple[int, ...], **kwargs: Any) -> tuple:
    """The distribution ``initializer`` (``init.xavier_uniform_``, ``init.kaiming_normal_``, ...) would
    fill a weight of ``shape`` from: ``("uniform", low, high)`` or ``("normal", mean, std)``.

    The library's own function runs on a stand-in tensor that records the call instead of sampling,
    so the numbers are exactly the ones the library computes.

    Raises:
        ValueError: the initializer does not draw from ``uniform_`` or ``normal_`` (``constant_``,
            ``orthogonal_``, ...).
    """
    probe = _Probe(shape)
    try:
        initializer(probe, **kwargs)
    except AttributeError as exc:  # it fills the tensor some other way (fill_, copy_)
        name = getattr(initializer, "__name__", initializer)
        raise ValueError(f"init_distribution: {name} does not draw from uniform_ or normal_") from exc
    if probe.drawn is None:
        raise ValueError(f"init_distribution: {getattr(initializer, '__name__', initializer)} drew nothing")
    return probe.drawn


# ------------------------------------------------------------------------------------------------
# The numbers of 1.6.1: one pass through a deep stack of layers
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalStats:
    """What :func:`signal_stats` measured. Index ``l`` is layer ``l``'s output (0 is the input).

    Attributes:
        activations: ``h_l``, arrays of shape (batch, width), ``depth + 1`` of them.
        gradients: ``∂L/∂h_l`` for the same tensors (the last one is the gradient fed in).
        act_std: the standard deviation of every ``h_l`` (all its entries).
        grad_std: the standard deviation of every ``∂L/∂h_l``.
    """

    activations: tuple[np.ndarray, ...]
    gradients: tuple[np.ndarray, ...]
    act_std: np.ndarray
    grad_std: np.ndarray


def signal_stats(
    std: float,
    activation: str = "tanh",
    depth: int = 10,
    width: int = 256,
    batch: int = 256,
    constant: bool = False,
    seed: int = 0,
) -> SignalStats:
    """Push ``batch`` inputs of N(0, 1) through ``depth`` layers ``h ← act(h Wᵀ + b)`` of ``width`` units,
    weights N(0, std²) (or all equal to ``std`` when ``constant``) and biases 0, then backpropagate a
    gradient of N(0, 1) entries from the last output. Float64, so that signals can vanish to 1e-100 or
    explode to 1e100 without underflow or overflow hiding it.

    Raises:
        ValueError: an unknown activation.
    """
    if activation not in _ACT:
        raise ValueError(f"signal_stats: activation must be one of {ACTIVATIONS}, got {activation!r}")
    act = _ACT[activation]
    gen = tl_random.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed + 1)
    h = tensor(rng.normal(size=(batch, width)), dtype=float64, requires_grad=True)
    hs = [h]
    for _ in range(depth):
        weight, bias = zeros(width, width, dtype=float64), zeros(width, dtype=float64)
        if constant:
            init.constant_(weight, std)
        else:
            init.normal_(weight, 0.0, std, generator=gen)
        h = act(F.linear(h, weight, bias))
        if h.grad_fn is not None:
            h.retain_grad()
        hs.append(h)
    grad_out = tensor(rng.normal(size=(batch, width)), dtype=float64)
    h.backward(grad_out)
    acts = tuple(t.detach().numpy().copy() for t in hs)
    grads = tuple(
        (t.grad.numpy().copy() if t.grad is not None else np.zeros((batch, width))) for t in hs[:-1]
    ) + (grad_out.numpy().copy(),)
    for a in (*acts, *grads):
        a.flags.writeable = False
    return SignalStats(acts, grads, np.array([a.std() for a in acts]), np.array([g.std() for g in grads]))


def _distinct_units(h: np.ndarray) -> int:
    """How many different columns (units) ``h`` (batch, width) has among the units that are not 0 on
    every input, up to rounding at the layer's own scale."""
    live = h[:, np.any(h != 0, axis=0)]
    scale = float(np.max(np.abs(live))) if live.size else 0.0
    if scale == 0.0 or not np.isfinite(scale):
        return 0
    return int(np.unique(np.round(live / scale, 6), axis=1).shape[1])


def _silent_units(h: np.ndarray) -> int:
    """How many units (columns of ``h``) are 0 on every input (dead ReLUs)."""
    return int(np.sum(~np.any(h != 0, axis=0)))


_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 3.0), "linear": (-3.0, 3.0)}


def _fmt(v: float) -> str:
    return f"{v:.1e}" if (v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e3)) else f"{v:.2f}"


@interactive(
    section="1.6.1", title="activations and gradients through depth: weight std, activation, symmetry"
)
def signal_through_depth(
    log10_std: float = -2.0,
    activation: str = "tanh",
    depth: int = 10,
    width: int = 256,
    constant_init: bool = False,
) -> Figure:
    """A deep stack of ``depth`` layers of ``width`` units with weights N(0, σ²), σ = 10^log10_std:
    the histogram of every layer's activations (left), the std of activations (forward) and gradients
    (backward) per layer on a log scale (middle), and the last layer's units on a few inputs (right).
    ``constant_init`` sets every weight to σ instead: every unit of a layer computes the same thing."""
    from matplotlib.ticker import MaxNLocator

    std = 10.0**log10_std
    stats = signal_stats(std, activation, depth, width, constant=constant_init)
    fig = new_figure(figsize=(12.0, 4.6), layout="constrained")
    ridge, curves, units = fig.subplots(1, 3, width_ratios=[1.05, 1.15, 0.8])

    # Left: one histogram per layer, stacked (a ridge plot), every layer on the same x range.
    lo, hi = _RANGE[activation]
    layers = np.unique(np.linspace(1, depth, min(depth, 12)).round().astype(int))
    edges = np.linspace(lo, hi, 61)
    for row, layer in enumerate(layers):
        values = stats.activations[layer].ravel()
        if activation == "relu":
            values = values[values > 0]  # the zeros (about half) would dwarf the rest
        counts, _ = np.histogram(np.clip(values, lo, hi), bins=edges)
        top = counts.max() if counts.size and counts.max() > 0 else 1
        base = len(layers) - 1 - row
        centers = 0.5 * (edges[1:] + edges[:-1])
        ridge.fill_between(centers, base, base + 0.9 * counts / top, color="tab:blue", alpha=0.55, lw=0)
        ridge.plot(centers, base + 0.9 * counts / top, color="tab:blue", lw=0.8)
        ridge.text(hi, base + 0.35, f" std {_fmt(stats.act_std[layer])}", fontsize=7, va="center")
    ridge.set_yticks(np.arange(len(layers)), [f"layer {k}" for k in layers[::-1]], fontsize=8)
    ridge.set_xlim(lo, hi + 0.32 * (hi - lo))
    ridge.set_xticks(np.linspace(lo, hi, 5))
    ridge.set_ylim(-0.2, len(layers))
    xlabel = "activation value (clipped to the range)"
    ridge.set_xlabel(xlabel + ("; zeros not drawn" if activation == "relu" else ""))
    ridge.set_title(f"activations of each layer ({activation})", fontsize=10)
    ridge.spines[["top", "right"]].set_visible(False)

    # Middle: the std of the forward signal and of the backward signal, layer by layer.
    idx = np.arange(depth + 1)
    floor = 1e-30  # a gradient can underflow to exactly 0 (saturated tanh): drawn at the floor
    curves.semilogy(
        idx, np.maximum(stats.act_std, floor), "o-", color="tab:blue", ms=3, label="activations hₗ"
    )
    curves.semilogy(
        idx, np.maximum(stats.grad_std, floor), "s-", color="tab:red", ms=3, label="gradients ∂L/∂hₗ"
    )
    curves.axhline(1.0, color="black", lw=0.8, ls=":")
    curves.set_xlabel("layer l  (0 = input)")
    curves.xaxis.set_major_locator(MaxNLocator(integer=True))
    curves.set_ylabel("standard deviation (log scale)")
    finite = np.concatenate([stats.act_std, stats.grad_std])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    low = max(min(float(finite.min()) if finite.size else 1.0, 1e-3) / 3, floor)
    high = max(float(finite.max()) if finite.size else 1.0, 1e3) * 3
    curves.set_ylim(low, high)
    curves.grid(alpha=0.3, which="major")
    curves.legend(loc="best", fontsize=8)
    curves.set_title(f"σ = {std:.3g},  n·σ² = {width * std**2:.3g}  (n = {width})", fontsize=10)

    # Right: the last layer's first units on the first inputs; with constant init every row is the same.
    h_last = stats.activations[-1]
    shown = h_last[:40, :24].T
    scale = float(np.max(np.abs(shown))) or 1.0
    cmap = "viridis" if activation in ("relu", "sigmoid") else "coolwarm"
    vmin = 0.0 if activation in ("relu", "sigmoid") else -1.0
    if activation == "sigmoid":
        units.imshow(shown, aspect="auto", cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        units.imshow(shown / scale, aspect="auto", cmap=cmap, vmin=vmin, vmax=1.0, interpolation="nearest")
    units.set_xlabel("input example" + ("" if activation == "sigmoid" else "  (colours scaled to the panel)"))
    units.set_ylabel(f"unit of layer {depth}")
    kind = "constant init: all weights = σ" if constant_init else "random init"
    silent = _silent_units(h_last)
    distinct = _distinct_units(h_last)
    count = f"{distinct} distinct unit{'' if distinct == 1 else 's'} of {width}"
    count += f", {silent} always 0" if silent else ""
    units.set_title(f"{kind}\n{count}", fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------------
# The numbers of 1.6.4: short training runs from each initializer
# ------------------------------------------------------------------------------------------------


def spiral_data(n_samples: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The training set of 1.6.4: three interleaved spirals (``make_spirals``), float32 inputs, int labels."""
    X, y = make_spirals(n_samples, n_classes=3, noise=0.2, seed=seed)
    return X.astype(np.float32), y.astype(np.int64)


def init_scheme(linear: Any, scheme: str, generator: Any = None) -> None:
    """Fill an ``nn.Linear`` as ``scheme`` says: ``zeros``; ``small`` (N(0, 0.01²)); ``default`` (leave
    the layer's own PyTorch-style init); ``xavier`` (``xavier_normal_``); ``he`` (``kaiming_normal_``,
    ReLU gain). Every scheme but ``default`` zeroes the bias.

    Raises:
        ValueError: an unknown scheme.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"init_scheme: scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme == "default":
        return
    if scheme == "zeros":
        init.zeros_(linear.weight)
    elif scheme == "small":
        init.normal_(linear.weight, 0.0, 0.01, generator=generator)
    elif scheme == "xavier":
        init.xavier_normal_(linear.weight, generator=generator)
    else:
        init.kaiming_normal_(linear.weight, nonlinearity="relu", generator=generator)
    if linear.bias is not None:
        init.zeros_(linear.bias)


@dataclass(frozen=True)
class TrainRun:
    """One training run of :func:`train_run`.

    Attributes:
        losses: the training loss (cross-entropy) before each step, ``steps`` of them.
        layer_std: the std of every hidden layer's activations at initialization (all entries), on the
            training inputs.
        layer_spread: the part of it that depends on the input: every unit's std across the inputs,
            averaged over the units (a unit stuck at a constant, say its bias, contributes 0).
        accuracy: the training accuracy after the last step.
    """

    losses: np.ndarray
    layer_std: np.ndarray
    layer_spread: np.ndarray
    accuracy: float


def train_run(
    scheme: str,
    activation: str = "tanh",
    depth: int = 10,
    width: int = 64,
    steps: int = 100,
    lr: float = 0.015,
    seed: int = 0,
) -> TrainRun:
    """Train an MLP (``depth`` hidden layers of ``width`` units, ``activation`` after each) on
    :func:`spiral_data` from the initializer ``scheme``: full-batch SGD with momentum 0.9 and
    learning rate ``lr`` for ``steps`` steps. Results are cached (the arrays are read-only), however
    the arguments are spelled.

    Raises:
        ValueError: an unknown scheme or activation.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"train_run: scheme must be one of {SCHEMES}, got {scheme!r}")
    if activation not in ("tanh", "relu"):
        raise ValueError(f"train_run: activation must be 'tanh' or 'relu', got {activation!r}")
    return _train_run(scheme, activation, int(depth), int(width), int(steps), float(lr), int(seed))


@functools.lru_cache(maxsize=128)
def _train_run(
    scheme: str, activation: str, depth: int, width: int, steps: int, lr: float, seed: int
) -> TrainRun:
    from .. import nn, optim  # the figures module stays light to import

    X, y = spiral_data()
    act = nn.Tanh if activation == "tanh" else nn.ReLU
    gen = tl_random.Generator().manual_seed(seed)
    with forked_rng(seed):  # nn.Linear draws its default init from the default generator
        layers: list[Any] = []
        sizes = [X.shape[1]] + [width] * depth
        for fan_in, fan_out in itertools.pairwise(sizes):
            layers += [nn.Linear(fan_in, fan_out), act()]
        layers.append(nn.Linear(width, 3))
        model = nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, nn.Linear):
            init_scheme(layer, scheme, gen)
    inputs, targets = tensor(X), tensor(y)
    from ..autograd import no_grad

    with no_grad():  # the std of each hidden layer's output at initialization
        h, stds, spread = inputs, [], []
        for layer in model:
            h = layer(h)
            if not isinstance(layer, nn.Linear):
                stds.append(float(h.numpy().std()))
                spread.append(float(h.numpy().std(axis=0).mean()))
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with no_grad():
        accuracy = float((model(inputs).numpy().argmax(axis=1) == y).mean())
    out = TrainRun(np.array(losses), np.array(stds), np.array(spread), accuracy)
    out.losses.flags.writeable = False
    out.layer_std.flags.writeable = False
    out.layer_spread.flags.writeable = False
    return out


@interactive(
    section="1.6.4", title="initializers compared on tanh and ReLU nets: std per layer, training loss"
)
def initializers_compared(
    depth: int = 10,
    zeros: bool = True,
    small: bool = True,
    default: bool = True,
    xavier: bool = True,
    he: bool = True,
    steps: int = 100,
) -> Figure:
    """For a tanh net (top) and a ReLU net (bottom) of ``depth`` hidden layers of 64 units: how much each
    layer's activations vary across the inputs at initialization (left, ``TrainRun.layer_spread``) and
    the training loss of ``steps`` steps of SGD
    on three spirals (right), one line per initializer switched on. Runs are cached by
    :func:`train_run`, so toggling a line or coming back to a depth is instant."""
    chosen = [s for s, on in zip(SCHEMES, (zeros, small, default, xavier, he), strict=True) if on]
    fig = new_figure(figsize=(11.0, 6.4), layout="constrained")
    axes = fig.subplots(2, 2, width_ratios=[1.0, 1.25])
    for row, activation in enumerate(("tanh", "relu")):
        left, right = axes[row]
        for scheme in chosen:
            run = train_run(scheme, activation, depth=depth, steps=steps)
            layer = np.arange(1, depth + 1)
            style = {"color": _COLOR[scheme], "ls": _STYLE[scheme]}
            left.semilogy(layer, np.maximum(run.layer_spread, 1e-12), marker="o", ms=3, **style)
            right.plot(
                np.arange(len(run.losses)),
                run.losses,
                lw=_WIDTH[scheme],
                zorder=_Z[scheme],
                label=f"{_LABEL[scheme]}: accuracy {run.accuracy:.0%}",
                **style,
            )
        left.set_ylim(1e-12 / 3, 30.0)
        left.axhline(1e-12, color="black", lw=0.6, ls=":")
        left.text(1, 1.5e-12, "≤ 1e-12 (all zeros sit here)", fontsize=7, va="bottom")
        left.set_xlabel("hidden layer")
        left.set_ylabel("std across inputs at init")
        left.set_title(f"{activation} net, {depth} hidden layers: signal at init", fontsize=10)
        left.grid(alpha=0.3)
        right.axhline(math.log(3), color="black", lw=0.8, ls=":")
        right.text(0.3 * steps, math.log(3) + 0.03, "ln 3: chance level", fontsize=7, va="bottom")
        right.set_ylim(0.0, 2.0)
        right.set_xlabel("SGD step")
        right.set_ylabel("training loss (cross-entropy)")
        right.set_title(f"{activation} net: training from each initializer", fontsize=10)
        right.grid(alpha=0.3)
        if chosen:
            right.legend(loc="upper right", fontsize=7)
    return fig


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

CONTROLS: dict[str, dict[str, Any]] = {
    "signal_through_depth": {
        "log10_std": (-3.0, 0.5, 0.05),
        "activation": list(ACTIVATIONS),
        "depth": (2, 30, 1),
        "width": (32, 512, 32),
        "constant_init": bool,
    },
    "initializers_compared": {
        "depth": [3, 6, 10, 20],
        "zeros": bool,
        "small": bool,
        "default": bool,
        "xavier": bool,
        "he": bool,
    },
}

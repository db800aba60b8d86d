"""Pooling and resampling: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d`` and
``interpolate``.

Max pooling keeps each window's largest value; its gradient goes back to that one position
(the kernel records it as a flat index h·W + w). Average pooling is linear: each window's mean;
its gradient spreads evenly back over the window. Both come as a pair of Functions, the forward
map and its adjoint, each the other's backward:

    MaxPool2d (pick at indices)  ↔  MaxPool2dBackward (add at indices)   [↔ Gather for the 3rd order]
    AvgPool2d (window means)     ↔  AvgPool2dBackward (spread back)

Adaptive pooling and bilinear interpolation are linear maps that act on rows and columns
separately, so they are two matrix products, ``A_h @ x @ A_wᵀ``, with constant (out, in)
matrices, and their derivatives (of any order) are those of ``matmul``. Nearest-neighbour
resampling is indexing (or, for integer factors, broadcasting).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor
from .conv import _batched, conv_output_size, pair

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "interpolate", "max_pool2d"]


def _float_input(op: str, x: Tensor) -> None:
    if not x.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}")


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool):
    """Check the window arguments of a pooling op on (N, C, H, W); return them as pairs with the
    output size."""
    kernel = pair(kernel_size, "kernel_size", op)
    stride = (
        kernel
        if stride is None or (isinstance(stride, Sequence) and not stride)
        else pair(stride, "stride", op)
    )
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise RuntimeError(
            f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be greater than zero"
        )
    for p, k, d in zip(padding, kernel, dilation, strict=True):
        if not 0 <= p <= (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    out_hw = tuple(
        conv_output_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation, strict=True)
    )
    if min(out_hw) < 1:
        raise RuntimeError(
            f"{op}: given input size {tuple(x.shape[1:])}, the calculated output size "
            f"({x.shape[1]}, {out_hw[0]}, {out_hw[1]}) is too small (kernel_size {kernel}, padding {padding})"
        )
    return kernel, stride, padding, dilation, out_hw


# --------------------------------------------------------------------------- max pooling


class MaxPool2d(Function):
    """The maximum of each window. The kernel (``kernels.max_pool2d``) finds the maxima and their
    ``indices`` in one pass; the caller passes both in and ``forward`` records them."""

    def forward(self, x):
        values, self.values = self.values, None
        return values

    def backward(self, g):
        return MaxPool2dBackward.apply(g, indices=self.indices, x_shape=self.inputs[0].shape)


class MaxPool2dBackward(Function):
    """The gradient of max pooling: each output gradient added at its window's maximum."""

    def forward(self, g):
        return kernels.max_pool2d_backward(g, self.indices, self.x_shape)

    def backward(self, gg):
        # Reading gg at the same indices: max pooling's forward again, as a gather.
        n, c, h, w = self.x_shape
        xp = get_array_module(gg.data)
        idx = self.indices.reshape(n, c, -1)
        inside = (idx >= 0) & (idx < h * w)
        picked = gg.reshape(n, c, h * w).gather(2, Tensor._make(xp.where(inside, idx, 0)))
        if not bool(inside.all()):
            picked = picked * Tensor._make(inside.astype(gg.dtype))
        return picked.reshape(self.indices.shape)


def max_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over each ``kernel_size`` window, moved by ``stride`` (default: the kernel
    size), of the input (N, C, H, W) or (C, H, W) padded with -inf.

    ``return_indices=True`` also returns where each maximum is, as flat int64 indices h·W + w into
    its (H, W) plane (PyTorch's convention). Ties and NaN follow PyTorch: the first maximum in
    row-major window order wins; NaN wins over numbers.
    """
    x, unbatched = _batched("max_pool2d", input, 2)
    _float_input("max_pool2d", x)
    kernel, stride, padding, dilation, out_hw = _pool_geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    values, indices = kernels.max_pool2d(x.data, kernel, stride, padding, dilation, out_hw)
    out = MaxPool2d.apply(x, values=values, indices=indices)
    if unbatched:
        out, indices = out.squeeze(0), indices[0]
    return (out, Tensor._make(indices)) if return_indices else out


# --------------------------------------------------------------------------- average pooling


def _avg_scale(xp, x_hw, kernel, stride, padding, out_hw, count_include_pad, divisor_override, dtype):
    """1/divisor for each output position (Ho, Wo), as PyTorch counts: the window clipped to the
    padded input (ceil_mode windows can hang past it), and without the padding when
    ``count_include_pad`` is False; or 1/``divisor_override``."""
    if divisor_override is not None:
        return xp.full(out_hw, 1.0 / divisor_override, dtype=dtype)
    counts = []
    for n, k, s, p, o in zip(x_hw, kernel, stride, padding, out_hw, strict=True):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, n) - np.maximum(start, 0))
    return xp.asarray((1.0 / np.outer(counts[0], counts[1])).astype(dtype))


class AvgPool2d(Function):
    """Each window's sum times ``scale`` (1/divisor per output position)."""

    def forward(self, x):
        return kernels.avg_pool2d(x, self.kernel, self.stride, self.padding, self.out_hw, self.scale)

    def backward(self, g):
        params = {k: getattr(self, k) for k in ("kernel", "stride", "padding", "out_hw", "scale")}
        return AvgPool2dBackward.apply(g, x_shape=self.inputs[0].shape, **params)


class AvgPool2dBackward(Function):
    """The adjoint of :class:`AvgPool2d`: each gradient times its scale, spread over its window."""

    def forward(self, g):
        return kernels.avg_pool2d_backward(
            g, self.x_shape, self.kernel, self.stride, self.padding, self.scale
        )

    def backward(self, gg):
        params = {k: getattr(self, k) for k in ("kernel", "stride", "padding", "out_hw", "scale")}
        return AvgPool2d.apply(gg, **params)


def avg_pool2d(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean over each ``kernel_size`` window (stride defaults to the kernel size) of the
    input (N, C, H, W) or (C, H, W) padded with zeros. ``count_include_pad=False`` divides by the
    number of real pixels in the window instead of the window's size; ``divisor_override``
    divides by a fixed number."""
    x, unbatched = _batched("avg_pool2d", input, 2)
    _float_input("avg_pool2d", x)
    kernel, stride, padding, _, out_hw = _pool_geometry(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override == 0):
        raise RuntimeError(f"avg_pool2d: divisor must be a non-zero int, got {divisor_override!r}")
    xp = get_array_module(x.data)
    scale = _avg_scale(
        xp, x.shape[2:], kernel, stride, padding, out_hw, count_include_pad, divisor_override, x.dtype
    )
    out = AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw, scale=scale)
    return out.squeeze(0) if unbatched else out


# --------------------------------------------------------------------------- separable linear maps


def _separable(x: Tensor, rows: np.ndarray | None, cols: np.ndarray | None) -> Tensor:
    """``rows @ x @ colsᵀ`` over the last two dims of ``x``, with constant host matrices (out, in);
    None leaves that dimension alone."""
    xp = get_array_module(x.data)
    if rows is not None:
        x = Tensor._make(xp.asarray(rows.astype(x.dtype))) @ x
    if cols is not None:
        x = x @ Tensor._make(xp.asarray(cols.T.astype(x.dtype)))
    return x


def _adaptive_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): row i averages the inputs ⌊i·n_in/n_out⌋ .. ⌈(i+1)·n_in/n_out⌉ − 1."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        start, end = (i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)
        m[i, start:end] = 1.0 / (end - start)
    return m


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None] | None) -> Tensor:
    """Average pooling to a fixed ``output_size`` (Ho, Wo) whatever the input size: output
    (i, j) averages the input rows ⌊i·H/Ho⌋ .. ⌈(i+1)·H/Ho⌉ − 1 (and likewise the columns).
    ``None`` keeps that dimension's size; ``output_size=1`` is global average pooling."""
    x, unbatched = _batched("adaptive_avg_pool2d", input, 2)
    _float_input("adaptive_avg_pool2d", x)
    sizes = (
        (output_size, output_size)
        if output_size is None or isinstance(output_size, int)
        else tuple(output_size)
    )
    if len(sizes) != 2 or not all(s is None or (isinstance(s, int) and s >= 0) for s in sizes):
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be an int, None or a pair of them, got {output_size!r}"
        )
    (h, w), (ho, wo) = (
        x.shape[2:],
        tuple(n if s is None else s for s, n in zip(sizes, x.shape[2:], strict=True)),
    )
    if 0 in (h, w) or 0 in (ho, wo):
        raise RuntimeError(
            f"adaptive_avg_pool2d: expected a non-empty input and output, got input {list(x.shape)} and "
            f"output_size {(ho, wo)}"
        )
    if (ho, wo) == (1, 1):
        out = x.mean((2, 3), keepdim=True)
    elif h % ho == 0 and w % wo == 0:  # equal, non-overlapping bins: plain average pooling
        out = avg_pool2d(x, (h // ho, w // wo))
    else:
        out = _separable(
            x, _adaptive_matrix(h, ho) if ho != h else None, _adaptive_matrix(w, wo) if wo != w else None
        )
    return out.squeeze(0) if unbatched else out


# --------------------------------------------------------------------------- interpolate


_MODES = {"nearest": (1, 2), "linear": (1,), "bilinear": (2,)}


def _output_sizes(op: str, in_sizes, size, scale_factor, recompute_scale_factor):
    """(output sizes, the scales PyTorch's kernels use: 1/scale_factor, or None for in/out)."""
    dims = len(in_sizes)
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{op}: only one of size or scale_factor should be defined"
            if size is not None
            else f"{op}: either size or scale_factor should be defined"
        )
    if size is not None:
        sizes = (size,) * dims if isinstance(size, int) else tuple(size)
        if len(sizes) != dims or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(
                f"{op}: size must be a positive int or a tuple of {dims} of them for an input with "
                f"{dims} spatial dimensions, got {size!r}"
            )
        return sizes, (None,) * dims
    factors = (scale_factor,) * dims if isinstance(scale_factor, int | float) else tuple(scale_factor)
    if len(factors) != dims or not all(isinstance(f, int | float) and f > 0 for f in factors):
        raise ValueError(
            f"{op}: scale_factor must be a positive number or a tuple of {dims} of them, got {scale_factor!r}"
        )
    sizes = tuple(math.floor(n * f) for n, f in zip(in_sizes, factors, strict=True))
    if min(sizes) < 1:
        raise ValueError(f"{op}: scale_factor {scale_factor} makes the input size {tuple(in_sizes)} empty")
    return sizes, (None,) * dims if recompute_scale_factor else tuple(1.0 / f for f in factors)


def _nearest_index(n_in: int, n_out: int, scale: float | None) -> np.ndarray:
    """PyTorch's 'nearest': source ⌊dst · scale⌋ (in float32), scale = 1/scale_factor or in/out;
    exactly dst when the sizes are equal and dst // 2 when the output is twice the input."""
    if n_out in (n_in, 2 * n_in):
        return np.arange(n_out) // (n_out // n_in)
    scale = np.float32(n_in / n_out if scale is None else scale)
    return np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * scale).astype(np.int64), n_in - 1)


def _linear_matrix(n_in: int, n_out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """(n_out, n_in) weights of linear interpolation, PyTorch's source coordinates: with
    ``align_corners`` the corner pixels' centres match, src = dst·(in − 1)/(out − 1); without,
    pixel areas match, src = (dst + ½)·scale − ½ (clamped at 0)."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * (n_in / n_out if scale is None else scale) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m


def _nearest(x: Tensor, in_sizes, out_sizes, scales) -> Tensor:
    index = [_nearest_index(n, o, s) for n, o, s in zip(in_sizes, out_sizes, scales, strict=True)]
    factors = [o // n for n, o in zip(in_sizes, out_sizes, strict=True)]
    if all(
        o == n * k and np.array_equal(i, np.arange(o) // k)
        for i, n, o, k in zip(index, in_sizes, out_sizes, factors, strict=True)
    ):
        # every pixel repeated k times: broadcast and merge, whose gradient is a sum over the copies
        lead = x.shape[:2]
        spread = x.reshape(*lead, *[v for n in in_sizes for v in (n, 1)])
        spread = spread.expand(*lead, *[v for n, k in zip(in_sizes, factors, strict=True) for v in (n, k)])
        return spread.reshape(*lead, *out_sizes)
    xp = get_array_module(x.data)
    if len(in_sizes) == 1:
        return x[:, :, Tensor._make(xp.asarray(index[0]))]
    return x[:, :, Tensor._make(xp.asarray(index[0][:, None])), Tensor._make(xp.asarray(index[1][None, :]))]


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to ``size``, or by ``scale_factor`` (output size
    ⌊in·scale_factor⌋), with PyTorch's ``mode``: ``"nearest"`` (source pixel ⌊dst·in/out⌋),
    ``"linear"`` (3-D) or ``"bilinear"`` (4-D) interpolation, with or without ``align_corners``.
    """
    op = "interpolate"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise NotImplementedError(
            f"{op}: input must be 3-D (N, C, L) or 4-D (N, C, H, W), got "
            f"{list(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    _float_input(op, input)
    spatial = input.ndim - 2
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if spatial not in _MODES[mode]:
        raise NotImplementedError(
            f"{op}: mode {mode!r} needs a {_MODES[mode][0] + 2}-D input, got {input.ndim}-D input "
            f"{list(input.shape)}"
        )
    if mode == "nearest" and align_corners is not None:
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear"
        )
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    in_sizes = input.shape[2:]
    out_sizes, scales = _output_sizes(op, in_sizes, size, scale_factor, recompute_scale_factor)
    if mode == "nearest":
        return _nearest(input, in_sizes, out_sizes, scales)
    # as in PyTorch, a dimension whose size does not change is copied, whatever the scale factor
    mats = [
        _linear_matrix(n, o, s, bool(align_corners)) if n != o else None
        for n, o, s in zip(in_sizes, out_sizes, scales, strict=True)
    ]
    if all(m is None for m in mats):
        return input.clone()
    if spatial == 1:
        return _separable(input, None, mats[0])
    return _separable(input, mats[0], mats[1])

"""Convolution: ``conv2d`` (and ``conv1d`` on top of it), its adjoint ``conv_transpose2d``, and
``unfold`` / ``fold``.

A convolution slides a (kh, kw) window over the padded input; every window, flattened, is
multiplied by every filter. Written as matrices (``im2col``, :mod:`tinylearn.kernels`):

    cols = im2col(x)                   (C·kh·kw, N·Ho·Wo)   each column is one window
    y    = W · cols (+ b)              (O, N·Ho·Wo)         W reshaped to (O, C·kh·kw)

so the whole batch is one matrix product (per group). Its three derivatives are products too:

    dW    = g · colsᵀ                                      the weight gradient
    dcols = Wᵀ · g,  dx = col2im(dcols)                    the input gradient: the transposed
                                                           convolution, col2im adding every
                                                           window back where it was read

The three maps — y = conv(x, W), dx = conv_transpose(g, W), dW = conv_weight(x, g) — are each
linear in both arguments and the adjoints of one another, so each one's backward is made of the
other two (``gradgradcheck`` proves it):

    conv            x̄ = conv_transpose(ḡ, W)         W̄ = conv_weight(x, ḡ)
    conv_transpose  ḡ = conv(x̄, W)                   W̄ = conv_weight(x̄, g)
    conv_weight     x̄ = conv_transpose(g, W̄)         ḡ = conv(x, W̄)

``unfold`` (im2col as an op, (N, C·kh·kw, L)) and ``fold`` (col2im) are the same pair, exposed.

**Winograd.** A 3×3 stride-1 convolution can be computed on 2×2 blocks of the output instead
(Lavin & Gray, 2015). In one dimension, two outputs of a 3-tap filter g over four inputs
d need 4 multiplications instead of 6:

    y = Aᵀ [(G g) ⊙ (Bᵀ d)]      with Bᵀ (4×4), G (4×3), Aᵀ (2×4) of small integers and ½

and in two, a 2×2 output block from a 4×4 input tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A: 16 products
instead of 36. Summed over the input channels, the 16 elementwise products become 16 matrix
products, one per position ξ of the 4×4 tile:

    U[ξ] = (G W Gᵀ)[ξ]   (O, C)        the filters, transformed   (tiny)
    V[ξ] = (Bᵀ d B)[ξ]   (C, P)        every input tile, transformed (P = tiles in the batch)
    M[ξ] = U[ξ] · V[ξ]   (O, P)        y = Aᵀ M A, tile by tile

so the products do 2.25× fewer multiply-adds than im2col's, and V holds 16/4 = 4 numbers per
input element where im2col's matrix holds 9. With 4×4 output tiles from 6×6 input tiles,
F(4×4, 3×3), it is 36 products for 16 outputs: 4× fewer, and 36/16 = 2.25 numbers per input
element; the default (``WINOGRAD_TILE``). The gradients follow from the same identity: with
M̄ = A ȳ Aᵀ (the adjoint of the output transform), Ū[ξ] = M̄[ξ] · V[ξ]ᵀ and W̄ = Gᵀ Ū G; the input
gradient is the convolution of ȳ with the flipped filters (3×3, stride 1), itself done so. The
transforms are :mod:`tinylearn.kernels` primitives. The identity is exact; in float32 the
rounding differs from im2col's: F(2×2)'s error is about im2col's, F(4×4)'s about ten times it
(still ~1e-6 of the output's scale), as the larger tiles' transforms multiply by up to 8.
Used for 3×3 stride-1 convolutions of NumPy arrays with at least 16 channels in and out, when
the compiled kernels run (``WINOGRAD``, below, says why and how to choose).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..amp import autocast_inputs
from ..autograd import Function, is_grad_enabled
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_output_size", "conv_transpose2d", "fold", "pair", "unfold"]

Pair = tuple[int, int]

# A layer keeps its im2col matrix from forward to backward (the weight gradient needs it) when it
# takes at most this many bytes; larger ones are rebuilt in backward. Keeping saves a rebuild
# (~10% of a LeNet step) but costs memory: kh·kw times the layer's input.
KEEP_COLS_BYTES = 128 * 2**20


def pair(value: int | Sequence[int], name: str, op: str, n: int = 2) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints, with an error naming ``op``."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(value) if isinstance(value, Sequence) else ()
    if len(values) != n or not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values
    ):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in values)


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """How many windows fit along one dimension: ⌊(W − D·(K − 1) − 1 + 2P) / S⌋ + 1.

    With dilation D = 1 this is the familiar ⌊(W − K + 2P) / S⌋ + 1 (W input size, K kernel
    size, P padding on each side, S stride). ``ceil_mode`` rounds up instead (pooling), but, as
    in PyTorch, a last window that would start in the right padding is dropped.
    """
    span = size + 2 * padding - dilation * (kernel_size - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return max(out, 0)


# --------------------------------------------------------------------------- the geometry


@dataclass(frozen=True)
class Geometry:
    """One 2-d convolution's shape arithmetic: ``in_hw`` images to ``out_hw`` windows."""

    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    in_hw: Pair
    out_hw: Pair

    def im2col(self, x):
        return kernels.im2col(x, self.kernel, self.stride, self.padding, self.dilation, self.out_hw)

    def col2im(self, cols, n: int, c: int):
        return kernels.col2im(
            cols, (n, c, *self.in_hw), self.kernel, self.stride, self.padding, self.dilation
        )


def _float32_on_cpu(compute):
    """Run ``compute`` in float32 when given float16 NumPy arrays (NumPy has no float16 matrix
    product: it would be a slow scalar loop) and return float16, as tensor cores do."""

    def run(self, *arrays):
        if arrays[0].dtype == np.float16 and isinstance(arrays[0], np.ndarray):
            return compute(self, *[a.astype(np.float32) for a in arrays]).astype(np.float16)
        return compute(self, *arrays)

    run.__name__, run.__doc__ = compute.__name__, compute.__doc__
    return run


def _by_group(a, groups: int, rows: int):
    """A (G·rows, ...) array seen as (G, rows, -1)."""
    return a.reshape(groups, rows, -1)


def _matmul(a, b):
    """(G, m, k) @ (G, k, n); one plain matrix product when there is one group."""
    return a[0] @ b[0] if a.shape[0] == 1 else a @ b


def _conv(x, w, geo: Geometry, cols=None, bias=None):
    """y (N, O, Ho, Wo) = conv(x (N, C, H, W), w (O, C/G, kh, kw)) (+ bias (O,))."""
    if _winograd(geo, x, w.shape[0]):  # cols, if given, is x's transformed tiles
        return _winograd_conv(x, w, geo, cols, bias)
    xp = get_array_module(x, w)
    n, o, g = x.shape[0], w.shape[0], geo.groups
    cols = geo.im2col(x) if cols is None else cols
    rows = cols.shape[0] // g * cols.shape[1] * cols.shape[2]  # C/G·kh·kw
    y = _matmul(_by_group(w, g, o // g), _by_group(cols, g, rows))
    y = y.reshape(o, n, -1).transpose(1, 0, 2)  # (N, O, Ho·Wo), laid out channel-major
    out = xp.empty((n, o, *geo.out_hw), dtype=y.dtype)
    if bias is None:
        out.reshape(n, o, -1)[...] = y
    else:
        xp.add(y, bias.reshape(1, o, 1), out=out.reshape(n, o, -1))
    return out


def _grad_matrix(g, groups: int):
    """The output gradient (N, O, Ho, Wo) as (G, O/G, N·Ho·Wo): one row per filter (a copy)."""
    o = g.shape[1]
    return g.transpose(1, 0, 2, 3).reshape(groups, o // groups, -1)


# The input gradient of a stride-1 convolution is itself a convolution: of g, padded by k − 1 − p,
# with every filter flipped and the in/out channels swapped. Written so, its matrix product has
# the forward's shape, (C, O·kh·kw) @ (O·kh·kw, N·H·W), where Wᵀ · g has only O (often 16-64) as
# its inner dimension, which BLAS runs far below its peak; and im2col (a copy) replaces col2im (a
# scatter-add). Used when stride and dilation are 1, groups 1 and p ≤ k − 1.
TRANSPOSE_AS_CONVOLUTION = True


def _as_convolution(geo: Geometry, w) -> bool:
    """Whether to compute conv_transpose(g, w) as a convolution: w (O, C, kh, kw) of a stride-1
    convolution with O ≤ C, so that g's im2col matrix is no larger than x's (LeNet's 16 → 32
    channels measured slower this way, ResNet's 32 → 32 and 64 → 64 faster)."""
    return (
        TRANSPOSE_AS_CONVOLUTION
        and w.shape[0] <= w.shape[1]
        and geo.stride == (1, 1)
        and geo.dilation == (1, 1)
        and geo.groups == 1
        and all(p <= k - 1 for p, k in zip(geo.padding, geo.kernel, strict=True))
    )


def _flipped(w):
    """(O, C, kh, kw) → (C, O, kh, kw), each filter turned by 180°."""
    return get_array_module(w).ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def _full(geo: Geometry) -> Geometry:
    """The geometry of the convolution that computes a stride-1 convolution's input gradient."""
    kh, kw = geo.kernel
    padding = (kh - 1 - geo.padding[0], kw - 1 - geo.padding[1])
    return Geometry(geo.kernel, (1, 1), padding, (1, 1), 1, geo.out_hw, geo.in_hw)


def _conv_transpose(g, w, geo: Geometry, g_matrix=None):
    """dx (N, C, H, W) = conv_transpose(g (N, O, Ho, Wo), w (O, C/G, kh, kw)): the adjoint of
    :func:`_conv` in x (``g_matrix``: g already as :func:`_grad_matrix` lays it out)."""
    if _as_convolution(geo, w):
        return _conv(g, _flipped(w), _full(geo))
    n, o, groups = g.shape[0], w.shape[0], geo.groups
    c = w.shape[1] * groups
    gm = _grad_matrix(g, groups) if g_matrix is None else g_matrix
    wg = _by_group(w, groups, o // groups)  # (G, O/G, C/G·kh·kw)
    dcols = _matmul(wg.transpose(0, 2, 1), gm)  # (G, C/G·kh·kw, N·Ho·Wo)
    return geo.col2im(dcols.reshape(c, *geo.kernel, n, *geo.out_hw), n, c)


def _conv_weight(x, g, geo: Geometry, cols=None, g_matrix=None):
    """dW (O, C/G, kh, kw) = conv_weight(x (N, C, H, W), g (N, O, Ho, Wo)): the adjoint of
    :func:`_conv` in w (``cols``: x's im2col matrix when the forward kept it)."""
    o, c, groups = g.shape[1], x.shape[1], geo.groups
    cols = geo.im2col(x) if cols is None else cols
    gm = _grad_matrix(g, groups) if g_matrix is None else g_matrix
    cg = _by_group(cols, groups, c // groups * geo.kernel[0] * geo.kernel[1])
    dw = _matmul(gm, cg.transpose(0, 2, 1))  # (G, O/G, C/G·kh·kw)
    return dw.reshape(o, c // groups, *geo.kernel)


def _reuse(fn: Function, name: str, dtype, make):
    """An array the two halves of a convolution's backward share (``fn.shared``, a dict made by
    :class:`Conv2d`'s backward): the forward's im2col matrix (or Winograd tiles), or the gradient laid
    out by filter (or transformed, Winograd's M̄).
    Made by ``make()`` when absent (or of another dtype), and stored for the other half."""
    shared = getattr(fn, "shared", None)
    if shared is None:
        return make() if make is not None else None
    found = shared.get(name)
    if (found is None or found.dtype != dtype) and make is not None:
        found = shared[name] = make()
    return found if found is not None and found.dtype == dtype else None


# --------------------------------------------------------------------------- Winograd F(m×m, 3×3)

# Whether 3×3 stride-1 convolutions (NumPy float32/float64 arrays, one group) use the Winograd
# products: None (the default) when the compiled kernels run (``kernels.backend() == "numba"``);
# True or False always or never. The transforms are many short passes over memory: compiled, a
# ResNet layer's forward and backward take 25–35% less time than with im2col; in plain NumPy
# 2–3× more, so the NumPy fallback keeps im2col by default, and its 3×3 convolutions then differ
# from the compiled backend's in float32 rounding (each kernel still agrees bit for bit).
WINOGRAD: bool | None = None
# From how many input and output channels on: with few channels the products' inner dimension
# (C) is too short for BLAS to run well, and im2col's (9·C) wins.
WINOGRAD_MIN_CHANNELS = 16
# The output tile, m×m: 4 (36 products for 16 outputs, 4× fewer multiply-adds than im2col) or 2
# (16 for 4: 2.25×, but V holds 4 numbers per input element against 2.25, and on the 2-core
# machine F(2×2) measured no faster than im2col, its transforms being memory-bound). F(4×4)'s
# float32 rounding error is larger: about 2e-6 of the output's scale against 2e-7 for im2col
# (tests/test_conv.py bounds both against float64).
WINOGRAD_TILE = 4

# Bᵀ (α×α), G (α×3), Aᵀ (m×α) of F(m×m, 3×3), α = m + 2 (Lavin & Gray, 2015), from the
# interpolation points 0, ±1, ∞ (m = 2) and 0, ±1, ±2, ∞ (m = 4).
_WINOGRAD_MATRICES = {
    2: (
        ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
        ((1, 0, 0), (1 / 2, 1 / 2, 1 / 2), (1 / 2, -1 / 2, 1 / 2), (0, 0, 1)),
        ((1, 1, 1, 0), (0, 1, -1, -1)),
    ),
    4: (
        (
            (4, 0, -5, 0, 1, 0),
            (0, -4, -4, 1, 1, 0),
            (0, 4, -4, -1, 1, 0),
            (0, -2, -1, 2, 1, 0),
            (0, 2, -1, -2, 1, 0),
            (0, 4, 0, -5, 0, 1),
        ),
        (
            (1 / 4, 0, 0),
            (-1 / 6, -1 / 6, -1 / 6),
            (-1 / 6, 1 / 6, -1 / 6),
            (1 / 24, 1 / 12, 1 / 6),
            (1 / 24, -1 / 12, 1 / 6),
            (0, 0, 1),
        ),
        ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1)),
    ),
}


def _winograd(geo: Geometry, x, out_channels: int) -> bool:
    """Whether the convolution of ``x`` with ``out_channels`` filters of ``geo`` runs as Winograd."""
    return (
        WINOGRAD is not False
        and geo.kernel == (3, 3)
        and geo.stride == (1, 1)
        and geo.dilation == (1, 1)
        and geo.groups == 1
        and isinstance(x, np.ndarray)
        and x.dtype in (np.float32, np.float64)
        and min(x.shape[1], out_channels) >= WINOGRAD_MIN_CHANNELS
        and (WINOGRAD or kernels.backend() == "numba")
    )


def _matrices(dtype):
    """(Bᵀ, G, Aᵀ) of F(m×m, 3×3), m = ``WINOGRAD_TILE``; Bᵀ and Aᵀ (small integers) in ``dtype``."""
    if WINOGRAD_TILE not in _WINOGRAD_MATRICES:
        raise ValueError(f"conv2d: WINOGRAD_TILE must be 2 or 4, got {WINOGRAD_TILE!r}")
    bt, g, at = _WINOGRAD_MATRICES[WINOGRAD_TILE]
    return np.array(bt, dtype=dtype), np.array(g, dtype=np.float64), np.array(at, dtype=dtype)


def _tiles(geo: Geometry) -> Pair:
    """How many m×m output tiles cover the output: (⌈Ho/m⌉, ⌈Wo/m⌉)."""
    m = WINOGRAD_TILE
    return -(-geo.out_hw[0] // m), -(-geo.out_hw[1] // m)


def _winograd_filters(w, g):
    """U (α², O, C) = G W Gᵀ for every filter of w (O, C, 3, 3), computed in float64 (G has
    thirds and 24ths) and rounded once to w's dtype."""
    gg = np.kron(g, g)  # (α², 9): (G W Gᵀ)[a, b] = Σ G[a, i]·G[b, j]·W[i, j]
    u = gg @ w.reshape(-1, 9).T.astype(np.float64)
    return u.reshape(-1, *w.shape[:2]).astype(w.dtype)


def _winograd_filters_adjoint(du, g):
    """W̄ (O, C, 3, 3) = Gᵀ Ū G: the adjoint of :func:`_winograd_filters`."""
    dw = np.kron(g, g).T @ du.reshape(du.shape[0], -1).astype(np.float64)  # (9, O·C)
    return np.ascontiguousarray(dw.T.reshape(*du.shape[1:], 3, 3).astype(du.dtype))


def _winograd_input(x, geo: Geometry):
    """V (α², C, P): x's tiles, transformed (what the products multiply, as im2col's matrix)."""
    return kernels.winograd_input(x, _matrices(x.dtype)[0], geo.padding, _tiles(geo))


def _winograd_conv(x, w, geo: Geometry, v=None, bias=None):
    """y = conv(x, w) (+ bias) by Winograd (``v``: x's transformed tiles, when already made)."""
    _, g, at = _matrices(x.dtype)
    v = _winograd_input(x, geo) if v is None else v
    m = _winograd_filters(w, g) @ v  # α² products (O, C) @ (C, P)
    y = kernels.winograd_output(m, at, (x.shape[0], w.shape[0], *geo.out_hw), _tiles(geo))
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def _winograd_grad(gy, geo: Geometry):
    """M̄ (α², O, P): the output gradient, transformed (the adjoint of the output transform)."""
    return kernels.winograd_grad(gy, _matrices(gy.dtype)[2], _tiles(geo))


def _winograd_weight(x, gy, geo: Geometry, v=None, dm=None):
    """W̄ = conv_weight(x, ȳ) by Winograd: Ū[ξ] = M̄[ξ] · V[ξ]ᵀ, W̄ = Gᵀ Ū G (``v``, ``dm``: x's
    transformed tiles and the transformed ȳ, when already made)."""
    v = _winograd_input(x, geo) if v is None else v
    dm = _winograd_grad(gy, geo) if dm is None else dm
    return _winograd_filters_adjoint(dm @ v.transpose(0, 2, 1), _matrices(x.dtype)[1])  # (O, P) @ (P, C)


def _winograd_transpose(gy, w, geo: Geometry, dm=None):
    """x̄ = conv_transpose(ȳ, w) by Winograd, the adjoint of the whole forward: V̄[ξ] = U[ξ]ᵀ · M̄[ξ],
    then each tile's B V̄ Bᵀ added back where the forward read it."""
    bt, g, _ = _matrices(gy.dtype)
    dm = _winograd_grad(gy, geo) if dm is None else dm
    dv = _winograd_filters(w, g).transpose(0, 2, 1) @ dm  # α² products (C, O) @ (O, P)
    x_shape = (gy.shape[0], w.shape[1], *geo.in_hw)
    return kernels.winograd_input_grad(dv, bt, x_shape, geo.padding, _tiles(geo))


# --------------------------------------------------------------------------- the three Functions


class Conv2d(Function):
    """y = conv(x, W) + b, for inputs (x, W) or (x, W, b). With ``keep_cols`` the im2col matrix of
    x is kept for the weight gradient (rebuilding it costs as much as the product)."""

    @_float32_on_cpu
    def forward(self, x, w, b=None):
        geo = self.geometry
        cols = _winograd_input(x, geo) if _winograd(geo, x, w.shape[0]) else geo.im2col(x)
        if self.keep_cols:
            self.cols = cols
        return _conv(x, w, self.geometry, cols, b)

    def backward(self, g):
        need_x, need_w, *need_b = self.needs_input_grad
        geo = self.geometry
        # what the two products below can share: x's im2col matrix, and g laid out by filter
        shared = {"cols": getattr(self, "cols", None)}
        gx = ConvTranspose2d.apply(g, self.saved(1), geometry=geo, shared=shared) if need_x else None
        gw = Conv2dWeight.apply(self.saved(0), g, geometry=geo, shared=shared) if need_w else None
        if not need_b:
            return gx, gw
        return gx, gw, g.sum((0, 2, 3)) if need_b[0] else None


class ConvTranspose2d(Function):
    """dx = conv_transpose(g, W): the gradient of a convolution with respect to its input, and
    the transposed convolution. ``geometry.in_hw`` is the size of the result."""

    @_float32_on_cpu
    def forward(self, g, w):
        if _winograd(self.geometry, g, w.shape[1]):  # ȳ transformed: the weight gradient needs it too
            dm = _reuse(self, "dm", g.dtype, lambda: _winograd_grad(g, self.geometry))
            self.shared = None
            return _winograd_transpose(g, w, self.geometry, dm)
        if _as_convolution(self.geometry, w):  # no use for g laid out by filter (Conv2dWeight makes it)
            self.shared = None
            return _conv(g, _flipped(w), _full(self.geometry))
        gm = _reuse(self, "g", g.dtype, lambda: _grad_matrix(g, self.geometry.groups))
        self.shared = None  # used: do not keep the arrays alive in a double-backward graph
        return _conv_transpose(g, w, self.geometry, gm)

    def backward(self, gg):
        need_g, need_w = self.needs_input_grad
        geo = self.geometry
        return (
            Conv2d.apply(gg, self.saved(1), geometry=geo, keep_cols=False) if need_g else None,
            Conv2dWeight.apply(gg, self.saved(0), geometry=geo) if need_w else None,
        )


class Conv2dWeight(Function):
    """dW = conv_weight(x, g): the gradient of a convolution with respect to its weight (from
    the forward's im2col matrix when it was kept)."""

    @_float32_on_cpu
    def forward(self, x, g):
        cols = _reuse(self, "cols", x.dtype, None)  # im2col's matrix (6-d), or Winograd's tiles (3-d)
        if _winograd(self.geometry, x, g.shape[1]):
            dm = _reuse(self, "dm", g.dtype, None)  # made by the input gradient's Winograd, if it ran
            self.shared = None
            tiles = cols if cols is not None and cols.ndim == 3 else None
            return _winograd_weight(x, g, self.geometry, tiles, dm)
        cols = cols if cols is not None and cols.ndim == 6 else None  # (WINOGRAD was changed in between)
        gm = _reuse(self, "g", g.dtype, lambda: _grad_matrix(g, self.geometry.groups))
        self.shared = None
        return _conv_weight(x, g, self.geometry, cols, gm)

    def backward(self, gw):
        need_x, need_g = self.needs_input_grad
        geo = self.geometry
        return (
            ConvTranspose2d.apply(self.saved(1), gw, geometry=geo) if need_x else None,
            Conv2d.apply(self.saved(0), gw, geometry=geo, keep_cols=False) if need_g else None,
        )


# --------------------------------------------------------------------------- conv2d, conv1d


def _check_conv_args(
    op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, transposed: bool
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Check a batched input (N, C, *S) against the weight, groups and bias; promote their dtypes."""
    from . import promote_tensors

    spatial = x.ndim - 2
    layout = (
        "(in_channels, out_channels/groups, *kernel)"
        if transposed
        else "(out_channels, in_channels/groups, *kernel)"
    )
    if not isinstance(weight, Tensor) or weight.ndim != spatial + 2:
        raise RuntimeError(
            f"{op}: expected a {spatial + 2}-D weight {layout}, got "
            f"{list(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}"
        )
    if not x.is_floating_point() or not weight.is_floating_point():
        raise RuntimeError(
            f"{op}: expected floating point input and weight, got {x.dtype} and {weight.dtype}"
        )
    if not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported (groups={groups})")
    in_ch = weight.shape[0] if transposed else weight.shape[1] * groups
    if x.shape[1] != in_ch:
        raise RuntimeError(
            f"{op}: given groups={groups}, weight of size {list(weight.shape)} {layout}, expected "
            f"input{list(x.shape)} to have {in_ch} channels, but got {x.shape[1]} channels instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"{op}: {'in' if transposed else 'out'}_channels ({weight.shape[0]}) must be divisible by "
            f"groups ({groups}); weight of size {list(weight.shape)}"
        )
    out_ch = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (out_ch,)):
        raise RuntimeError(
            f"{op}: expected bias of shape ({out_ch},) (one per output channel), got "
            f"{tuple(bias.shape) if isinstance(bias, Tensor) else type(bias).__name__}"
        )
    tensors = promote_tensors(op, x, weight, *([] if bias is None else [bias]))
    return tensors[0], tensors[1], tensors[2] if bias is not None else None


def _batched(op: str, x: Tensor, spatial: int) -> tuple[Tensor, bool]:
    """(x with a batch dimension, whether one was added): (C, *S) inputs are one unbatched sample."""
    if not isinstance(x, Tensor) or x.ndim not in (spatial + 1, spatial + 2):
        shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise RuntimeError(
            f"{op}: expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input, but got input "
            f"of size: {shape}"
        )
    return (x.unsqueeze(0), True) if x.ndim == spatial + 1 else (x, False)


def _conv2d(
    op: str,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Pair,
    padding,
    dilation: Pair,
    groups: int,
) -> Tensor:
    """The convolution of checked, batched 4-D tensors; ``padding`` a pair or "same" / "valid"."""
    kernel = weight.shape[2:]
    if min(stride) < 1 or min(dilation) < 1:
        raise RuntimeError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid' or 'same'")
        if padding == "same" and stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        # "same": D·(K − 1) in total per dimension; an odd total puts the extra one at the end
        total = [d * (k - 1) if padding == "same" else 0 for k, d in zip(kernel, dilation, strict=True)]
        if total[0] % 2 or total[1] % 2:
            from .shape import pad

            x = pad(x, (0, total[1] % 2, 0, total[0] % 2))
        padding = (total[0] // 2, total[1] // 2)
    if min(padding) < 0:
        raise RuntimeError(f"{op}: negative padding {padding} is not supported")
    in_hw = x.shape[2:]
    out_hw = tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(in_hw, kernel, stride, padding, dilation, strict=True)
    )
    if min(out_hw) < 1:
        raise RuntimeError(
            f"{op}: input of size {list(x.shape)} with padding {padding} is smaller than the dilated kernel "
            f"{tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))}: the calculated "
            f"output size {out_hw} is too small"
        )
    geo = Geometry(tuple(kernel), stride, padding, dilation, groups, tuple(in_hw), out_hw)
    x16, w16 = autocast_inputs(x, weight)
    if x16 is not x:  # inside autocast: the float16 convolution, then the bias in its own dtype
        out = _conv2d_function(x16, w16, None, geo)  # (a float32 bias gives a float32 result, as in linear)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)
    return _conv2d_function(x, weight, bias, geo)


def _conv2d_function(x: Tensor, weight: Tensor, bias: Tensor | None, geo: Geometry) -> Tensor:
    cols_bytes = x.shape[0] * x.shape[1] * math.prod(geo.kernel) * math.prod(geo.out_hw) * x.itemsize
    keep = is_grad_enabled() and weight.requires_grad and cols_bytes <= KEEP_COLS_BYTES
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*inputs, geometry=geo, keep_cols=keep)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation, as in every framework): input (N, C, H, W) or
    (C, H, W), weight (O, C/groups, kh, kw), bias (O,) → (N, O, Ho, Wo) with
    Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1 (:func:`conv_output_size`).

    ``padding`` is an int, a pair, ``"valid"`` (none) or ``"same"`` (output as large as the
    input; stride 1 only). ``groups`` splits the channels into independent convolutions.
    """
    x, unbatched = _batched("conv2d", input, 2)
    x, weight, bias = _check_conv_args("conv2d", x, weight, bias, groups, transposed=False)
    stride, dilation = pair(stride, "stride", "conv2d"), pair(dilation, "dilation", "conv2d")
    padding = padding if isinstance(padding, str) else pair(padding, "padding", "conv2d")
    out = _conv2d("conv2d", x, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution: input (N, C, L) or (C, L), weight (O, C/groups, k), bias (O,) →
    (N, O, Lo): a :func:`conv2d` over images of height 1."""
    x, unbatched = _batched("conv1d", input, 1)
    x, weight, bias = _check_conv_args("conv1d", x, weight, bias, groups, transposed=False)
    (s,), (d,) = pair(stride, "stride", "conv1d", 1), pair(dilation, "dilation", "conv1d", 1)
    padding = padding if isinstance(padding, str) else (0, pair(padding, "padding", "conv1d", 1)[0])
    out = _conv2d("conv1d", x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), padding, (1, d), groups)
    return out.squeeze(2).squeeze(0) if unbatched else out.squeeze(2)


# --------------------------------------------------------------------------- conv_transpose2d


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """The transposed convolution ("deconvolution"): the gradient of :func:`conv2d` with
    respect to its input, used to upsample. input (N, C_in, H, W), weight
    (C_in, C_out/groups, kh, kw) → (N, C_out, Ho, Wo) with
    Ho = (H − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1.

    ``output_padding`` (< stride or dilation) picks among the input sizes that a strided
    convolution maps to the same output size.
    """
    op = "conv_transpose2d"
    x, unbatched = _batched(op, input, 2)
    x, weight, bias = _check_conv_args(op, x, weight, bias, groups, transposed=True)
    kernel = weight.shape[2:]
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op)
    dilation, output_padding = pair(dilation, "dilation", op), pair(output_padding, "output_padding", op)
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise RuntimeError(
            f"{op}: stride {stride} and dilation {dilation} must be positive, padding {padding} ≥ 0"
        )
    for op_, s, d in zip(output_padding, stride, dilation, strict=True):
        if not 0 <= op_ < max(s, d):
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    h, w = x.shape[2:]
    out_hw = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip((h, w), stride, padding, dilation, kernel, output_padding, strict=True)
    )
    if min(out_hw) < 1:
        raise RuntimeError(
            f"{op}: input of size {list(x.shape)} gives an output of size {out_hw}, which is empty"
        )
    geo = Geometry(tuple(kernel), stride, padding, dilation, groups, out_hw, (h, w))
    out = ConvTranspose2d.apply(*autocast_inputs(x, weight), geometry=geo)  # float16 inside autocast
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


# --------------------------------------------------------------------------- unfold / fold


class Unfold(Function):
    """x (N, C, H, W) → its windows (N, C·kh·kw, L), L = Ho·Wo: im2col, batch first."""

    def forward(self, x):
        geo = self.geometry
        n, c = x.shape[:2]
        cols = geo.im2col(x).reshape(c * geo.kernel[0] * geo.kernel[1], n, -1)
        return get_array_module(x).ascontiguousarray(cols.transpose(1, 0, 2))

    def backward(self, g):
        return Fold.apply(g, geometry=self.geometry, channels=self.inputs[0].shape[1])


class Fold(Function):
    """The adjoint of :class:`Unfold`: windows (N, C·kh·kw, L) summed back into (N, C, H, W)."""

    def forward(self, cols):
        geo = self.geometry
        n = cols.shape[0]
        cols = cols.transpose(1, 0, 2).reshape(self.channels, *geo.kernel, n, *geo.out_hw)
        return geo.col2im(get_array_module(cols).ascontiguousarray(cols), n, self.channels)

    def backward(self, g):
        return Unfold.apply(g, geometry=self.geometry)


def _window_args(op: str, kernel_size, dilation, padding, stride) -> tuple[Pair, Pair, Pair, Pair]:
    kernel = pair(kernel_size, "kernel_size", op)
    dilation, padding, stride = (
        pair(dilation, "dilation", op),
        pair(padding, "padding", op),
        pair(stride, "stride", op),
    )
    if min(kernel) < 1 or min(dilation) < 1 or min(stride) < 1 or min(padding) < 0:
        raise RuntimeError(
            f"{op}: kernel_size {kernel}, dilation {dilation} and stride {stride} must be positive and "
            f"padding {padding} non-negative"
        )
    return kernel, dilation, padding, stride


def unfold(
    input: Tensor,
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """The sliding windows of a batch of images as columns: (N, C, H, W) → (N, C·kh·kw, L), with
    L = Ho·Wo windows in row-major order and each column ordered (channel, kernel row, kernel
    column), as PyTorch's ``F.unfold``. ``conv2d`` is ``weight.view(O, -1) @ unfold(x)``."""
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise RuntimeError(
            f"unfold: expected a 3-D (unbatched) or 4-D (batched) input, got "
            f"{list(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    x, unbatched = _batched("unfold", input, 2)
    kernel, dilation, padding, stride = _window_args("unfold", kernel_size, dilation, padding, stride)
    out_hw = tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation, strict=True)
    )
    if min(out_hw) < 1:
        raise RuntimeError(
            f"unfold: input of size {list(x.shape)} with kernel_size {kernel}, dilation {dilation}, padding "
            f"{padding} and stride {stride} has no complete window"
        )
    geo = Geometry(kernel, stride, padding, dilation, 1, tuple(x.shape[2:]), out_hw)
    out = Unfold.apply(x, geometry=geo)
    return out.squeeze(0) if unbatched else out


def fold(
    input: Tensor,
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    stride: int | Sequence[int] = 1,
) -> Tensor:
    """The inverse arrangement of :func:`unfold`: columns (N, C·kh·kw, L) → (N, C, H, W) with
    ``output_size`` (H, W), adding the values that overlapping windows put on one pixel."""
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise RuntimeError(
            f"fold: expected a 2-D (unbatched) or 3-D (batched) input, got "
            f"{list(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    cols, unbatched = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    kernel, dilation, padding, stride = _window_args("fold", kernel_size, dilation, padding, stride)
    size = pair(output_size, "output_size", "fold")
    windows = zip(size, kernel, stride, padding, dilation, strict=True)
    out_hw = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d in windows)
    per_window = kernel[0] * kernel[1]
    if cols.shape[1] % per_window:
        raise RuntimeError(
            f"fold: expected size of input's dimension 1 to be divisible by the product of kernel_size "
            f"{kernel}, but got input of size {list(input.shape)}"
        )
    if cols.shape[2] != out_hw[0] * out_hw[1] or min(out_hw) < 1:
        raise RuntimeError(
            f"fold: given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {out_hw[0]} * {out_hw[1]} = {out_hw[0] * out_hw[1]}, but got input of size "
            f"{list(input.shape)}"
        )
    geo = Geometry(kernel, stride, padding, dilation, 1, size, out_hw)
    out = Fold.apply(cols, geometry=geo, channels=cols.shape[1] // per_window)
    return out.squeeze(0) if unbatched else out

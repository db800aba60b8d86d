"""The kernels in plain array code: one loop over the kernel's offsets, whole-array work inside.

Every function takes and returns arrays of one namespace (NumPy, or CuPy on a GPU: ``xp`` is
the inputs' module), so this file is also what runs on the GPU. The Numba twins in
:mod:`.numba_kernels` compute the same numbers with explicit loops.

Shapes: images are (N, C, H, W); a window has ``kernel = (kh, kw)``, ``stride``, ``padding``
(zeros, or -inf for max pooling) and ``dilation``, each a pair (rows, columns); the output
is (Ho, Wo) windows. Window (ho, wo) reads the input rows ``ho·sh − ph + i·dh`` (i < kh) and
columns ``wo·sw − pw + j·dw`` (j < kw).
"""

from __future__ import annotations

from ..backend import get_array_module

Pair = tuple[int, int]


def _strided(start: int, count: int, step: int) -> slice:
    """The slice that picks ``count`` elements ``start, start + step, ...``."""
    return slice(start, start + step * (count - 1) + 1, step)


def _padded(x, padding: Pair, extent: Pair, value: float):
    """``x`` with ``padding`` on every side and enough extra rows/columns at the bottom/right that
    every one of the ``extent`` rows/columns the windows reach exists (ceil_mode windows may
    hang past the padding)."""
    xp = get_array_module(x)
    (ph, pw), (eh, ew) = padding, extent
    n, c, h, w = x.shape
    bottom, right = max(eh - h - ph, 0), max(ew - w - pw, 0)
    if not (ph or pw or bottom or right):
        return x
    out = xp.full((n, c, ph + h + bottom, pw + w + right), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _extent(kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair) -> Pair:
    """How many padded rows and columns the windows reach."""
    windows = zip(kernel, stride, dilation, out_hw, strict=True)
    return tuple(s * (o - 1) + d * (k - 1) + 1 for k, s, d, o in windows)


def im2col(x, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair):
    """The windows of ``x`` (N, C, H, W) as columns: ``cols[c, i, j, n, ho, wo]`` is the input
    value at offset (i, j) of window (ho, wo) of image n, channel c (zero in the padding).

    Returned as a contiguous (C, kh, kw, N, Ho, Wo) array: seen as a (C·kh·kw, N·Ho·Wo) matrix,
    one product with the (O, C·kh·kw) weights convolves the whole batch. The padded input is
    first laid out channel-first, (C, N, H, W), so that every copy below runs along the same
    axes in source and destination.
    """
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    n, c = x.shape[:2]
    xpad = _padded(x, padding, _extent(kernel, stride, dilation, out_hw), 0).transpose(1, 0, 2, 3)
    xpad = xp.ascontiguousarray(xpad)
    cols = xp.empty((c, kh, kw, n, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xpad[:, :, _strided(i * dh, ho, sh), _strided(j * dw, wo, sw)]
    return cols


def col2im(cols, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair):
    """The adjoint of :func:`im2col`: every column entry is added back to the input position it
    was read from (positions in several windows collect several), padding dropped.
    ``cols`` is (C, kh, kw, N, Ho, Wo); the result has ``x_shape`` (N, C, H, W). The sums build
    up channel-first, (C, N, H, W), like ``cols``; one transpose at the end."""
    xp = get_array_module(cols)
    c, kh, kw, n, ho, wo = cols.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    h, w = x_shape[2:]
    eh, ew = _extent((kh, kw), stride, dilation, (ho, wo))
    dx = xp.zeros((c, n, max(eh, h + ph), max(ew, w + pw)), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, _strided(i * dh, ho, sh), _strided(j * dw, wo, sw)] += cols[:, i, j]
    return xp.ascontiguousarray(dx[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3))


def _first_inside(start, step: int):
    """The first of ``start, start + step, ...`` that is ≥ 0 (elementwise on an array of starts)."""
    xp = get_array_module(start)
    return start + xp.maximum(0, (-start + step - 1) // step) * step


def max_pool2d(x, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair):
    """The maximum of each window and where it is: ``(values, indices)``, both (N, C, Ho, Wo); an
    index is the flat position h·W + w in its (H, W) plane. As in PyTorch, a value replaces the
    running maximum when it is larger or NaN (so ties keep the first maximum in row-major window
    order), and padding is never picked: a window of -inf values points at its first position
    inside the image."""
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = kernel, stride, padding, dilation, out_hw
    w = x.shape[3]
    xpad = _padded(x, padding, _extent(kernel, stride, dilation, out_hw), -xp.inf)
    top, left = xp.arange(ho) * sh - ph, xp.arange(wo) * sw - pw
    values = xp.full((*x.shape[:2], ho, wo), -xp.inf, dtype=x.dtype)
    indices = xp.empty(values.shape, dtype=xp.int64)
    indices[...] = _first_inside(top, dh).reshape(ho, 1) * w + _first_inside(left, dw)
    nan = bool(xp.isnan(x).any())
    better = xp.empty(values.shape, dtype=bool)
    for i in range(kh):
        for j in range(kw):
            v = xpad[:, :, _strided(i * dh, ho, sh), _strided(j * dw, wo, sw)]
            xp.greater(v, values, out=better)
            if nan:
                better |= xp.isnan(v)
            xp.maximum(values, v, out=values)  # NaN propagates, as the rule above implies
            # arithmetic, not a masked copy: which tap wins is random, and masks branch per element
            indices += ((top + i * dh).reshape(ho, 1) * w + (left + j * dw) - indices) * better
    return values, indices


def max_pool2d_backward(g, indices, x_shape: tuple[int, ...]):
    """Send each output gradient to the input position its maximum came from (adding when
    overlapping windows share a maximum). ``g`` and ``indices`` are (N, C, Ho, Wo); an index
    outside the plane (a window that lies entirely in the padding) receives nothing."""
    xp = get_array_module(g)
    n, c, h, w = x_shape
    indices, g = indices.reshape(n * c, -1), g.reshape(n * c, -1)
    outside = (indices < 0) | (indices >= h * w)  # windows entirely in the padding pick no input
    if outside.any():
        indices, g = xp.where(outside, 0, indices), xp.where(outside, 0, g)
    dx = xp.zeros((n * c, h * w), dtype=g.dtype)
    xp.add.at(dx, (xp.arange(n * c).reshape(n * c, 1), indices), g)
    return dx.reshape(x_shape)


def avg_pool2d(x, kernel: Pair, stride: Pair, padding: Pair, out_hw: Pair, scale):
    """The sum of each window (zeros in the padding) times ``scale`` (Ho, Wo): 1/divisor."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    xpad = _padded(x, padding, _extent(kernel, stride, (1, 1), out_hw), 0)
    total = None
    for i in range(kh):
        for j in range(kw):
            v = xpad[:, :, _strided(i, ho, sh), _strided(j, wo, sw)]
            total = v.copy() if total is None else total + v
    return total * scale


def avg_pool2d_backward(g, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, scale):
    """The adjoint of :func:`avg_pool2d`: each output gradient times its ``scale``, added to
    every input position of its window."""
    xp = get_array_module(g)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x_shape
    ho, wo = g.shape[2:]
    eh, ew = _extent(kernel, stride, (1, 1), (ho, wo))
    gs = g * scale
    dx = xp.zeros((n, c, max(eh, h + ph), max(ew, w + pw)), dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, _strided(i, ho, sh), _strided(j, wo, sw)] += gs
    return xp.ascontiguousarray(dx[:, :, ph : ph + h, pw : pw + w])


# --------------------------------------------------------------------------- batch normalisation
# Per channel c of x (N, C, L) (an image's positions flattened into L). Sums accumulate in
# float64 and statistics come back in float64; elementwise results keep x's dtype.


def _channel(v, x):
    """A per-channel vector (C,) shaped to broadcast over (N, C, L), in x's dtype."""
    return v.astype(x.dtype).reshape(1, -1, 1)


def channel_stats(x):
    """The mean and the biased variance of each channel of x (N, C, L), as float64 (C,) arrays."""
    mean = x.mean(axis=(0, 2), dtype="float64")
    centered = x - _channel(mean, x)
    return mean, (centered * centered).mean(axis=(0, 2), dtype="float64")


def channel_affine(x, scale, shift):
    """x·scale[c] + shift[c] for x (N, C, L)."""
    out = x * _channel(scale, x)
    out += _channel(shift, x)
    return out


def channel_grad_sums(g, x, mean):
    """Σ g and Σ g·(x − mean[c]) over each channel of g and x (N, C, L), as float64 (C,) arrays."""
    return g.sum(axis=(0, 2), dtype="float64"), (g * (x - _channel(mean, x))).sum(
        axis=(0, 2), dtype="float64"
    )


def channel_grad_input(g, x, a, b, d):
    """a[c]·g + b[c]·x + d[c] for g and x (N, C, L): the input gradient of batch norm."""
    out = g * _channel(a, g)
    out += x * _channel(b, g)
    out += _channel(d, g)
    return out


# --------------------------------------------------------------------------- Winograd F(m×m, 3×3)
#
# A 3×3 stride-1 convolution computed on m×m output tiles (:mod:`tinylearn.ops.conv` has the
# algebra and the matrices; α = m + 2 is the input tile's size). Tile (ty, tx) of image n reads
# the α×α input rows m·ty − ph + i and columns m·tx − pw + j (i, j < α) of the zero-padded input.
# The tiles are the P columns of the (α², C, P) matrices in this order: the images in blocks of
# nb (:func:`winograd_block`; the last block may be smaller), and in a block of b images, tile
# (ty, tx) of its image k at (ty·b + k)·L + tx, with L = tw + 1: each row of tiles has one column
# more than it needs (tx = tw), zero in V and M̄ and ignored in M. So laid out, the tiles of a
# block are a few whole planes that the Numba loops run over in one go (a loop per row of tiles,
# tw long, measured 3× slower), and tile row ty + 1 of an image is b·L further on.
#
# Each transform is a product with a small matrix on both sides, X ↦ L X Rᵀ, done in two steps
# (rows, then columns), each output a sum over the matrix's nonzero coefficients c, evaluated as
# c₁·x₁ + c₂·x₂ + ... from the left: the Numba twins compute the same terms in the same order.
#
#   input   V = Bᵀ d B      bt = Bᵀ (α, α)
#   output  y = Aᵀ m A      at = Aᵀ (m, α)
#   grad    M̄ = A ȳ Aᵀ      the adjoint of the output transform, from the same at
#   input_grad  x̄ += B V̄ Bᵀ  the adjoint of the input transform, from the same bt: each tile's
#                            α×α result added where the tile was read (tiles overlap by 2)

WINOGRAD_BLOCK_TILES = 4096  # tiles per block, at most (or one image): the Numba loops' length


def winograd_block(n: int, tiles: Pair) -> int:
    """How many images a block of the tile order holds."""
    th, tw = tiles
    return max(1, min(n, WINOGRAD_BLOCK_TILES // (th * (tw + 1))))


def _blocks(a, n: int, tiles: Pair):
    """(first image, images, view (α², images, C, th, tw)) for each block of the tiles of ``a``
    (α², C, P), without the extra column."""
    (th, tw), nb = tiles, winograd_block(n, tiles)
    for b0 in range(0, n, nb):
        b = min(nb, n - b0)
        cols = a[:, :, b0 * th * (tw + 1) : (b0 + b) * th * (tw + 1)]
        yield b0, b, cols.reshape(*a.shape[:2], th, b, tw + 1)[..., :tw].transpose(0, 3, 1, 2, 4)


def _combine(coefficients, terms):
    """Σ cᵢ·termᵢ over the nonzero cᵢ, from the left (zeros if every cᵢ is 0)."""
    total = None
    for c, term in zip(coefficients, terms, strict=True):
        if c != 0:
            total = c * term if total is None else total + c * term
    return total if total is not None else 0 * terms[0]


def winograd_input(x, bt, padding: Pair, tiles: Pair):
    """V (α², C, P): the input transform Bᵀ d B (``bt`` = Bᵀ, α×α, in x's dtype) of every α×α tile d
    of ``x`` (N, C, H, W) zero-padded by ``padding``, with ``tiles`` = (th, tw) tiles of m = α − 2
    outputs per image; element (i, j) of a tile's transform is V[α·i + j, c, p]."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    (ph, pw), (th, tw), al = padding, tiles, bt.shape[0]
    m = al - 2
    buf = xp.zeros((n, c, m * th + 2, m * tw + 2), dtype=x.dtype)
    buf[:, :, ph : ph + h, pw : pw + w] = x
    # d[i][j]: element (i, j) of every tile, (N, C, th, tw)
    starts = [(slice(i, i + m * (th - 1) + 1, m), slice(i, i + m * (tw - 1) + 1, m)) for i in range(al)]
    d = [[buf[:, :, starts[i][0], starts[j][1]] for j in range(al)] for i in range(al)]
    rows = [[_combine(bt[a], [d[i][j] for i in range(al)]) for j in range(al)] for a in range(al)]  # of Bᵀ d
    v = xp.zeros((al * al, c, n * th * (tw + 1)), dtype=x.dtype)
    for a in range(al):
        for k in range(al):
            transformed = _combine(bt[k], rows[a])
            for b0, b, out in _blocks(v, n, tiles):
                out[al * a + k] = transformed[b0 : b0 + b]
    return v


def winograd_output(m, at, out_shape: tuple[int, ...], tiles: Pair):
    """y (N, K, Ho, Wo) from M (α², K, P): the output transform Aᵀ m A (``at`` = Aᵀ, m×α) of every
    tile, each an m×m block of y (blocks that hang past Ho or Wo are cut)."""
    xp = get_array_module(m)
    n, k, ho, wo = out_shape
    (th, tw), (size, al) = tiles, at.shape
    mv = _tile_columns(m, n, tiles)  # (α², N, K, th, tw)
    rows = [[_combine(at[a], [mv[al * i + j] for i in range(al)]) for j in range(al)] for a in range(size)]
    full = xp.empty((n, k, th, size, tw, size), dtype=m.dtype)  # y[m·ty + a, m·tx + b]
    for a in range(size):
        for b in range(size):
            full[:, :, :, a, :, b] = _combine(at[b], rows[a])
    return xp.ascontiguousarray(full.reshape(n, k, size * th, size * tw)[:, :, :ho, :wo])


def winograd_grad(g, at, tiles: Pair):
    """M̄ (α², K, P) from ȳ (N, K, Ho, Wo): the adjoint of :func:`winograd_output`, A ȳ Aᵀ of every
    m×m block of ȳ (zero past Ho and Wo)."""
    xp = get_array_module(g)
    n, k, ho, wo = g.shape
    (th, tw), (size, al) = tiles, at.shape
    buf = xp.zeros((n, k, size * th, size * tw), dtype=g.dtype)
    buf[:, :, :ho, :wo] = g
    # blocks[a][b]: ȳ[m·ty + a, m·tx + b] of every tile
    blocks = [[buf[:, :, a::size, b::size] for b in range(size)] for a in range(size)]
    rows = [[_combine(at[:, i], [blocks[a][b] for a in range(size)]) for b in range(size)] for i in range(al)]
    dm = xp.zeros((al * al, k, n * th * (tw + 1)), dtype=g.dtype)
    for i in range(al):
        for j in range(al):
            transformed = _combine(at[:, j], rows[i])
            for b0, b, out in _blocks(dm, n, tiles):
                out[al * i + j] = transformed[b0 : b0 + b]
    return dm


def _tile_columns(a, n: int, tiles: Pair):
    """(α², N, C, th, tw): the columns of ``a`` (α², C, P) as tiles, without the extra ones."""
    return get_array_module(a).concatenate([view for _, _, view in _blocks(a, n, tiles)], axis=1)


def winograd_input_grad(dv, bt, x_shape: tuple[int, ...], padding: Pair, tiles: Pair):
    """x̄ (N, C, H, W) from V̄ (α², C, P): the adjoint of :func:`winograd_input`. Each tile's
    B V̄ Bᵀ is added to the α×α input positions the tile read (in the order of its elements (i, j),
    j outer), and the padding is dropped. V̄'s extra columns must be zero (Uᵀ·M̄'s are: M̄'s are)."""
    xp = get_array_module(dv)
    n, c, h, w = x_shape
    (ph, pw), (th, tw), al = padding, tiles, bt.shape[0]
    m = al - 2
    dvv = _tile_columns(dv, n, tiles)
    rows = [[_combine(bt[:, j], [dvv[al * a + k] for k in range(al)]) for j in range(al)] for a in range(al)]
    buf = xp.zeros((n, c, m * th + 2, m * tw + 2), dtype=dv.dtype)
    for j in range(al):
        for i in range(al):
            buf[:, :, i : i + m * (th - 1) + 1 : m, j : j + m * (tw - 1) + 1 : m] += _combine(
                bt[:, i], [rows[a][j] for a in range(al)]
            )
    return xp.ascontiguousarray(buf[:, :, ph : ph + h, pw : pw + w])


# --------------------------------------------------------------------------- optimizers


def adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps):
    """One Adam update, in place on θ, m and v (PyTorch's formula; scalars are Python floats)::

        m ← m + (1 − β₁)(g − m)            = β₁m + (1 − β₁)g
        v ← β₂v + (1 − β₂)g²
        θ ← θ − step_size · m / (√v / bias_correction2_sqrt + ε)

    with step_size = lr/(1 − β₁ᵗ) and bias_correction2_sqrt = √(1 − β₂ᵗ). Each line is evaluated
    in the arrays' dtype, left to right, as written here."""
    m += (1 - beta1) * (g - m)
    v *= beta2
    v += (1 - beta2) * g * g
    theta -= step_size * (m / (get_array_module(v).sqrt(v) / bias_correction2_sqrt + eps))

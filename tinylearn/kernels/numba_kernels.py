"""The kernels as Numba loops: the same functions as :mod:`.numpy_kernels`, same arguments, same
numbers, compiled to machine code on first use and cached on disk (``cache=True``), so later
processes load them instead of compiling again.

Each public function is a thin Python wrapper (it makes the inputs contiguous and allocates the
result) around an ``@njit`` loop. How the loops are written, and why:

* **Flat arrays, unsigned offsets.** The loops index 1-d views of the arrays with ``uint64``
  offsets. With signed indices Numba must check every access for a negative index (Python's
  wrap-around), a branch per element that also stops LLVM from vectorising: 2–3× slower here.
* **NumPy's error model where a loop divides** (``error_model="numpy"``): Python's would check
  every divisor for zero to raise ZeroDivisionError, a branch per element that stops LLVM from
  vectorising (the Adam step: 0.87 ms → 0.10 ms for 200,960 float32 weights).
* **No branch in the innermost loop.** The range of output positions whose input lies inside
  the image is computed first (:func:`_inside`); the padding costs only the zeros it writes.
* **Independent outer iterations** (``prange``): each one owns whole rows or planes of the
  result, so the loops may run on threads (``PARALLEL``) without two threads ever writing one
  element, and every element sums its terms in the same order as :mod:`.numpy_kernels` does
  (kernel offsets outermost): the two backends agree to the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba import uint64 as u64

from . import numpy_kernels as _numpy_kernels

Pair = tuple[int, int]

# Threads for the prange loops: off. On the 2-core machine these loops are memory-bound, and a
# second thread pool (Numba's OpenMP) beside OpenBLAS's, whose threads keep spinning for a while
# after each matrix product, made the kernels wait for a core: every kernel and the LeNet step
# measured slower with threads on this (shared) machine. The matrix products keep both cores.
PARALLEL = False


@njit(cache=True, inline="always")
def _inside(offset: int, stride: int, size: int, count: int) -> tuple[int, int]:
    """The range [lo, hi) of positions o < count whose input position o·stride + offset lies in
    [0, size). ``offset + lo·stride`` is also the first position ≥ 0 (PyTorch's first index)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = 0 if offset >= size else min(count, (size - 1 - offset) // stride + 1)
    return lo, max(lo, hi)


@njit(parallel=PARALLEL, cache=True)
def _im2col(x, cols, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = cols.shape[4], cols.shape[5]
    src, dst = x.reshape(-1), cols.reshape(-1)
    step = u64(sw)
    for t in prange(c * kh * kw):  # one (channel, kernel offset) slab of cols per iteration
        ci, ij = divmod(np.int64(t), kh * kw)  # prange counts in uint64: back to signed
        i, j = divmod(ij, kw)
        offset = j * dw - pw
        lo, hi = _inside(offset, sw, w, wo)
        for b in range(n):
            plane = (b * c + ci) * h * w
            for oh in range(ho):
                out = u64(((t * n + b) * ho + oh) * wo)
                r = oh * sh - ph + i * dh
                if r < 0 or r >= h:
                    for k in range(u64(wo)):
                        dst[out + k] = 0
                    continue
                first = u64(plane + r * w + offset + lo * sw)
                for k in range(u64(lo)):
                    dst[out + k] = 0
                for k in range(u64(hi - lo)):
                    dst[out + u64(lo) + k] = src[first + k * step]
                for k in range(u64(hi), u64(wo)):
                    dst[out + k] = 0


def im2col(x, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.im2col`."""
    x = np.ascontiguousarray(x)
    n, c = x.shape[:2]
    cols = np.empty((c, *kernel, n, *out_hw), dtype=x.dtype)
    _im2col(x, cols, *kernel, *stride, *padding, *dilation)
    return cols


@njit(parallel=PARALLEL, cache=True)
def _col2im(cols, dx, sh, sw, ph, pw, dh, dw):
    c, kh, kw, n, ho, wo = cols.shape
    h, w = dx.shape[2], dx.shape[3]
    src, dst = cols.reshape(-1), dx.reshape(-1)
    step = u64(sw)
    for t in prange(n * c):  # each iteration owns one (image, channel) plane of dx
        b, ci = divmod(np.int64(t), c)
        plane = u64((b * c + ci) * h * w)
        for k in range(u64(h * w)):
            dst[plane + k] = 0
        for i in range(kh):  # offsets outermost: each pixel sums in numpy_kernels' order
            for j in range(kw):
                offset = j * dw - pw
                lo, hi = _inside(offset, sw, w, wo)
                for oh in range(ho):
                    r = oh * sh - ph + i * dh
                    if r < 0 or r >= h:
                        continue
                    first = plane + u64(r * w + offset + lo * sw)
                    row = u64(((((ci * kh + i) * kw + j) * n + b) * ho + oh) * wo + lo)
                    for k in range(u64(hi - lo)):
                        dst[first + k * step] += src[row + k]


def col2im(cols, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.col2im`."""
    cols = np.ascontiguousarray(cols)
    dx = np.empty(x_shape, dtype=cols.dtype)
    _col2im(cols, dx, *stride, *padding, *dilation)
    return dx


@njit(cache=True)
def _windows(count: int, stride: int, padding: int, dilation: int, kernel: int, size: int):
    """For each of ``count`` windows along one dim: its start (may be negative) and the range
    [lo, hi) of its taps that fall inside [0, size). Computed once per call, not per pixel
    (integer division is slow)."""
    out = np.empty((count, 3), dtype=np.int64)
    for o in range(count):
        start = o * stride - padding
        lo, hi = _inside(start, dilation, size, kernel)
        out[o, 0], out[o, 1], out[o, 2] = start, lo, hi
    return out


@njit(parallel=PARALLEL, cache=True)
def _max_pool2d(x, values, indices, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    ho, wo = values.shape[2], values.shape[3]
    rows, cols = _windows(ho, sh, ph, dh, kh, h), _windows(wo, sw, pw, dw, kw, w)
    src, out, where = x.reshape(-1), values.reshape(-1), indices.reshape(-1)
    lowest = values.dtype.type(-np.inf)
    for t in prange(n * c):
        plane, o = u64(t * h * w), u64(t * ho * wo)
        for oh in range(ho):
            top, i0, i1 = rows[oh, 0], rows[oh, 1], rows[oh, 2]
            for ow in range(wo):
                left, j0, j1 = cols[ow, 0], cols[ow, 1], cols[ow, 2]
                best, arg = lowest, (top + i0 * dh) * w + left + j0 * dw  # PyTorch's start
                for i in range(i0, i1):
                    row = (top + i * dh) * w + left
                    for j in range(j0, j1):
                        p = row + j * dw
                        v = src[plane + u64(p)]
                        # PyTorch's rule, a larger value or a NaN takes over, in arithmetic rather
                        # than branches: which tap wins is random, and mispredicted branches cost 3x
                        arg += (p - arg) * np.int64((v > best) | np.isnan(v))
                        best = v if np.isnan(v) else max(best, v)
                out[o] = best
                where[o] = arg
                o += u64(1)


def max_pool2d(x, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.max_pool2d`."""
    x = np.ascontiguousarray(x)
    shape = (*x.shape[:2], *out_hw)
    values, indices = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.int64)
    _max_pool2d(x, values, indices, *kernel, *stride, *padding, *dilation)
    return values, indices


@njit(parallel=PARALLEL, cache=True)
def _max_pool2d_backward(g, indices, dx):
    n, c, h, w = dx.shape
    m = g.shape[2] * g.shape[3]
    src, where, dst = g.reshape(-1), indices.reshape(-1), dx.reshape(-1)
    for t in prange(n * c):
        plane = u64(t * h * w)
        for k in range(u64(h * w)):
            dst[plane + k] = 0
        for k in range(u64(t * m), u64((t + 1) * m)):
            p = where[k]
            if 0 <= p < h * w:  # a window entirely in the padding picks no input
                dst[plane + u64(p)] += src[k]


def max_pool2d_backward(g, indices, x_shape: tuple[int, ...]):
    """See :func:`tinylearn.kernels.numpy_kernels.max_pool2d_backward`."""
    g, indices = np.ascontiguousarray(g), np.ascontiguousarray(indices)
    dx = np.empty(x_shape, dtype=g.dtype)
    _max_pool2d_backward(g, indices, dx)
    return dx


@njit(parallel=PARALLEL, cache=True)
def _avg_pool2d(x, out, scale, zero, kh, kw, sh, sw, ph, pw):
    n, c, h, w = x.shape
    ho, wo = out.shape[2], out.shape[3]
    rows, cols = _windows(ho, sh, ph, 1, kh, h), _windows(wo, sw, pw, 1, kw, w)
    src, dst, factor = x.reshape(-1), out.reshape(-1), scale.reshape(-1)
    for t in prange(n * c):
        plane, o = u64(t * h * w), u64(t * ho * wo)
        for oh in range(ho):
            top, i0, i1 = rows[oh, 0], rows[oh, 1], rows[oh, 2]
            for ow in range(wo):
                left, j0, j1 = cols[ow, 0], cols[ow, 1], cols[ow, 2]
                total = zero  # the input's dtype: float32 sums as numpy_kernels' do
                for i in range(i0, i1):
                    row = np.int64(plane) + (top + i) * w + left  # may be < 0: left is, j ≥ j0 is not
                    for j in range(j0, j1):
                        total += src[u64(row + j)]
                dst[o] = total * factor[u64(oh * wo + ow)]
                o += u64(1)


def avg_pool2d(x, kernel: Pair, stride: Pair, padding: Pair, out_hw: Pair, scale):
    """See :func:`tinylearn.kernels.numpy_kernels.avg_pool2d`."""
    x, scale = np.ascontiguousarray(x), np.ascontiguousarray(scale)
    out = np.empty((*x.shape[:2], *out_hw), dtype=x.dtype)
    _avg_pool2d(x, out, scale, x.dtype.type(0), *kernel, *stride, *padding)
    return out


@njit(parallel=PARALLEL, cache=True)
def _avg_pool2d_backward(g, dx, scale, kh, kw, sh, sw, ph, pw):
    n, c, h, w = dx.shape
    ho, wo = g.shape[2], g.shape[3]
    src, dst, factor = g.reshape(-1), dx.reshape(-1), scale.reshape(-1)
    step = u64(sw)
    for t in prange(n * c):
        plane, grad = u64(t * h * w), u64(t * ho * wo)
        for k in range(u64(h * w)):
            dst[plane + k] = 0
        for i in range(kh):  # offsets outermost: each pixel sums in numpy_kernels' order
            for j in range(kw):
                lo, hi = _inside(j - pw, sw, w, wo)
                for oh in range(ho):
                    r = oh * sh - ph + i
                    if r < 0 or r >= h:
                        continue
                    first = plane + u64(r * w + lo * sw + j - pw)
                    o = u64(oh * wo + lo)
                    for k in range(u64(hi - lo)):
                        dst[first + k * step] += src[grad + o + k] * factor[o + k]


def avg_pool2d_backward(g, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, scale):
    """See :func:`tinylearn.kernels.numpy_kernels.avg_pool2d_backward`."""
    g, scale = np.ascontiguousarray(g), np.ascontiguousarray(scale)
    dx = np.empty(x_shape, dtype=g.dtype)
    _avg_pool2d_backward(g, dx, scale, *kernel, *stride, *padding)
    return dx


# --------------------------------------------------------------------------- batch normalisation
# Per channel c of x (N, C, L). The sums are float64 and may be reordered (``fastmath`` with only
# "reassoc": vectorised sums, NaN and inf still handled), so they agree with numpy_kernels to
# float64 rounding, not bit for bit.

_SUMS = {"reassoc"}


@njit(cache=True, inline="always")
def _as(like, value):
    """``value`` rounded to the dtype of the array ``like`` (float32 arithmetic stays float32)."""
    box = np.empty(1, like.dtype)
    box[0] = value
    return box[0]


@njit(parallel=PARALLEL, cache=True, fastmath=_SUMS)
def _channel_stats(x, mean, var):
    n, c, m = x.shape
    src = x.reshape(-1)
    for ci in prange(c):
        total = np.float64(0.0)  # (a float64 also when run as Python, under NUMBA_DISABLE_JIT=1)
        for b in range(n):
            row = u64((b * c + ci) * m)
            for k in range(u64(m)):
                total += src[row + k]
        mu = total / (n * m)
        mu_x = _as(x, mu)
        squares = np.float64(0.0)
        for b in range(n):
            row = u64((b * c + ci) * m)
            for k in range(u64(m)):
                d = src[row + k] - mu_x  # in x's dtype, as numpy_kernels computes it
                squares += d * d
        mean[ci], var[ci] = mu, squares / (n * m)


def channel_stats(x):
    """See :func:`tinylearn.kernels.numpy_kernels.channel_stats`."""
    x = np.ascontiguousarray(x)
    mean, var = np.empty(x.shape[1]), np.empty(x.shape[1])
    _channel_stats(x, mean, var)
    return mean, var


@njit(parallel=PARALLEL, cache=True)
def _channel_affine(x, scale, shift, out):
    n, c, m = x.shape
    src, dst = x.reshape(-1), out.reshape(-1)
    for t in prange(n * c):
        ci = np.int64(t) % c
        s, h, row = scale[ci], shift[ci], u64(t * m)
        for k in range(u64(m)):
            dst[row + k] = src[row + k] * s + h


def channel_affine(x, scale, shift):
    """See :func:`tinylearn.kernels.numpy_kernels.channel_affine`."""
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    _channel_affine(x, scale.astype(x.dtype), shift.astype(x.dtype), out)
    return out


@njit(parallel=PARALLEL, cache=True, fastmath=_SUMS)
def _channel_grad_sums(g, x, mean, sum_g, sum_gx):
    n, c, m = x.shape
    gs, xs = g.reshape(-1), x.reshape(-1)
    for ci in prange(c):
        mu = mean[ci]
        s, sx = np.float64(0.0), np.float64(0.0)
        for b in range(n):
            row = u64((b * c + ci) * m)
            for k in range(u64(m)):
                v = gs[row + k]
                s += v
                sx += v * (xs[row + k] - mu)
        sum_g[ci], sum_gx[ci] = s, sx


def channel_grad_sums(g, x, mean):
    """See :func:`tinylearn.kernels.numpy_kernels.channel_grad_sums`."""
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    sum_g, sum_gx = np.empty(x.shape[1]), np.empty(x.shape[1])
    _channel_grad_sums(g, x, mean.astype(x.dtype), sum_g, sum_gx)
    return sum_g, sum_gx


@njit(parallel=PARALLEL, cache=True)
def _channel_grad_input(g, x, a, b, d, out):
    n, c, m = x.shape
    gs, xs, dst = g.reshape(-1), x.reshape(-1), out.reshape(-1)
    for t in prange(n * c):
        ci = np.int64(t) % c
        p, q, r, row = a[ci], b[ci], d[ci], u64(t * m)
        for k in range(u64(m)):
            dst[row + k] = gs[row + k] * p + xs[row + k] * q + r


def channel_grad_input(g, x, a, b, d):
    """See :func:`tinylearn.kernels.numpy_kernels.channel_grad_input`."""
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    out = np.empty_like(g)
    dt = g.dtype
    _channel_grad_input(g, x, a.astype(dt), b.astype(dt), d.astype(dt), out)
    return out


# --------------------------------------------------------------------------- Winograd F(m×m, 3×3)
#
# One channel at a time, a block of images at a time (the tile order of :mod:`.numpy_kernels`),
# in buffers that stay in cache. The block's input planes are first split by row and column phase
# into m² polyphase planes (padded[R, Q] of image k is planes[m·(R % m) + Q % m, ((R // m)·b + k)·L
# + Q // m]), so that element (i, j) of every tile of the block is one slice of one of them; then
# each transform's output is one loop over all the tiles of the block, a sum of up to five terms
# (one store per element), which LLVM vectorises. A loop over tiles with α² scattered loads and
# stores each measured 3× slower, and loops over one row of tiles were dominated by their start.
# The arithmetic is that of :mod:`.numpy_kernels`, term by term.


@njit(cache=True, inline="always")
def _term(out, c, src, first):
    """out = c·src (the first term of a sum) or out + c·src, over whole 1-d arrays."""
    if first:
        for p in range(out.size):
            out[p] = c * src[p]
    else:
        for p in range(out.size):
            out[p] = out[p] + c * src[p]


@njit(cache=True)
def _sum_terms(out, coefficients, srcs, offsets, span):
    """out[:span] = Σ cᵢ·srcs[i][offsets[i]:][:span] over the nonzero cᵢ, from the left. Up to five
    terms in one loop (one store and k loads per element, where a loop per term stores k times;
    with one output LLVM still vectorises it); more, or none, term by term."""
    o = out[:span]
    k, i0, i1, i2, i3, i4 = 0, 0, 0, 0, 0, 0
    for i in range(coefficients.size):
        if coefficients[i] != 0:
            if k == 0:
                i0 = i
            elif k == 1:
                i1 = i
            elif k == 2:
                i2 = i
            elif k == 3:
                i3 = i
            elif k == 4:
                i4 = i
            k += 1
    if k == 0 or k > 5:
        first = True
        for i in range(coefficients.size):
            if coefficients[i] != 0 or (k == 0 and i == 0):
                _term(o, coefficients[i], srcs[i][offsets[i] : offsets[i] + span], first)
                first = False
        return
    c0, a0 = coefficients[i0], srcs[i0][offsets[i0] : offsets[i0] + span]
    c1, a1 = coefficients[i1], srcs[i1][offsets[i1] : offsets[i1] + span]
    c2, a2 = coefficients[i2], srcs[i2][offsets[i2] : offsets[i2] + span]
    c3, a3 = coefficients[i3], srcs[i3][offsets[i3] : offsets[i3] + span]
    c4, a4 = coefficients[i4], srcs[i4][offsets[i4] : offsets[i4] + span]
    if k == 1:
        for p in range(span):
            o[p] = c0 * a0[p]
    elif k == 2:
        for p in range(span):
            o[p] = c0 * a0[p] + c1 * a1[p]
    elif k == 3:
        for p in range(span):
            o[p] = c0 * a0[p] + c1 * a1[p] + c2 * a2[p]
    elif k == 4:
        for p in range(span):
            o[p] = c0 * a0[p] + c1 * a1[p] + c2 * a2[p] + c3 * a3[p]
    else:
        for p in range(span):
            o[p] = c0 * a0[p] + c1 * a1[p] + c2 * a2[p] + c3 * a3[p] + c4 * a4[p]


@njit(cache=True, inline="always")
def _to_planes(flat, column, images, ci, b0, b, ph, m, width, L):
    """Channel ``ci`` of images b0 … b0 + b − 1 of ``images`` (N, C, H, W) into the block's polyphase
    planes (``flat``, m² planes of ``width``): row r (padded row r + ph) of image e to plane row
    ((r + ph) // m)·b + e of phase (r + ph) % m; column q to ``column[q]`` in it."""
    for e in range(b):
        for r in range(images.shape[2]):
            src = images[b0 + e, ci, r]
            pos = ((r + ph) % m) * m * width + (((r + ph) // m) * b + e) * L
            for q in range(src.size):
                flat[pos + column[q]] = src[q]


@njit(cache=True)
def _winograd_input(x, bt, v, ph, pw, th, tw, nb):
    n, c, _, w = x.shape
    al = bt.shape[0]
    m, L = al - 2, tw + 1
    width = (th + 1) * nb * L + 1  # a polyphase plane: th + 1 rows of tiles (+ one extra tile's read)
    planes = np.zeros((m * m, width), x.dtype)
    flat = planes.reshape(-1)
    column = np.empty(w, np.int64)  # input column q: where in a row of planes it goes
    for q in range(w):
        column[q] = ((q + pw) % m) * width + (q + pw) // m
    rows = np.empty((al, al, th * nb * L), x.dtype)  # rows[a, j]: row a of Bᵀ d in tile column j
    srcs = [planes[0] for _ in range(al)]
    offsets = np.zeros(al, np.int64)
    layout = nb
    for ci in range(c):
        for b0 in range(0, n, nb):
            b = min(nb, n - b0)
            span, p0 = th * b * L, b0 * th * L
            if b != layout:  # a smaller last block: its padding is elsewhere
                planes[:] = 0
                layout = b
            _to_planes(flat, column, x, ci, b0, b, ph, m, width, L)
            for j in range(al):  # tile element (i, j): plane m·(i % m) + j % m, offset (i // m)·b·L + j // m
                for i in range(al):
                    srcs[i] = planes[(i % m) * m + j % m]
                    offsets[i] = (i // m) * b * L + j // m
                for a in range(al):
                    t = rows[a, j]
                    _sum_terms(t, bt[a], srcs, offsets, span)
                    for e in range(th * b):  # the extra column: zero
                        t[e * L + tw] = 0
            offsets[:] = 0
            for a in range(al):
                for j in range(al):
                    srcs[j] = rows[a, j]
                for k in range(al):
                    _sum_terms(v[al * a + k, ci, p0 : p0 + span], bt[k], srcs, offsets, span)


def winograd_input(x, bt, padding: Pair, tiles: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.winograd_input`."""
    (n, c), (th, tw), al = x.shape[:2], tiles, bt.shape[0]
    v = np.empty((al * al, c, n * th * (tw + 1)), dtype=x.dtype)
    nb = _numpy_kernels.winograd_block(n, tiles)
    _winograd_input(np.ascontiguousarray(x), np.ascontiguousarray(bt, dtype=x.dtype), v, *padding, th, tw, nb)
    return v


@njit(cache=True)
def _winograd_output(mm, at, y, th, tw, nb):
    n, k, ho, wo = y.shape
    size, al = at.shape
    L = tw + 1
    width = th * nb * L
    rows = np.empty((size, al, width), mm.dtype)  # rows[a, j]: row a of Aᵀ m in tile column j
    # y[m·ty + a, m·tx + c] of image e of the block at out[m·a + c, (ty·b + e)·L + tx]
    out = np.empty((size * size, width), mm.dtype)
    flat = out.reshape(-1)
    column = np.empty(wo, np.int64)  # output column q: where in a row of out it is
    for q in range(wo):
        column[q] = (q % size) * width + q // size
    srcs = [rows[0, 0] for _ in range(al)]
    offsets = np.zeros(al, np.int64)
    for ki in range(k):
        for b0 in range(0, n, nb):
            b = min(nb, n - b0)
            span, p0 = th * b * L, b0 * th * L
            for j in range(al):
                for i in range(al):
                    srcs[i] = mm[al * i + j, ki, p0 : p0 + span]
                for a in range(size):
                    _sum_terms(rows[a, j], at[a], srcs, offsets, span)
            for a in range(size):
                for j in range(al):
                    srcs[j] = rows[a, j]
                for c in range(size):
                    _sum_terms(out[size * a + c], at[c], srcs, offsets, span)
            for e in range(b):
                for r in range(ho):
                    dst = y[b0 + e, ki, r]
                    pos = (r % size) * size * width + ((r // size) * b + e) * L
                    for q in range(wo):
                        dst[q] = flat[pos + column[q]]


def winograd_output(m, at, out_shape: tuple[int, ...], tiles: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.winograd_output`."""
    y = np.empty(out_shape, dtype=m.dtype)
    nb = _numpy_kernels.winograd_block(out_shape[0], tiles)
    _winograd_output(np.ascontiguousarray(m), np.ascontiguousarray(at, dtype=m.dtype), y, *tiles, nb)
    return y


@njit(cache=True)
def _winograd_grad(g, at, dm, th, tw, nb):
    n, k, _, wo = g.shape
    size, al = at.shape
    L = tw + 1
    width = th * nb * L
    # ȳ[m·ty + a, m·tx + c] of image e at planes[m·a + c, (ty·b + e)·L + tx]; never written past
    # (ho, wo) nor in the extra column, which stay zero
    planes = np.zeros((size * size, width), g.dtype)
    flat = planes.reshape(-1)
    column = np.empty(wo, np.int64)
    for q in range(wo):
        column[q] = (q % size) * width + q // size
    rows = np.empty((al, size, width), g.dtype)  # rows[i, c]: row i of A ȳ in tile column c
    srcs = [planes[0] for _ in range(size)]
    offsets = np.zeros(size, np.int64)
    atT = np.ascontiguousarray(at.T)
    layout = nb
    for ki in range(k):
        for b0 in range(0, n, nb):
            b = min(nb, n - b0)
            span, p0 = th * b * L, b0 * th * L
            if b != layout:  # a smaller last block: its zeros are elsewhere
                planes[:] = 0
                layout = b
            _to_planes(flat, column, g, ki, b0, b, 0, size, width, L)
            for c in range(size):
                for a in range(size):
                    srcs[a] = planes[size * a + c]
                for i in range(al):
                    _sum_terms(rows[i, c], atT[i], srcs, offsets, span)
            for i in range(al):
                for c in range(size):
                    srcs[c] = rows[i, c]
                for j in range(al):
                    _sum_terms(dm[al * i + j, ki, p0 : p0 + span], atT[j], srcs, offsets, span)


def winograd_grad(g, at, tiles: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.winograd_grad`."""
    (n, k), (th, tw), al = g.shape[:2], tiles, at.shape[1]
    dm = np.empty((al * al, k, n * th * (tw + 1)), dtype=g.dtype)
    nb = _numpy_kernels.winograd_block(n, tiles)
    _winograd_grad(np.ascontiguousarray(g), np.ascontiguousarray(at, dtype=g.dtype), dm, th, tw, nb)
    return dm


@njit(cache=True)
def _winograd_input_grad(dv, bt, dx, ph, pw, th, tw, nb):
    n, c, _, w = dx.shape
    al = bt.shape[0]
    m, L = al - 2, tw + 1
    width = (th + 1) * nb * L + 1  # the polyphase planes of :func:`_winograd_input`, now summed into
    planes = np.zeros((m * m, width), dx.dtype)
    flat = planes.reshape(-1)
    column = np.empty(w, np.int64)
    for q in range(w):
        column[q] = ((q + pw) % m) * width + (q + pw) // m
    rows = np.empty((al, al, th * nb * L), dx.dtype)  # rows[a, j]: Σₖ B[j, k]·V̄[α·a + k]
    term = np.empty(th * nb * L, dx.dtype)
    btT = np.ascontiguousarray(bt.T)
    srcs = [rows[0, 0] for _ in range(al)]
    offsets = np.zeros(al, np.int64)
    for ci in range(c):
        for b0 in range(0, n, nb):
            b = min(nb, n - b0)
            span, p0 = th * b * L, b0 * th * L
            planes[:] = 0
            for a in range(al):
                for k in range(al):
                    srcs[k] = dv[al * a + k, ci, p0 : p0 + span]
                for j in range(al):
                    _sum_terms(rows[a, j], btT[j], srcs, offsets, span)
            for j in range(al):
                for a in range(al):
                    srcs[a] = rows[a, j]
                for i in range(al):  # tile element (i, j) goes back where it was read from
                    _sum_terms(term, btT[i], srcs, offsets, span)
                    o = (i // m) * b * L + j // m
                    dst = planes[(i % m) * m + j % m, o : o + span]
                    for p in range(span):
                        dst[p] = dst[p] + term[p]
            for e in range(b):  # the input's own positions, the padding dropped
                for r in range(dx.shape[2]):
                    out = dx[b0 + e, ci, r]
                    pos = ((r + ph) % m) * m * width + (((r + ph) // m) * b + e) * L
                    for q in range(w):
                        out[q] = flat[pos + column[q]]


def winograd_input_grad(dv, bt, x_shape: tuple[int, ...], padding: Pair, tiles: Pair):
    """See :func:`tinylearn.kernels.numpy_kernels.winograd_input_grad`."""
    dx = np.empty(x_shape, dtype=dv.dtype)
    nb = _numpy_kernels.winograd_block(x_shape[0], tiles)
    bt = np.ascontiguousarray(bt, dtype=dv.dtype)
    _winograd_input_grad(np.ascontiguousarray(dv), bt, dx, *padding, *tiles, nb)
    return dx


# --------------------------------------------------------------------------- optimizers


# error_model="numpy": x/0 gives inf as in NumPy, no zero check per element, so the loop vectorises
@njit(cache=True, error_model="numpy")
def _adam_step(theta, g, m, v, c1, b2, c2, step_size, bc2, eps):
    ts, gs, ms, vs = theta.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1)
    for i in range(u64(ts.size)):  # each line rounds as the NumPy version's whole-array op does
        gi = gs[i]
        mi = ms[i] + c1 * (gi - ms[i])
        vi = vs[i] * b2
        vi = vi + c2 * gi * gi
        ms[i], vs[i] = mi, vi
        ts[i] = ts[i] - step_size * (mi / (np.sqrt(vi) / bc2 + eps))


def adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps):
    """See :func:`tinylearn.kernels.numpy_kernels.adam_step`: one pass over the four arrays instead
    of about ten. θ, m and v are updated in place, so they must be contiguous (else the NumPy code
    runs)."""
    if not (theta.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous) or not (
        theta.dtype == g.dtype == m.dtype == v.dtype
    ):
        return _numpy_kernels.adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps)
    s = theta.dtype.type  # the constants in the arrays' dtype, as NumPy rounds a Python float operand
    _adam_step(theta, np.ascontiguousarray(g), m, v, s(1 - beta1), s(beta2), s(1 - beta2), s(step_size),
               s(bias_correction2_sqrt), s(eps))  # fmt: skip

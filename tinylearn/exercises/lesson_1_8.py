"""Exercises of lesson 1.8 (convolutional networks): the output size, a convolution with loops, im2col
and the backward pass of max pooling.

The reference solutions are the library's own: :func:`tinylearn.nn.conv_output_size`,
``F.conv2d``, ``F.unfold`` (the im2col of :mod:`tinylearn.kernels`) and
:func:`tinylearn.kernels.max_pool2d_backward`, each behind a thin NumPy adapter.
"""

from __future__ import annotations

import numpy as np

from .. import kernels, tensor
from ..nn import conv_output_size as _library_output_size
from ..nn import functional as F
from . import ExerciseFailure, exercise, expect_close, expect_shape


def _conv_output_size(w: int, k: int, p: int, s: int) -> int:
    return _library_output_size(w, k, s, p)


def _conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    out = F.conv2d(tensor(x), tensor(w), tensor(b), stride=stride, padding=padding)
    return out.numpy()


def _im2col(x: np.ndarray, k: int, stride: int, padding: int) -> np.ndarray:
    return F.unfold(tensor(x), k, padding=padding, stride=stride).numpy()


def _max_pool2d_backward(grad_out: np.ndarray, indices: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    return kernels.max_pool2d_backward(np.asarray(grad_out), np.asarray(indices), tuple(x_shape))


SIZE_CASES = [  # (W, K, P, S)
    (28, 5, 0, 1),
    (28, 5, 2, 1),
    (32, 3, 1, 1),
    (32, 3, 1, 2),
    (8, 3, 0, 2),
    (7, 3, 0, 2),
    (227, 11, 0, 4),
    (6, 2, 0, 2),
    (5, 5, 0, 1),
    (10, 4, 3, 3),
]


@exercise(
    "1.8.2",
    "conv_output_size",
    reference=_conv_output_size,
    signature="conv_output_size(w, k, p, s)",
    prompt="The number of windows along one side: floor((W - K + 2P) / S) + 1, as an int.",
)
def _check_output_size(fn):
    for w, k, p, s in SIZE_CASES:
        got = fn(w, k, p, s)
        want = _conv_output_size(w, k, p, s)
        if not isinstance(got, int | np.integer) or got != want:
            raise ExerciseFailure(
                f"conv_output_size(w={w}, k={k}, p={p}, s={s}): expected the int {want}, got {got!r}"
            )


def _conv_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int, int]]:
    rng = np.random.default_rng(8)
    cases = []
    for n, c, h, wd, o, kh, kw, stride, padding in [
        (1, 1, 5, 5, 1, 3, 3, 1, 0),
        (2, 3, 6, 7, 4, 3, 3, 1, 1),
        (2, 2, 7, 7, 3, 3, 3, 2, 0),
        (1, 3, 8, 6, 2, 2, 3, 2, 1),
        (2, 1, 5, 6, 2, 1, 1, 1, 0),
    ]:
        x = rng.normal(size=(n, c, h, wd)).astype(np.float64)
        w = rng.normal(size=(o, c, kh, kw)).astype(np.float64)
        b = rng.normal(size=o).astype(np.float64)
        cases.append((x, w, b, stride, padding))
    return cases


@exercise(
    "1.8.2",
    "conv2d_naive",
    reference=_conv2d,
    signature="conv2d_naive(x, w, b, stride, padding)",
    prompt="x (N, C, H, W), w (O, C, kh, kw), b (O,) NumPy arrays: the convolution (cross-correlation, "
    "zero padding on every side) with explicit loops, (N, O, Ho, Wo); it must equal F.conv2d.",
)
def _check_conv2d(fn):
    for x, w, b, stride, padding in _conv_cases():
        what = f"conv2d_naive(x {x.shape}, w {w.shape}, b {b.shape}, stride={stride}, padding={padding})"
        got = fn(x.copy(), w.copy(), b.copy(), stride, padding)
        want = _conv2d(x, w, b, stride, padding)
        expect_shape(got, want.shape, what)
        expect_close(got, want, what, rtol=1e-6, atol=1e-9)


def _window_cases() -> list[tuple[np.ndarray, int, int, int]]:
    rng = np.random.default_rng(18)
    return [
        (rng.normal(size=(1, 1, 4, 4)), 2, 1, 0),
        (rng.normal(size=(2, 3, 5, 6)), 3, 1, 1),
        (rng.normal(size=(1, 2, 7, 7)), 3, 2, 0),
        (rng.normal(size=(2, 2, 6, 5)), 2, 2, 1),
    ]


@exercise(
    "1.8.3",
    "im2col",
    reference=_im2col,
    signature="im2col(x, k, stride, padding)",
    prompt="x (N, C, H, W): every k×k window as a column, (N, C·k·k, L) with L = Ho·Wo windows in "
    "row-major order, each column ordered (channel, kernel row, kernel column), as F.unfold.",
)
def _check_im2col(fn):
    for x, k, stride, padding in _window_cases():
        what = f"im2col(x {x.shape}, k={k}, stride={stride}, padding={padding})"
        got = fn(x.copy(), k, stride, padding)
        want = _im2col(x, k, stride, padding)
        expect_shape(got, want.shape, what)
        expect_close(got, want, what)
    x, w, b, stride, padding = _conv_cases()[1]  # the matrix product gives the convolution
    cols = np.asarray(fn(x, w.shape[-1], stride, padding))
    y = np.einsum("ok,nkl->nol", w.reshape(w.shape[0], -1), cols) + b[:, None]
    want = _conv2d(x, w, b, stride, padding)
    expect_close(y.reshape(want.shape), want, f"w.reshape(O, -1) @ im2col(x {x.shape}, k=3) + b vs F.conv2d")


def _pool_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...], str]]:
    rng = np.random.default_rng(28)
    cases = []
    for shape, k, s in [
        ((1, 1, 4, 4), 2, 2),
        ((2, 3, 6, 6), 2, 2),
        ((1, 2, 5, 5), 3, 1),
        ((2, 1, 7, 6), 3, 2),
    ]:
        x = rng.normal(size=shape)
        _, idx = F.max_pool2d(tensor(x), k, s, return_indices=True)
        idx = idx.numpy()
        g = rng.normal(size=idx.shape)
        cases.append((x, g, idx, shape, f"kernel {k}, stride {s}"))
    return cases


@exercise(
    "1.8.3",
    "max_pool2d_backward",
    reference=_max_pool2d_backward,
    signature="max_pool2d_backward(grad_out, indices, x_shape)",
    prompt="grad_out and indices (N, C, Ho, Wo), indices the flat positions h·W + w of each window's max "
    "(F.max_pool2d(..., return_indices=True)): the input gradient of shape x_shape, each output gradient "
    "added where its max came from (overlapping windows may share one).",
)
def _check_max_pool_backward(fn):
    for _, g, idx, shape, how in _pool_cases():
        what = f"max_pool2d_backward for an input {shape} pooled with {how}"
        got = fn(g.copy(), idx.copy(), shape)
        want = _max_pool2d_backward(g, idx, shape)
        expect_shape(got, shape, what)
        expect_close(got, want, what)

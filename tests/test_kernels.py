"""The kernels behind one seam (``tinylearn/kernels``): the NumPy and the Numba implementation of
every primitive give the same numbers on the same inputs, each matches the primitive's
definition, the backend is chosen once from ``TINYLEARN_KERNELS``, device arrays always take
the array path, and compiled kernels are loaded from Numba's disk cache instead of recompiled.

"The same numbers" means bit for bit, except the float64 per-channel sums of batch norm,
which Numba may add in another order (vectorised): those agree to float64 rounding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tests import fakecupy
from tinylearn import kernels
from tinylearn.kernels import numpy_kernels as NP

NB = pytest.importorskip("tinylearn.kernels.numba_kernels", reason="numba is not installed")
ROOT = Path(__file__).resolve().parents[1]


def _out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def geometries(seed: int, count: int):
    """Random small window geometries (the output has at least one window) with inputs."""
    rng = np.random.default_rng(seed)
    found = 0
    while found < count:
        n, c, h, w = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 9), rng.integers(1, 9)
        kernel, stride, dilation = (
            tuple(rng.integers(1, 4, 2)),
            tuple(rng.integers(1, 4, 2)),
            tuple(rng.integers(1, 3, 2)),
        )
        drawn = zip(rng.integers(0, 3, 2), kernel, dilation, strict=True)
        padding = tuple(min(int(p), (d * (k - 1) + 1) // 2) for p, k, d in drawn)
        out_hw = (
            _out(h, kernel[0], stride[0], padding[0], dilation[0]),
            _out(w, kernel[1], stride[1], padding[1], dilation[1]),
        )
        if min(out_hw) < 1:
            continue
        found += 1
        x = rng.standard_normal((n, c, h, w))
        yield x, tuple(map(int, kernel)), tuple(map(int, stride)), padding, tuple(map(int, dilation)), out_hw


def _same(a, b) -> None:
    """Bit-for-bit equal arrays (NaN equal to NaN), of one dtype and shape."""
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_agree_and_match_their_definition(dtype) -> None:
    for x, kernel, stride, padding, dilation, out_hw in geometries(0, 60):
        x = x.astype(dtype)
        cols = NP.im2col(x, kernel, stride, padding, dilation, out_hw)
        _same(cols, NB.im2col(x, kernel, stride, padding, dilation, out_hw))
        # the definition: cols[c, i, j, n, oh, ow] = x[n, c, oh·s − p + i·d, ow·s − p + j·d], 0 outside
        expected = np.zeros_like(cols)
        for c, i, j, n, oh, ow in np.ndindex(*cols.shape):
            r = oh * stride[0] - padding[0] + i * dilation[0]
            q = ow * stride[1] - padding[1] + j * dilation[1]
            if 0 <= r < x.shape[2] and 0 <= q < x.shape[3]:
                expected[c, i, j, n, oh, ow] = x[n, c, r, q]
        _same(cols, expected)
        g = np.random.default_rng(1).standard_normal(cols.shape).astype(dtype)
        dx = NP.col2im(g, x.shape, kernel, stride, padding, dilation)
        _same(dx, NB.col2im(g, x.shape, kernel, stride, padding, dilation))
        # col2im is im2col's adjoint: <im2col(x), g> = <x, col2im(g)>
        assert np.isclose((cols * g).sum(dtype=np.float64), (x * dx).sum(dtype=np.float64), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pooling_agrees_with_ties_nan_and_infinity(dtype) -> None:
    rng = np.random.default_rng(2)
    for x, kernel, stride, padding, dilation, out_hw in geometries(3, 60):
        x = np.round(x, 1).astype(dtype)  # rounding makes ties
        x[rng.random(x.shape) < 0.1] = np.nan
        x[rng.random(x.shape) < 0.1] = -np.inf
        v1, i1 = NP.max_pool2d(x, kernel, stride, padding, dilation, out_hw)
        v2, i2 = NB.max_pool2d(x, kernel, stride, padding, dilation, out_hw)
        _same(v1, v2)
        _same(i1, i2)
        g = rng.standard_normal(v1.shape).astype(dtype)
        _same(NP.max_pool2d_backward(g, i1, x.shape), NB.max_pool2d_backward(g, i1, x.shape))


def test_max_pooling_follows_pytorchs_rule() -> None:
    """The first maximum wins a tie; a NaN wins over numbers; a window of -inf points at its
    first position inside the image (never at the padding)."""
    x = np.array([[[[1.0, 3.0, 3.0, 0.0], [2.0, np.nan, -np.inf, -np.inf]]]], dtype=np.float32)
    for impl in (NP, NB):
        values, indices = impl.max_pool2d(x, (1, 2), (1, 2), (0, 0), (1, 1), (2, 2))
        np.testing.assert_array_equal(values[0, 0], [[3.0, 3.0], [np.nan, -np.inf]])
        np.testing.assert_array_equal(indices[0, 0], [[1, 2], [5, 6]])
        _, indices = impl.max_pool2d(np.full((1, 1, 2, 2), -np.inf), (2, 2), (1, 1), (1, 1), (1, 1), (3, 3))
        np.testing.assert_array_equal(indices[0, 0], [[0, 0, 1], [0, 0, 1], [2, 2, 3]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_average_pooling_agrees(dtype) -> None:
    rng = np.random.default_rng(4)
    for x, kernel, stride, padding, _, out_hw in geometries(5, 60):
        x = x.astype(dtype)
        sizes = zip(x.shape[2:], kernel, stride, padding, strict=True)
        out_hw = tuple(_out(n, k, s, p, 1) for n, k, s, p in sizes)
        if min(out_hw) < 1:
            continue
        scale = rng.uniform(0.1, 1.0, out_hw).astype(dtype)
        _same(
            NP.avg_pool2d(x, kernel, stride, padding, out_hw, scale),
            NB.avg_pool2d(x, kernel, stride, padding, out_hw, scale),
        )
        g = rng.standard_normal((*x.shape[:2], *out_hw)).astype(dtype)
        _same(
            NP.avg_pool2d_backward(g, x.shape, kernel, stride, padding, scale),
            NB.avg_pool2d_backward(g, x.shape, kernel, stride, padding, scale),
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 2, 5), (4, 3, 64), (2, 5, 1)])
def test_batch_norm_kernels_agree(dtype, shape) -> None:
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    a, b, d = (rng.standard_normal(shape[1]) for _ in range(3))
    mean, var = NP.channel_stats(x)
    for ours, theirs in zip((mean, var), NB.channel_stats(x), strict=True):
        assert ours.dtype == theirs.dtype == np.float64
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(mean, x.astype(np.float64).mean((0, 2)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(var, x.astype(np.float64).var((0, 2)), rtol=1e-5, atol=1e-6)
    for ours, theirs in zip(NP.channel_grad_sums(g, x, mean), NB.channel_grad_sums(g, x, mean), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-12)
    _same(NP.channel_affine(x, a, b), NB.channel_affine(x, a, b))
    _same(NP.channel_grad_input(g, x, a, b, d), NB.channel_grad_input(g, x, a, b, d))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7,), (33, 5), (4, 3, 2)])
def test_adam_step_agrees_and_matches_pytorchs_formula(dtype, shape) -> None:
    rng = np.random.default_rng(9)
    theta, m = rng.standard_normal(shape), rng.standard_normal(shape)
    v = rng.random(shape) * 1e-3
    grads = [rng.standard_normal(shape) for _ in range(3)]
    ours = [a.astype(dtype) for a in (theta, m, v)]
    theirs = [a.copy() for a in ours]
    beta1, beta2, lr, eps = 0.9, 0.999, 1e-2, 1e-8
    for t, g in enumerate(grads, 1):
        step, bc2 = lr / (1 - beta1**t), (1 - beta2**t) ** 0.5
        NP.adam_step(ours[0], g.astype(dtype), ours[1], ours[2], beta1, beta2, step, bc2, eps)
        NB.adam_step(theirs[0], g.astype(dtype), theirs[1], theirs[2], beta1, beta2, step, bc2, eps)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
        # PyTorch's formula, in float64
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta = theta - lr / (1 - beta1**t) * m / (np.sqrt(v) / np.sqrt(1 - beta2**t) + eps)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(ours, (theta, m, v), strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_adam_step_on_non_contiguous_arrays_takes_the_numpy_path() -> None:
    rng = np.random.default_rng(10)
    theta = rng.standard_normal((4, 6)).astype(np.float32)
    views = [a.copy().T for a in (theta, theta, np.abs(theta))]  # θ, m, v as transposed views
    copies = [np.ascontiguousarray(a) for a in views]
    g = rng.standard_normal((6, 4)).astype(np.float32)
    NB.adam_step(views[0], g, views[1], views[2], 0.9, 0.999, 0.1, 0.5, 1e-8)
    NP.adam_step(copies[0], g, copies[1], copies[2], 0.9, 0.999, 0.1, 0.5, 1e-8)
    for a, b in zip(views, copies, strict=True):
        _same(np.ascontiguousarray(a), b)


def _conv_pool_step(x: np.ndarray, w: np.ndarray):
    """Forward and backward of conv → batch norm → max pool → avg pool; every gradient."""
    xt, wt = tl.tensor(x, requires_grad=True), tl.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=1, stride=(1, 2), dilation=(2, 1))
    y = F.batch_norm(y, None, None, training=True)
    y = F.avg_pool2d(F.max_pool2d(y, 2, 1, ceil_mode=True), 2, 1, padding=1, count_include_pad=False)
    (y * y).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


def test_the_ops_give_the_same_numbers_with_either_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole op path, not only the kernels: within float32 rounding (batch norm's sums)."""
    rng = np.random.default_rng(7)
    x, w = (
        rng.standard_normal((3, 2, 9, 8)).astype(np.float32),
        rng.standard_normal((4, 2, 3, 3)).astype(np.float32),
    )
    monkeypatch.setattr(kernels, "_chosen", ("numba", NB))
    compiled = _conv_pool_step(x, w)
    monkeypatch.setattr(kernels, "_chosen", ("numpy", NP))
    plain = _conv_pool_step(x, w)
    for a, b in zip(compiled, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_device_arrays_and_float16_take_the_array_path(monkeypatch: pytest.MonkeyPatch) -> None:
    cupy = fakecupy.install(monkeypatch)
    assert kernels._for(cupy.zeros((1, 1, 2, 2), dtype=np.float32)) is NP
    assert kernels._for(np.zeros((1, 1, 2, 2), dtype=np.float16)) is NP
    x = np.random.default_rng(8).standard_normal((2, 3, 5, 5)).astype(np.float32)
    on_device = kernels.im2col(cupy.asarray(x), (3, 3), (1, 1), (1, 1), (1, 1), (5, 5))
    assert isinstance(on_device, cupy.ndarray)
    _same(cupy.asnumpy(on_device), kernels.im2col(x, (3, 3), (1, 1), (1, 1), (1, 1), (5, 5)))


# --------------------------------------------------------------------------- choosing the backend


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("TINYLEARN_KERNELS", "NUMBA_DISABLE_JIT")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**full, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


BACKEND = "import tinylearn.kernels as k; print(k.backend())"


def test_backend_is_chosen_from_the_environment() -> None:
    assert _python(BACKEND, TINYLEARN_KERNELS="numpy").stdout.strip() == "numpy"
    assert _python(BACKEND, TINYLEARN_KERNELS="NUMBA").stdout.strip() == "numba"
    assert _python(BACKEND).stdout.strip() == "numba"  # the default when numba imports
    bad = _python(BACKEND, TINYLEARN_KERNELS="fortran")
    assert bad.returncode != 0 and "TINYLEARN_KERNELS must be 'numba' or 'numpy', got 'fortran'" in bad.stderr
    assert kernels.available_backends() == ("numba", "numpy")


def test_importing_tinylearn_does_not_import_numba() -> None:
    """Numba is imported when a kernel is first needed, not by ``import tinylearn``."""
    code = "import sys, tinylearn; print('numba' in sys.modules)"
    assert _python(code).stdout.strip() == "False"


def test_disabled_jit_falls_back_to_numpy_unless_numba_is_asked_for() -> None:
    assert _python(BACKEND, NUMBA_DISABLE_JIT="1").stdout.strip() == "numpy"
    assert _python(BACKEND, NUMBA_DISABLE_JIT="1", TINYLEARN_KERNELS="numba").stdout.strip() == "numba"


CACHE_PROBE = """
import json, numpy as np
from numba.core.registry import CPUDispatcher
from tinylearn.kernels import numba_kernels as nb
x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
cols = nb.im2col(x, (3, 3), (1, 1), (1, 1), (1, 1), (6, 6))
nb.col2im(cols, x.shape, (3, 3), (1, 1), (1, 1), (1, 1))
v, i = nb.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), (3, 3))
nb.max_pool2d_backward(v, i, x.shape)
s = np.ones((3, 3), np.float32)
nb.avg_pool2d(x, (2, 2), (2, 2), (0, 0), (3, 3), s)
nb.avg_pool2d_backward(v, x.shape, (2, 2), (2, 2), (0, 0), s)
x3 = x.reshape(2, 3, -1)
m, _ = nb.channel_stats(x3)
nb.channel_affine(x3, m, m)
nb.channel_grad_sums(x3, x3, m)
nb.channel_grad_input(x3, x3, m, m, m)
bt = np.ones((6, 6), np.float32)
v = nb.winograd_input(x, bt, (1, 1), (2, 2))
nb.winograd_output(v, bt[:4], (2, 3, 6, 6), (2, 2))
nb.winograd_grad(x, bt[:4], (2, 2))
nb.winograd_input_grad(v, bt, x.shape, (1, 1), (2, 2))
stats = {name: [f.stats.cache_hits and sum(f.stats.cache_hits.values()),
                f.stats.cache_misses and sum(f.stats.cache_misses.values())]
         for name, f in vars(nb).items() if isinstance(f, CPUDispatcher) and f.signatures}
print(json.dumps(stats))
"""


@pytest.mark.slow
def test_compiled_kernels_are_loaded_from_the_disk_cache() -> None:
    """A second process finds every kernel it runs in Numba's cache: no compilation on import."""
    first = _python(CACHE_PROBE)  # compiles what is not cached yet, and writes the cache
    assert first.returncode == 0, first.stderr
    second = _python(CACHE_PROBE)
    assert second.returncode == 0, second.stderr
    stats = json.loads(second.stdout)
    expected = {"_im2col", "_col2im", "_max_pool2d", "_channel_stats", "_winograd_input", "_winograd_grad"}
    expected |= {"_winograd_output", "_winograd_input_grad"}
    assert expected <= set(stats)
    for name, (hits, misses) in stats.items():
        assert hits and not misses, f"{name}: {hits} cache hits, {misses} misses (recompiled)"

"""The Winograd convolution (``tinylearn/ops/conv.py``, the ``winograd_*`` kernels): its three
transforms in both kernel backends (bit for bit) against their definitions, the tile order and
its blocks, the convolution, its gradients and second derivatives against im2col's and float64,
its rounding error, and when it is used."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import kernels
from tinylearn.gradcheck import gradcheck, gradgradcheck
from tinylearn.kernels import numpy_kernels as NP
from tinylearn.ops import conv

NB = pytest.importorskip("tinylearn.kernels.numba_kernels", reason="numba is not installed")

# (N, C, H, W, padding): odd and even sizes, one-pixel outputs, padding 0, 1 and 2
SHAPES = [(2, 3, 5, 7, (1, 1)), (3, 2, 6, 6, (0, 0)), (2, 4, 7, 4, (2, 1)), (1, 1, 1, 1, (1, 1)),
          (2, 2, 3, 1, (1, 1)), (5, 2, 9, 10, (1, 1)), (7, 1, 8, 8, (1, 0))]  # fmt: skip


def _same(a, b) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b, strict=True)


def _tiles(ho: int, wo: int, m: int) -> tuple[int, int]:
    return -(-ho // m), -(-wo // m)


def _tile_columns(n: int, tiles: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """(column p, image, ty, tx) of every real tile, by the documented order: blocks of
    ``winograd_block`` images; in a block of b, tile (ty, tx) of its image k at (ty·b + k)·L + tx."""
    (th, tw), nb = tiles, NP.winograd_block(n, tiles)
    found = []
    for b0 in range(0, n, nb):
        b = min(nb, n - b0)
        for k in range(b):
            for ty in range(th):
                for tx in range(tw):
                    found.append((b0 * th * (tw + 1) + (ty * b + k) * (tw + 1) + tx, b0 + k, ty, tx))
    return found


@pytest.fixture(params=[2, 4], ids=["F(2x2,3x3)", "F(4x4,3x3)"])
def tile(request, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(conv, "WINOGRAD_TILE", request.param)
    return request.param


@pytest.mark.parametrize("block", [1, 7, 4096])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_transforms_agree_and_match_their_definitions(tile, block, dtype, monkeypatch) -> None:
    monkeypatch.setattr(NP, "WINOGRAD_BLOCK_TILES", block)  # blocks of one image, of a few, of all
    rng = np.random.default_rng(0)
    bt, _, at = conv._matrices(dtype)
    al = tile + 2
    for n, c, h, w, padding in SHAPES:
        ho, wo = h + 2 * padding[0] - 2, w + 2 * padding[1] - 2
        tiles = _tiles(ho, wo, tile)
        columns = _tile_columns(n, tiles)
        x = rng.standard_normal((n, c, h, w)).astype(dtype)
        v = NP.winograd_input(x, bt, padding, tiles)
        _same(v, NB.winograd_input(x, bt, padding, tiles))
        # V[α·i + j, c, p] = (Bᵀ d B)[i, j] for the tile d of column p; zero in the extra columns
        padded = np.zeros((n, c, tile * tiles[0] + 2, tile * tiles[1] + 2))
        padded[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w] = x
        expected = np.zeros(v.shape)
        for p, image, ty, tx in columns:
            d = padded[image, :, tile * ty : tile * ty + al, tile * tx : tile * tx + al]
            expected[:, :, p] = np.einsum("ir,crs,js->ijc", bt, d, bt).reshape(al * al, c)
        np.testing.assert_allclose(v, expected, rtol=1e-5, atol=1e-5)
        assert v.shape[2] == n * tiles[0] * (tiles[1] + 1)

        k = 3
        m = rng.standard_normal((al * al, k, v.shape[2])).astype(dtype)
        y = NP.winograd_output(m, at, (n, k, ho, wo), tiles)
        _same(y, NB.winograd_output(m, at, (n, k, ho, wo), tiles))
        full = np.zeros((n, k, tile * tiles[0], tile * tiles[1]))
        for p, image, ty, tx in columns:  # y's m×m block = Aᵀ m A, cut at (Ho, Wo)
            block_ = np.einsum("ai,kij,bj->kab", at, m[:, :, p].reshape(al, al, k).transpose(2, 0, 1), at)
            full[image, :, tile * ty : tile * ty + tile, tile * tx : tile * tx + tile] = block_
        np.testing.assert_allclose(y, full[:, :, :ho, :wo], rtol=1e-4, atol=1e-4)

        g = rng.standard_normal((n, k, ho, wo)).astype(dtype)
        dm = NP.winograd_grad(g, at, tiles)
        _same(dm, NB.winograd_grad(g, at, tiles))
        # the adjoint of the output transform: ⟨output(M), ȳ⟩ = ⟨M, grad(ȳ)⟩, zero in the extra columns
        lhs, rhs = np.vdot(y.astype(np.float64), g), np.vdot(m.astype(np.float64), dm)
        assert abs(lhs - rhs) <= 1e-4 * (1 + abs(lhs)) * (1 if dtype == np.float64 else 100)
        real = np.zeros(v.shape[2], bool)
        real[[p for p, *_ in columns]] = True
        assert not v[:, :, ~real].any() and not dm[:, :, ~real].any()

        # the adjoint of the input transform: ⟨input(x), V̄⟩ = ⟨x, input_grad(V̄)⟩ (V̄ zero in the extra columns)
        dv = rng.standard_normal(v.shape).astype(dtype) * real
        dx = NP.winograd_input_grad(dv, bt, x.shape, padding, tiles)
        _same(dx, NB.winograd_input_grad(dv, bt, x.shape, padding, tiles))
        lhs, rhs = np.vdot(v.astype(np.float64), dv), np.vdot(x.astype(np.float64), dx)
        assert abs(lhs - rhs) <= 1e-4 * (1 + abs(lhs)) * (1 if dtype == np.float64 else 100)


def test_the_kernels_seam_dispatches_the_transforms(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6)).astype(np.float32)
    bt, _, at = conv._matrices(np.float32)
    tiles = _tiles(6, 6, conv.WINOGRAD_TILE)
    for name, module in (("numba", NB), ("numpy", NP)):
        monkeypatch.setattr(kernels, "_chosen", (name, module))
        _same(kernels.winograd_input(x, bt, (1, 1), tiles), module.winograd_input(x, bt, (1, 1), tiles))
        _same(kernels.winograd_grad(x, at, tiles), module.winograd_grad(x, at, tiles))


# --------------------------------------------------------------------------- the convolution


def _conv_and_grads(x, w, b, gy, padding):
    xt, wt, bt = (tl.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, padding=padding)
    y.backward(tl.tensor(gy))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("channels", [(16, 16), (16, 24), (24, 16)])
def test_the_convolution_and_its_gradients_match_im2col_and_float64(tile, channels, monkeypatch) -> None:
    """Winograd against im2col in float32, and both against float64: F(2×2)'s rounding error is
    about im2col's, F(4×4)'s a few times larger, all far below float32's noise in training."""
    c, o = channels
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, c, 11, 9))
    w = rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)
    b = rng.standard_normal(o)
    results = {}
    for flag in (True, False):
        monkeypatch.setattr(conv, "WINOGRAD", flag)
        gy = np.random.default_rng(3).standard_normal((3, o, 11, 9))
        for dtype in (np.float32, np.float64):
            results[flag, dtype] = _conv_and_grads(*(a.astype(dtype) for a in (x, w, b, gy)), padding=1)
    bound = {2: 2e-6, 4: 2e-5}[tile]
    float32 = zip(results[True, np.float32], results[False, np.float32], strict=True)
    for (got, im2col), exact in zip(float32, results[False, np.float64], strict=True):
        scale = np.abs(exact).max()
        assert np.abs(got - exact).max() <= bound * scale
        assert np.abs(im2col - exact).max() <= 2e-6 * scale
    for got, exact in zip(results[True, np.float64], results[False, np.float64], strict=True):
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-12 * np.abs(exact).max())


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_gradcheck_and_gradgradcheck_through_winograd(tile, padding, monkeypatch) -> None:
    monkeypatch.setattr(conv, "WINOGRAD", True)
    monkeypatch.setattr(conv, "WINOGRAD_MIN_CHANNELS", 1)  # small enough for finite differences
    monkeypatch.setattr(NP, "WINOGRAD_BLOCK_TILES", 5)  # and several blocks
    rng = np.random.default_rng(4)
    x = tl.tensor(rng.standard_normal((3, 2, 5, 4)), requires_grad=True)
    w = tl.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = tl.tensor(rng.standard_normal(3), requires_grad=True)
    used = []
    real = kernels.winograd_input
    monkeypatch.setattr(kernels, "winograd_input", lambda *a: used.append(1) or real(*a))

    def f(x, w, b):
        return F.conv2d(x, w, b, padding=padding)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    assert used  # it did go through Winograd


def test_both_kernel_backends_give_the_same_convolution_when_winograd_is_forced(monkeypatch) -> None:
    monkeypatch.setattr(conv, "WINOGRAD", True)
    rng = np.random.default_rng(5)
    x, w, b, gy = (rng.standard_normal(s).astype(np.float32) for s in ((2, 16, 7, 6), (16, 16, 3, 3), (16,),
                                                                        (2, 16, 7, 6)))  # fmt: skip
    out = []
    for name, module in (("numba", NB), ("numpy", NP)):
        monkeypatch.setattr(kernels, "_chosen", (name, module))
        out.append(_conv_and_grads(x, w, b, gy, padding=1))
    for a, c in zip(*out, strict=True):
        _same(a, c)


# --------------------------------------------------------------------------- when it is used


def _geometry(kernel=3, stride=1, dilation=1, groups=1, padding=1, size=8):
    out = conv.conv_output_size(size, kernel, stride, padding, dilation)
    return conv.Geometry((kernel,) * 2, (stride,) * 2, (padding,) * 2, (dilation,) * 2, groups, (size,) * 2,
                         (out,) * 2)  # fmt: skip


def test_it_is_used_for_3x3_stride_1_convolutions_with_enough_channels(monkeypatch) -> None:
    x = np.zeros((2, 16, 8, 8), np.float32)
    monkeypatch.setattr(kernels, "_chosen", ("numba", NB))
    assert conv._winograd(_geometry(), x, 16)
    assert conv._winograd(_geometry(padding=0), x.astype(np.float64), 32)
    assert not conv._winograd(_geometry(), x[:, :8], 16)  # too few input channels
    assert not conv._winograd(_geometry(), x, 8)  # too few output channels
    assert not conv._winograd(_geometry(kernel=5), x, 16)
    assert not conv._winograd(_geometry(stride=2), x, 16)
    assert not conv._winograd(_geometry(dilation=2, padding=2), x, 16)
    assert not conv._winograd(_geometry(groups=2), x, 16)
    assert not conv._winograd(_geometry(), x.astype(np.float16), 16)  # (converted to float32 first)
    monkeypatch.setattr(conv, "WINOGRAD", False)
    assert not conv._winograd(_geometry(), x, 16)
    # by default not with the NumPy fallback, where im2col is faster; True forces it
    monkeypatch.setattr(conv, "WINOGRAD", None)
    monkeypatch.setattr(kernels, "_chosen", ("numpy", NP))
    assert not conv._winograd(_geometry(), x, 16)
    monkeypatch.setattr(conv, "WINOGRAD", True)
    assert conv._winograd(_geometry(), x, 16)


def test_the_benchmark_resnet_runs_its_3x3_convolutions_by_winograd(monkeypatch) -> None:
    monkeypatch.setattr(kernels, "_chosen", ("numba", NB))
    calls = dict.fromkeys(["winograd_input", "winograd_output", "winograd_grad", "winograd_input_grad"], 0)

    def counted(name):
        real = getattr(kernels, name)
        return lambda *a: calls.__setitem__(name, calls[name] + 1) or real(*a)

    for name in calls:
        monkeypatch.setattr(kernels, name, counted(name))
    tl.manual_seed(0)
    model = tl.models.bench_resnet()
    x = tl.randn(2, 3, 32, 32)
    F.cross_entropy(model(x), tl.tensor(np.array([1, 2]))).backward()
    # 7 of its 3×3 convolutions are stride 1 with ≥ 16 channels in and out (not the stem, 3 → 32, nor
    # the stride-2 one); each transforms its input and output once, ȳ once (shared by the input and
    # the weight gradient), and the input gradient back once
    assert calls == dict.fromkeys(calls, 7)


def test_a_changed_setting_between_forward_and_backward_is_safe(monkeypatch) -> None:
    """The forward keeps im2col's matrix or Winograd's tiles for the weight gradient; if the
    setting changes before backward, the other is not misread."""
    rng = np.random.default_rng(6)
    x = tl.tensor(rng.standard_normal((2, 16, 6, 6)).astype(np.float32), requires_grad=True)
    w = tl.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32), requires_grad=True)
    grads = []
    for first, second in ((True, False), (False, True), (False, False)):
        monkeypatch.setattr(conv, "WINOGRAD", first)
        y = F.conv2d(x, w, padding=1)
        monkeypatch.setattr(conv, "WINOGRAD", second)
        x.grad = w.grad = None
        (y * y).sum().backward()
        grads.append(w.grad.numpy())
    for g in grads[:2]:
        np.testing.assert_allclose(g, grads[2], rtol=1e-4, atol=1e-3)


def test_a_bad_tile_size_is_named(monkeypatch) -> None:
    monkeypatch.setattr(conv, "WINOGRAD", True)
    monkeypatch.setattr(conv, "WINOGRAD_TILE", 3)
    with pytest.raises(ValueError, match="WINOGRAD_TILE must be 2 or 4, got 3"):
        F.conv2d(tl.zeros(1, 16, 4, 4), tl.zeros(16, 16, 3, 3), padding=1)

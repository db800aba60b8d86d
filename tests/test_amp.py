"""Mixed precision: autocast runs matmul/einsum in float16 with float32 master weights, and GradScaler's
dynamic loss scaling (skip on inf/NaN, back off, grow on schedule) with PyTorch's semantics."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl
from tests import fakecupy
from tinylearn import amp, optim
from tinylearn.amp import GradScaler, autocast

# --------------------------------------------------------------------------- autocast


def test_matmul_runs_in_float16_and_master_weights_get_float32_grads() -> None:
    x = tl.randn(5, 4)
    w = tl.randn(4, 3, requires_grad=True)
    with autocast():
        y = x @ w
    assert y.dtype == tl.float16
    assert (x @ w).dtype == tl.float32  # outside: back to float32
    y.float().sum().backward()
    assert w.dtype == tl.float32 and w.grad.dtype == tl.float32
    expected = np.repeat(x.numpy().sum(0)[:, None], 3, axis=1)  # d(Σ x@w)/dw = xᵀ·1
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(
        y.detach().float().numpy(), x.numpy() @ w.detach().numpy(), rtol=1e-2, atol=1e-2
    )


def test_einsum_and_the_matmul_family_run_in_float16() -> None:
    a, b = tl.randn(2, 3, 4, requires_grad=True), tl.randn(2, 4, 5)
    with autocast():
        assert tl.einsum("bij,bjk->bik", a, b).dtype == tl.float16
        assert a.matmul(b).dtype == tl.float16
        assert tl.matmul(a[0, 0], b[0, :, 0]).dtype == tl.float16  # 1-D · 1-D
        out = tl.einsum("bij->b", a)
    out.float().sum().backward()
    assert a.grad.dtype == tl.float32
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 3, 4)))


def test_linear_and_convolutions_run_in_float16_and_a_float32_bias_gives_float32() -> None:
    F = tl.nn.functional
    x, img = tl.randn(4, 6), tl.randn(2, 3, 8, 8)
    lin, conv = tl.nn.Linear(6, 5), tl.nn.Conv2d(3, 4, 3, padding=1)
    with autocast():
        assert F.linear(x, lin.weight).dtype == tl.float16
        assert F.conv2d(img, conv.weight).dtype == tl.float16
        assert F.conv1d(tl.randn(2, 3, 9), tl.randn(4, 3, 3)).dtype == tl.float16
        assert F.conv_transpose2d(tl.randn(2, 4, 6, 6), conv.weight).dtype == tl.float16
        y, z = lin(x), conv(img)  # + a float32 bias: float32, as the loss wants it
    assert y.dtype == z.dtype == tl.float32
    np.testing.assert_allclose(z.detach().numpy(), conv(img).detach().numpy(), rtol=1e-2, atol=1e-2)
    (y.sum() + z.sum()).backward()
    params = tl.nn.ModuleDict({"lin": lin, "conv": conv}).named_parameters
    grads = {name: p.grad.numpy() for name, p in params()}
    assert all(g.dtype == np.float32 for g in grads.values())
    lin.zero_grad()
    conv.zero_grad()
    (lin(x).sum() + conv(img).sum()).backward()  # the same in float32
    for name, p in params():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-2, atol=1e-2, err_msg=name)


def test_autocast_leaves_float64_integers_and_other_ops_alone() -> None:
    with autocast():
        d = tl.randn(2, 2, dtype=tl.float64)
        assert (d @ d).dtype == tl.float64
        i = tl.ones(2, 2, dtype=tl.int64)
        assert (i @ i).dtype == tl.int64
        x = tl.randn(2, 2)
        assert (x + x).dtype == tl.float32 and x.exp().dtype == tl.float32
        assert (x @ x.half()).dtype == tl.float16  # mixed float16/float32 inputs: float16


def test_autocast_nests_disables_and_restores() -> None:
    x = tl.randn(2, 2)
    assert not amp.is_autocast_enabled()
    with autocast():
        assert amp.is_autocast_enabled() and amp.is_autocast_enabled("cpu")
        assert not amp.is_autocast_enabled("cuda")
        with autocast(enabled=False):
            assert not amp.is_autocast_enabled()
            assert (x @ x).dtype == tl.float32
        assert (x @ x).dtype == tl.float16
    assert not amp.is_autocast_enabled()
    with pytest.raises(ZeroDivisionError), autocast():
        _ = 1 / 0
    assert not amp.is_autocast_enabled()  # restored on an exception too


def test_autocast_as_a_decorator_is_reentrant() -> None:
    ctx = autocast()

    @ctx
    def depth(n: int) -> tl.Tensor:
        x = tl.ones(1, 1)
        return x @ x if n == 0 else depth(n - 1)

    assert depth(3).dtype == tl.float16
    assert not amp.is_autocast_enabled()


def test_autocast_dtype_and_bad_arguments() -> None:
    assert amp.get_autocast_dtype("cpu") == tl.float16
    with autocast(dtype=tl.float64):
        assert amp.get_autocast_dtype("cpu") == tl.float64
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        autocast("tpu")
    with pytest.raises(ValueError, match="must be a floating dtype"):
        autocast(dtype=tl.int32)


def test_autocast_only_touches_its_device_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINYLEARN_DEVICE", raising=False)
    fakecupy.install(monkeypatch)
    cpu, gpu = tl.randn(2, 2), tl.randn(2, 2, device="cuda")
    with autocast("cuda"):
        assert (cpu @ cpu).dtype == tl.float32
        assert (gpu @ gpu).dtype == tl.float16 and (gpu @ gpu).device.type == "cuda"
    with autocast("cpu"):
        assert (gpu @ gpu).dtype == tl.float32


# --------------------------------------------------------------------------- GradScaler


def _param_with_grad(grad, dtype=tl.float32) -> tl.Tensor:
    p = tl.ones(len(grad), dtype=dtype, requires_grad=True)
    p.grad = tl.tensor(grad, dtype=dtype)
    return p


def _iteration(scaler: GradScaler, opt: optim.Optimizer, grad: list[float]) -> None:
    """One iteration with the gradient ``grad`` (already "scaled")."""
    scaler.scale(tl.tensor(1.0))
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = tl.tensor(grad)
    scaler.step(opt)
    scaler.update()


def test_scale_multiplies_by_the_scale() -> None:
    scaler = GradScaler(init_scale=1024.0)
    assert scaler.get_scale() == 1024.0
    loss = tl.tensor(0.5, requires_grad=True)
    scaled = scaler.scale(loss)
    assert scaled.item() == 512.0
    scaled.backward()
    assert loss.grad.item() == 1024.0
    a, b = scaler.scale([tl.tensor(1.0), (tl.tensor(2.0),)])
    assert a.item() == 1024.0 and b[0].item() == 2048.0


def test_scaling_a_float16_loss_gives_float32() -> None:
    """As in PyTorch (both 0-dim: float16·float32 = float32), so 65536·loss cannot overflow float16."""
    scaled = GradScaler().scale(tl.tensor(2.0, dtype=tl.float16))
    assert scaled.dtype == tl.float32 and scaled.item() == 131072.0


def test_step_unscales_the_gradients_before_the_update() -> None:
    scaler = GradScaler(init_scale=4.0)
    p = _param_with_grad([8.0, -4.0])
    opt = optim.SGD([p], lr=0.5)
    scaler.scale(tl.tensor(1.0))
    scaler.unscale_(opt)
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, -1.0])  # the true gradient, e.g. for clipping
    scaler.step(opt)  # does not unscale a second time
    np.testing.assert_array_equal(p.detach().numpy(), [0.0, 1.5])
    scaler.update()
    assert scaler.get_scale() == 4.0


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_step_is_skipped_on_inf_or_nan_and_the_scale_backs_off(bad) -> None:
    scaler = GradScaler()
    p = _param_with_grad([1.0, bad])
    opt = optim.Adam([p], lr=0.1)
    scaler.scale(tl.tensor(1.0))
    assert scaler.step(opt) is None
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 1.0])  # untouched
    assert len(opt.state) == 0  # the optimizer never ran
    scaler.update()
    assert scaler.get_scale() == 2.0**15


def test_scale_grows_after_growth_interval_good_steps_and_backs_off_on_inf() -> None:
    scaler = GradScaler(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=3)
    opt = optim.SGD([tl.zeros(1, requires_grad=True)], lr=0.1)
    scales = []
    for grad in [1.0, 1.0, 1.0, 1.0, np.inf, 1.0, 1.0, 1.0, np.nan, np.inf, 1.0, 1.0, 1.0]:
        _iteration(scaler, opt, [grad])
        scales.append(scaler.get_scale())
    assert scales == [8, 8, 16, 16, 8, 8, 8, 16, 8, 4, 4, 4, 8]


def test_growth_stops_where_float32_overflows() -> None:
    scaler = GradScaler(init_scale=2.0**127, growth_interval=1)
    opt = optim.SGD([tl.zeros(1, requires_grad=True)], lr=0.1)
    _iteration(scaler, opt, [1.0])
    assert scaler.get_scale() == 2.0**127


def test_each_optimizer_is_checked_on_its_own() -> None:
    """PyTorch: an optimizer steps if its own gradients are finite; update() backs off if any was not."""
    good, bad = _param_with_grad([2.0]), _param_with_grad([np.inf])
    opt_good, opt_bad = optim.SGD([good], lr=1.0), optim.SGD([bad], lr=1.0)
    scaler = GradScaler(init_scale=2.0)
    scaler.scale(tl.tensor(1.0))
    scaler.step(opt_good)
    scaler.step(opt_bad)
    scaler.update()
    assert good.item() == 0.0 and bad.item() == 1.0
    assert scaler.get_scale() == 1.0


def test_update_to_a_new_scale() -> None:
    scaler = GradScaler()
    scaler.scale(tl.tensor(1.0))
    scaler.update(new_scale=128.0)
    assert scaler.get_scale() == 128.0
    scaler.update(tl.tensor(3.0))
    assert scaler.get_scale() == 3.0


def test_grad_scaler_misuse_is_a_clear_error() -> None:
    opt = optim.SGD([_param_with_grad([1.0])], lr=0.1)
    scaler = GradScaler()
    with pytest.raises(RuntimeError, match=r"did not use scaler\.scale"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"did not use scaler\.scale"):
        scaler.update()
    scaler.scale(tl.tensor(1.0))
    with pytest.raises(RuntimeError, match="No inf checks were recorded"):
        scaler.update()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    scaler.update()
    half = optim.SGD([_param_with_grad([1.0], dtype=tl.float16)], lr=0.1)
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(half)
    with pytest.raises(ValueError, match=r"The growth factor must be > 1\.0"):
        GradScaler(growth_factor=1.0)
    with pytest.raises(ValueError, match="outputs must be a Tensor"):
        scaler.scale(3.0)


def test_disabled_grad_scaler_is_a_pass_through() -> None:
    scaler = GradScaler(enabled=False)
    loss = tl.tensor(2.0)
    assert scaler.scale(loss) is loss
    p = _param_with_grad([1.0])
    scaler.step(optim.SGD([p], lr=1.0))
    scaler.update()
    assert p.item() == 0.0
    assert scaler.get_scale() == 1.0 and not scaler.is_enabled()
    assert scaler.state_dict() == {}


def test_grad_scaler_state_dict_round_trip() -> None:
    a = GradScaler(init_scale=64.0, growth_interval=3)
    opt = optim.SGD([tl.zeros(1, requires_grad=True)], lr=0.1)
    for grad in (np.inf, 1.0, 1.0):
        _iteration(a, opt, [grad])
    sd = a.state_dict()
    assert sd == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3,
                  "_growth_tracker": 2}  # fmt: skip
    b = GradScaler()
    b.load_state_dict(sd)
    assert b.get_scale() == 32.0
    for scaler in (a, b):  # the next good step completes the interval in both
        _iteration(scaler, opt, [1.0])
        assert scaler.get_scale() == 64.0
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        GradScaler().load_state_dict({})


# --------------------------------------------------------------------------- why loss scaling matters


def test_loss_scaling_rescues_gradients_that_underflow_in_float16() -> None:
    """A gradient of 1e-8 reaching a float16 matmul rounds to 0 (float16's smallest step is 6e-8); scaled
    by 2¹⁶ first it survives, and unscaling in float32 gives back the true 1e-8·Σx."""
    x = tl.ones(4, 3)
    for scaler, expect_zero in ((GradScaler(enabled=False), True), (GradScaler(), False)):
        w = tl.ones(3, 2, requires_grad=True)
        opt = optim.SGD([w], lr=1.0)
        with autocast():
            loss = ((x @ w).float() * 1e-8).sum()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        if expect_zero:
            np.testing.assert_array_equal(w.grad.numpy(), 0.0)
        else:
            np.testing.assert_allclose(w.grad.numpy(), 4e-8, rtol=1e-3)


def _fit(use_amp: bool, init_scale: float = 2.0**16, growth_interval: int = 2000, steps: int = 300):
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(256, 8)).astype(np.float32)
    w_true = rng.normal(size=(8, 1)).astype(np.float32)
    y = tl.tensor(x_np @ w_true + 0.5 + 0.1 * rng.normal(size=(256, 1)).astype(np.float32))
    x = tl.tensor(x_np)
    w, b = tl.zeros(8, 1, requires_grad=True), tl.zeros(1, requires_grad=True)
    opt = optim.Adam([w, b], lr=0.05)
    scaler = GradScaler(init_scale=init_scale, growth_interval=growth_interval, enabled=use_amp)
    skipped = 0
    for _ in range(steps):
        opt.zero_grad()
        with autocast(enabled=use_amp):
            pred = x @ w + b  # float16 product, float32 after the float32 bias
            loss = ((pred - y) ** 2).mean()
        scaler.scale(loss).backward()
        before = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        skipped += scaler.get_scale() < before
    assert w.grad.dtype == tl.float32 and w.dtype == tl.float32
    return loss.item(), skipped, scaler.get_scale()


# NumPy warns where a float16 product overflows to inf (or then computes inf − inf): in these tests that
# is the event the scaler is there to handle, by skipping the step.
OVERFLOW_IS_EXPECTED = pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)


@OVERFLOW_IS_EXPECTED
def test_tiny_regression_converges_with_autocast_and_grad_scaler() -> None:
    """PyTorch's defaults: the scaled gradients overflow in the first steps, while the error is large;
    those few steps are skipped, then training runs on float16 products as well as in float32."""
    loss32, _, _ = _fit(use_amp=False)
    loss16, skipped, scale = _fit(use_amp=True)
    assert loss32 < 0.012  # the noise level is 0.01
    assert loss16 < 0.012 and abs(loss16 - loss32) < 0.001
    assert skipped <= 3 and scale == 2.0 ** (16 - skipped)


@OVERFLOW_IS_EXPECTED
def test_too_large_a_scale_backs_off_until_training_proceeds() -> None:
    """At 2³⁰ the float16 gradients overflow: the first steps are skipped and the scale halves until they
    fit; growing every 50 good steps, it overflows now and then and backs off again, and the model
    trains as well as in float32."""
    loss32, _, _ = _fit(use_amp=False)
    loss16, skipped, scale = _fit(use_amp=True, init_scale=2.0**30, growth_interval=50)
    assert skipped >= 10 and scale < 2.0**30
    assert abs(loss16 - loss32) < 0.003

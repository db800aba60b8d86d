"""Normalisation of images: ``BatchNorm2d``, ``GroupNorm``, ``InstanceNorm2d`` (state, reprs,
training and evaluation, errors), and the fused batch norm Function against the composition
of elementary ops it replaces: same values, same gradients, same second derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import nn
from tinylearn.ops import BatchNorm


def t(*shape, seed=0, dtype=tl.float32, requires_grad=False, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    return tl.tensor(rng.standard_normal(shape) * scale + shift, dtype=dtype, requires_grad=requires_grad)


def np_of(x):
    return x.detach().numpy()


# --------------------------------------------------------------------------- state and repr


@pytest.mark.parametrize(
    ("module", "state", "text"),
    [
        (nn.BatchNorm2d(32), {"weight": (32,), "bias": (32,), "running_mean": (32,), "running_var": (32,),
                              "num_batches_tracked": ()},
         "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"),
        (nn.BatchNorm2d(4, affine=False, momentum=None),
         {"running_mean": (4,), "running_var": (4,), "num_batches_tracked": ()},
         "BatchNorm2d(4, eps=1e-05, momentum=None, affine=False, track_running_stats=True)"),
        (nn.GroupNorm(8, 32), {"weight": (32,), "bias": (32,)}, "GroupNorm(8, 32, eps=1e-05, affine=True)"),
        (nn.GroupNorm(2, 4, eps=1e-3, affine=False), {}, "GroupNorm(2, 4, eps=0.001, affine=False)"),
        (nn.InstanceNorm2d(3), {},
         "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"),
        (nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
         {"weight": (3,), "bias": (3,), "running_mean": (3,), "running_var": (3,), "num_batches_tracked": ()},
         "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"),
    ],
)  # fmt: skip
def test_state_dict_keys_shapes_and_repr_are_pytorchs(module, state, text) -> None:
    sd = module.state_dict()
    assert list(sd) == list(state)
    assert {k: tuple(v.shape) for k, v in sd.items()} == state
    assert repr(module) == text
    if "weight" in state:
        np.testing.assert_array_equal(sd["weight"].numpy(), 1.0)
        np.testing.assert_array_equal(sd["bias"].numpy(), 0.0)
    if "running_var" in state:
        assert sd["num_batches_tracked"].dtype == tl.int64
        np.testing.assert_array_equal(sd["running_mean"].numpy(), 0.0)
        np.testing.assert_array_equal(sd["running_var"].numpy(), 1.0)


# --------------------------------------------------------------------------- BatchNorm2d


def test_batch_norm_2d_trains_on_batch_statistics_and_evaluates_on_running_ones() -> None:
    bn = nn.BatchNorm2d(3, momentum=0.5)
    x = t(4, 3, 5, 6, scale=2.0, shift=1.0)
    data = x.numpy().astype(np.float64)
    mean, var = data.mean((0, 2, 3)), data.var((0, 2, 3))
    y = np_of(bn(x))
    expected = (data - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.5 * mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.5 + 0.5 * data.var((0, 2, 3), ddof=1), rtol=1e-6)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    x2 = t(2, 3, 5, 6, seed=1)
    rm, rv = bn.running_mean.numpy()[:, None, None], bn.running_var.numpy()[:, None, None]
    np.testing.assert_allclose(np_of(bn(x2)), (x2.numpy() - rm) / np.sqrt(rv + 1e-5), rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 1  # evaluation changes no statistics


def test_batch_norm_2d_errors() -> None:
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(N, C, H, W\), got 3D input"):
        bn(t(3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): input of shape \(2, 4, 2, 2\) has 4 channels"):
        bn(t(2, 4, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(t(1, 3, 1, 1))
    with pytest.raises(RuntimeError, match="batch_norm: expected a floating point input"):
        F.batch_norm(tl.ones(2, 3, dtype=tl.int64), None, None, training=True)


# --------------------------------------------------------------------------- the fused Function


def composite_batch_norm(x, weight, bias, training, running_mean, running_var, eps=1e-5):
    """Batch norm as elementary ops (what F.batch_norm computed before it was fused)."""
    dims = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        centered = x - x.mean(dims, keepdim=True)
        var = (centered * centered).mean(dims, keepdim=True)
    else:
        centered, var = x - running_mean.reshape(shape), running_var.reshape(shape)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True), (False, False)])
@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3), (3, 2, 2, 3)])
def test_fused_batch_norm_equals_the_composition_to_second_order(training, affine, shape) -> None:
    x = t(*shape, seed=1, dtype=tl.float64, requires_grad=True, scale=2.0)
    w = t(shape[1], seed=2, dtype=tl.float64, requires_grad=True) if affine[0] else None
    b = t(shape[1], seed=3, dtype=tl.float64, requires_grad=True) if affine[1] else None
    rm, rv = t(shape[1], seed=4, dtype=tl.float64), t(shape[1], seed=5, dtype=tl.float64).abs() + 0.5
    inputs = [v for v in (x, w, b) if v is not None]
    fused = F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training)
    assert isinstance(fused.grad_fn, BatchNorm)
    reference = composite_batch_norm(x, w, b, training, rm, rv)
    np.testing.assert_allclose(np_of(fused), np_of(reference), rtol=1e-12, atol=1e-12)
    g = t(*shape, seed=6, dtype=tl.float64)
    first = tl.autograd.grad(fused, inputs, g, create_graph=True)  # the Tensor-op backward
    expected = tl.autograd.grad(reference, inputs, g, create_graph=True)
    fast = tl.autograd.grad(F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training), inputs, g)
    for a, e, f in zip(first, expected, fast, strict=True):
        np.testing.assert_allclose(np_of(a), np_of(e), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np_of(f), np_of(e), rtol=1e-10, atol=1e-12)  # the fused backward
    v = [t(*u.shape, seed=10 + i, dtype=tl.float64) for i, u in enumerate(first)]

    def second_order(grads):
        """d/d(inputs) of Σ⟨first-order gradient, v⟩, zeros where it does not depend on an input."""
        terms = [(a * u).sum() for a, u in zip(grads, v, strict=True) if a.requires_grad]
        found = tl.autograd.grad(sum(terms[1:], terms[0]), inputs, allow_unused=True) if terms else ()
        found = list(found) or [None] * len(inputs)
        return [np.zeros(x_.shape) if a is None else np_of(a) for a, x_ in zip(found, inputs, strict=True)]

    for a, e in zip(second_order(first), second_order(expected), strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-11)


def test_fused_batch_norm_float32_matches_float64() -> None:
    x = t(8, 4, 6, 6, scale=3.0, shift=2.0)
    w, b = t(4, seed=1), t(4, seed=2)
    y32 = F.batch_norm(x, None, None, w, b, training=True)
    y64 = F.batch_norm(x.double(), None, None, w.double(), b.double(), training=True)
    assert y32.dtype == tl.float32
    np.testing.assert_allclose(np_of(y32), np_of(y64), rtol=1e-5, atol=1e-5)


def test_batch_norm_promotes_like_the_elementary_ops() -> None:
    y = F.batch_norm(t(4, 3), None, None, t(3, dtype=tl.float64), None, training=True)
    assert y.dtype == tl.float64


# --------------------------------------------------------------------------- GroupNorm


def test_group_norm_normalises_each_sample_group_and_ignores_the_batch() -> None:
    gn = nn.GroupNorm(2, 4)
    with tl.no_grad():
        gn.weight.copy_(tl.tensor([1.0, 2.0, 3.0, 4.0]))
        gn.bias.copy_(tl.tensor([0.0, 1.0, 0.0, -1.0]))
    x = t(3, 4, 2, 5, scale=2.0, shift=1.0)
    data = x.numpy().astype(np.float64).reshape(3, 2, -1)
    normed = ((data - data.mean(-1, keepdims=True)) / np.sqrt(data.var(-1, keepdims=True) + 1e-5)).reshape(
        3, 4, 2, 5
    )
    expected = normed * np.array([1, 2, 3, 4.0])[:, None, None] + np.array([0, 1, 0, -1.0])[:, None, None]
    np.testing.assert_allclose(np_of(gn(x)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np_of(gn(x[:1])), expected[:1], rtol=1e-5, atol=1e-5)  # batch of one: same
    gn.eval()
    np.testing.assert_allclose(np_of(gn(x)), expected, rtol=1e-5, atol=1e-5)  # no train/eval difference


def test_group_norm_errors() -> None:
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(
        RuntimeError, match=r"divisible by num_groups, but got input of shape \[2, 6, 3\] and num_groups=4"
    ):
        F.group_norm(t(2, 6, 3), 4)
    with pytest.raises(
        ValueError, match=r"GroupNorm\(2, 4\): expected an input \(N, 4, \*\), got shape \(2, 3, 5\)"
    ):
        nn.GroupNorm(2, 4)(t(2, 3, 5))
    with pytest.raises(
        RuntimeError,
        match=r"expected weight to be a vector of size equal to the number of channels in input \(4\)",
    ):
        F.group_norm(t(2, 4, 3), 2, weight=t(3))


# --------------------------------------------------------------------------- InstanceNorm2d


def test_instance_norm_normalises_each_image_channel() -> None:
    x = t(2, 3, 4, 5, scale=3.0, shift=-1.0)
    data = x.numpy().astype(np.float64)
    expected = (data - data.mean((2, 3), keepdims=True)) / np.sqrt(data.var((2, 3), keepdims=True) + 1e-5)
    inorm = nn.InstanceNorm2d(3)
    np.testing.assert_allclose(np_of(inorm(x)), expected, rtol=1e-5, atol=1e-5)
    inorm.eval()  # without running statistics, evaluation still uses each instance's own
    np.testing.assert_allclose(np_of(inorm(x)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np_of(inorm(x[0])), expected[0], rtol=1e-5, atol=1e-5)  # unbatched (C, H, W)


def test_instance_norm_with_running_statistics() -> None:
    inorm = nn.InstanceNorm2d(2, momentum=1.0, track_running_stats=True, affine=True)
    x = t(3, 2, 4, 4, scale=2.0, shift=1.0)
    inorm(x)
    data = x.numpy().astype(np.float64)
    np.testing.assert_allclose(inorm.running_mean.numpy(), data.mean((2, 3)).mean(0), rtol=1e-5)
    np.testing.assert_allclose(inorm.running_var.numpy(), data.var((2, 3), ddof=1).mean(0), rtol=1e-5)
    inorm.eval()
    rm, rv = inorm.running_mean.numpy()[:, None, None], inorm.running_var.numpy()[:, None, None]
    np.testing.assert_allclose(np_of(inorm(x)), (data - rm) / np.sqrt(rv + 1e-5), rtol=1e-5, atol=1e-5)


def test_instance_norm_errors() -> None:
    with pytest.raises(ValueError, match="InstanceNorm2d: expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(t(2, 3))
    with pytest.raises(
        ValueError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 4"
    ):
        nn.InstanceNorm2d(3, affine=True)(t(2, 4, 3, 3))
    with pytest.warns(UserWarning, match="num_features is not used"):
        nn.InstanceNorm2d(3)(t(2, 4, 3, 3))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(t(2, 3, 1, 1))

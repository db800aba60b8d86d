"""nn.init: gains and fans as PyTorch computes them, and the statistics of every initialiser."""

import math

import numpy as np
import pytest

import tinylearn as tl
from tinylearn import nn
from tinylearn.nn import init
from tinylearn.nn.init import _calculate_fan_in_and_fan_out


def np_of(t):
    return t.detach().numpy()


def param(*shape, dtype=tl.float32):
    return nn.Parameter(tl.zeros(*shape, dtype=dtype))


# --------------------------------------------------------------------------- gains and fans


@pytest.mark.parametrize(
    ("nonlinearity", "param_", "gain"),
    [
        ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)  # fmt: skip
def test_calculate_gain(nonlinearity, param_, gain):
    assert init.calculate_gain(nonlinearity, param_) == pytest.approx(gain)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


def test_fans():
    assert _calculate_fan_in_and_fan_out(tl.zeros(3, 5)) == (5, 3)  # Linear weight (out, in)
    assert _calculate_fan_in_and_fan_out(tl.zeros(16, 8, 3, 3)) == (72, 144)  # conv (out, in, kh, kw)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        _calculate_fan_in_and_fan_out(tl.zeros(4))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(param(3, 3), mode="fan_avg")


# --------------------------------------------------------------------------- plain fills


def test_fills_work_in_place_on_parameters_without_recording():
    p = param(2, 3)
    for fn in (init.ones_, init.zeros_, lambda t: init.constant_(t, 0.5), init.uniform_, init.normal_,
               init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
               init.trunc_normal_, init.orthogonal_):  # fmt: skip
        assert fn(p) is p
        assert p.is_leaf and p.requires_grad and p.grad_fn is None and p.dtype == tl.float32
    assert np_of(init.constant_(p, 0.5)).tolist() == [[0.5] * 3] * 2
    assert np_of(init.ones_(p)).sum() == 6 and np_of(init.zeros_(p)).sum() == 0


def test_uniform_and_normal_statistics():
    tl.manual_seed(0)
    u = np_of(init.uniform_(param(200, 200), -2.0, 3.0))
    assert u.min() >= -2.0 and u.max() < 3.0 and u.mean() == pytest.approx(0.5, abs=0.02)
    n = np_of(init.normal_(param(200, 200), 1.0, 0.5))
    assert n.mean() == pytest.approx(1.0, abs=0.01) and n.std() == pytest.approx(0.5, rel=0.01)


def test_generator_argument_and_manual_seed_make_it_reproducible():
    a = np_of(init.normal_(param(5, 5), generator=tl.Generator().manual_seed(3)))
    b = np_of(init.normal_(param(5, 5), generator=tl.Generator().manual_seed(3)))
    np.testing.assert_array_equal(a, b)
    tl.manual_seed(4)
    c = np_of(init.kaiming_uniform_(param(5, 5)))
    tl.manual_seed(4)
    np.testing.assert_array_equal(np_of(init.kaiming_uniform_(param(5, 5))), c)


# --------------------------------------------------------------------------- scaled initialisers


def test_kaiming_normal_std():
    tl.manual_seed(0)
    w = np_of(init.kaiming_normal_(param(512, 512), nonlinearity="relu"))
    assert w.std() == pytest.approx(math.sqrt(2 / 512), rel=0.01)
    assert abs(w.mean()) < 0.01 * math.sqrt(2 / 512) * 10
    w = np_of(init.kaiming_normal_(param(256, 512), mode="fan_out", nonlinearity="relu"))
    assert w.std() == pytest.approx(math.sqrt(2 / 256), rel=0.02)
    w = np_of(init.kaiming_normal_(param(64, 32, 3, 3), nonlinearity="relu"))  # fan_in = 32·9
    assert w.std() == pytest.approx(math.sqrt(2 / 288), rel=0.02)


def test_kaiming_uniform_bound():
    tl.manual_seed(0)
    w = np_of(init.kaiming_uniform_(param(256, 400), nonlinearity="relu"))
    bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = np_of(init.kaiming_uniform_(param(256, 400), a=math.sqrt(5)))  # PyTorch's Linear default
    assert np.abs(w).max() <= 1 / 20 and np.abs(w).max() > 0.99 / 20


def test_kaiming_of_an_empty_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(param(0, 3))


def test_xavier():
    tl.manual_seed(0)
    w = np_of(init.xavier_uniform_(param(300, 500)))
    bound = math.sqrt(6 / 800)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = np_of(init.xavier_uniform_(param(300, 500), gain=init.calculate_gain("tanh")))
    assert np.abs(w).max() <= 5 / 3 * bound and np.abs(w).max() > 0.99 * 5 / 3 * bound
    w = np_of(init.xavier_normal_(param(300, 500), gain=2.0))
    assert w.std() == pytest.approx(2.0 * math.sqrt(2 / 800), rel=0.01)


def test_trunc_normal_stays_inside_and_has_the_truncated_moments():
    tl.manual_seed(0)
    w = np_of(init.trunc_normal_(param(400, 500), std=1.0, a=-2.0, b=2.0)).astype(np.float64)
    assert w.min() >= -2.0 and w.max() <= 2.0
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)  # φ(2)
    inside = math.erf(2 / math.sqrt(2))  # Φ(2) − Φ(−2)
    assert w.mean() == pytest.approx(0.0, abs=0.005)
    assert w.var() == pytest.approx(1 - 2 * 2 * phi2 / inside, rel=0.01)  # ≈ 0.774
    w = np_of(init.trunc_normal_(param(100, 100), mean=1.0, std=0.02, a=0.99, b=1.5))
    assert w.min() >= 0.99 and w.max() <= 1.5 and w.mean() > 1.0
    with pytest.raises(ValueError, match="choose bounds closer to the mean"):
        init.trunc_normal_(param(2, 2), a=10.0, b=11.0)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (48, 48), (8, 2, 3, 3)])
def test_orthogonal(shape):
    tl.manual_seed(0)
    w = np_of(init.orthogonal_(param(*shape, dtype=tl.float64))).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T  # QᵀQ = I (tall) or QQᵀ = I (wide)
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-10)
    g = np_of(init.orthogonal_(param(16, 16, dtype=tl.float64), gain=3.0))
    np.testing.assert_allclose(g.T @ g, 9 * np.eye(16), atol=1e-10)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(param(3))

"""Losses against NumPy implementations of PyTorch's definitions (every option and reduction),
gradchecks and gradgradchecks in float64, stability at logits of ±1e4, and clear errors."""

import warnings

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import nn

REDUCTIONS = ["mean", "sum", "none"]


def f64(*shape, seed=0, low=-2.0, high=2.0, grad=True):
    rng = np.random.default_rng(seed)
    return tl.tensor(rng.uniform(low, high, shape), dtype=tl.float64, requires_grad=grad)


def np_of(t):
    return t.detach().numpy()


def reduce(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


# --------------------------------------------------------------------------- NumPy references


def np_log_softmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's definition, position by position: the target is the smoothed one-hot vector
    (1 − ε)·onehot(y) + ε/C, ℓ = −Σ_c w_c·target_c·log p_c, the mean divides by Σ w[y]."""
    logp = np_log_softmax(x, 1)
    classes = x.shape[1]
    w = np.ones(classes) if weight is None else weight
    losses, weights = np.zeros(t.shape), np.zeros(t.shape)
    for pos in np.ndindex(t.shape):
        y = t[pos]
        if y == ignore_index:
            continue
        target = (1 - label_smoothing) * np.eye(classes)[y] + label_smoothing / classes
        losses[pos] = -(w * target * logp[(pos[0], slice(None), *pos[1:])]).sum()
        weights[pos] = w[y]
    if reduction == "mean":
        return losses.sum() / weights.sum()
    return reduce(losses, reduction)


def np_cross_entropy_probs(x, p, weight=None, reduction="mean", label_smoothing=0.0):
    classes = x.shape[1]
    p = p * (1 - label_smoothing) + label_smoothing / classes
    w = np.ones(classes) if weight is None else weight
    losses = -(np_log_softmax(x, 1) * p * w.reshape((1, classes) + (1,) * (x.ndim - 2))).sum(1)
    return reduce(losses, reduction)


def np_bce(x, y, weight=None, reduction="mean"):
    with np.errstate(divide="ignore"):
        losses = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return reduce(losses if weight is None else losses * weight, reduction)


def np_bce_with_logits(x, y, weight=None, reduction="mean", pos_weight=None):
    """−(p·y·log σ(x) + (1 − y)·log(1 − σ(x))), with log σ(x) = −log(1 + e⁻ˣ) in float64."""
    log_sig, log_one_minus = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    p = 1.0 if pos_weight is None else pos_weight
    losses = -(p * y * log_sig + (1 - y) * log_one_minus)
    return reduce(losses if weight is None else losses * weight, reduction)


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_values(reduction):
    x, y = np.array([[0.5, -1.0, 3.0], [2.0, 0.0, -0.2]]), np.array([[0.0, 1.0, 0.5], [2.5, 0.1, -3.0]])
    d = x - y
    expected = {
        "mse": d**2,
        "l1": np.abs(d),
        "huber": np.where(np.abs(d) < 1.0, 0.5 * d**2, np.abs(d) - 0.5),
        "huber2": np.where(np.abs(d) < 2.0, 0.5 * d**2, 2.0 * (np.abs(d) - 1.0)),
    }
    X, Y = tl.tensor(x, dtype=tl.float64), tl.tensor(y, dtype=tl.float64)
    got = {
        "mse": F.mse_loss(X, Y, reduction=reduction),
        "l1": F.l1_loss(X, Y, reduction=reduction),
        "huber": F.huber_loss(X, Y, reduction),
        "huber2": F.huber_loss(X, Y, reduction=reduction, delta=2.0),
    }
    for name, value in got.items():
        np.testing.assert_allclose(np_of(value), reduce(expected[name], reduction), rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(
        np_of(nn.MSELoss(reduction=reduction)(X, Y)), reduce(expected["mse"], reduction)
    )
    np.testing.assert_allclose(np_of(nn.L1Loss(reduction=reduction)(X, Y)), reduce(expected["l1"], reduction))
    np.testing.assert_allclose(
        np_of(nn.HuberLoss(reduction, 2.0)(X, Y)), reduce(expected["huber2"], reduction)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_gradcheck(reduction):
    x, y = f64(3, 4, seed=1), f64(3, 4, seed=2)
    for fn in (F.mse_loss, F.l1_loss):
        assert tl.gradcheck(lambda x, y, fn=fn: fn(x, y, reduction=reduction), (x, y))
    assert tl.gradgradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), (x, y))
    assert tl.gradcheck(lambda x, y: F.huber_loss(x, y, reduction, 0.7), (x, y))
    assert tl.gradgradcheck(lambda x, y: F.huber_loss(x, y, reduction, 0.7), (x, y))


def test_regression_losses_warn_about_broadcasting():
    with pytest.warns(
        UserWarning, match=r"mse_loss: using a target of shape \(4,\) .* input's shape \(4, 1\)"
    ):
        F.mse_loss(tl.zeros(4, 1), tl.zeros(4))


def test_bad_reduction_and_delta():
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.mse_loss(tl.zeros(1), tl.zeros(1), reduction="avg")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="max")
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(tl.zeros(1), tl.zeros(1), delta=0.0)


# --------------------------------------------------------------------------- cross-entropy, class indices


def test_cross_entropy_known_value():
    loss = F.cross_entropy(tl.tensor([[1.0, 2.0, 3.0]]), tl.tensor([2]))
    assert loss.item() == pytest.approx(0.40760596)  # 3 − log(e + e² + e³)


CE_CASES = {
    "plain": {},
    "smoothing": {"label_smoothing": 0.1},
    "weight": {"weight": np.array([0.2, 1.0, 3.0, 0.5])},
    "ignore": {"ignore_index": 1},
    "all": {"weight": np.array([0.2, 1.0, 3.0, 0.5]), "ignore_index": 1, "label_smoothing": 0.3},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
def test_cross_entropy_with_class_indices(shape, case, reduction):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape) * 3
    t = rng.integers(0, 4, (shape[0], *shape[2:]))
    t.reshape(-1)[0] = 1  # make sure ignore_index=1 occurs
    kwargs = CE_CASES[case]
    expected = np_cross_entropy(x, t, reduction=reduction, **kwargs)
    tl_kwargs = {k: tl.tensor(v, dtype=tl.float64) if k == "weight" else v for k, v in kwargs.items()}
    X, T = tl.tensor(x, dtype=tl.float64), tl.tensor(t)
    np.testing.assert_allclose(
        np_of(F.cross_entropy(X, T, reduction=reduction, **tl_kwargs)), expected, rtol=1e-10
    )
    weight = tl_kwargs.pop("weight", None)
    module = nn.CrossEntropyLoss(weight, reduction=reduction, **tl_kwargs)
    np.testing.assert_allclose(np_of(module(X, T)), expected, rtol=1e-10)


@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy_gradcheck(case):
    kwargs = {k: tl.tensor(v, dtype=tl.float64) if k == "weight" else v for k, v in CE_CASES[case].items()}
    x = f64(5, 4, seed=4)
    t = tl.tensor([0, 1, 3, 2, 1])
    for reduction in REDUCTIONS:
        assert tl.gradcheck(lambda x, r=reduction: F.cross_entropy(x, t, reduction=r, **kwargs), (x,))
    assert tl.gradgradcheck(lambda x: F.cross_entropy(x, t, **kwargs), (x,))
    x4 = f64(2, 4, 3, seed=5)
    t4 = tl.tensor([[0, 1, 3], [2, 2, 1]])
    assert tl.gradcheck(lambda x: F.cross_entropy(x, t4, **kwargs), (x4,))


def test_cross_entropy_unbatched():
    x = np.array([0.5, -1.0, 2.0])
    loss = F.cross_entropy(tl.tensor(x, dtype=tl.float64), tl.tensor(2), reduction="none")
    assert loss.shape == ()
    assert loss.item() == pytest.approx(-np_log_softmax(x[None])[0, 2])


def test_cross_entropy_with_every_target_ignored_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(tl.randn(2, 3), tl.tensor([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(tl.randn(2, 3), tl.tensor([-100, -100]), reduction="sum").item() == 0.0


def test_nll_loss_is_cross_entropy_of_log_softmax():
    rng = np.random.default_rng(6)
    x, t = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    t[0] = 0
    w = np.array([1.0, 2.0, 0.5])
    for reduction in REDUCTIONS:
        logp = F.log_softmax(tl.tensor(x, dtype=tl.float64), 1)
        got = F.nll_loss(
            logp, tl.tensor(t), tl.tensor(w, dtype=tl.float64), ignore_index=0, reduction=reduction
        )
        expected = np_cross_entropy(x, t, weight=w, ignore_index=0, reduction=reduction)
        np.testing.assert_allclose(np_of(got), expected, rtol=1e-12)
    module = nn.NLLLoss(ignore_index=0)
    np.testing.assert_allclose(np_of(module(logp, tl.tensor(t))), np_cross_entropy(x, t, ignore_index=0))
    assert F.nll_loss(tl.tensor([-1.0, -2.0]), tl.tensor(1)).item() == 2.0  # unbatched


def test_nll_loss_gradcheck():
    logp = f64(4, 3, seed=7)
    t = tl.tensor([2, 0, 1, 1])
    w = tl.tensor([0.5, 2.0, 1.0], dtype=tl.float64, requires_grad=True)
    assert tl.gradcheck(lambda p, w: F.nll_loss(p, t, w), (logp, w))
    assert tl.gradgradcheck(lambda p, w: F.nll_loss(p, t, w, ignore_index=0), (logp, w))


# --------------------------------------------------------------------------- cross-entropy, probabilities


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_cross_entropy_with_probabilities(shape, reduction):
    rng = np.random.default_rng(8)
    x = rng.normal(size=shape)
    p = rng.uniform(size=shape)
    p /= p.sum(1, keepdims=True)
    w = np.array([0.3, 1.0, 2.0])
    X, P, W = (tl.tensor(a, dtype=tl.float64) for a in (x, p, w))
    for kwargs, tl_kwargs in [({}, {}), ({"label_smoothing": 0.2}, {"label_smoothing": 0.2}),
                              ({"weight": w}, {"weight": W})]:  # fmt: skip
        expected = np_cross_entropy_probs(x, p, reduction=reduction, **kwargs)
        np.testing.assert_allclose(
            np_of(F.cross_entropy(X, P, reduction=reduction, **tl_kwargs)), expected, rtol=1e-10
        )


def test_cross_entropy_probabilities_of_a_one_hot_equal_class_indices():
    x = tl.randn(4, 5, dtype=tl.float64)
    t = tl.tensor([0, 3, 4, 1])
    onehot = F.one_hot(t, 5).double()
    for ls in (0.0, 0.25):
        a = F.cross_entropy(x, t, label_smoothing=ls)
        b = F.cross_entropy(x, onehot, label_smoothing=ls)
        assert a.item() == pytest.approx(b.item(), rel=1e-12)


def test_cross_entropy_probabilities_gradcheck():
    x, p = f64(3, 4, seed=9), f64(3, 4, seed=10, low=0.0, high=1.0)
    assert tl.gradcheck(lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1), (x, p))
    assert tl.gradgradcheck(lambda x, p: F.cross_entropy(x, p), (x, p))


# --------------------------------------------------------------------------- cross-entropy errors


def test_cross_entropy_errors():
    x = tl.randn(3, 4)
    with pytest.raises(
        ValueError, match=r"cross_entropy: an input of shape \(3, 4\) .* of shape \(3,\), got \(3, 1\)"
    ):
        F.cross_entropy(x, tl.tensor([[0], [1], [2]]))
    with pytest.raises(
        ValueError, match=r"class probabilities and must have the input's shape \(3, 4\), got \(3,\)"
    ):
        F.cross_entropy(x, tl.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"integer .* target, got bool"):
        F.cross_entropy(x, tl.tensor([True, False, True]))
    with pytest.raises(IndexError, match=r"target 4 is out of bounds for 4 classes \(valid targets are 0..3"):
        F.cross_entropy(x, tl.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target -3 is out of bounds"):
        F.cross_entropy(x, tl.tensor([0, -3, 1]))
    with pytest.raises(RuntimeError, match=r"weight must hold one value per class, shape \(4,\), got \(3,\)"):
        F.cross_entropy(x, tl.tensor([0, 1, 2]), tl.ones(3))
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0\.0 and 1\.0"):
        F.cross_entropy(x, tl.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported for class-probability targets"):
        F.cross_entropy(x, tl.zeros(3, 4), ignore_index=0)
    with pytest.raises(TypeError, match="target must be a Tensor, got list"):
        F.cross_entropy(x, [0, 1, 2])
    with pytest.raises(ValueError, match="0-dim"):
        F.cross_entropy(tl.tensor(1.0), tl.tensor(0))


# --------------------------------------------------------------------------- binary cross-entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_values(reduction):
    rng = np.random.default_rng(11)
    x, y, w = rng.uniform(0.01, 0.99, (4, 3)), rng.uniform(size=(4, 3)), rng.uniform(size=(3,))
    X, Y, W = (tl.tensor(a, dtype=tl.float64) for a in (x, y, w))
    np.testing.assert_allclose(
        np_of(F.binary_cross_entropy(X, Y, reduction=reduction)), np_bce(x, y, None, reduction)
    )
    np.testing.assert_allclose(
        np_of(F.binary_cross_entropy(X, Y, W, reduction=reduction)), np_bce(x, y, w, reduction)
    )
    np.testing.assert_allclose(np_of(nn.BCELoss(W, reduction=reduction)(X, Y)), np_bce(x, y, w, reduction))


def test_binary_cross_entropy_floors_the_log_at_minus_100():
    x = tl.tensor([0.0, 1.0, 0.0, 1.0, 1e-50], dtype=tl.float64, requires_grad=True)
    y = tl.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=tl.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) warning
        loss = F.binary_cross_entropy(x, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(np_of(loss), [100.0, 100.0, 0.0, 0.0, 100.0])
    assert bool(x.grad.isfinite().all())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_gradcheck(reduction):
    x, y = f64(3, 4, seed=12, low=0.05, high=0.95), f64(3, 4, seed=13, low=0.0, high=1.0)
    w = f64(4, seed=14, low=0.5, high=1.5)
    assert tl.gradcheck(lambda x, y, w: F.binary_cross_entropy(x, y, w, reduction=reduction), (x, y, w))
    assert tl.gradgradcheck(lambda x, y: F.binary_cross_entropy(x, y, reduction=reduction), (x, y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_values(reduction):
    rng = np.random.default_rng(15)
    x, y = rng.normal(size=(4, 3)) * 4, rng.uniform(size=(4, 3))
    w, pw = rng.uniform(size=(3,)), np.array([0.5, 2.0, 5.0])
    X, Y, W, PW = (tl.tensor(a, dtype=tl.float64) for a in (x, y, w, pw))
    F_bce = F.binary_cross_entropy_with_logits
    np.testing.assert_allclose(
        np_of(F_bce(X, Y, reduction=reduction)), np_bce_with_logits(x, y, None, reduction)
    )
    np.testing.assert_allclose(np_of(F_bce(X, Y, W, reduction=reduction, pos_weight=PW)),
                               np_bce_with_logits(x, y, w, reduction, pw))  # fmt: skip
    module = nn.BCEWithLogitsLoss(W, reduction=reduction, pos_weight=PW)
    np.testing.assert_allclose(np_of(module(X, Y)), np_bce_with_logits(x, y, w, reduction, pw))
    np.testing.assert_allclose(np_of(F_bce(X, Y)), np_of(F.binary_cross_entropy(X.sigmoid(), Y)), rtol=1e-10)


def test_binary_cross_entropy_with_logits_gradcheck():
    x, y = f64(3, 4, seed=16, low=-5, high=5), f64(3, 4, seed=17, low=0.0, high=1.0)
    w, pw = f64(4, seed=18, low=0.5, high=1.5), f64(4, seed=19, low=0.5, high=3.0)
    fn = F.binary_cross_entropy_with_logits
    assert tl.gradcheck(lambda x, y, w, pw: fn(x, y, w, pos_weight=pw), (x, y, w, pw))
    assert tl.gradgradcheck(lambda x, y, pw: fn(x, y, pos_weight=pw), (x, y, pw))
    assert tl.gradgradcheck(lambda x, y: fn(x, y, reduction="sum"), (x, y))


def test_binary_losses_errors():
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=r"target of shape \(4,\) must have the input's shape \(4, 1\)"):
            fn(tl.full((4, 1), 0.5), tl.ones(4))
        with pytest.raises(TypeError, match=r"target must be a floating tensor .* got int64; convert it"):
            fn(tl.full((2,), 0.5), tl.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"between 0 and 1 .* binary_cross_entropy_with_logits on logits"):
        F.binary_cross_entropy(tl.tensor([2.0]), tl.tensor([1.0]))


# --------------------------------------------------------------------------- stability at extreme logits


def finite(t):
    return bool(t.isfinite().all())


def run_clean(fn, x):
    """fn(x).backward() with every warning an error: no overflow, no log(0), no 0/0."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = fn(x)
        loss.backward()
    return loss


EXTREME = [[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1e4, 1e4, -1e4]]


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.cross_entropy(x, tl.tensor([1, 0, 2])),
        lambda x: F.cross_entropy(
            x, tl.tensor([1, 0, 2]), label_smoothing=0.1, weight=tl.tensor([1.0, 2.0, 3.0])
        ),
        lambda x: F.cross_entropy(x, tl.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])),
        lambda x: F.nll_loss(F.log_softmax(x, 1), tl.tensor([2, 2, 2])),
        lambda x: F.binary_cross_entropy_with_logits(x, tl.ones(3, 3) * tl.tensor([0.0, 1.0, 0.3])),
        lambda x: F.binary_cross_entropy_with_logits(
            x, tl.zeros(3, 3), pos_weight=tl.tensor([3.0, 3.0, 3.0])
        ),
        lambda x: F.binary_cross_entropy(x.sigmoid(), tl.ones(3, 3) * tl.tensor([0.0, 1.0, 0.3])),
        lambda x: F.softplus(x).sum() + F.logsigmoid(x).sum(),
    ],
)
@pytest.mark.parametrize("dtype", [tl.float32, tl.float64])
def test_losses_are_finite_at_extreme_logits(fn, dtype):
    x = tl.tensor(EXTREME, dtype=dtype, requires_grad=True)
    loss = run_clean(fn, x)
    assert finite(loss) and finite(x.grad)


def test_extreme_logits_give_the_exact_answers():
    x = tl.tensor([[1e4, -1e4]], requires_grad=True)
    loss = run_clean(lambda x: F.cross_entropy(x, tl.tensor([1])), x)
    assert loss.item() == 2e4
    assert x.grad.tolist() == [[1.0, -1.0]]  # softmax − onehot
    z = tl.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    y = tl.tensor([0.0, 1.0, 1.0, 0.0])
    losses = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    assert losses.tolist() == [1e4, 1e4, 0.0, 0.0]
    losses.sum().backward()
    assert z.grad.tolist() == [1.0, -1.0, 0.0, 0.0]  # σ(x) − y


def test_loss_modules_hold_their_weights_as_buffers():
    w = tl.tensor([1.0, 2.0])
    ce = nn.CrossEntropyLoss(w, label_smoothing=0.1, ignore_index=3)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    assert ce.ignore_index == 3 and ce.label_smoothing == 0.1 and ce.reduction == "mean"
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(w, pos_weight=w).state_dict()) == ["weight", "pos_weight"]
    assert ce.to(tl.float64).weight.dtype == tl.float64

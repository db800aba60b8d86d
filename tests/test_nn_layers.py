"""Layers, activations and the non-loss functionals: values against NumPy, train/eval
behaviour, gradchecks in float64 (and gradgradchecks where smooth), stability, and an MLP that
learns the two moons."""

import math
import warnings

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import nn
from tinylearn.data.toy import make_moons
from tinylearn.models import MLP


def f64(*shape, seed=0, low=-2.0, high=2.0):
    """A float64 leaf requiring grad, uniform in [low, high)."""
    rng = np.random.default_rng(seed)
    return tl.tensor(rng.uniform(low, high, shape), dtype=tl.float64, requires_grad=True)


def np_of(t):
    return t.detach().numpy()


# --------------------------------------------------------------------------- activations


def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def np_gelu(x):
    from math import erf

    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


ACTIVATIONS = {
    # name: (module, functional, NumPy reference)
    "sigmoid": (nn.Sigmoid(), F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (nn.Tanh(), F.tanh, np.tanh),
    "relu": (nn.ReLU(), F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (nn.LeakyReLU(0.1), lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "gelu": (nn.GELU(), F.gelu, np_gelu),
    "gelu_tanh": (nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh"), np_gelu_tanh),
    "silu": (nn.SiLU(), F.silu, lambda x: x / (1 + np.exp(-x))),
    "softplus": (nn.Softplus(), F.softplus, np_softplus),
    "softplus_beta": (nn.Softplus(beta=2.0, threshold=3.0), lambda x: F.softplus(x, 2.0, 3.0),
                      lambda x: np_softplus(x, 2.0, 3.0)),
    "logsigmoid": (None, F.logsigmoid, lambda x: -np.logaddexp(0, -x)),
    "softmax": (nn.Softmax(dim=1), lambda x: F.softmax(x, 1),
                lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    "log_softmax": (nn.LogSoftmax(dim=1), lambda x: F.log_softmax(x, 1),
                    lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
}  # fmt: skip


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values(name):
    module, fn, reference = ACTIVATIONS[name]
    x = np.linspace(-4, 4, 24).reshape(4, 6)
    np.testing.assert_allclose(
        np_of(fn(tl.tensor(x, dtype=tl.float64))), reference(x), rtol=1e-12, atol=1e-12
    )
    if module is not None:
        np.testing.assert_allclose(np_of(module(tl.tensor(x))), reference(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradcheck(name):
    _, fn, _ = ACTIVATIONS[name]
    # away from the kinks of relu/leaky_relu (0) and of softplus_beta's threshold (βx = 3 at x = 1.5)
    x = tl.dodge_kinks(f64(3, 5, seed=1, low=-4, high=4), kinks=(0.0, 1.5), margin=0.05)
    assert tl.gradcheck(fn, (x,))
    assert tl.gradgradcheck(fn, (x,))


def test_relu_family_derivatives_at_zero_follow_pytorch():
    x = tl.tensor([0.0], requires_grad=True)
    F.relu(x).backward()
    assert x.grad.item() == 0.0  # relu'(0) = 0
    x.grad = None
    F.leaky_relu(x, 0.2).backward()
    assert x.grad.item() == pytest.approx(0.2)  # the negative branch at 0
    x.grad = None
    F.softplus(x).backward()
    assert x.grad.item() == pytest.approx(0.5)  # σ(0): the stable split of log(1 + eˣ) is smooth at 0


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_are_stable_at_extreme_inputs(name):
    _, fn, _ = ACTIVATIONS[name]
    x = tl.tensor([[-1e4, -100.0, 0.0, 100.0, 1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warnings from NumPy
        y = fn(x)
        y.sum().backward()
    assert bool(y.isfinite().all()) and bool(x.grad.isfinite().all())


def test_softplus_and_logsigmoid_exact_values_at_extremes():
    x = tl.tensor([-1e4, -50.0, 50.0, 1e4], dtype=tl.float64)
    np.testing.assert_allclose(np_of(F.softplus(x)), [0.0, np.exp(-50.0), 50.0, 1e4], rtol=1e-12)
    np.testing.assert_allclose(np_of(F.logsigmoid(x)), [-1e4, -50.0, -np.exp(-50.0), 0.0], rtol=1e-12)


def test_softplus_threshold_returns_the_input():
    x = tl.tensor([10.0, 25.0])
    np.testing.assert_allclose(np_of(F.softplus(x, beta=1.0, threshold=20.0)), [np.log1p(np.exp(10.0)), 25.0])


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        F.gelu(tl.zeros(1), approximate="fast")
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU("fast")


def test_softmax_module_without_dim_warns_and_uses_pytorchs_rule():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        y = nn.Softmax()(tl.randn(2, 3))
    np.testing.assert_allclose(np_of(y.sum(1)), [1.0, 1.0], rtol=1e-6)


# --------------------------------------------------------------------------- Linear, Identity, Flatten


def test_linear_forward_is_x_wt_plus_b():
    lin = nn.Linear(3, 2)
    x = tl.randn(5, 3)
    expected = np_of(x) @ np_of(lin.weight).T + np_of(lin.bias)
    np.testing.assert_allclose(np_of(lin(x)), expected, rtol=1e-6)
    assert lin(tl.randn(4, 7, 3)).shape == (4, 7, 2)  # any leading dims
    assert lin(tl.randn(3)).shape == (2,)
    assert nn.Linear(3, 2, bias=False)(x).shape == (5, 2)


def test_linear_default_init_is_pytorchs():
    tl.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = np_of(lin.weight), np_of(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(w.mean()) < 0.01 * bound * 10
    tl.manual_seed(0)
    np.testing.assert_array_equal(np_of(nn.Linear(400, 300).weight), w)  # reproducible


def test_linear_shape_error_names_the_shapes():
    with pytest.raises(
        RuntimeError, match=r"linear: input of shape \(5, 4\) needs 3 features .* weight of shape \(2, 3\)"
    ):
        nn.Linear(3, 2)(tl.randn(5, 4))


def test_linear_gradcheck():
    x, w, b = f64(4, 3, seed=1), f64(2, 3, seed=2), f64(2, seed=3)
    assert tl.gradcheck(F.linear, (x, w, b))
    assert tl.gradgradcheck(F.linear, (x, w, b))
    assert tl.gradcheck(lambda x, w: F.linear(x, w), (f64(2, 5, 3), w))


def test_identity_and_flatten():
    x = tl.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)


# --------------------------------------------------------------------------- Dropout


def test_dropout_in_training_zeroes_and_rescales():
    tl.manual_seed(0)
    drop = nn.Dropout(0.25)
    y = np_of(drop(tl.ones(200, 500)))
    kept = y != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # expectation preserved


def test_dropout_gradient_is_the_mask():
    tl.manual_seed(1)
    x = tl.ones(4, 6, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(np_of(x.grad), np_of(y))


def test_dropout_gradcheck():
    def seeded_dropout(x):  # the same mask at every call
        tl.manual_seed(3)
        return F.dropout(x, 0.3)

    x = f64(4, 5, seed=12)
    assert tl.gradcheck(seeded_dropout, (x,))
    assert tl.gradgradcheck(seeded_dropout, (x,))


def test_dropout_is_identity_in_eval_and_reproducible_with_manual_seed():
    drop = nn.Dropout(0.5)
    x = tl.randn(8, 8)
    assert drop.eval()(x) is x
    drop.train()
    tl.manual_seed(7)
    a = np_of(drop(x))
    tl.manual_seed(7)
    np.testing.assert_array_equal(np_of(drop(x)), a)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0


def test_dropout_rejects_bad_p():
    with pytest.raises(ValueError, match=r"between 0 and 1, but got 1\.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(tl.ones(1), -0.1)


# --------------------------------------------------------------------------- BatchNorm1d


def test_batch_norm_training_normalises_and_updates_running_stats_by_hand():
    bn = nn.BatchNorm1d(2)
    x1 = tl.tensor([[1.0, 2.0], [3.0, 6.0]])  # per channel: mean (2, 4), biased var (1, 4), unbiased (2, 8)
    y = bn(x1)
    np.testing.assert_allclose(np_of(y), [[-1, -1], [1, 1]], atol=1e-4)  # (x - mean)/sqrt(var + eps)
    np.testing.assert_allclose(np_of(bn.running_mean), [0.9 * 0 + 0.1 * 2, 0.9 * 0 + 0.1 * 4], rtol=1e-6)
    np.testing.assert_allclose(np_of(bn.running_var), [0.9 * 1 + 0.1 * 2, 0.9 * 1 + 0.1 * 8], rtol=1e-6)
    assert int(bn.num_batches_tracked) == 1
    x2 = tl.tensor([[0.0, 0.0], [0.0, 3.0], [3.0, 3.0]])  # mean (1, 2), unbiased var (3, 3)
    bn(x2)
    np.testing.assert_allclose(np_of(bn.running_mean), [0.9 * 0.2 + 0.1 * 1, 0.9 * 0.4 + 0.1 * 2], rtol=1e-6)
    np.testing.assert_allclose(np_of(bn.running_var), [0.9 * 1.1 + 0.1 * 3, 0.9 * 1.7 + 0.1 * 3], rtol=1e-6)
    assert int(bn.num_batches_tracked) == 2


def test_batch_norm_eval_uses_running_stats_and_affine():
    bn = nn.BatchNorm1d(2)
    bn(tl.tensor([[1.0, 2.0], [3.0, 6.0]]))
    with tl.no_grad():
        bn.weight.copy_(tl.tensor([2.0, 0.5]))
        bn.bias.copy_(tl.tensor([1.0, -1.0]))
    bn.eval()
    x = tl.tensor([[1.0, 1.0]])  # a single sample is fine in eval
    expected = (np.array([1.0, 1.0]) - [0.2, 0.4]) / np.sqrt(np.array([1.1, 1.7]) + 1e-5) * [2.0, 0.5] + [
        1.0,
        -1.0,
    ]
    np.testing.assert_allclose(np_of(bn(x))[0], expected, rtol=1e-6)
    np.testing.assert_allclose(np_of(bn.running_mean), [0.2, 0.4], rtol=1e-6)  # unchanged in eval
    assert int(bn.num_batches_tracked) == 1


def test_batch_norm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None)
    batches = [[[1.0], [3.0]], [[0.0], [10.0]], [[4.0], [4.0]]]  # means 2, 5, 4; unbiased vars 2, 50, 0
    for b in batches:
        bn(tl.tensor(b))
    np.testing.assert_allclose(np_of(bn.running_mean), [(2 + 5 + 4) / 3], rtol=1e-6)
    np.testing.assert_allclose(np_of(bn.running_var), [(2 + 50 + 0) / 3], rtol=1e-6)


def test_batch_norm_on_sequences_reduces_over_batch_and_length():
    bn = nn.BatchNorm1d(3, momentum=1.0)
    x = np.random.default_rng(0).normal(size=(4, 3, 5))
    y = np_of(bn(tl.tensor(x)))
    mean, var = x.mean((0, 2)), x.var((0, 2))
    np.testing.assert_allclose(y, (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_of(bn.running_mean), mean, rtol=1e-5)
    np.testing.assert_allclose(np_of(bn.running_var), x.var((0, 2), ddof=1), rtol=1e-5)  # n = N·L = 20


def test_batch_norm_without_running_stats_always_uses_the_batch():
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert bn.running_mean is None and list(bn.parameters()) == []
    y = np_of(bn(tl.tensor([[1.0, 2.0], [3.0, 6.0]])))
    np.testing.assert_allclose(y, [[-1, -1], [1, 1]], atol=1e-4)


def test_batch_norm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(tl.randn(3))
    with pytest.raises(ValueError, match=r"input of shape \(4, 2\) has 2 channels"):
        bn(tl.randn(4, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(tl.randn(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements"):
        F.batch_norm(tl.randn(2, 3), tl.zeros(4), tl.ones(3), training=True)
    with pytest.raises(RuntimeError, match="must be given when training=False"):
        F.batch_norm(tl.randn(2, 3), None, None)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
def test_batch_norm_gradcheck(shape):
    x, w, b = f64(*shape, seed=4), f64(3, seed=5), f64(3, seed=6)

    def train_mode(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    assert tl.gradcheck(train_mode, (x, w, b))
    assert tl.gradgradcheck(train_mode, (x, w, b))
    rm, rv = tl.tensor([0.1, -0.2, 0.3], dtype=tl.float64), tl.tensor([1.0, 2.0, 0.5], dtype=tl.float64)
    assert tl.gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), (x, w, b))


# --------------------------------------------------------------------------- LayerNorm


def test_layer_norm_values():
    ln = nn.LayerNorm(4)
    x = np.random.default_rng(1).normal(size=(3, 4))
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(np_of(ln(tl.tensor(x))), expected, rtol=1e-4, atol=1e-5)
    assert ln.eval()(tl.tensor(x)).shape == (3, 4)  # the same in eval
    ln2 = nn.LayerNorm((2, 3), elementwise_affine=False)
    x2 = np.random.default_rng(2).normal(size=(5, 2, 3))
    flat = x2.reshape(5, 6)
    expected2 = ((flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)).reshape(
        5, 2, 3
    )
    np.testing.assert_allclose(np_of(ln2(tl.tensor(x2, dtype=tl.float64))), expected2, rtol=1e-10)


def test_layer_norm_shape_error():
    with pytest.raises(
        RuntimeError,
        match=r"normalized_shape=\[4\], expected input with shape \[\*, 4\], "
        r"but got input of size \[2, 5\]",
    ):
        nn.LayerNorm(4)(tl.randn(2, 5))


def test_layer_norm_gradcheck():
    x, w, b = f64(3, 2, 4, seed=7), f64(4, seed=8), f64(4, seed=9)
    assert tl.gradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), (x, w, b))
    assert tl.gradgradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), (x, w, b))
    w2 = f64(2, 4, seed=10)
    assert tl.gradcheck(lambda x, w: F.layer_norm(x, (2, 4), w), (x, w2))


# --------------------------------------------------------------------------- Embedding


def test_embedding_looks_up_rows_and_accumulates_gradients():
    emb = nn.Embedding(5, 3)
    idx = tl.tensor([[1, 2], [1, 4]])
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(np_of(out), np_of(emb.weight)[[[1, 2], [1, 4]]])
    out.sum().backward()
    np.testing.assert_array_equal(np_of(emb.weight.grad)[:, 0], [0, 2, 1, 0, 1])


def test_embedding_init_is_standard_normal():
    tl.manual_seed(0)
    w = np_of(nn.Embedding(200, 100).weight)
    assert abs(w.mean()) < 0.01 and w.std() == pytest.approx(1.0, rel=0.01)


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=0)
    assert np_of(emb.weight)[0].tolist() == [0.0, 0.0]
    with tl.no_grad():
        emb.weight[0] = 5.0  # the row still takes part in the forward pass
    out = emb(tl.tensor([0, 1, 0]))
    assert np_of(out)[0].tolist() == [5.0, 5.0]
    (out * tl.randn(3, 2)).sum().backward()
    assert np_of(emb.weight.grad)[0].tolist() == [0.0, 0.0]
    assert np.abs(np_of(emb.weight.grad)[1]).sum() > 0
    assert nn.Embedding(4, 2, padding_idx=-1).padding_idx == 3


def test_embedding_errors():
    emb = nn.Embedding(10, 3)
    with pytest.raises(
        IndexError, match=r"index 10 is out of range for an embedding of 10 rows \(valid indices are 0..9\)"
    ):
        emb(tl.tensor([3, 10]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(tl.tensor([-1]))
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        emb(tl.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_embedding_from_pretrained():
    table = tl.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb(tl.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_gradcheck():
    w = f64(6, 3, seed=11)
    idx = tl.tensor([[0, 5, 2], [2, 2, 1]])
    assert tl.gradcheck(
        lambda w: F.embedding(idx, w), (w,)
    )  # (padding_idx cuts a true dependence on purpose)
    assert tl.gradgradcheck(lambda w: F.embedding(idx, w), (w,))


def test_one_hot():
    out = F.one_hot(tl.tensor([0, 2, 1]))
    assert out.dtype == tl.int64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(tl.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(tl.tensor([3]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(tl.tensor([-1]), 3)
    with pytest.raises(RuntimeError, match="integer dtype"):
        F.one_hot(tl.tensor([1.0]))


# --------------------------------------------------------------------------- regularisation


def test_l1_and_l2_penalties():
    a = tl.tensor([1.0, -2.0], requires_grad=True)
    b = tl.tensor([[3.0]], requires_grad=True)
    l1 = nn.l1_penalty([a, b])
    l2 = nn.l2_penalty([a, b])
    assert l1.item() == 6.0 and l2.item() == 14.0
    (l1 + l2).backward()
    assert a.grad.tolist() == [1 + 2.0, -1 - 4.0] and b.grad.tolist() == [[1 + 6.0]]
    lin = nn.Linear(2, 1)
    expected = sum(float((p * p).sum()) for p in lin.parameters())
    assert nn.l2_penalty(lin).item() == pytest.approx(expected)
    assert nn.l1_penalty([]).item() == 0.0


# --------------------------------------------------------------------------- MLP


def test_mlp_structure():
    m = MLP(3, [8, 4], 2, activation="tanh", dropout=0.1, batch_norm=True)
    assert [type(layer).__name__ for layer in m] == [
        "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear",
    ]  # fmt: skip
    assert m(tl.randn(5, 3)).shape == (5, 2)
    assert type(MLP(3, [4], 1, activation=lambda: nn.LeakyReLU(0.2))[1]) is nn.LeakyReLU
    assert len(MLP(3, [], 1)) == 1
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP(3, [4], 1, activation="swish")


def test_mlp_learns_the_two_moons_with_plain_gradient_descent():
    X, y = make_moons(n_samples=200, noise=0.1, seed=0)
    X, y = tl.tensor(X), tl.tensor(y)
    tl.manual_seed(0)
    model = MLP(2, [32, 32], 2)
    for _ in range(300):
        loss = F.cross_entropy(model(X), y)
        model.zero_grad()
        loss.backward()
        with tl.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert accuracy > 0.95
    assert loss.item() < 0.1

"""Optimizers and gradient clipping: every update rule step by step against the formulas of curriculum 1.4,
parameter groups, state_dict round trips, and PyTorch's behaviour for the edge cases.

The reference implementations below are written from the curriculum's formulas in plain float64 NumPy,
out of place, one line per formula; the optimizers run on float64 parameters so that the two agree to
rounding (1e-12), tight enough to catch a misplaced ε or bias correction."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import pytest

import tinylearn as tl
from tests import fakecupy
from tinylearn import optim
from tinylearn.optim import clip_grad_norm_, clip_grad_value_

THETA0 = np.array([1.0, -2.0])


def grad_fn(theta: np.ndarray) -> np.ndarray:
    """The gradient of a non-quadratic loss L(θ) = (θ₀ − 0.5)² + θ₁⁴/8 + 3θ₁, so sequences are not trivial."""
    return np.array([2 * (theta[0] - 0.5), 0.5 * theta[1] ** 3 + 3])


def run(make: Callable[[list[tl.Tensor]], optim.Optimizer], steps: int = 5, theta0=THETA0) -> np.ndarray:
    """The parameter after each of ``steps`` optimizer steps, with gradients from ``grad_fn``."""
    p = tl.tensor(theta0, dtype=tl.float64, requires_grad=True)
    opt = make([p])
    out = []
    for _ in range(steps):
        p.grad = tl.tensor(grad_fn(p.detach().numpy()), dtype=tl.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


# --------------------------------------------------------------------------- reference rules (curriculum 1.4)


def ref_sgd(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta, v, out = THETA0.copy(), None, []
    for _ in range(steps):
        g = grad_fn(theta)
        g = -g if maximize else g
        g = g + weight_decay * theta
        if momentum != 0:
            v = g if v is None else momentum * v + (1 - dampening) * g  # v = βv + ∇L (τ = 0)
            g = g + momentum * v if nesterov else v
        theta = theta - lr * g  # θ = θ − αv
        out.append(theta)
    return np.array(out)


def ref_adagrad(steps, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    theta, G, out = THETA0.copy(), np.full(2, initial_accumulator_value), []
    for t in range(1, steps + 1):
        g = grad_fn(theta) + weight_decay * theta
        G = G + g**2
        theta = theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(G) + eps)
        out.append(theta)
    return np.array(out)


def ref_rmsprop(steps, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    theta, s, gbar, b, out = THETA0.copy(), np.zeros(2), np.zeros(2), np.zeros(2), []
    for _ in range(steps):
        g = grad_fn(theta) + weight_decay * theta
        s = alpha * s + (1 - alpha) * g**2
        gbar = alpha * gbar + (1 - alpha) * g
        d = np.sqrt(s - gbar**2 if centered else s) + eps
        if momentum > 0:
            b = momentum * b + g / d
            theta = theta - lr * b
        else:
            theta = theta - lr * g / d
        out.append(theta)
    return np.array(out)


def ref_adam(steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    (b1, b2), theta, m, v, v_max, out = betas, THETA0.copy(), np.zeros(2), np.zeros(2), np.zeros(2), []
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        if decoupled:
            theta = theta * (1 - lr * weight_decay)  # AdamW: decay the weights directly
        else:
            g = g + weight_decay * theta  # Adam: L2 through the gradient
        m = b1 * m + (1 - b1) * g  # first moment
        v = b2 * v + (1 - b2) * g**2  # second moment
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - b1**t)  # bias correction
        v_hat = (v_max if amsgrad else v) / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return np.array(out)


# --------------------------------------------------------------------------- hand-computed sequences


def test_sgd_momentum_three_steps_by_hand() -> None:
    """L = ½‖θ‖², so g = θ; α = 0.1, β = 0.9, θ₀ = (1, −2):
    v₁ = g₁ = (1, −2),              θ₁ = θ₀ − 0.1·v₁ = (0.9, −1.8)
    v₂ = 0.9·v₁ + θ₁ = (1.8, −3.6), θ₂ = (0.72, −1.44)
    v₃ = 0.9·v₂ + θ₂ = (2.34, −4.68), θ₃ = (0.486, −0.972)"""
    p = tl.tensor([1.0, -2.0], dtype=tl.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    seen = []
    for _ in range(3):
        opt.zero_grad()
        (0.5 * (p * p).sum()).backward()
        opt.step()
        seen.append(p.detach().numpy().copy())
    np.testing.assert_allclose(seen, [[0.9, -1.8], [0.72, -1.44], [0.486, -0.972]], rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), [2.34, -4.68], rtol=1e-14)


def test_adam_first_step_moves_every_coordinate_by_lr() -> None:
    """At t = 1, m̂ = g and v̂ = g², so the step is α·g/(|g| + ε): α in the direction of −sign(g),
    whatever the gradient's size: Adam's first step is sign descent."""
    p = tl.tensor([1.0, -2.0, 0.5], dtype=tl.float64, requires_grad=True)
    p.grad = tl.tensor([300.0, -0.001, 2.0], dtype=tl.float64)
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -1.9, 0.4], rtol=1e-5)


def test_adagrad_three_steps_by_hand() -> None:
    """Constant gradient g = (1, 2), α = 1, ε ≈ 0: G_t = t·g², so each step is g/(√t·|g|) = 1/√t."""
    p = tl.tensor([0.0, 0.0], dtype=tl.float64, requires_grad=True)
    opt = optim.Adagrad([p], lr=1.0, eps=0.0)
    seen = []
    for _ in range(3):
        p.grad = tl.tensor([1.0, 2.0], dtype=tl.float64)
        opt.step()
        seen.append(p.detach().numpy().copy())
    s = np.cumsum([1, 1 / math.sqrt(2), 1 / math.sqrt(3)])
    np.testing.assert_allclose(seen, -np.stack([s, s], axis=1), rtol=1e-14)


# --------------------------------------------------------------------------- rules against the references


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
        {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ],
)
def test_sgd_matches_reference(kw) -> None:
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, **kw)), ref_sgd(5, **kw), rtol=1e-12)


def test_sgd_maximize_climbs() -> None:
    kw = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}
    got = run(lambda ps: optim.SGD(ps, maximize=True, **kw))
    np.testing.assert_allclose(got, ref_sgd(5, maximize=True, **kw), rtol=1e-12)
    assert not np.allclose(got, ref_sgd(5, **kw))


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.1},
        {"lr": 0.5, "lr_decay": 0.1},
        {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
        {"lr": 0.1, "eps": 1e-3},
    ],
)
def test_adagrad_matches_reference(kw) -> None:
    np.testing.assert_allclose(run(lambda ps: optim.Adagrad(ps, **kw)), ref_adagrad(5, **kw), rtol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.01},
        {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1},
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.01, "centered": True},
        {"lr": 0.01, "alpha": 0.8, "momentum": 0.5, "centered": True, "eps": 1e-3},
    ],
)
def test_rmsprop_matches_reference(kw) -> None:
    np.testing.assert_allclose(run(lambda ps: optim.RMSprop(ps, **kw)), ref_rmsprop(6, **kw)[:5], rtol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.1},
        {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3},
        {"lr": 0.1, "amsgrad": True},
        {"lr": 0.1, "weight_decay": 0.5},
        {"lr": 0.1, "weight_decay": 0.5, "amsgrad": True},
    ],
)
def test_adam_matches_reference(kw) -> None:
    np.testing.assert_allclose(run(lambda ps: optim.Adam(ps, **kw), 8), ref_adam(8, **kw), rtol=1e-12)


@pytest.mark.parametrize("kw", [{"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.5}, {"lr": 0.1, "amsgrad": True}])
def test_adamw_matches_reference_with_decoupled_decay(kw) -> None:
    got = run(lambda ps: optim.AdamW(ps, **kw), 8)
    np.testing.assert_allclose(got, ref_adam(8, decoupled=True, **{"weight_decay": 1e-2} | kw), rtol=1e-12)


def test_amsgrad_differs_once_the_second_moment_falls() -> None:
    """amsgrad keeps the largest v: with a gradient that shrinks, v falls and the two differ."""
    kw = {"lr": 0.1, "betas": (0.5, 0.5)}
    assert not np.allclose(ref_adam(8, amsgrad=True, **kw), ref_adam(8, **kw))
    np.testing.assert_allclose(run(lambda ps: optim.Adam(ps, amsgrad=True, **kw), 8),
                               ref_adam(8, amsgrad=True, **kw), rtol=1e-12)  # fmt: skip


def test_adamw_decay_is_not_adam_l2() -> None:
    """Same λ, different rule: Adam's L2 goes through the adaptive scaling, AdamW's does not."""
    adam = run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5))
    adamw = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5))
    assert not np.allclose(adam, adamw)
    # Without weight decay they are the same optimizer.
    np.testing.assert_array_equal(run(lambda ps: optim.Adam(ps, lr=0.1)),
                                  run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.0)))  # fmt: skip


def test_adamw_decays_weights_with_zero_gradient() -> None:
    """g = 0 keeps m = v = 0, so the step is pure decay: θ ← θ(1 − αλ) each step."""
    p = tl.tensor([1.0, -2.0], dtype=tl.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad = tl.zeros(2, dtype=tl.float64)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), np.array([1.0, -2.0]) * 0.95**3, rtol=1e-14)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.Adagrad(ps, lr=0.1),
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
        lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.01),
    ],
    ids=["sgd", "adagrad", "rmsprop", "adam", "adamw"],
)
def test_float32_parameters_stay_float32_and_track_float64(make) -> None:
    p = tl.tensor(THETA0, dtype=tl.float32, requires_grad=True)
    opt = make([p])
    for _ in range(5):
        p.grad = tl.tensor(grad_fn(p.detach().numpy().astype(np.float64)), dtype=tl.float32)
        opt.step()
    assert p.dtype == tl.float32
    assert all(v.dtype == tl.float32 for v in opt.state[p].values() if isinstance(v, tl.Tensor))
    np.testing.assert_allclose(p.detach().numpy(), run(make)[-1], rtol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=0.05),
        lambda ps: optim.RMSprop(ps, lr=0.02),
    ],
)
def test_optimizers_minimize_a_real_loss(make) -> None:
    """Fit y = 3x − 1 with autograd's gradients."""
    x = tl.linspace(-1, 1, 32)
    y = 3 * x - 1
    w, b = tl.zeros(1, requires_grad=True), tl.zeros(1, requires_grad=True)
    opt = make([w, b])
    for _ in range(300):
        opt.zero_grad()
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3
    np.testing.assert_allclose([w.item(), b.item()], [3, -1], atol=0.05)


# --------------------------------------------------------------------------- the protocol


def test_step_skips_parameters_without_grad() -> None:
    a, b = tl.ones(2, requires_grad=True), tl.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = tl.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [1, 1])
    assert b not in opt.state
    assert opt.state[a]["step"] == 1
    assert list(opt.state_dict()["state"]) == [0]


def test_step_records_no_graph_and_bumps_the_version() -> None:
    p = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (p * p).sum()  # saves p for its backward
    p.grad = tl.ones(2)
    before = p._version[0]
    optim.SGD([p], lr=0.1).step()
    assert p._version[0] == before + 1
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_step_does_not_modify_the_gradient() -> None:
    p = tl.tensor([1.0, 2.0], requires_grad=True)
    p.grad = tl.tensor([0.5, -0.5])
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
                optim.Adam([p], lr=0.1, weight_decay=0.1), optim.RMSprop([p], centered=True)):  # fmt: skip
        opt.step()
        opt.step()
    np.testing.assert_array_equal(p.grad.numpy(), [0.5, -0.5])


def test_zero_grad() -> None:
    p = tl.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g
    np.testing.assert_array_equal(g.numpy(), [0, 0])
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()  # no gradient: nothing to do


def test_step_with_closure_returns_the_loss_computed_with_grad_enabled() -> None:
    p = tl.tensor([1.0, -1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure() -> tl.Tensor:
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tl.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 2.0
    np.testing.assert_allclose(p.detach().numpy(), [0.5, -0.5])


def test_param_groups_with_their_own_learning_rates() -> None:
    a, b = tl.ones(2, requires_grad=True), tl.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    assert opt.param_groups[0]["nesterov"] is False  # defaults fill the rest
    assert list(opt.param_groups[0]) == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                                         "maximize"]  # fmt: skip
    a.grad, b.grad = tl.ones(2), tl.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.99, 0.99])


def test_add_param_group_later() -> None:
    a, b = tl.ones(1, requires_grad=True), tl.ones(1, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    a.grad, b.grad = tl.ones(1), tl.ones(1)
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.8], rtol=1e-6)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_adagrad_creates_its_state_up_front() -> None:
    a = tl.ones(2, requires_grad=True)
    opt = optim.Adagrad([a], initial_accumulator_value=0.1)
    assert opt.state[a]["step"] == 0
    np.testing.assert_allclose(opt.state[a]["sum"].numpy(), [0.1, 0.1])
    b = tl.ones(3, requires_grad=True)
    opt.add_param_group({"params": [b], "initial_accumulator_value": 0.5})
    np.testing.assert_allclose(opt.state[b]["sum"].numpy(), [0.5] * 3)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p: optim.SGD([p], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD([p], momentum=-1), ValueError, "Invalid momentum value"),
        (lambda p: optim.SGD([p], nesterov=True), ValueError, "Nesterov momentum requires"),
        (lambda p: optim.SGD([p], momentum=0.9, dampening=0.1, nesterov=True), ValueError, "zero dampening"),
        (lambda p: optim.Adam([p], betas=(1.0, 0.999)), ValueError, "beta parameter at index 0"),
        (lambda p: optim.Adam([p], betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
        (lambda p: optim.Adam([p], eps=-1.0), ValueError, "Invalid epsilon value"),
        (lambda p: optim.AdamW([p], weight_decay=-1.0), ValueError, "Invalid weight_decay value"),
        (lambda p: optim.RMSprop([p], alpha=-0.5), ValueError, "Invalid alpha value"),
        (lambda p: optim.Adagrad([p], lr_decay=-1), ValueError, "Invalid lr_decay value"),
        (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: optim.SGD(p, lr=0.1), TypeError, "iterable of Tensors or dicts"),
        (lambda p: optim.SGD({p}, lr=0.1), TypeError, "ordered collections"),
        (lambda p: optim.SGD([p, p], lr=0.1), ValueError, "same parameter twice"),
        (lambda p: optim.SGD([p.numpy()], lr=0.1), TypeError, "can only optimize Tensors"),
        (lambda p: optim.SGD([(p.detach().requires_grad_() * 2)], lr=0.1), ValueError, "non-leaf"),
    ],
)
def test_bad_arguments_are_clear_errors(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call(tl.ones(2))


def test_repr_lists_each_group() -> None:
    text = repr(optim.SGD([tl.ones(1, requires_grad=True)], lr=0.5))
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0.0\n")
    assert "    lr: 0.5\n" in text and text.endswith(")")


# --------------------------------------------------------------------------- state_dict

MAKERS = {
    "sgd": lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": lambda ps, lr: optim.Adagrad(ps, lr=lr, lr_decay=0.01),
    "rmsprop": lambda ps, lr: optim.RMSprop(ps, lr=lr, momentum=0.5, centered=True),
    "adam": lambda ps, lr: optim.Adam(ps, lr=lr, amsgrad=True, weight_decay=0.01),
    "adamw": lambda ps, lr: optim.AdamW(ps, lr=lr),
}


def _two_group_model(seed: int = 0) -> list[tl.Tensor]:
    rng = np.random.default_rng(seed)
    shapes = ((3, 2), (2,), (4,))
    return [tl.tensor(rng.normal(size=s).astype(np.float32), requires_grad=True) for s in shapes]


def _train(params: list[tl.Tensor], opt: optim.Optimizer, steps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = tl.tensor(rng.normal(size=p.shape).astype(np.float32) + p.detach().numpy())
        opt.step()


def _groups(params: list[tl.Tensor], lr: float) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]


@pytest.mark.parametrize("name", list(MAKERS))
def test_state_dict_round_trip_continues_bit_exactly(name) -> None:
    a = _two_group_model()
    opt_a = MAKERS[name](_groups(a, 0.01), 0.01)
    _train(a, opt_a, 3, seed=1)
    saved = copy.deepcopy(opt_a.state_dict())

    b = [tl.tensor(p.detach().numpy(), requires_grad=True) for p in a]
    opt_b = MAKERS[name](_groups(b, 0.5), 0.5)  # other hyperparameters: the state dict's replace them
    opt_b.load_state_dict(saved)
    assert [g["lr"] for g in opt_b.param_groups] == [0.01, 0.005]

    _train(a, opt_a, 4, seed=2)
    _train(b, opt_b, 4, seed=2)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())
    sa, sb = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        for key, value in sa[i].items():
            other = sb[i][key]
            if isinstance(value, tl.Tensor):
                np.testing.assert_array_equal(value.numpy(), other.numpy())
            else:
                assert value == other


def test_state_dict_structure_is_pytorchs() -> None:
    params = _two_group_model()
    opt = optim.Adam(_groups(params, 0.1), lr=0.1)
    for p in params:
        p.grad = tl.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert list(sd["param_groups"][0])[-1] == "params"
    assert sd["param_groups"][1]["lr"] == 0.05
    assert sorted(sd["state"]) == [0, 1, 2]
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq"]
    assert sd["state"][0]["step"] == 1
    assert sd["state"][0]["exp_avg"].shape == (3, 2)


def test_sgd_without_momentum_has_no_state() -> None:
    p = tl.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tl.ones(2)
    opt.step()
    assert opt.state_dict()["state"] == {}


def test_loaded_state_is_a_copy() -> None:
    a = tl.ones(2, requires_grad=True)
    opt_a = optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = tl.ones(2)
    opt_a.step()
    b = tl.ones(2, requires_grad=True)
    opt_b = optim.SGD([b], lr=0.1, momentum=0.9)
    opt_b.load_state_dict(opt_a.state_dict())
    opt_a.step()  # changes opt_a's buffer in place
    np.testing.assert_array_equal(opt_b.state[b]["momentum_buffer"].numpy(), [1, 1])


def test_load_state_dict_from_numpy_arrays_and_a_tensor_step() -> None:
    """A state dict moved over from PyTorch as plain arrays: "step" as a 0-dim array, buffers as float64
    arrays; buffers are cast to the parameter's dtype."""
    p = tl.zeros(2, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    state = {"step": np.array(4.0), "exp_avg": np.array([0.1, 0.2]), "exp_avg_sq": np.array([1.0, 1.0])}
    group = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
             "maximize": False, "foreach": None, "params": [0]}  # fmt: skip
    opt.load_state_dict({"state": {0: state}, "param_groups": [group]})
    state = opt.state[p]
    assert state["step"] == 4 and isinstance(state["step"], int)
    assert state["exp_avg"].dtype == tl.float32
    p.grad = tl.zeros(2)
    opt.step()
    assert state["step"] == 5


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda sd: sd["param_groups"].pop(), "1 parameter groups, but the optimizer has 2"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "group 0 has 1 parameters in the state dict"),
        (lambda sd: sd["state"].update({7: {}}), "state for parameter 7"),
        (lambda sd: sd["state"][0].update(exp_avg=tl.zeros(5)), r"'exp_avg' of parameter 0 has shape \(5,\)"),
    ],
)
def test_load_state_dict_mismatches_are_clear_errors(edit, match) -> None:
    params = _two_group_model()
    opt = optim.Adam(_groups(params, 0.1), lr=0.1)
    _train(params, opt, 1, seed=0)
    sd = copy.deepcopy(opt.state_dict())
    edit(sd)
    with pytest.raises(ValueError, match=match):
        optim.Adam(_groups(_two_group_model(), 0.1), lr=0.1).load_state_dict(sd)


# --------------------------------------------------------------------------- on a (fake) GPU


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TINYLEARN_DEVICE", raising=False)
    return fakecupy.install(monkeypatch)


@pytest.mark.parametrize("name", list(MAKERS))
def test_optimizers_run_on_cuda_arrays_with_the_same_numbers(name, cuda) -> None:
    cpu = _two_group_model()
    gpu = [tl.tensor(p.detach().numpy(), device="cuda", requires_grad=True) for p in cpu]
    opt_cpu, opt_gpu = MAKERS[name](_groups(cpu, 0.1), 0.1), MAKERS[name](_groups(gpu, 0.1), 0.1)
    for _ in range(3):
        for pc, pg in zip(cpu, gpu, strict=True):
            pc.grad = tl.tensor(np.sin(pc.detach().numpy()))
            pg.grad = pc.grad.to("cuda")
        opt_cpu.step()
        opt_gpu.step()
    for pc, pg in zip(cpu, gpu, strict=True):
        assert isinstance(pg.data, cuda.ndarray)
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pc.detach().numpy(), rtol=1e-6)
    loaded = MAKERS[name](_groups([tl.tensor(p.detach().numpy(), device="cuda") for p in cpu], 0.1), 0.1)
    loaded.load_state_dict(opt_cpu.state_dict())  # CPU state onto cuda parameters
    assert all(isinstance(v.data, cuda.ndarray) for s in loaded.state.values() for v in s.values()
               if isinstance(v, tl.Tensor))  # fmt: skip


def test_clipping_on_cuda(cuda) -> None:
    p = tl.zeros(2, device="cuda", requires_grad=True)
    p.grad = tl.tensor([3.0, 4.0], device="cuda")
    norm = clip_grad_norm_([p], 1.0)
    assert norm.device.type == "cuda" and norm.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.8], rtol=1e-5)
    clip_grad_value_([p], 0.7)
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.7], rtol=1e-6)


# --------------------------------------------------------------------------- gradient clipping


def _params_with_grads(*grads) -> list[tl.Tensor]:
    params = []
    for g in grads:
        p = tl.zeros(np.shape(g), requires_grad=True)
        p.grad = tl.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_returns_the_total_norm_and_scales_to_max_norm() -> None:
    params = _params_with_grads([[3.0, 0.0], [0.0, 0.0]], [4.0, 0.0, 12.0])  # ‖all‖ = √(9 + 16 + 144) = 13
    norm = clip_grad_norm_(params, max_norm=1.3)
    assert isinstance(norm, tl.Tensor) and norm.shape == () and norm.dtype == tl.float32
    assert norm.item() == pytest.approx(13.0)
    coef = 1.3 / (13 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [[3 * coef, 0], [0, 0]], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [4 * coef, 0, 12 * coef], rtol=1e-6)
    total = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in params))
    assert total == pytest.approx(1.3, rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone() -> None:
    params = _params_with_grads([0.3, -0.4])
    norm = clip_grad_norm_(iter(params), max_norm=1.0)  # any iterable, even a generator
    assert norm.item() == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), np.array([0.3, -0.4], dtype=np.float32))


@pytest.mark.parametrize(("norm_type", "expected"), [(1.0, 10.0), (3.0, 100 ** (1 / 3)), (math.inf, 4.0)])
def test_clip_grad_norm_other_norms(norm_type, expected) -> None:
    params = _params_with_grads([1.0, -2.0], [3.0, -4.0])  # |·|³ sum = 1 + 8 + 27 + 64 = 100
    norm = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert norm.item() == pytest.approx(expected, rel=1e-6)
    grads = np.concatenate([p.grad.numpy() for p in params])
    assert np.linalg.norm(grads, norm_type) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_skips_params_without_grads_and_handles_none() -> None:
    p = tl.zeros(2, requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    q = _params_with_grads([6.0, 8.0])[0]
    assert clip_grad_norm_(q, 5.0).item() == pytest.approx(10.0)  # a single tensor
    np.testing.assert_allclose(q.grad.numpy(), [3.0, 4.0], rtol=1e-6)


def test_clip_grad_norm_nonfinite() -> None:
    params = _params_with_grads([1.0, math.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(params, 1.0).item())


def test_clip_grad_norm_of_float16_gradients_does_not_overflow() -> None:
    p = tl.zeros(4, dtype=tl.float16, requires_grad=True)
    p.grad = tl.full((4,), 300.0, dtype=tl.float16)  # Σg² = 360000 > float16's 65504
    assert clip_grad_norm_([p], 1.0).item() == pytest.approx(600.0)
    assert p.grad.dtype == tl.float16
    np.testing.assert_allclose(p.grad.numpy().astype(np.float64), [0.5] * 4, rtol=1e-3)


def test_clip_grad_value() -> None:
    params = _params_with_grads([0.5, -3.0, 2.0], [[-0.1, 9.0]])
    assert clip_grad_value_(params, clip_value=1.0) is None
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.5, -1.0, 1.0])
    np.testing.assert_allclose(params[1].grad.numpy(), [[-0.1, 1.0]])

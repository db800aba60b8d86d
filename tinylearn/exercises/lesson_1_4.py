"""Exercises of lesson 1.4 (optimizers): one step of SGD with momentum, Nesterov, RMSprop, Adam and AdamW.

The learner writes each update rule on NumPy arrays, out of place: given the parameter, its gradient and
the optimizer's state, return the new parameter and the new state. The reference solutions run one
``step()`` of the library's own optimizer (:class:`tinylearn.optim.SGD`, :class:`~tinylearn.optim.RMSprop`,
:class:`~tinylearn.optim.Adam`, :class:`~tinylearn.optim.AdamW`) on a float64 tensor whose state has
been set to the given one, so a passing answer computes what tinylearn computes.

Each check runs several short optimization runs (different shapes and hyperparameters, gradients from a
non-quadratic loss, one run with gradients of size 1e-4 where the placement of ε matters, one resuming at
a late step t) and compares the learner's step with the library's at every step, from the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import optim
from ..tensor import tensor
from . import ExerciseFailure, exercise, expect_close

RTOL, ATOL = 1e-6, 1e-10


# ------------------------------------------------------------------------------------------------
# The references: one step of the library's optimizer from a given state
# ------------------------------------------------------------------------------------------------


def _f64(a: Any) -> np.ndarray:
    return np.array(a, dtype=np.float64, copy=True)


def _library_step(
    make: Callable[[list[Any]], Any], param: Any, grad: Any, state: dict[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run ``make([p]).step()`` once on a float64 tensor ``p = param`` with gradient ``grad``, its state
    first set to ``state`` (arrays become tensors, ints stay ints); return the new parameter and state."""
    p = tensor(_f64(param), requires_grad=True)
    opt = make([p])
    opt.state[p].update({k: v if isinstance(v, int) else tensor(_f64(v)) for k, v in state.items()})
    p.grad = tensor(_f64(grad))
    opt.step()
    new_state = {k: (v if isinstance(v, int) else v.numpy().copy()) for k, v in opt.state[p].items()}
    return p.detach().numpy().copy(), new_state


def _sgd_momentum_step(param, grad, velocity, lr, momentum):
    """Reference: one step of ``tinylearn.optim.SGD(lr=lr, momentum=momentum)`` with velocity ``velocity``."""
    new, state = _library_step(
        lambda p: optim.SGD(p, lr=lr, momentum=momentum), param, grad, {"momentum_buffer": velocity}
    )
    return new, state["momentum_buffer"]


def _nesterov_step(param, grad, velocity, lr, momentum):
    """Reference: one step of ``tinylearn.optim.SGD(lr=lr, momentum=momentum, nesterov=True)``."""
    new, state = _library_step(
        lambda p: optim.SGD(p, lr=lr, momentum=momentum, nesterov=True),
        param,
        grad,
        {"momentum_buffer": velocity},
    )
    return new, state["momentum_buffer"]


def _rmsprop_step(param, grad, square_avg, lr, alpha, eps):
    """Reference: one step of ``tinylearn.optim.RMSprop(lr=lr, alpha=alpha, eps=eps)``."""
    new, state = _library_step(
        lambda p: optim.RMSprop(p, lr=lr, alpha=alpha, eps=eps), param, grad, {"square_avg": square_avg}
    )
    return new, state["square_avg"]


def _adam_step(param, grad, m, v, t, lr, betas, eps):
    """Reference: step number ``t`` (1, 2, …) of ``tinylearn.optim.Adam(lr=lr, betas=betas, eps=eps)``."""
    new, state = _library_step(
        lambda p: optim.Adam(p, lr=lr, betas=betas, eps=eps),
        param,
        grad,
        {"step": int(t) - 1, "exp_avg": m, "exp_avg_sq": v},
    )
    return new, state["exp_avg"], state["exp_avg_sq"]


def _adamw_step(param, grad, m, v, t, lr, betas, eps, weight_decay):
    """Reference: step ``t`` of ``tinylearn.optim.AdamW(lr=lr, betas=betas, eps=eps, weight_decay=...)``."""
    make = lambda p: optim.AdamW(p, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)  # noqa: E731
    new, state = _library_step(make, param, grad, {"step": int(t) - 1, "exp_avg": m, "exp_avg_sq": v})
    return new, state["exp_avg"], state["exp_avg_sq"]


# ------------------------------------------------------------------------------------------------
# The checks
# ------------------------------------------------------------------------------------------------


def _loss_grad(theta: np.ndarray, scale: float) -> np.ndarray:
    """The gradient of a non-quadratic loss ``scale·Σ((θ − 0.5)² + θ⁴/8 + sin 3θ)``, so that runs are not
    trivial and the gradient changes sign along the way."""
    return scale * (2 * (theta - 0.5) + 0.5 * theta**3 + 3 * np.cos(3 * theta))


def _starts() -> list[tuple[str, np.ndarray, float]]:
    """(description, starting parameter, gradient scale) of the runs every check makes."""
    rng = np.random.default_rng(14)
    return [
        ("a vector of 3", np.array([1.0, -2.0, 0.3]), 1.0),
        ("a 2x2 matrix", rng.normal(size=(2, 2)), 1.0),
        ("a vector of 4 with gradients of size 1e-4", rng.normal(size=4), 1e-4),
    ]


def _as_tuple(got: Any, n: int, call: str) -> tuple[Any, ...]:
    if not isinstance(got, (tuple, list)) or len(got) != n:
        names = {2: "(new_param, new_state)", 3: "(new_param, new_m, new_v)"}[n]
        raise ExerciseFailure(f"{call} must return a tuple {names}, got {type(got).__name__}: {got!r}")
    return tuple(got)


def _run_checks(
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    name: str,
    state_names: tuple[str, ...],
    hyper: list[dict[str, Any]],
    *,
    with_t: bool = False,
    steps: int = 4,
    t0: int = 1,
) -> None:
    """Run ``steps`` steps from every start of :func:`_starts` for each hyperparameter set in ``hyper``,
    feeding the learner's function the reference's inputs at each step and comparing its outputs.

    ``with_t``: the function takes the step number t after the state (Adam). ``t0 > 1`` resumes a run at
    step ``t0`` with moments m = g/2, v = 0.8·g² (g the first gradient), as if it had seen such gradients."""
    for what, start, scale in _starts():
        for h in hyper:
            theta, t = start.copy(), t0
            state = [np.zeros_like(start) for _ in state_names]
            if t0 > 1:
                g0 = _loss_grad(start, scale)
                state = [0.5 * g0, 0.8 * g0**2]
            for step in range(1, steps + 1):
                grad = _loss_grad(theta, scale)
                t_arg = (t,) if with_t else ()
                args = ", ".join([f"t={t}"] * with_t + [f"{k}={v}" for k, v in h.items()])
                call = f"{name}(...) on {what}, step {step} of a run ({args})"
                inputs = (theta.copy(), grad.copy(), *(s.copy() for s in state), *t_arg)
                got = _as_tuple(fn(*inputs, **h), 1 + len(state_names), call)
                want = reference(theta, grad, *state, *t_arg, **h)
                expect_close(got[0], want[0], f"{call}: the new param", rtol=RTOL, atol=ATOL)
                for label, g, w in zip(state_names, got[1:], want[1:], strict=True):
                    expect_close(g, w, f"{call}: the new {label}", rtol=RTOL, atol=ATOL)
                theta, state, t = want[0], list(want[1:]), t + 1


@exercise(
    "1.4.2",
    "sgd_momentum_step",
    reference=_sgd_momentum_step,
    signature="sgd_momentum_step(param, grad, velocity, lr, momentum)",
    prompt="One step of SGD with momentum (PyTorch's form): velocity <- momentum*velocity + grad, then "
    "param <- param - lr*velocity. Return (new_param, new_velocity); do not change the inputs.",
)
def _check_sgd_momentum(fn):
    hyper = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.03, "momentum": 0.5}]
    _run_checks(fn, _sgd_momentum_step, "sgd_momentum_step", ("velocity",), hyper)


@exercise(
    "1.4.3",
    "nesterov_step",
    reference=_nesterov_step,
    signature="nesterov_step(param, grad, velocity, lr, momentum)",
    prompt="One step of SGD with Nesterov momentum, in PyTorch's form (grad is taken at the current param, "
    "the look-ahead point): velocity <- momentum*velocity + grad, then param <- param - "
    "lr*(grad + momentum*velocity). Return (new_param, new_velocity).",
)
def _check_nesterov(fn):
    hyper = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.03, "momentum": 0.5}]
    _run_checks(fn, _nesterov_step, "nesterov_step", ("velocity",), hyper)


@exercise(
    "1.4.5",
    "rmsprop_step",
    reference=_rmsprop_step,
    signature="rmsprop_step(param, grad, square_avg, lr, alpha, eps)",
    prompt="One step of RMSprop: square_avg <- alpha*square_avg + (1 - alpha)*grad**2, then "
    "param <- param - lr*grad/(sqrt(square_avg) + eps). Return (new_param, new_square_avg).",
)
def _check_rmsprop(fn):
    hyper = [{"lr": 0.01, "alpha": 0.99, "eps": 1e-8}, {"lr": 0.1, "alpha": 0.9, "eps": 1e-3}]
    _run_checks(fn, _rmsprop_step, "rmsprop_step", ("square_avg",), hyper)


@exercise(
    "1.4.6",
    "adam_step",
    reference=_adam_step,
    signature="adam_step(param, grad, m, v, t, lr, betas, eps)",
    prompt="Step number t (t = 1 for the first step) of Adam: update the moments m and v, correct their "
    "bias with 1 - beta**t, step param by -lr*m_hat/(sqrt(v_hat) + eps). Return (new_param, new_m, new_v).",
)
def _check_adam(fn):
    hyper = [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}]
    _run_checks(fn, _adam_step, "adam_step", ("m", "v"), hyper, with_t=True)
    _run_checks(fn, _adam_step, "adam_step", ("m", "v"), hyper[:1], with_t=True, steps=2, t0=50)


@exercise(
    "1.4.7",
    "adamw_step",
    reference=_adamw_step,
    signature="adamw_step(param, grad, m, v, t, lr, betas, eps, weight_decay)",
    prompt="Step t of AdamW: shrink the weights, param <- param*(1 - lr*weight_decay), then take the Adam "
    "step with the gradient unchanged (no weight_decay*param in it). Return (new_param, new_m, new_v).",
)
def _check_adamw(fn):
    hyper = [
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
        {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.5},
    ]
    _run_checks(fn, _adamw_step, "adamw_step", ("m", "v"), hyper, with_t=True)
    _run_checks(fn, _adamw_step, "adamw_step", ("m", "v"), hyper[1:], with_t=True, steps=2, t0=50)

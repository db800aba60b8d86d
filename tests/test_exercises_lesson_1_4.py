"""The exercises of lesson 1.4 (tinylearn.exercises.lesson_1_4): the update rules written from their
formulas pass, each with a plausible mistake fails with a message naming the run and the quantity, and a
function that raises is an error."""

from __future__ import annotations

import numpy as np
import pytest

from tinylearn import exercises
from tinylearn.exercises import _grade_one

# ------------------------------------------------------------------------------------------------
# Answers written from the formulas of the lesson, the way a learner would
# ------------------------------------------------------------------------------------------------


def sgd_momentum_step(param, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return param - lr * velocity, velocity


def nesterov_step(param, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return param - lr * (grad + momentum * velocity), velocity


def rmsprop_step(param, grad, square_avg, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return param - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def adam_step(param, grad, m, v, t, lr, betas, eps):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_step(param, grad, m, v, t, lr, betas, eps, weight_decay):
    return adam_step(param * (1 - lr * weight_decay), grad, m, v, t, lr, betas, eps)


RIGHT = {f.__name__: f for f in (sgd_momentum_step, nesterov_step, rmsprop_step, adam_step, adamw_step)}

# ------------------------------------------------------------------------------------------------
# Plausible mistakes
# ------------------------------------------------------------------------------------------------


def momentum_as_moving_average(param, grad, velocity, lr, momentum):  # v = βv + (1 − β)g: not PyTorch's form
    velocity = momentum * velocity + (1 - momentum) * grad
    return param - lr * velocity, velocity


def momentum_steps_with_old_velocity(param, grad, velocity, lr, momentum):  # θ − αv before updating v
    return param - lr * velocity, momentum * velocity + grad


def nesterov_as_plain_momentum(param, grad, velocity, lr, momentum):  # forgot the look-ahead
    return sgd_momentum_step(param, grad, velocity, lr, momentum)


def rmsprop_eps_inside_sqrt(param, grad, square_avg, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return param - lr * grad / np.sqrt(square_avg + eps), square_avg


def rmsprop_swapped_decay(param, grad, square_avg, lr, alpha, eps):  # weights α and 1 − α swapped
    square_avg = (1 - alpha) * square_avg + alpha * grad**2
    return param - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def adam_without_bias_correction(param, grad, m, v, t, lr, betas, eps):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - lr * m / (np.sqrt(v) + eps), m, v


def adam_counting_from_zero(param, grad, m, v, t, lr, betas, eps):  # bias correction with t − 1
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    t = max(t - 1, 1)
    return param - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def adamw_as_l2(param, grad, m, v, t, lr, betas, eps, weight_decay):  # Adam with λθ in the gradient
    return adam_step(param, grad + weight_decay * param, m, v, t, lr, betas, eps)


def adamw_forgets_decay(param, grad, m, v, t, lr, betas, eps, weight_decay):
    return adam_step(param, grad, m, v, t, lr, betas, eps)


WRONG = [
    ("sgd_momentum_step", momentum_as_moving_average, "the new param"),
    ("sgd_momentum_step", momentum_steps_with_old_velocity, "the new param"),
    ("nesterov_step", nesterov_as_plain_momentum, "the new param"),
    ("rmsprop_step", rmsprop_eps_inside_sqrt, "eps=0.001"),
    ("rmsprop_step", rmsprop_swapped_decay, "alpha=0.99"),
    ("adam_step", adam_without_bias_correction, "t=1"),
    ("adam_step", adam_counting_from_zero, "the new param"),
    ("adamw_step", adamw_as_l2, "the new param"),
    ("adamw_step", adamw_forgets_decay, "the new param"),
]


def _exercise(name):
    (ex,) = [e for e in exercises.exercises("1.4") if e.name == name]
    return ex


def test_lesson_1_4_has_its_five_exercises_in_order():
    found = [(e.section, e.name) for e in exercises.exercises("1.4")]
    assert found == [
        ("1.4.2", "sgd_momentum_step"),
        ("1.4.3", "nesterov_step"),
        ("1.4.5", "rmsprop_step"),
        ("1.4.6", "adam_step"),
        ("1.4.7", "adamw_step"),
    ]


def test_the_references_pass():
    results = exercises.grade("1.4", reference=True)
    assert [r.status for r in results] == ["passed"] * 5, exercises.report(results)


def test_answers_written_from_the_formulas_pass():
    results = exercises.grade("1.4", RIGHT)
    assert all(r.passed for r in results), exercises.report(results)


@pytest.mark.parametrize(("name", "wrong", "mentions"), WRONG, ids=[w[1].__name__ for w in WRONG])
def test_a_plausible_mistake_fails_with_a_message_naming_the_input(name, wrong, mentions):
    result = _grade_one(_exercise(name), wrong)
    assert result.status == "failed", str(result)
    assert name in result.message and "step" in result.message, result.message
    assert "expected" in result.message, result.message
    assert mentions in result.message, result.message


def test_a_function_that_raises_is_an_error_and_a_wrong_return_is_a_failure():
    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    for name in RIGHT:
        result = _grade_one(_exercise(name), broken)
        assert result.status == "error" and "ZeroDivisionError" in result.message
    result = _grade_one(_exercise("adam_step"), lambda param, grad, m, v, t, lr, betas, eps: param)
    assert result.status == "failed" and "(new_param, new_m, new_v)" in result.message


def test_an_answer_that_changes_its_inputs_in_place_still_gets_fresh_inputs_each_step():
    def in_place(param, grad, velocity, lr, momentum):
        velocity *= momentum
        velocity += grad
        param -= lr * velocity
        return param, velocity

    assert _grade_one(_exercise("sgd_momentum_step"), in_place).passed


def test_the_references_are_the_library_optimizers():
    """Three steps of the reference adam_step equal three steps of tl.optim.Adam on one tensor."""
    import tinylearn as tl

    ex = _exercise("adam_step")
    theta, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    p = tl.tensor(theta.copy(), dtype=tl.float64, requires_grad=True)
    opt = tl.optim.Adam([p], lr=0.1)
    for t in (1, 2, 3):
        g = np.array([0.3, -1.0]) * t
        theta, m, v = ex.reference(theta, g, m, v, t, 0.1, (0.9, 0.999), 1e-8)
        p.grad = tl.tensor(g, dtype=tl.float64)
        opt.step()
    assert np.allclose(theta, p.detach().numpy(), rtol=0, atol=1e-15)
    assert np.allclose(m, opt.state[p]["exp_avg"].numpy(), rtol=0, atol=1e-15)

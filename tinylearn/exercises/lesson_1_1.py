"""Exercises of lesson 1.1 (the learning problem): the gradient of the MSE and one training step.

The reference solutions are the library's own: :func:`tinylearn.viz.lesson_1_1.mse_grad` and one
step of :func:`tinylearn.viz.lesson_1_1.gradient_descent`.
"""

from __future__ import annotations

import numpy as np

from ..viz.lesson_1_1 import gradient_descent, lesson_data, mse_grad
from . import ExerciseFailure, exercise, expect_close


def _train_step(w: float, b: float, x: np.ndarray, y: np.ndarray, lr: float) -> tuple[float, float]:
    w_new, b_new, _ = gradient_descent(x, y, lr, steps=1, start=(w, b))[-1]
    return float(w_new), float(b_new)


def _cases() -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    x, y = lesson_data(30)
    rng = np.random.default_rng(11)
    x2 = rng.normal(size=7)
    return [(0.5, 0.0, x, y), (-1.5, 4.0, x, y), (2.0, 1.0, x[:5], y[:5]), (3.0, -2.0, x2, 0.3 * x2 - 1.0)]


@exercise(
    "1.1.4",
    "my_mse_grad",
    reference=mse_grad,
    signature="my_mse_grad(w, b, x, y)",
    prompt="Return (dL/dw, dL/db) of the mean squared error L = mean((y - (w*x + b))**2), NumPy only.",
)
def _check_mse_grad(fn):
    for w, b, x, y in _cases():
        got = fn(w, b, x, y)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise ExerciseFailure(
                f"my_mse_grad(w={w}, b={b}, ...) must return a pair (dL/dw, dL/db), got {got!r}"
            )
        want = mse_grad(w, b, x, y)
        expect_close(got[0], want[0], f"dL/dw at w={w}, b={b} ({len(x)} points)")
        expect_close(got[1], want[1], f"dL/db at w={w}, b={b} ({len(x)} points)")


@exercise(
    "1.1.6",
    "train_step",
    reference=_train_step,
    signature="train_step(w, b, x, y, lr)",
    prompt="Return the new (w, b) after one gradient-descent step w - lr*dL/dw, b - lr*dL/db on the MSE.",
)
def _check_train_step(fn):
    for lr in (0.05, 0.2):
        for w, b, x, y in _cases():
            got = fn(w, b, x, y, lr)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise ExerciseFailure(f"train_step(...) must return a pair (w, b), got {got!r}")
            expect_close(
                np.array(got, dtype=float),
                np.array(_train_step(w, b, x, y, lr)),
                f"(w, b) after one step from w={w}, b={b} with lr={lr}",
            )

"""Exercises of lesson 1.2 (beyond straight lines): three activation derivatives and a two-layer forward pass.

The reference solutions are the library's own: the derivatives are what tinylearn's autograd returns
for ``F.sigmoid``, ``F.tanh`` (the ``backward`` of the ``Sigmoid`` and ``Tanh`` Functions) and
``F.gelu`` with its default ``approximate="none"`` (the chain rule through ``erf``), via
:func:`tinylearn.viz.lesson_1_2.activation_and_derivative`; the forward pass is
``F.linear → F.relu → F.linear``, what ``nn.Sequential(nn.Linear, nn.ReLU, nn.Linear)`` computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn import functional as F
from ..tensor import tensor
from ..viz.lesson_1_2 import activation_and_derivative
from . import ExerciseFailure, exercise, expect_close, expect_shape


def _sigmoid_derivative(x: Any) -> np.ndarray:
    return activation_and_derivative("sigmoid", x)[1]


def _tanh_derivative(x: Any) -> np.ndarray:
    return activation_and_derivative("tanh", x)[1]


def _gelu_derivative(x: Any) -> np.ndarray:
    return activation_and_derivative("gelu", x)[1]  # approximate="none": x·Φ(x) with the exact erf


def _mlp_forward(x: Any, W1: Any, b1: Any, W2: Any, b2: Any) -> np.ndarray:
    with no_grad():
        hidden = F.relu(F.linear(tensor(x), tensor(W1), tensor(b1)))
        return F.linear(hidden, tensor(W2), tensor(b2)).numpy()


def _show(x: np.ndarray) -> str:
    return np.array2string(np.asarray(x), precision=3, separator=", ", max_line_width=200)


def _derivative_cases() -> list[np.ndarray]:
    rng = np.random.default_rng(12)
    return [
        np.linspace(-4.0, 4.0, 9),
        np.array([0.0]),
        np.array([-12.0, -6.5, 6.5, 12.0]),  # the far tails: the derivative must go to 0 cleanly
        rng.normal(0.0, 2.0, (3, 4)),  # any shape: elementwise
    ]


def _check_derivative(
    fn: Callable[[np.ndarray], Any], name: str, reference: Callable[[Any], np.ndarray]
) -> None:
    for x in _derivative_cases():
        got = fn(x.copy())
        want = reference(x)
        if got is not None:
            expect_shape(got, x.shape, f"{name}(x) for x of shape {x.shape}")
        expect_close(got, want, f"{name}(x) with x = {_show(x)}", rtol=1e-6, atol=1e-9)


@exercise(
    "1.2.3",
    "sigmoid_derivative",
    reference=_sigmoid_derivative,
    signature="sigmoid_derivative(x)",
    prompt="Return σ'(x) elementwise for a NumPy array x, where σ(x) = 1/(1 + exp(-x)); "
    "write it with σ itself: σ'(x) = σ(x)(1 − σ(x)).",
)
def _check_sigmoid_derivative(fn):
    _check_derivative(fn, "sigmoid_derivative", _sigmoid_derivative)


@exercise(
    "1.2.3",
    "tanh_derivative",
    reference=_tanh_derivative,
    signature="tanh_derivative(x)",
    prompt="Return the derivative of tanh elementwise for a NumPy array x, written with tanh itself.",
)
def _check_tanh_derivative(fn):
    _check_derivative(fn, "tanh_derivative", _tanh_derivative)


@exercise(
    "1.2.3",
    "gelu_derivative",
    reference=_gelu_derivative,
    signature="gelu_derivative(x)",
    prompt="Return the derivative of the exact GELU(x) = x·Φ(x) (Φ the standard normal CDF, "
    "Φ(x) = (1 + erf(x/√2))/2; tinylearn's default approximate='none') elementwise for a NumPy array x.",
)
def _check_gelu_derivative(fn):
    _check_derivative(fn, "gelu_derivative", _gelu_derivative)


def _forward_cases() -> list[tuple[str, tuple[np.ndarray, ...]]]:
    rng = np.random.default_rng(5)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    W1 = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    xor = (corners, W1, -np.ones(4), np.array([[-4.0, -4.0, 4.0, 4.0]]), np.zeros(1))

    def random_case(batch: tuple[int, ...], d_in: int, d_hidden: int, d_out: int) -> tuple[np.ndarray, ...]:
        return (
            rng.normal(size=(*batch, d_in)),
            rng.normal(size=(d_hidden, d_in)),
            rng.normal(size=d_hidden),
            rng.normal(size=(d_out, d_hidden)),
            rng.normal(size=d_out),
        )

    return [  # the square W1 first: x @ W1 (transpose forgotten) then gives wrong numbers, not an error
        ("x (5, 3), W1 (3, 3), W2 (2, 3)", random_case((5,), 3, 3, 2)),
        ("the XOR corner network on the four corners", xor),
        ("x (6, 2), W1 (7, 2), W2 (3, 7)", random_case((6,), 2, 7, 3)),
        ("a single sample x (4,), W1 (5, 4), W2 (2, 5)", random_case((), 4, 5, 2)),
    ]


@exercise(
    "1.2.5",
    "mlp_forward",
    reference=_mlp_forward,
    signature="mlp_forward(x, W1, b1, W2, b2)",
    prompt="Return the output of Linear → ReLU → Linear for inputs x of shape (..., d_in), with weights "
    "in PyTorch's layout: W1 (hidden, d_in), b1 (hidden,), W2 (d_out, hidden), b2 (d_out,). "
    "NumPy only; no activation after the last layer.",
)
def _check_mlp_forward(fn):
    for what, args in _forward_cases():
        want = _mlp_forward(*args)
        got = fn(*(a.copy() for a in args))
        if got is None:
            raise ExerciseFailure(
                f"mlp_forward on {what}: your function returned None (a `return` is missing?)"
            )
        expect_shape(got, want.shape, f"mlp_forward on {what}")
        expect_close(got, want, f"mlp_forward on {what}", rtol=1e-5, atol=1e-6)

"""The exercises of lesson 1.2 (tinylearn.exercises.lesson_1_2): the references pass, plausible wrong
answers fail with a message that names the input, and a function that raises is an error."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinylearn import exercises
from tinylearn.exercises import _grade_one

NAMES = ["gelu_derivative", "sigmoid_derivative", "tanh_derivative", "mlp_forward"]
_erf = np.vectorize(math.erf)


def _exercise(name):
    (found,) = [e for e in exercises.exercises("1.2") if e.name == name]
    return found


def test_lesson_1_2_declares_its_exercises():
    assert [e.name for e in exercises.exercises("1.2")] == NAMES
    assert {e.section for e in exercises.exercises("1.2")} == {"1.2.3", "1.2.5"}


def test_references_pass():
    results = exercises.grade("1.2", reference=True)
    assert all(r.passed for r in results), exercises.report(results)


def _sig(x):
    return 1 / (1 + np.exp(-x))


RIGHT = {
    "sigmoid_derivative": lambda x: _sig(x) * (1 - _sig(x)),
    "tanh_derivative": lambda x: 1 - np.tanh(x) ** 2,
    "gelu_derivative": lambda x: (
        0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    ),
    "mlp_forward": lambda x, W1, b1, W2, b2: np.maximum(x @ W1.T + b1, 0) @ W2.T + b2,
}


@pytest.mark.parametrize("name", NAMES)
def test_a_correct_numpy_answer_passes(name):
    result = _grade_one(_exercise(name), RIGHT[name])
    assert result.passed, result.message


WRONG = [
    ("sigmoid_derivative", lambda x: _sig(x) * (1 + _sig(x)), "sign error", "x = [-4."),
    ("sigmoid_derivative", lambda x: _sig(x), "returns σ, not σ'", "x = [-4."),
    ("sigmoid_derivative", lambda x: np.float64(0.25), "a constant", "shape"),
    ("tanh_derivative", lambda x: 1 - np.tanh(x), "square forgotten", "x = [-4."),
    ("tanh_derivative", lambda x: 1 / np.cosh(x), "sech instead of sech²", "x = [-4."),
    (
        "gelu_derivative",
        lambda x: 0.5 * (1 + _erf(x / math.sqrt(2))),
        "product rule's second term missing",
        "x = [-4.",
    ),
    (
        "gelu_derivative",
        lambda x: (
            0.5 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
            + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        ),
        "the tanh approximation of Φ, not the library's exact GELU",
        "x = [-4.",
    ),
    (
        "mlp_forward",
        lambda x, W1, b1, W2, b2: np.maximum(x @ W1 + b1, 0) @ W2.T + b2,
        "W1 not transposed",
        "x (5, 3), W1 (3, 3)",
    ),
    ("mlp_forward", lambda x, W1, b1, W2, b2: (x @ W1.T + b1) @ W2.T + b2, "ReLU forgotten", "x (5, 3)"),
    (
        "mlp_forward",
        lambda x, W1, b1, W2, b2: np.maximum(x @ W1.T, 0) @ W2.T + b2,
        "bias b1 forgotten",
        "x (5, 3)",
    ),
    (
        "mlp_forward",
        lambda x, W1, b1, W2, b2: _sig(np.maximum(x @ W1.T + b1, 0) @ W2.T + b2),
        "a sigmoid on the output",
        "x (5, 3)",
    ),
    (
        "mlp_forward",
        lambda x, W1, b1, W2, b2: (np.maximum(x @ W1.T + b1, 0) @ W2.T + b2).sum(-1),
        "the output summed over its features",
        "shape",
    ),
]


@pytest.mark.parametrize(("name", "fn", "mistake", "named"), WRONG, ids=[w[2] for w in WRONG])
def test_plausible_wrong_answers_fail_naming_the_input(name, fn, mistake, named):
    result = _grade_one(_exercise(name), fn)
    assert result.status == "failed", (mistake, result)
    assert named in result.message, result.message
    assert "expected" in result.message, result.message


def test_the_tanh_approximation_message_shows_both_values():
    wrong = WRONG[6][1]
    message = _grade_one(_exercise("gelu_derivative"), wrong).message
    assert re.search(r"expected -?\d", message) and "got" in message


def test_a_function_that_raises_is_an_error():
    def broken(*args):
        raise FloatingPointError("boom")

    results = exercises.grade("1.2", dict.fromkeys(NAMES, broken))
    assert [r.status for r in results] == ["error"] * len(NAMES)
    assert all("FloatingPointError: boom" in r.message for r in results)


def test_returning_none_fails_with_a_hint():
    for name in NAMES:
        result = _grade_one(_exercise(name), lambda *args: None)
        assert result.status == "failed" and "returned None" in result.message, result

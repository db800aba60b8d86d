"""The exercises of lesson 1.3 (tinylearn.exercises.lesson_1_3): the references pass, plausible wrong
answers fail with a message naming the input, and functions that raise are graded as errors."""

from __future__ import annotations

import numpy as np
import pytest

from tinylearn import exercises

NAMES = ["matmul_backward", "two_layer_grads", "div_backward"]


def grade_one(name, fn):
    (result,) = [r for r in exercises.grade("1.3", {name: fn}) if r.exercise.name == name]
    return result


def test_lesson_1_3_declares_its_exercises():
    found = exercises.exercises("1.3")
    assert [e.name for e in found] == NAMES
    assert [e.section for e in found] == ["1.3.3", "1.3.3", "1.3.5"]


def test_references_pass():
    results = exercises.grade("1.3", reference=True)
    assert [r.status for r in results] == ["passed"] * 3, exercises.report(results)


# ------------------------------------------------------------------------------------------------ matmul


def test_matmul_backward_written_out_passes():
    def matmul_backward(a, b, grad_out):
        return grad_out @ b.T, a.T @ grad_out

    assert grade_one("matmul_backward", matmul_backward).status == "passed"


def test_matmul_backward_sign_error_fails_naming_the_shapes():
    def matmul_backward(a, b, grad_out):
        return -(grad_out @ b.T), a.T @ grad_out

    result = grade_one("matmul_backward", matmul_backward)
    assert result.status == "failed"
    assert "a (2, 3), b (3, 4), grad_out (2, 4)" in result.message
    assert "dL/da" in result.message and "expected" in result.message


def test_matmul_backward_wrong_transpose_fails_on_the_shape():
    def matmul_backward(a, b, grad_out):
        return grad_out @ b.T, grad_out.T @ a  # (n, k) instead of (k, n)

    result = grade_one("matmul_backward", matmul_backward)
    assert result.status == "failed"
    assert "dL/db" in result.message and "expected shape (3, 4), got (4, 3)" in result.message


def test_matmul_backward_not_a_pair_fails():
    result = grade_one("matmul_backward", lambda a, b, grad_out: a.T @ grad_out)
    assert result.status == "failed" and "must return a pair" in result.message


def test_matmul_backward_that_raises_is_an_error():
    def matmul_backward(a, b, grad_out):
        return grad_out @ b, a @ grad_out  # shapes do not line up: NumPy raises

    result = grade_one("matmul_backward", matmul_backward)
    assert result.status == "error" and "ValueError" in result.message


# ------------------------------------------------------------------------------------------------ two-layer


def _two_layer(X, Y, W1, b1, W2, b2, *, tanh_prime=True, mean=True):
    A1 = np.tanh(X @ W1 + b1)
    Yhat = A1 @ W2 + b2
    d = 2 * (Yhat - Y) / (Yhat.size if mean else 1)
    dZ1 = (d @ W2.T) * ((1 - A1**2) if tanh_prime else 1.0)
    return X.T @ dZ1, dZ1.sum(axis=0), A1.T @ d, d.sum(axis=0)


def test_two_layer_grads_by_hand_passes():
    assert grade_one("two_layer_grads", _two_layer).status == "passed"


def test_two_layer_grads_without_tanh_derivative_fails_on_dW1():
    result = grade_one("two_layer_grads", lambda *a: _two_layer(*a, tanh_prime=False))
    assert result.status == "failed"
    assert "two_layer_grads with X (4, 3), hidden 5, Y (4, 2): dL/dW1" in result.message


def test_two_layer_grads_with_a_sum_instead_of_a_mean_fails():
    result = grade_one("two_layer_grads", lambda *a: _two_layer(*a, mean=False))
    assert result.status == "failed" and "expected" in result.message


def test_two_layer_grads_bias_gradient_kept_per_row_fails_on_its_shape():
    def two_layer_grads(X, Y, W1, b1, W2, b2):
        dW1, _, dW2, _ = _two_layer(X, Y, W1, b1, W2, b2)
        A1 = np.tanh(X @ W1 + b1)
        d = 2 * (A1 @ W2 + b2 - Y) / Y.size
        return dW1, (d @ W2.T) * (1 - A1**2), dW2, d  # forgot to sum over the batch

    result = grade_one("two_layer_grads", two_layer_grads)
    assert result.status == "failed" and "dL/db1: expected shape (5,), got (4, 5)" in result.message


def test_two_layer_grads_that_raises_is_an_error():
    def two_layer_grads(X, Y, W1, b1, W2, b2):
        return X @ W2  # shapes do not line up

    assert grade_one("two_layer_grads", two_layer_grads).status == "error"


# ------------------------------------------------------------------------------------------------ div


def test_div_backward_with_tensor_ops_passes():
    def div_backward(a, b, grad_output):
        return grad_output / b, -grad_output * a / (b * b)

    assert grade_one("div_backward", div_backward).status == "passed"


def test_div_backward_sign_error_fails_naming_the_input():
    def div_backward(a, b, grad_output):
        return grad_output / b, grad_output * a / (b * b)

    result = grade_one("div_backward", div_backward)
    assert result.status == "failed"
    assert "div_backward(a, b, grad_output) with shape (3,): dL/db (a = [" in result.message


def test_div_backward_missing_grad_output_fails():
    def div_backward(a, b, grad_output):
        return 1 / b + 0 * grad_output, -a / (b * b)

    result = grade_one("div_backward", div_backward)
    assert result.status == "failed" and "dL/da" in result.message


def test_div_backward_returning_numpy_fails_with_advice():
    def div_backward(a, b, grad_output):
        g, x, y = (t.detach().numpy() for t in (a, b, grad_output))
        return y / x, -y * g / x**2

    result = grade_one("div_backward", div_backward)
    assert result.status == "failed" and "must be a Tensor" in result.message


def test_div_backward_that_raises_is_an_error():
    def div_backward(a, b, grad_output):
        raise ZeroDivisionError("oops")

    result = grade_one("div_backward", div_backward)
    assert result.status == "error" and "ZeroDivisionError: oops" in result.message


@pytest.mark.parametrize("name", NAMES)
def test_template_functions_are_missing(name):
    namespace: dict = {}
    exec(compile(exercises.template("1.3"), "exercises_1_3.py", "exec"), namespace)
    assert grade_one(name, namespace[name]).status == "missing"

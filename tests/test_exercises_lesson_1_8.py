"""The exercises of lesson 1.8 (tinylearn.exercises.lesson_1_8): the references pass, correct answers
written from the formulas pass, plausible wrong answers fail with a message naming the input, and a
function that raises is graded as an error."""

from __future__ import annotations

import numpy as np

from tinylearn import exercises

NAMES = ["conv2d_naive", "conv_output_size", "im2col", "max_pool2d_backward"]


def grade_one(name, fn):
    (result,) = [r for r in exercises.grade("1.8", {name: fn}) if r.exercise.name == name]
    return result


# ------------------------------------------------------------------------------------------------
# Answers written from the formulas of the lesson
# ------------------------------------------------------------------------------------------------


def conv_output_size(w, k, p, s):
    return (w - k + 2 * p) // s + 1


def _pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def conv2d_naive(x, w, b, stride, padding, flip=False, bias=True):
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = _pad(x, padding)
    ho, wo = (h - kh + 2 * padding) // stride + 1, (wd - kw + 2 * padding) // stride + 1
    kernel = w[:, :, ::-1, ::-1] if flip else w
    out = np.empty((n, o, ho, wo))
    for i in range(n):
        for f in range(o):
            for r in range(ho):
                for q in range(wo):
                    window = xp[i, :, r * stride : r * stride + kh, q * stride : q * stride + kw]
                    out[i, f, r, q] = np.sum(window * kernel[f]) + (b[f] if bias else 0.0)
    return out


def im2col(x, k, stride, padding, order="ckk"):
    n, c, h, w = x.shape
    xp = _pad(x, padding)
    ho, wo = (h - k + 2 * padding) // stride + 1, (w - k + 2 * padding) // stride + 1
    cols = np.empty((n, c, k, k, ho, wo))
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[
                :, :, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride
            ]
    if order == "kkc":  # kernel offsets first: not F.unfold's layout
        cols = cols.transpose(0, 2, 3, 1, 4, 5)
    return cols.reshape(n, c * k * k, ho * wo)


def max_pool2d_backward(grad_out, indices, x_shape, accumulate=True):
    n, c, h, w = x_shape
    dx = np.zeros((n, c, h * w))
    for i in range(n):
        for ch in range(c):
            if accumulate:
                np.add.at(dx[i, ch], indices[i, ch].ravel(), grad_out[i, ch].ravel())
            else:  # the bug: a later window's gradient overwrites an earlier one's
                dx[i, ch][indices[i, ch].ravel()] = grad_out[i, ch].ravel()
    return dx.reshape(x_shape)


CORRECT = {f.__name__: f for f in (conv2d_naive, conv_output_size, im2col, max_pool2d_backward)}


def test_lesson_1_8_declares_its_exercises_in_order():
    found = exercises.exercises("1.8")
    assert [e.name for e in found] == NAMES
    assert [e.section for e in found] == ["1.8.2", "1.8.2", "1.8.3", "1.8.3"]


def test_references_pass():
    results = exercises.grade("1.8", reference=True)
    assert all(r.passed for r in results), exercises.report(results)


def test_answers_from_the_formulas_pass():
    results = exercises.grade("1.8", CORRECT)
    assert [r.status for r in results] == ["passed"] * 4, exercises.report(results)


def test_a_function_that_raises_is_an_error():
    def broken(*args):
        raise KeyError("nope")

    for result in exercises.grade("1.8", dict.fromkeys(NAMES, broken)):
        assert result.status == "error" and "KeyError" in result.message


# ------------------------------------------------------------------------------------------------
# Wrong answers: each fails, and the message says on which input
# ------------------------------------------------------------------------------------------------


def test_output_size_rounding_up_fails():
    result = grade_one("conv_output_size", lambda w, k, p, s: -(-(w - k + 2 * p) // s) + 1)
    assert result.status == "failed"
    assert "conv_output_size(w=32, k=3, p=1, s=2): expected the int 16, got 17" in result.message


def test_output_size_as_a_float_fails():
    result = grade_one("conv_output_size", lambda w, k, p, s: (w - k + 2 * p) / s + 1)
    assert result.status == "failed" and "expected the int 24, got 24.0" in result.message


def test_output_size_with_one_padding_fails():
    result = grade_one("conv_output_size", lambda w, k, p, s: (w - k + p) // s + 1)
    assert result.status == "failed" and "p=2" in result.message and "expected the int 28" in result.message


def test_a_flipped_kernel_fails():
    result = grade_one("conv2d_naive", lambda x, w, b, s, p: conv2d_naive(x, w, b, s, p, flip=True))
    assert result.status == "failed"
    assert "conv2d_naive(x (1, 1, 5, 5), w (1, 1, 3, 3)" in result.message and "wrong value" in result.message


def test_a_forgotten_bias_fails():
    result = grade_one("conv2d_naive", lambda x, w, b, s, p: conv2d_naive(x, w, b, s, p, bias=False))
    assert result.status == "failed" and "stride=1, padding=0" in result.message


def test_a_forgotten_padding_fails():
    result = grade_one("conv2d_naive", lambda x, w, b, s, p: conv2d_naive(x, w, b, s, 0))
    assert result.status == "failed"
    assert "padding=1" in result.message and "expected shape (2, 4, 6, 7)" in result.message


def test_im2col_in_the_wrong_order_fails():
    result = grade_one("im2col", lambda x, k, s, p: im2col(x, k, s, p, order="kkc"))
    assert result.status == "failed" and "im2col(x (2, 3, 5, 6), k=3, stride=1, padding=1)" in result.message


def test_im2col_ignoring_the_stride_fails():
    result = grade_one("im2col", lambda x, k, s, p: im2col(x, k, 1, p))
    assert result.status == "failed" and "stride=2" in result.message and "expected shape" in result.message


def test_max_pool_backward_that_overwrites_fails_on_overlapping_windows():
    result = grade_one(
        "max_pool2d_backward", lambda g, i, shape: max_pool2d_backward(g, i, shape, accumulate=False)
    )
    assert result.status == "failed"
    assert "(1, 2, 5, 5) pooled with kernel 3, stride 1" in result.message


def test_max_pool_backward_that_spreads_like_average_pooling_fails():
    def average(g, indices, shape):
        h = shape[2]
        ho, wo = g.shape[2:]
        dx = np.zeros(shape)
        k = h // ho
        for r in range(ho):
            for q in range(wo):
                dx[:, :, r * k : r * k + k, q * k : q * k + k] += g[:, :, r : r + 1, q : q + 1] / (k * k)
        return dx

    result = grade_one("max_pool2d_backward", average)
    assert result.status == "failed" and "(1, 1, 4, 4) pooled with kernel 2, stride 2" in result.message


def test_missing_answers_are_reported_as_missing():
    results = exercises.grade("1.8", {})
    assert [r.status for r in results] == ["missing"] * 4

"""The exercises of lesson 1.6 (tinylearn.exercises.lesson_1_6): the references pass, a plausible
wrong answer to each is graded "failed" with a message naming the input, a function that raises is an
error."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tinylearn import exercises
from tinylearn.exercises import lesson_1_6 as ex16


def grade_one(name, fn):
    (result,) = [r for r in exercises.grade("1.6", {name: fn}) if r.exercise.name == name]
    return result


def test_lesson_1_6_has_four_exercises_in_order():
    assert [(e.section, e.name) for e in exercises.exercises("1.6")] == [
        ("1.6.2", "fan_in_and_fan_out"),
        ("1.6.2", "xavier_uniform_bound"),
        ("1.6.3", "kaiming_normal_std"),
        ("1.6.4", "init_mlp"),
    ]


def test_references_pass_and_match_the_formulas():
    results = exercises.grade("1.6", reference=True)
    assert all(r.passed for r in results), exercises.report(results)
    assert ex16._fan_in_and_fan_out((16, 8, 3, 3)) == (72, 144)
    assert ex16._xavier_uniform_bound(784, 100) == pytest.approx(math.sqrt(6 / 884))
    assert ex16._kaiming_normal_std(256, "relu") == pytest.approx(math.sqrt(2 / 256))
    assert ex16._kaiming_normal_std(100, "tanh") == pytest.approx(5 / 3 / 10)


def test_a_function_that_raises_is_an_error():
    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    for result in exercises.grade("1.6", {e.name: broken for e in exercises.exercises("1.6")}):
        assert result.status == "error" and "ZeroDivisionError: oops" in result.message


# --------------------------------------------------------------------------- fan_in_and_fan_out


def _fans_right(shape):
    if len(shape) < 2:
        raise ValueError("need 2 dims")
    k = math.prod(shape[2:])
    return shape[1] * k, shape[0] * k


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (lambda shape: (shape[0] * math.prod(shape[2:]), shape[1] * math.prod(shape[2:])), "dimension 1"),
        (lambda shape: (shape[1], shape[0]), "fan_in_and_fan_out((10, 4, 5)): expected (20, 50)"),
        (lambda shape: _fans_right(shape) if len(shape) > 1 else (1, 1), "fan_in_and_fan_out((7,)) returned"),
        (
            lambda shape: _fans_right(shape) if len(shape) > 1 else shape[5],
            "raised IndexError; expected ValueError",
        ),
    ],
    ids=["swapped", "kernel-ignored", "no-error-for-1d", "wrong-exception"],
)
def test_wrong_fans_fail(wrong, needle):
    result = grade_one("fan_in_and_fan_out", wrong)
    assert result.status == "failed", result
    assert needle in result.message


def test_right_fans_pass():
    assert grade_one("fan_in_and_fan_out", _fans_right).passed


# --------------------------------------------------------------------------- xavier_uniform_bound


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (lambda fi, fo, gain=1.0: gain * math.sqrt(2 / (fi + fo)), "fan_in=256, fan_out=128, gain=1"),
        (lambda fi, fo, gain=1.0: math.sqrt(6 / (fi + fo)), "fan_in=64, fan_out=64, gain=1.667"),
        (lambda fi, fo, gain=1.0: gain * math.sqrt(3 / fi), "fan_in=256, fan_out=128"),
        (lambda fi, fo, gain=1.0: gain**2 * math.sqrt(6 / (fi + fo)), "gain=1.667"),
    ],
    ids=["std-not-bound", "gain-ignored", "fan-in-only", "gain-squared"],
)
def test_wrong_xavier_bounds_fail(wrong, needle):
    result = grade_one("xavier_uniform_bound", wrong)
    assert result.status == "failed", result
    assert needle in result.message and "expected" in result.message


def test_right_xavier_bound_passes():
    def xavier_uniform_bound(fan_in, fan_out, gain=1.0):
        return gain * math.sqrt(6.0 / (fan_in + fan_out))

    assert grade_one("xavier_uniform_bound", xavier_uniform_bound).passed


# --------------------------------------------------------------------------- kaiming_normal_std

GAINS = {"relu": math.sqrt(2), "tanh": 5 / 3, "linear": 1.0, "sigmoid": 1.0}


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (lambda fan_in, nl: 1 / math.sqrt(fan_in), "nonlinearity='relu'"),
        (lambda fan_in, nl: math.sqrt(2 / fan_in), "nonlinearity='tanh'"),
        (lambda fan_in, nl: GAINS[nl] ** 2 / math.sqrt(fan_in), "fan_in=10, nonlinearity='relu'"),
        (lambda fan_in, nl: GAINS[nl] / fan_in, "kaiming_normal_std(fan_in=10"),
    ],
    ids=["no-gain", "relu-gain-everywhere", "gain-squared", "no-square-root"],
)
def test_wrong_kaiming_stds_fail(wrong, needle):
    result = grade_one("kaiming_normal_std", wrong)
    assert result.status == "failed", result
    assert needle in result.message and "expected" in result.message


def test_right_kaiming_std_passes():
    assert grade_one("kaiming_normal_std", lambda fan_in, nl: GAINS[nl] / math.sqrt(fan_in)).passed


# --------------------------------------------------------------------------- init_mlp


def _he(sizes, rng, draw=None, transpose=False, bias=0.0, fan="in"):
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        std = math.sqrt(2.0 / (fan_in if fan == "in" else fan_out))
        shape = (fan_in, fan_out) if transpose else (fan_out, fan_in)
        w = draw(rng, std, shape) if draw else rng.normal(0.0, std, shape)
        layers.append((w, np.full(fan_out, bias)))
    return layers


def _uniform(rng, std, shape):
    return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, shape)


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (lambda sizes, rng: _he(sizes, rng, draw=_uniform), "kurtosis"),
        (lambda sizes, rng: _he(sizes, rng, fan="out"), "layer 0 (784 → 256): std of W"),
        (
            lambda sizes, rng: _he(
                sizes, rng, draw=lambda r, std, shape: r.normal(0, std / math.sqrt(2), shape)
            ),
            "expected ≈ √(2/fan_in) = √(2/784)",
        ),
        (
            lambda sizes, rng: _he(sizes, rng, transpose=True),
            "must have shape (fan_out, fan_in) = (256, 784)",
        ),
        (lambda sizes, rng: _he(sizes, np.random.default_rng(123)), "draw from rng"),
        (lambda sizes, rng: _he(sizes, rng, bias=0.1), "the bias should start at 0"),
        (lambda sizes, rng: _he(sizes, rng)[:-1], "must return a list of 3 (W, b) pairs"),
    ],
    ids=["uniform", "fan-out", "lecun-std", "transposed", "ignores-rng", "bias", "missing-layer"],
)
def test_wrong_init_mlp_fails(wrong, needle):
    result = grade_one("init_mlp", wrong)
    assert result.status == "failed", result
    assert needle in result.message


def test_tensor_weights_and_the_lesson_answer_pass():
    import tinylearn as tl

    def init_mlp(sizes, rng):
        return [(tl.tensor(w), tl.tensor(b)) for w, b in _he(sizes, rng)]

    assert grade_one("init_mlp", init_mlp).passed


def test_check_by_name_finds_lesson_1_6(capsys):
    def kaiming_normal_std(fan_in, nonlinearity):
        return GAINS[nonlinearity] / math.sqrt(fan_in)

    assert exercises.check(kaiming_normal_std) is True
    assert "✓ 1.6.3 kaiming_normal_std: passed" in capsys.readouterr().out

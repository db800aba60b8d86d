"""The exercises of lesson 1.7 (tinylearn.exercises.lesson_1_7): the references pass, correct answers
written from the formulas pass, plausible wrong answers fail with a message naming the input, and a
function that raises is graded as an error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinylearn import Generator, exercises

NAMES = ["batches", "cosine_lr", "warmup_cosine_lr", "clip_grad_norm"]


def grade_one(name, fn):
    (result,) = [r for r in exercises.grade("1.7", {name: fn}) if r.exercise.name == name]
    return result


# ------------------------------------------------------------------------------------------------
# Answers written from the formulas of the lesson
# ------------------------------------------------------------------------------------------------


def batches(n, batch_size, shuffle, rng):
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def cosine_lr(step, total, lr_max, lr_min):
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * step / total)) / 2


def warmup_cosine_lr(step, warmup, total, lr_max, lr_min, start_factor):
    if step < warmup:
        return lr_max * (start_factor + (1 - start_factor) * step / warmup)
    return cosine_lr(step - warmup, total - warmup, lr_max, lr_min)


def clip_grad_norm(grads, max_norm):
    total = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    scale = min(1.0, max_norm / total)
    return [g * scale for g in grads], total


CORRECT = {f.__name__: f for f in (batches, cosine_lr, warmup_cosine_lr, clip_grad_norm)}


def test_lesson_1_7_declares_its_exercises_in_order():
    found = exercises.exercises("1.7")
    assert [e.name for e in found] == NAMES
    assert [e.section for e in found] == ["1.7.1", "1.7.2", "1.7.2", "1.7.3"]


def test_references_pass():
    results = exercises.grade("1.7", reference=True)
    assert all(r.passed for r in results), exercises.report(results)


def test_answers_from_the_formulas_pass():
    results = exercises.grade("1.7", CORRECT)
    assert [r.status for r in results] == ["passed"] * 4, exercises.report(results)


def test_a_function_that_raises_is_an_error():
    def broken(*args):
        raise KeyError("nope")

    for result in exercises.grade("1.7", dict.fromkeys(NAMES, broken)):
        assert result.status == "error" and "KeyError" in result.message


# ------------------------------------------------------------------------------------------------
# Wrong answers: each fails, and the message says on which input
# ------------------------------------------------------------------------------------------------


def _no_shuffle(n, batch_size, shuffle, rng):
    return batches(n, batch_size, False, rng)


def _drops_last(n, batch_size, shuffle, rng):
    return [b for b in batches(n, batch_size, shuffle, rng) if len(b) == batch_size]


def _own_generator(n, batch_size, shuffle, rng):  # a fresh NumPy generator: not the loader's order
    order = np.random.default_rng(0).permutation(n) if shuffle else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _same_order_every_epoch(n, batch_size, shuffle, rng):  # reseeds: every call repeats epoch 1
    order = Generator().manual_seed(rng.initial_seed()).permutation(n) if shuffle else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (
            _no_shuffle,
            "batches(n=10, batch_size=3, shuffle=True, rng=tl.Generator().manual_seed(0)), call 1: batch 0",
        ),
        (_drops_last, "batches(n=10, batch_size=3, shuffle=False, rng=None): expected 4 batches"),
        (_own_generator, "shuffle=True"),
        (_same_order_every_epoch, "call 2"),
    ],
)
def test_wrong_batches_fail_naming_the_input(wrong, needle):
    result = grade_one("batches", wrong)
    assert result.status == "failed", result
    assert needle in result.message, result.message


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (
            lambda step, total, hi, lo: lo + (hi - lo) * (1 + math.cos(math.pi * step / total)),
            "cosine_lr(step=0,",
        ),
        (lambda step, total, hi, lo: hi * (1 + math.cos(math.pi * step / total)) / 2, "lr_min=0.05"),
        (
            lambda step, total, hi, lo: lo + (hi - lo) * (1 + math.sin(math.pi * step / total)) / 2,
            "step=0, total=10",
        ),
        (lambda step, total, hi, lo: cosine_lr(step, total - 1, hi, lo), "cosine_lr(step=1, total=10"),
    ],
    ids=["no_half", "no_lr_min", "sine", "off_by_one"],
)
def test_wrong_cosine_lr_fails_naming_the_input(wrong, needle):
    result = grade_one("cosine_lr", wrong)
    assert result.status == "failed", result
    assert needle in result.message and "expected" in result.message, result.message


def _warmup_reaches_top_early(step, warmup, total, lr_max, lr_min, start):
    if step < warmup:
        return lr_max * (start + (1 - start) * step / max(warmup - 1, 1))
    return cosine_lr(step - warmup, total - warmup, lr_max, lr_min)


def _cosine_not_shifted(step, warmup, total, lr_max, lr_min, start):
    if step < warmup:
        return lr_max * (start + (1 - start) * step / warmup)
    return cosine_lr(step, total, lr_max, lr_min)


def _warmup_from_zero(step, warmup, total, lr_max, lr_min, start):
    if step < warmup:
        return lr_max * step / warmup
    return cosine_lr(step - warmup, total - warmup, lr_max, lr_min)


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (_warmup_reaches_top_early, "warmup_cosine_lr(step=1, warmup=5, total=20"),
        (_cosine_not_shifted, "warmup_cosine_lr(step=5, warmup=5"),
        (
            _warmup_from_zero,
            "warmup_cosine_lr(step=0, warmup=5, total=20, lr_max=0.1, lr_min=0.0, start_factor=0.01)",
        ),
    ],
)
def test_wrong_warmup_cosine_lr_fails_naming_the_input(wrong, needle):
    result = grade_one("warmup_cosine_lr", wrong)
    assert result.status == "failed", result
    assert needle in result.message and "expected" in result.message, result.message


def _per_array(grads, max_norm):  # clips each array by its own norm
    norms = [float(np.linalg.norm(g)) for g in grads]
    return [g * min(1.0, max_norm / n) for g, n in zip(grads, norms, strict=True)], math.sqrt(
        sum(n * n for n in norms)
    )


def _always_rescales(grads, max_norm):  # scales to max_norm even when the norm is smaller
    total = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    return [g * max_norm / total for g in grads], total


def _norm_after(grads, max_norm):  # returns the norm after clipping
    clipped, _ = clip_grad_norm(grads, max_norm)
    return clipped, math.sqrt(sum(float(np.sum(g**2)) for g in clipped))


def _by_value(grads, max_norm):
    total = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    return [np.clip(g, -max_norm, max_norm) for g in grads], total


@pytest.mark.parametrize(
    ("wrong", "needle"),
    [
        (_per_array, "clipped array 0"),
        (_always_rescales, "max_norm=100.0"),
        (_norm_after, "the total norm (before clipping)"),
        (_by_value, "clip_grad_norm(grads of shapes [(3, 4), (5,), (2, 2, 2)], max_norm=1.0)"),
    ],
)
def test_wrong_clip_grad_norm_fails_naming_the_input(wrong, needle):
    result = grade_one("clip_grad_norm", wrong)
    assert result.status == "failed", result
    assert needle in result.message and "expected" in result.message, result.message


def test_malformed_answers_fail_with_a_message():
    assert "returned None" in grade_one("batches", lambda *a: None).message
    assert "must return a pair" in grade_one("clip_grad_norm", lambda g, m: g).message
    assert "expected one number" in grade_one("cosine_lr", lambda *a: [1.0, 2.0]).message


def test_check_prints_the_verdict(capsys):
    assert exercises.check(cosine_lr, lesson="1.7") is True
    assert "✓ 1.7.2 cosine_lr: passed" in capsys.readouterr().out

    def clip_grad_norm(grads, max_norm):  # the learner's name, a wrong body
        return _per_array(grads, max_norm)

    assert exercises.check(clip_grad_norm, lesson="1.7") is False
    assert "✗ 1.7.3 clip_grad_norm: failed" in capsys.readouterr().out

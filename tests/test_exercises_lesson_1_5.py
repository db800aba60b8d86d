"""The exercises of lesson 1.5 (tinylearn.exercises.lesson_1_5): the references pass, plausible wrong
answers fail with a message that names the input, a function that raises is an error."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl
from tinylearn import exercises
from tinylearn.exercises import lesson_1_5 as ex
from tinylearn.nn import functional as F
from tinylearn.viz.lesson_1_5 import seeded

NAMES = [
    "l2_penalty_grad",
    "dropout_forward",
    "batchnorm_forward",
    "layernorm_forward",
    "early_stopping_epochs",
]


def grade_one(name, fn):
    (result,) = [r for r in exercises.grade("1.5", {name: fn}) if r.exercise.name == name]
    return result


def test_the_lesson_declares_its_exercises_in_order():
    assert [e.name for e in exercises.exercises("1.5")] == NAMES
    assert [e.section for e in exercises.exercises("1.5")] == ["1.5.2", "1.5.4", "1.5.5", "1.5.6", "1.5.7"]


def test_the_references_pass():
    results = exercises.grade("1.5", reference=True)
    assert all(r.passed for r in results), exercises.report(results)


def test_a_function_that_raises_is_an_error():
    def broken(*args):
        raise ValueError("not yet")

    for result in exercises.grade("1.5", dict.fromkeys(NAMES, broken)):
        assert result.status == "error", result
        assert "ValueError: not yet" in result.message


# ------------------------------------------------------------------------------------------------ L2


def test_l2_grad_written_by_hand_passes_and_a_missing_factor_two_fails():
    assert grade_one("l2_penalty_grad", lambda w, lam: 2 * lam * w).passed
    result = grade_one("l2_penalty_grad", lambda w, lam: lam * w)  # the ½ convention of weight decay
    assert result.status == "failed"
    assert "l2_penalty_grad(w of shape (5,), lam=0.1)" in result.message and "expected" in result.message


def test_l2_reference_is_the_library_autograd():
    w = np.array([1.0, -2.0, 0.5])
    assert np.allclose(ex._l2_penalty_grad(w, 0.3), 0.6 * w)


# ------------------------------------------------------------------------------------------------ dropout


def test_dropout_with_inverted_scaling_passes_and_plain_masking_fails():
    assert grade_one("dropout_forward", lambda x, p, keep: np.where(keep, x / (1 - p), 0.0)).passed
    result = grade_one("dropout_forward", lambda x, p, keep: x * keep)  # forgot 1/(1 - p)
    assert result.status == "failed"
    assert "dropout_forward(x of shape (4, 6), p=0.5" in result.message
    result = grade_one("dropout_forward", lambda x, p, keep: x * keep * (1 - p))  # scaled the wrong way
    assert result.status == "failed"


def test_dropout_reference_runs_the_library_with_the_given_mask():
    x = np.arange(1.0, 9.0).reshape(2, 4)
    keep = np.array([[True, False, True, True], [False, False, True, False]])
    out = ex._dropout_forward(x, 0.25, keep)
    assert np.allclose(out, np.where(keep, x / 0.75, 0.0))
    with seeded(5):  # and it agrees with the untouched F.dropout when the mask is the one a seed draws
        drawn = (tl.rand((2, 4)) >= 0.25).numpy()
    with seeded(5):
        lib = F.dropout(tl.tensor(x), 0.25).numpy()
    assert np.allclose(ex._dropout_forward(x, 0.25, drawn), lib)
    with pytest.raises(ValueError, match="mask of shape"):
        ex._dropout_forward(x, 0.5, keep[:, :2])


# ------------------------------------------------------------------------------------------------ norms


def batchnorm_by_hand(x, gamma, beta, eps):
    mean = x.mean(0, keepdim=True)
    var = ((x - mean) ** 2).mean(0, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * gamma + beta


def layernorm_by_hand(x, gamma, beta, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * gamma + beta


def test_norms_written_with_tensor_ops_pass():
    assert grade_one("batchnorm_forward", batchnorm_by_hand).passed
    assert grade_one("layernorm_forward", layernorm_by_hand).passed


def test_batchnorm_with_the_unbiased_variance_fails():
    def unbiased(x, gamma, beta, eps):
        mean = x.mean(0, keepdim=True)
        var = ((x - mean) ** 2).sum(0, keepdim=True) / (x.shape[0] - 1)
        return (x - mean) / (var + eps).sqrt() * gamma + beta

    result = grade_one("batchnorm_forward", unbiased)
    assert result.status == "failed"
    assert "batchnorm_forward(x of shape (8, 3), gamma, beta, eps=1e-05)" in result.message


def test_batchnorm_over_the_wrong_axis_fails_and_layernorm_over_the_batch_fails():
    result = grade_one("batchnorm_forward", layernorm_by_hand)  # normalises each sample, not each feature
    assert result.status == "failed" and "x of shape (8, 3)" in result.message
    result = grade_one("layernorm_forward", batchnorm_by_hand)
    assert result.status == "failed" and "layernorm_forward(x of shape (4, 6)" in result.message


def test_detached_statistics_give_right_values_but_wrong_gradients():
    def detached(x, gamma, beta, eps):  # a classic: the statistics treated as constants
        mean = x.mean(0, keepdim=True).detach()
        var = ((x - mean) ** 2).mean(0, keepdim=True).detach()
        return (x - mean) / (var + eps).sqrt() * gamma + beta

    result = grade_one("batchnorm_forward", detached)
    assert result.status == "failed"
    assert "gradient with respect to x" in result.message


def test_a_numpy_answer_is_told_to_use_tensor_operations():
    def in_numpy(x, gamma, beta, eps):
        a = x.detach().numpy()
        return (a - a.mean(-1, keepdims=True)) / np.sqrt(
            a.var(-1, keepdims=True) + eps
        ) * gamma.detach().numpy() + beta.detach().numpy()

    result = grade_one("layernorm_forward", in_numpy)
    assert result.status == "failed"
    assert "tinylearn Tensor" in result.message and "ndarray" in result.message


# ------------------------------------------------------------------------------------------ early stopping


def early_stopping_by_hand(val_losses, patience, min_delta, strict=True):
    best, best_epoch, bad = float("inf"), 0, 0
    for epoch, v in enumerate(val_losses, start=1):
        if (v < best - min_delta) if strict else (v <= best - min_delta):
            best, best_epoch, bad = v, epoch, 0
        else:
            bad += 1
        if bad >= patience:
            return epoch, best_epoch
    return None, best_epoch


def test_early_stopping_by_hand_passes():
    assert grade_one("early_stopping_epochs", early_stopping_by_hand).passed


def test_early_stopping_where_ties_count_as_improvements_fails():
    result = grade_one("early_stopping_epochs", lambda v, p, d: early_stopping_by_hand(v, p, d, strict=False))
    assert result.status == "failed"
    assert "flat stretch" in result.message and "expected (stop_epoch, best_epoch)" in result.message


def test_early_stopping_off_by_one_fails():
    result = grade_one("early_stopping_epochs", lambda v, p, d: early_stopping_by_hand(v, p + 1, d))
    assert result.status == "failed" and "patience=1" in result.message


def test_early_stopping_reference_agrees_with_fit():
    """The replay predicts what ``fit`` with ``EarlyStopping`` does on the same (deterministic) run."""
    from tinylearn.training import EarlyStopping
    from tinylearn.viz import lesson_1_5 as v

    _, full = v.overfit_run(epochs=30)
    stop, best = ex._early_stopping_epochs(full["val_loss"], 3, 0.0)
    assert stop is not None and stop == best + 3
    _, history = v.train_moons(epochs=30, early_stopping=EarlyStopping(patience=3))
    assert len(history) == stop and history.best_epoch == best
    assert np.allclose(history["val_loss"], full["val_loss"][:stop])

"""Exercises of lesson 1.5 (regularization): an L2 penalty's gradient, inverted dropout with a given
mask, batch and layer normalization (forward, differentiable) and the early-stopping rule.

The reference solutions are the library's own code, through thin adapters:

* ``l2_penalty_grad``: autograd of :func:`tinylearn.nn.l2_penalty`;
* ``dropout_forward``: :func:`tinylearn.nn.functional.dropout` itself, fed the learner's mask in
  place of its random draw (the function draws ``rand(shape) >= p``; the adapter hands it a
  ``rand`` that returns 1 where the mask keeps a unit and 0 where it drops one). The check itself
  compares against the unmodified ``F.dropout`` under a seed, with the mask that seed draws;
* ``batchnorm_forward`` / ``layernorm_forward``: :func:`tinylearn.nn.functional.batch_norm` in
  training mode (no running statistics) and :func:`tinylearn.nn.functional.layer_norm` over the
  last dimension;
* ``early_stopping_epochs``: :class:`tinylearn.training.EarlyStopping` replayed on the curve
  (:func:`tinylearn.viz.lesson_1_5.replay_early_stopping`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import numpy as np

from ..nn import functional as F
from ..nn.regularization import l2_penalty
from ..tensor import Tensor, rand, tensor
from ..viz.lesson_1_5 import replay_early_stopping, seeded
from . import ExerciseFailure, exercise, expect_close, expect_gradcheck

# ------------------------------------------------------------------------------------------------
# 1.5.2: the gradient of an L2 penalty
# ------------------------------------------------------------------------------------------------


def _l2_penalty_grad(w: np.ndarray, lam: float) -> np.ndarray:
    """∂(λ Σ w²)/∂w by the library's autograd through ``l2_penalty``."""
    t = tensor(np.asarray(w, dtype=np.float64), requires_grad=True)
    (lam * l2_penalty([t])).backward()
    return t.grad.numpy()


@exercise(
    "1.5.2",
    "l2_penalty_grad",
    reference=_l2_penalty_grad,
    signature="l2_penalty_grad(w, lam)",
    prompt="Return the gradient of lam * sum(w**2) with respect to the NumPy array w (same shape as w).",
)
def _check_l2_penalty_grad(fn: Callable[..., Any]) -> None:
    rng = np.random.default_rng(15)
    for shape, lam in (((5,), 0.1), ((3, 4), 1e-3), ((2, 3), 2.5), ((4,), 0.0)):
        w = rng.normal(size=shape)
        expect_close(
            fn(w.copy(), lam),
            _l2_penalty_grad(w, lam),
            f"l2_penalty_grad(w of shape {shape}, lam={lam})",
            rtol=1e-7,
            atol=1e-12,
        )


# ------------------------------------------------------------------------------------------------
# 1.5.4: inverted dropout with a given mask
# ------------------------------------------------------------------------------------------------


def _dropout_forward(x: np.ndarray, p: float, keep: np.ndarray) -> np.ndarray:
    """``F.dropout(x, p)`` with its random draw replaced by the mask ``keep``: the library's function
    compares ``rand(shape) >= p``, so a ``rand`` that returns 1.0 where ``keep`` and 0.0 elsewhere
    makes it keep exactly those units (for 0 < p ≤ 1; with p = 0 it returns x unchanged)."""
    keep = np.asarray(keep, dtype=bool)
    values = tensor(keep.astype(np.float64))

    def mask_as_rand(shape: Any, device: Any = None) -> Tensor:
        if tuple(shape) != keep.shape:
            raise ValueError(
                f"dropout_forward: mask of shape {keep.shape} for an input of shape {tuple(shape)}"
            )
        return values

    with mock.patch.object(F, "rand", mask_as_rand):
        return F.dropout(tensor(np.asarray(x, dtype=np.float64)), p, training=True).numpy()


@exercise(
    "1.5.4",
    "dropout_forward",
    reference=_dropout_forward,
    signature="dropout_forward(x, p, keep)",
    prompt="Inverted dropout in training mode: zero x where the boolean mask keep is False and scale the "
    "kept entries by 1/(1 - p), so the expected output equals x. NumPy arrays in and out.",
)
def _check_dropout_forward(fn: Callable[..., Any]) -> None:
    rng = np.random.default_rng(16)
    for shape, p, seed in (((4, 6), 0.5, 0), ((10,), 0.1, 1), ((3, 5), 0.8, 2), ((2, 4), 0.0, 3)):
        x = rng.normal(size=shape)
        with seeded(seed):
            keep = (rand(shape) >= p).numpy()  # the mask F.dropout draws under this seed
        with seeded(seed):
            want = F.dropout(tensor(x), p, training=True).numpy()  # the library, untouched
        what = f"dropout_forward(x of shape {shape}, p={p}, keep with {int(keep.sum())} of {keep.size} kept)"
        expect_close(fn(x.copy(), p, keep.copy()), want, what, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# 1.5.5-1.5.6: batch and layer normalization, differentiable
# ------------------------------------------------------------------------------------------------


def _batchnorm_forward(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """``F.batch_norm`` in training mode without running statistics: each column of (N, C) ``x``
    normalised with its batch mean and biased variance, then scaled by γ and shifted by β."""
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def _layernorm_forward(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """``F.layer_norm`` over the last dimension of ``x``."""
    return F.layer_norm(x, x.shape[-1], gamma, beta, eps)


def _norm_inputs(shape: tuple[int, ...], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    c = shape[-1]  # the features: the columns of BatchNorm's (N, C), the last axis of LayerNorm's input
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=shape[-1]) + rng.normal(0.0, 2.0, size=shape[-1])
    return (
        tensor(x, requires_grad=True),
        tensor(rng.uniform(0.5, 2.0, size=c), requires_grad=True),
        tensor(rng.normal(size=c), requires_grad=True),
    )


def _check_norm(
    fn: Callable[..., Any], reference: Callable[..., Tensor], name: str, shapes: Sequence[tuple]
) -> None:
    for k, (shape, eps) in enumerate(zip(shapes, (1e-5, 1e-3, 0.1), strict=False)):
        x, gamma, beta = _norm_inputs(shape, 2 * k)
        what = f"{name}(x of shape {shape}, gamma, beta, eps={eps})"
        got = fn(x, gamma, beta, eps)
        want = reference(x, gamma, beta, eps)
        expect_close(got, want, what, rtol=1e-6, atol=1e-9)
        if not isinstance(got, Tensor) or not got.requires_grad:
            raise ExerciseFailure(
                f"{what}: the values are right, but the result must be a tinylearn Tensor computed with "
                "tensor operations (mean, sqrt, arithmetic) so that autograd can differentiate it; got "
                f"{type(got).__name__}"
                + ("" if not isinstance(got, Tensor) else " with no graph (detached?)")
            )
        weights = tensor(np.random.default_rng(k).normal(size=shape))  # a random upstream gradient
        grads = []
        for out in (got, want):
            for t in (x, gamma, beta):
                t.grad = None
            (out * weights).sum().backward()
            grads.append([None if t.grad is None else t.grad.numpy().copy() for t in (x, gamma, beta)])
        for label, mine, lib in zip(("x", "gamma", "beta"), grads[0], grads[1], strict=True):
            if mine is None:
                raise ExerciseFailure(
                    f"{what}: no gradient reached {label}: is it used through tensor operations?"
                )
            expect_close(mine, lib, f"{what}: gradient with respect to {label}", rtol=1e-6, atol=1e-9)
    x, gamma, beta = _norm_inputs((3, 4), 6)
    expect_gradcheck(lambda a, g, b: fn(a, g, b, 1e-5), (x, gamma, beta), f"{name} on x of shape (3, 4)")


@exercise(
    "1.5.5",
    "batchnorm_forward",
    reference=_batchnorm_forward,
    signature="batchnorm_forward(x, gamma, beta, eps)",
    prompt="Batch normalization in training mode: x is an (N, C) Tensor; normalize each column (feature) "
    "with its batch mean and biased variance, (x - mean) / sqrt(var + eps), then multiply by gamma and add "
    "beta (both shape (C,)). Use Tensor operations so that gradients flow; return a Tensor.",
)
def _check_batchnorm_forward(fn: Callable[..., Any]) -> None:
    _check_norm(fn, _batchnorm_forward, "batchnorm_forward", [(8, 3), (5, 4), (2, 6)])


@exercise(
    "1.5.6",
    "layernorm_forward",
    reference=_layernorm_forward,
    signature="layernorm_forward(x, gamma, beta, eps)",
    prompt="Layer normalization: normalize x (a Tensor of shape (..., C)) over its last dimension with that "
    "row's mean and biased variance, (x - mean) / sqrt(var + eps), then multiply by gamma and add beta (both "
    "shape (C,)). Use Tensor operations so that gradients flow; return a Tensor.",
)
def _check_layernorm_forward(fn: Callable[..., Any]) -> None:
    _check_norm(fn, _layernorm_forward, "layernorm_forward", [(4, 6), (2, 3, 5), (1, 7)])


# ------------------------------------------------------------------------------------------------
# 1.5.7: when early stopping stops
# ------------------------------------------------------------------------------------------------


def _early_stopping_epochs(
    val_losses: Sequence[float], patience: int, min_delta: float = 0.0
) -> tuple[int | None, int]:
    return replay_early_stopping(val_losses, patience, min_delta)


def _curves() -> list[tuple[str, list[float]]]:
    rng = np.random.default_rng(17)
    u = np.linspace(0, 1, 40)
    noisy = 1.0 / (1 + 8 * u) + 0.6 * u**2 + rng.normal(0, 0.01, 40)
    return [
        ("a loss that keeps falling", [1.0 / (1 + k) for k in range(12)]),
        ("a U-shaped curve", [round(float(v), 6) for v in noisy]),
        ("a curve with a flat stretch", [1.0, 0.8, 0.6, 0.6, 0.6, 0.6, 0.59, 0.7, 0.75, 0.8, 0.9]),
        ("a zig-zag", [1.0, 0.7, 0.75, 0.72, 0.69, 0.71, 0.7, 0.705, 0.702, 0.71, 0.72]),
    ]


@exercise(
    "1.5.7",
    "early_stopping_epochs",
    reference=_early_stopping_epochs,
    signature="early_stopping_epochs(val_losses, patience, min_delta)",
    prompt="Replay early stopping on a list of validation losses (epoch 1 first): an epoch improves when its "
    "loss is below the best so far minus min_delta; stop after `patience` epochs in a row without "
    "improvement. Return (stop_epoch, best_epoch), both 1-based; stop_epoch is None if it never stops.",
)
def _check_early_stopping_epochs(fn: Callable[..., Any]) -> None:
    for name, curve in _curves():
        for patience, min_delta in ((1, 0.0), (3, 0.0), (4, 0.015), (8, 0.0)):
            got = fn(list(curve), patience, min_delta)
            want = _early_stopping_epochs(curve, patience, min_delta)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise ExerciseFailure(
                    f"early_stopping_epochs must return a pair (stop_epoch, best_epoch), got {got!r}"
                )
            if tuple(got) != want:
                raise ExerciseFailure(
                    f"early_stopping_epochs on {name} {curve} with patience={patience}, "
                    f"min_delta={min_delta}: expected (stop_epoch, best_epoch) = {want}, got {tuple(got)}"
                )

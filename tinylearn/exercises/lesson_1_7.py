"""Exercises of lesson 1.7 (training in practice): batching, learning-rate schedules, gradient clipping.

The learner writes, in NumPy,

* ``batches``: the index batches of one epoch of a :class:`~tinylearn.data.DataLoader`;
* ``cosine_lr`` and ``warmup_cosine_lr``: the learning rate at a step of cosine annealing, and of a
  linear warm-up followed by cosine annealing;
* ``clip_grad_norm``: clipping a list of gradients by their global norm.

The reference solutions run the library itself: a ``DataLoader`` over the indices, the schedulers
``CosineAnnealingLR`` and ``SequentialLR(LinearLR, CosineAnnealingLR)`` stepped on a one-parameter
optimizer, and :func:`tinylearn.optim.clip_grad_norm_` on tensors holding the gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import optim
from ..data import DataLoader, TensorDataset
from ..optim import lr_scheduler
from ..random import Generator
from ..tensor import Tensor, tensor
from . import ExerciseFailure, exercise, expect_close

# ------------------------------------------------------------------------------------------------
# The references: the library's own code
# ------------------------------------------------------------------------------------------------


def _batches(n: int, batch_size: int, shuffle: bool, rng: Generator | None) -> list[np.ndarray]:
    """Reference: the indices of every batch of one pass of ``DataLoader(..., batch_size, shuffle,
    generator=rng)`` over a data set of ``n`` samples."""
    loader = DataLoader(TensorDataset(np.arange(n)), batch_size, shuffle=shuffle, generator=rng)
    return [batch[0].numpy() for batch in loader]


def _lr_at(make: Callable[[optim.Optimizer], Any], lr: float, step: int) -> float:
    """The learning rate a scheduler ``make(optimizer)`` gives at ``step`` (0 = before any ``step()``)."""
    opt = optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=lr)
    scheduler = make(opt)
    for _ in range(step):
        scheduler.step()
    return float(opt.param_groups[0]["lr"])


def _cosine_lr(step: int, total: int, lr_max: float, lr_min: float) -> float:
    """Reference: ``CosineAnnealingLR(optimizer with lr=lr_max, T_max=total, eta_min=lr_min)`` at ``step``."""
    return _lr_at(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=lr_min), lr_max, step)


def _warmup_cosine_lr(
    step: int, warmup: int, total: int, lr_max: float, lr_min: float, start_factor: float
) -> float:
    """Reference: ``SequentialLR`` of ``LinearLR(start_factor, 1.0, total_iters=warmup)`` then
    ``CosineAnnealingLR(T_max=total - warmup, eta_min=lr_min)``, switching at step ``warmup``."""

    def make(opt: optim.Optimizer) -> lr_scheduler.LRScheduler:
        return lr_scheduler.SequentialLR(
            opt,
            [
                lr_scheduler.LinearLR(opt, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
                lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=lr_min),
            ],
            milestones=[warmup],
        )

    return _lr_at(make, lr_max, step)


def _clip_grad_norm(grads: Sequence[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """Reference: :func:`tinylearn.optim.clip_grad_norm_` on float64 tensors whose ``.grad`` are copies
    of ``grads``; returns the clipped copies and the total norm (measured before clipping)."""
    params = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g)), requires_grad=True)
        p.grad = tensor(np.array(g, dtype=np.float64))
        params.append(p)
    total = optim.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy().copy() for p in params], float(total.item())


# ------------------------------------------------------------------------------------------------
# 1.7.1 batches
# ------------------------------------------------------------------------------------------------

_BATCH_CASES = [  # (n, batch_size, shuffle, seed)
    (10, 3, False, None),
    (12, 4, False, None),
    (10, 3, True, 0),
    (17, 5, True, 1),
    (64, 16, True, 2),
    (5, 8, True, 3),
]


def _describe(n: int, batch_size: int, shuffle: bool, seed: int | None) -> str:
    rng = "None" if seed is None else f"tl.Generator().manual_seed({seed})"
    return f"batches(n={n}, batch_size={batch_size}, shuffle={shuffle}, rng={rng})"


@exercise(
    "1.7.1",
    "batches",
    reference=_batches,
    signature="batches(n, batch_size, shuffle, rng)",
    prompt="Return one epoch of a DataLoader's index batches, as a list of integer arrays: the indices "
    "0..n-1 in order, or in the order rng.permutation(n) when shuffle is true (rng is a tl.Generator), "
    "cut into consecutive batches of batch_size; the last batch may be shorter.",
)
def _check_batches(fn: Callable[..., Any]) -> None:
    for n, batch_size, shuffle, seed in _BATCH_CASES:
        call = _describe(n, batch_size, shuffle, seed)
        mine = None if seed is None else Generator().manual_seed(seed)
        theirs = None if seed is None else Generator().manual_seed(seed)
        for epoch in (1, 2):  # the second call with the same rng must draw a new order, as a loader does
            got = fn(n, batch_size, shuffle, mine)
            if got is None:
                raise ExerciseFailure(f"{call}: your function returned None (a `return` is missing?)")
            got = [np.asarray(b) for b in got]
            want = _batches(n, batch_size, shuffle, theirs)
            where = f"{call}, call {epoch}" if shuffle else call
            if len(got) != len(want):
                raise ExerciseFailure(
                    f"{where}: expected {len(want)} batches (sizes {[len(b) for b in want]}), got {len(got)} "
                    f"(sizes {[len(b) for b in got]})"
                )
            for i, (g, w) in enumerate(zip(got, want, strict=True)):
                if g.shape != w.shape or not np.array_equal(g, w):
                    raise ExerciseFailure(
                        f"{where}: batch {i}: expected indices {w.tolist()}, got {g.tolist()}"
                        + (" (draw the order with rng.permutation(n))" if shuffle else "")
                    )


# ------------------------------------------------------------------------------------------------
# 1.7.2 cosine_lr, warmup_cosine_lr
# ------------------------------------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    if value is None:
        raise ExerciseFailure(f"{what}: your function returned None (a `return` is missing?)")
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise ExerciseFailure(f"{what}: expected one number, got {value!r}") from None


@exercise(
    "1.7.2",
    "cosine_lr",
    reference=_cosine_lr,
    signature="cosine_lr(step, total, lr_max, lr_min)",
    prompt="The learning rate of cosine annealing at step `step` (0, 1, ..., total): "
    "lr_min + (lr_max - lr_min) * (1 + cos(pi * step / total)) / 2.",
)
def _check_cosine_lr(fn: Callable[..., Any]) -> None:
    for total, lr_max, lr_min in [(10, 0.1, 0.0), (25, 1.0, 0.05), (7, 3e-4, 1e-5)]:
        for step in range(total + 1):
            call = f"cosine_lr(step={step}, total={total}, lr_max={lr_max}, lr_min={lr_min})"
            got = _number(fn(step, total, lr_max, lr_min), call)
            expect_close(got, _cosine_lr(step, total, lr_max, lr_min), call, rtol=1e-6, atol=1e-12)


@exercise(
    "1.7.2",
    "warmup_cosine_lr",
    reference=_warmup_cosine_lr,
    signature="warmup_cosine_lr(step, warmup, total, lr_max, lr_min, start_factor)",
    prompt="The learning rate at step `step` of a linear warm-up then cosine annealing: for step < warmup, "
    "lr_max * (start_factor + (1 - start_factor) * step / warmup); from step = warmup on, cosine annealing "
    "from lr_max to lr_min over the remaining total - warmup steps.",
)
def _check_warmup_cosine_lr(fn: Callable[..., Any]) -> None:
    for warmup, total, lr_max, lr_min, start in [
        (5, 20, 0.1, 0.0, 0.01),
        (3, 12, 1.0, 0.1, 0.25),
        (1, 6, 0.5, 0.0, 0.1),
    ]:
        for step in range(total + 1):
            call = (
                f"warmup_cosine_lr(step={step}, warmup={warmup}, total={total}, lr_max={lr_max}, "
                f"lr_min={lr_min}, start_factor={start})"
            )
            got = _number(fn(step, warmup, total, lr_max, lr_min, start), call)
            want = _warmup_cosine_lr(step, warmup, total, lr_max, lr_min, start)
            expect_close(got, want, call, rtol=1e-6, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# 1.7.3 clip_grad_norm
# ------------------------------------------------------------------------------------------------


def _clip_cases() -> list[tuple[list[np.ndarray], float]]:
    rng = np.random.default_rng(17)
    a, b, c = rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=(2, 2, 2))
    return [
        ([a, b, c], 1.0),  # clipped: the global norm is about 5
        ([3.0 * a, 0.01 * b], 2.0),  # one big, one tiny: the tiny one shrinks with the big one
        ([a, b, c], 100.0),  # under the limit: nothing changes
        ([np.array([3.0, 4.0])], 1.0),  # one vector of norm 5
        ([np.array([[0.3]]), np.array([-0.4, 0.0])], 0.25),
    ]


@exercise(
    "1.7.3",
    "clip_grad_norm",
    reference=_clip_grad_norm,
    signature="clip_grad_norm(grads, max_norm)",
    prompt="Clip a list of gradient arrays by their global L2 norm: total = sqrt(sum of all squared "
    "entries of all arrays); if total > max_norm, multiply every array by max_norm / total. Return "
    "(the list of clipped arrays, total), total measured before clipping.",
)
def _check_clip_grad_norm(fn: Callable[..., Any]) -> None:
    for grads, max_norm in _clip_cases():
        shapes = [g.shape for g in grads]
        call = f"clip_grad_norm(grads of shapes {shapes}, max_norm={max_norm})"
        got = fn([g.copy() for g in grads], max_norm)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise ExerciseFailure(f"{call} must return a pair (clipped_grads, total_norm), got {got!r}")
        clipped, total = got
        want_clipped, want_total = _clip_grad_norm(grads, max_norm)
        expect_close(
            _number(total, f"{call}: total norm"), want_total, f"{call}: the total norm (before clipping)"
        )
        if clipped is None or len(clipped) != len(grads):
            raise ExerciseFailure(f"{call}: expected a list of {len(grads)} clipped arrays, got {clipped!r}")
        for i, (g, w) in enumerate(zip(clipped, want_clipped, strict=True)):
            expect_close(g, w, f"{call}: clipped array {i} (shape {w.shape})", rtol=1e-5, atol=1e-9)

"""Loss functions, each as a function (re-exported by ``tinylearn.nn.functional``) and as a module.

``reduction`` turns the per-element losses ℓ into the result: ``"mean"`` (the default),
``"sum"`` or ``"none"`` (ℓ itself). Every loss stays finite, with finite gradients, at extreme
inputs (logits of ±1e4): the logarithms are taken of quantities that cannot underflow
(``log_softmax``, log σ(x) = −log(1 + e⁻ˣ)), and probabilities are floored at log = −100 as PyTorch
does.

Regression: ``mse_loss`` (x − y)², ``l1_loss`` |x − y|, ``huber_loss`` (quadratic near 0, linear beyond
``delta``). Classification over C classes: ``cross_entropy`` (on logits), ``nll_loss`` (on
log-probabilities), ``binary_cross_entropy`` (on probabilities) and
``binary_cross_entropy_with_logits`` (on logits).
"""

from __future__ import annotations

import warnings

from ..ops import log_softmax, where
from ..ops.loss import CrossEntropy
from ..tensor import Tensor
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
]  # fmt: skip


def _check_reduction(who: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"{who}: {reduction!r} is not a valid value for reduction; use 'mean', 'sum' or 'none'"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _warn_broadcast(who: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"{who}: using a target of shape {tuple(target.shape)} that is different to the input's shape "
            f"{tuple(input.shape)}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same shape.",
            stacklevel=3,
        )


# --------------------------------------------------------------------------- regression


def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Mean squared error: ℓ = (x − y)²."""
    _check_reduction("mse_loss", reduction)
    _warn_broadcast("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Mean absolute error: ℓ = |x − y| (gradient sign(x − y), 0 where x = y)."""
    _check_reduction("l1_loss", reduction)
    _warn_broadcast("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss, with d = x − y: ℓ = ½d² where |d| < delta, delta·(|d| − ½·delta) beyond —
    squared error near the target, absolute error (robust to outliers) far from it."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    _warn_broadcast("huber_loss", input, target)
    diff = input - target
    size = diff.abs()
    return _reduce(where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta)), reduction)


# --------------------------------------------------------------------------- classification


def _check_weight(who: str, weight: Tensor | None, classes: int) -> None:
    if weight is not None and tuple(weight.shape) != (classes,):
        raise RuntimeError(
            f"{who}: weight must hold one value per class, shape ({classes},), got {tuple(weight.shape)}"
        )


def _class_terms(
    who: str,
    logp: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    *,
    label_smoothing: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """Per-position losses of log-probabilities ``logp`` (N, C, *) for class indices ``target``
    (N, *), and the weight w[yᵢ] of each position's target (0 where ``target == ignore_index``):

        ℓᵢ = −(1 − ε)·w[yᵢ]·log pᵢ[yᵢ]  −  (ε/C)·Σ_c w_c·log pᵢ[c]

    i.e. (1 − ε)·NLL + ε·(the cross-entropy with the uniform distribution), ε = ``label_smoothing``
    (0 for ``nll_loss``); both terms are 0 at ignored positions.
    """
    classes = logp.shape[1]
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        raise TypeError(
            f"{who}: expected class indices as an integer (int64) target, got "
            f"{getattr(target, 'dtype', type(target).__name__)}"
        )
    expected = (logp.shape[0], *logp.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{who}: an input of shape {tuple(logp.shape)} (N, C, ...) needs a target of class indices "
            f"of shape {expected}, got {tuple(target.shape)}"
        )
    _check_weight(who, weight, classes)
    ignored = target == ignore_index
    safe = where(ignored, 0, target)  # ignored positions read class 0, then count with weight 0
    bad = (safe < 0) | (safe >= classes)
    if bad.any():
        raise IndexError(
            f"{who}: target {int(safe.data[bad.data].reshape(-1)[0])} is out of bounds for {classes} classes "
            f"(valid targets are 0..{classes - 1}, or ignore_index={ignore_index})"
        )
    keep = (~ignored).to(logp.dtype)
    w = keep if weight is None else weight[safe] * keep
    loss = -logp.gather(1, safe.unsqueeze(1)).squeeze(1) * w
    if label_smoothing:
        all_classes = logp if weight is None else logp * weight.reshape((1, classes) + (1,) * (logp.ndim - 2))
        loss = (1 - label_smoothing) * loss - (label_smoothing / classes) * all_classes.sum(1) * keep
    return loss, w


def _reduce_weighted(loss: Tensor, weights: Tensor, reduction: str) -> Tensor:
    """``"mean"`` divides by the summed target weights (the number of non-ignored targets when
    unweighted), as PyTorch; NaN when every target is ignored."""
    if reduction != "mean":
        return _reduce(loss, reduction)
    total = weights.sum()
    return loss.sum() / where(total == 0, float("nan"), total)


def _unbatched(who: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """An unbatched input (C,) becomes (1, C), its target (1,) or (1, C); others pass through."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{who}: target must be a Tensor, got {type(target).__name__}")
    if input.ndim == 0:
        raise ValueError(f"{who}: expected an input of shape (C,) or (N, C, ...), got a 0-dim tensor")
    if input.ndim > 1:
        return input, target, False
    return input.unsqueeze(0), target.unsqueeze(0), True


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C, *) or (C,) at the class
    indices ``target`` (N, *) or (): ℓᵢ = −w[yᵢ]·input[i, yᵢ]. ``"mean"`` divides by Σᵢ w[yᵢ]
    over the targets not equal to ``ignore_index``."""
    _check_reduction("nll_loss", reduction)
    logp, target, unbatched = _unbatched("nll_loss", input, target)
    loss, w = _class_terms("nll_loss", logp, target, weight, ignore_index)
    return _reduce_weighted(loss.squeeze(0) if unbatched else loss, w, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between softmax(``input``) over dim 1 and the target, from logits
    ``input`` (N, C, *) or (C,).

    * Class indices (integer ``target`` of shape (N, *)): ℓᵢ = −w[yᵢ]·log softmax(xᵢ)[yᵢ] (with
      ``label_smoothing`` ε, mixed with the uniform target: see ``_class_terms``); positions with
      ``ignore_index`` count 0, and ``"mean"`` divides by the sum of the targets' weights.
    * Class probabilities (floating ``target`` of the input's shape):
      ℓᵢ = −Σ_c w_c·p_ic·log softmax(xᵢ)_c, with p smoothed to (1 − ε)·p + ε/C; ``"mean"``
      divides by the number of positions N·d₁·….

    Stable for any logits (``log_softmax`` subtracts the max).
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    x, t, unbatched = _unbatched("cross_entropy", input, target)
    if (
        x.ndim == 2 and not unbatched and weight is None and not label_smoothing and reduction != "none"
        and x.is_floating_point() and target.dtype.kind in "iu" and tuple(t.shape) == (x.shape[0],)
    ):  # fmt: skip
        # the common case in one node, the same arithmetic (tinylearn/ops/loss.py)
        return CrossEntropy.apply(x, t, ignore_index=ignore_index, reduction=reduction)
    classes = x.shape[1]
    logp = log_softmax(x, 1)
    if not target.is_floating_point():
        loss, w = _class_terms(
            "cross_entropy", logp, t, weight, ignore_index, label_smoothing=label_smoothing
        )
        return _reduce_weighted(loss.squeeze(0) if unbatched else loss, w, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"cross_entropy: a floating target holds class probabilities and must have the input's shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)} (class indices must be an integer tensor)"
        )
    if ignore_index >= 0:
        raise ValueError("cross_entropy: ignore_index is not supported for class-probability targets")
    _check_weight("cross_entropy", weight, classes)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / classes
    terms = logp * t
    if weight is not None:
        terms = terms * weight.reshape((1, classes) + (1,) * (x.ndim - 2))
    loss = -terms.sum(1)
    return _reduce(loss.squeeze(0) if unbatched else loss, reduction)


def _check_binary_target(who: str, input: Tensor, target: Tensor) -> None:
    if not isinstance(target, Tensor) or not target.is_floating_point():
        raise TypeError(
            f"{who}: target must be a floating tensor of labels (0./1.) or probabilities, got "
            f"{getattr(target, 'dtype', type(target).__name__)}; convert it with target.float()"
        )
    if target.shape != input.shape:
        raise ValueError(
            f"{who}: target of shape {tuple(target.shape)} must have the input's shape {tuple(input.shape)} "
            "(e.g. squeeze the input's last dimension or reshape the target)"
        )


def _log_floored(x: Tensor) -> Tensor:
    """log x, floored at −100 as PyTorch's BCE does, finite (and warning-free) at x = 0."""
    positive = x > 0
    return where(positive, where(positive, x, 1.0).log(), -100.0).clamp(min=-100.0)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, *, reduction: str = "mean"
) -> Tensor:
    """BCE of probabilities ``input`` in [0, 1] against targets y of the same shape:
    ℓ = −w·(y·log x + (1 − y)·log(1 − x)), each log floored at −100 (so x = 0 or 1 stays finite).
    On logits use :func:`binary_cross_entropy_with_logits`: more accurate and stable."""
    _check_reduction("binary_cross_entropy", reduction)
    _check_binary_target("binary_cross_entropy", input, target)
    if input.numel() and bool(((input.data < 0) | (input.data > 1)).any()):
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (it takes probabilities: "
            "apply sigmoid first, or use binary_cross_entropy_with_logits on logits)"
        )
    loss = -(target * _log_floored(input) + (1 - target) * _log_floored(1 - input))
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """BCE of σ(x) for logits x, computed without forming σ(x):

        ℓ = −w·(p·y·log σ(x) + (1 − y)·log(1 − σ(x))) = w·((1 − y)·x − (1 + (p − 1)·y)·log σ(x))

    using log(1 − σ(x)) = log σ(x) − x and a log σ that is exact at any x. ``pos_weight`` p
    (broadcast along the last dimension, one per class) weighs the positive examples.
    """
    from .functional import logsigmoid

    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_binary_target("binary_cross_entropy_with_logits", input, target)
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input - log_weight * logsigmoid(input)
    return _reduce(loss if weight is None else loss * weight, reduction)


# --------------------------------------------------------------------------- as modules


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with per-class ``weight``, kept as a buffer (so it moves with ``.to()`` and is saved)."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """:func:`mse_loss` as a module: ``nn.MSELoss()(prediction, target)``."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """:func:`l1_loss` as a module."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """:func:`huber_loss` as a module."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class NLLLoss(_WeightedLoss):
    """:func:`nll_loss` as a module (put a ``LogSoftmax(dim=1)`` before it)."""

    def __init__(
        self, weight: Tensor | None = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """:func:`cross_entropy` as a module: logits (N, C, *) and class indices or probabilities."""

    def __init__(
        self,
        weight: Tensor | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_WeightedLoss):
    """:func:`binary_cross_entropy` as a module (on probabilities)."""

    def __init__(self, weight: Tensor | None = None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """:func:`binary_cross_entropy_with_logits` as a module (on logits)."""

    def __init__(
        self, weight: Tensor | None = None, *, reduction: str = "mean", pos_weight: Tensor | None = None
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )

"""L1 and L2 penalties on weights, to add to a loss (curriculum 1.5).

    loss = data_loss + λ₁·l1_penalty(model.parameters()) + λ₂·l2_penalty(model.parameters())

The L2 penalty Σw² pulls every weight towards 0 in proportion to its size (its gradient is 2w:
"weight decay"); the L1 penalty Σ|w| pulls with constant force sign(w), which drives small
weights to exactly 0 (sparsity). Both are differentiable tensors built from engine ops.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor, tensor
from .module import Module

__all__ = ["l1_penalty", "l2_penalty"]


def _total(parameters: Iterable[Tensor] | Module, term) -> Tensor:
    params = parameters.parameters() if isinstance(parameters, Module) else parameters
    total = None
    for p in params:
        total = term(p) if total is None else total + term(p)
    return tensor(0.0) if total is None else total


def l1_penalty(parameters: Iterable[Tensor] | Module) -> Tensor:
    """Σ |w| over every element of every tensor in ``parameters`` (or of a module's parameters)."""
    return _total(parameters, lambda p: p.abs().sum())


def l2_penalty(parameters: Iterable[Tensor] | Module) -> Tensor:
    """Σ w² over every element of every tensor in ``parameters`` (no ½: that is the caller's choice)."""
    return _total(parameters, lambda p: (p * p).sum())

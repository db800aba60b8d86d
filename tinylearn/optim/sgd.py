"""Stochastic gradient descent, with momentum and Nesterov momentum (curriculum 1.4.1-1.4.3)."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_hyperparameter, regularized_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Gradient descent: step against the gradient, optionally with a velocity that remembers past steps.

    One step for a parameter θ with gradient g = ∇L, learning rate α, momentum β, dampening τ, weight
    decay λ (each line is one line of ``_update``)::

        g ← −g                    if maximize (climb the objective instead)
        g ← g + λθ                weight decay: the gradient of the L2 penalty λ/2·‖θ‖²
        v ← g                     first step with momentum: the velocity starts at the gradient
        v ← βv + (1 − τ)g         later steps; τ = 0 is the curriculum's v = βv + ∇L (1.4.2)
        g ← g + βv                Nesterov (1.4.3): look ahead along the velocity
        g ← v                     plain momentum
        θ ← θ − αg                the step (1.4.1: θ = θ − α∇L when β = 0)

    The state of each parameter is its velocity ``"momentum_buffer"`` (when β ≠ 0).

    Example::

        opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("momentum value", momentum)
        check_hyperparameter("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, theta, g, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, beta, tau = group["lr"], group["momentum"], group["dampening"]
        g = regularized_grad(theta, g, group)  # g ← ±g + λθ
        if beta != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = Tensor._make(g.copy())  # v ← g
            else:
                v = state["momentum_buffer"].data
                v *= beta
                v += (1 - tau) * g  # v ← βv + (1 − τ)g
            v = state["momentum_buffer"].data
            g = g + beta * v if group["nesterov"] else v
        theta -= lr * g  # θ ← θ − αg

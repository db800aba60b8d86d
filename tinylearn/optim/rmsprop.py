"""RMSprop: AdaGrad with a moving average in place of the sum (curriculum 1.4.5)."""

from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer, ParamsT, buffer, check_hyperparameter, regularized_grad

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""Divide each coordinate's step by the root of a moving average of its squared gradients.

    Old gradients fade with the decay ρ (PyTorch's ``alpha``), so the step size stops shrinking once the
    gradients do. One step, with learning rate α, momentum μ and weight decay λ::

        g ← ±g + λθ
        s ← ρs + (1 − ρ)g²                moving average of g² ("square_avg")
        ḡ ← ρḡ + (1 − ρ)g                 centered only: moving average of g ("grad_avg")
        d ← √(s − ḡ²) + ε  if centered    (an estimate of the variance of g) else  d ← √s + ε
        b ← μb + g/d,  θ ← θ − αb         with momentum μ > 0 ("momentum_buffer")
        θ ← θ − α·g/d                     without

    The state of each parameter: ``"step"`` and the buffers named above.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("epsilon value", eps)
        check_hyperparameter("momentum value", momentum)
        check_hyperparameter("weight_decay value", weight_decay)
        check_hyperparameter("alpha value", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "maximize": maximize}  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, theta, g, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = get_array_module(theta)
        lr, rho, mu, eps = group["lr"], group["alpha"], group["momentum"], group["eps"]
        g = regularized_grad(theta, g, group)  # g ← ±g + λθ
        state["step"] = state.get("step", 0) + 1
        s = buffer(state, "square_avg", theta)
        s *= rho
        s += (1 - rho) * g * g  # s ← ρs + (1 − ρ)g²
        if group["centered"]:
            g_avg = buffer(state, "grad_avg", theta)
            g_avg += (1 - rho) * (g - g_avg)  # ḡ ← ρḡ + (1 − ρ)g
            d = xp.sqrt(s - g_avg * g_avg) + eps  # d ← √(s − ḡ²) + ε
        else:
            d = xp.sqrt(s) + eps  # d ← √s + ε
        if mu > 0:
            b = buffer(state, "momentum_buffer", theta)
            b *= mu
            b += g / d  # b ← μb + g/d
            theta -= lr * b  # θ ← θ − αb
        else:
            theta -= lr * (g / d)  # θ ← θ − α·g/d

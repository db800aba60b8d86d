"""Adam and AdamW: momentum and RMSprop together, with bias correction (curriculum 1.4.6-1.4.7)."""

from __future__ import annotations

import math
from typing import Any

from .. import kernels
from ..backend import get_array_module
from .optimizer import Optimizer, ParamsT, buffer, check_hyperparameter, regularized_grad

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Step along a moving average of the gradient, scaled per coordinate by a moving average of its square.

    One step, for t = 1, 2, … with learning rate α, betas (β₁, β₂), weight decay λ::

        g ← ±g + λθ                         (Adam's weight decay: L2, folded into the gradient)
        θ ← θ(1 − αλ)                        (AdamW's instead: decoupled, see :class:`AdamW`)
        m ← β₁m + (1 − β₁)g                  first moment ("exp_avg")
        v ← β₂v + (1 − β₂)g²                 second moment ("exp_avg_sq")
        v ← max(v_max, v)                    amsgrad only: the largest v so far ("max_exp_avg_sq")
        θ ← θ − α·m̂ / (√v̂ + ε)              with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ): bias correction

    m and v start at 0, so early on they underestimate; dividing by 1 − βᵗ undoes that. The code computes
    the last line as PyTorch does, θ ← θ − α/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε): the same formula.

    The state of each parameter: ``"step"`` t and the moments named above.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("epsilon value", eps)
        check_hyperparameter("beta parameter at index 0", betas[0], high=1.0)
        check_hyperparameter("beta parameter at index 1", betas[1], high=1.0)
        check_hyperparameter("weight_decay value", weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}  # fmt: skip
        super().__init__(params, defaults)

    def _update(self, theta, g, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = get_array_module(theta)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if group["decoupled_weight_decay"]:
            theta *= 1 - lr * group["weight_decay"]  # θ ← θ(1 − αλ)
            g = -g if group["maximize"] else g
        else:
            g = regularized_grad(theta, g, group)  # g ← ±g + λθ
        t = state["step"] = state.get("step", 0) + 1
        m, v = buffer(state, "exp_avg", theta), buffer(state, "exp_avg_sq", theta)
        step_size, bias_correction2_sqrt = lr / (1 - beta1**t), math.sqrt(1 - beta2**t)
        if not group["amsgrad"]:  # the same lines as below, fused into one pass (tinylearn.kernels)
            kernels.adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps)
            return
        m += (1 - beta1) * (g - m)  # m ← β₁m + (1 − β₁)g, written m + (1 − β₁)(g − m)
        v *= beta2
        v += (1 - beta2) * g * g  # v ← β₂v + (1 − β₂)g²
        v_max = buffer(state, "max_exp_avg_sq", theta)
        v = xp.maximum(v_max, v, out=v_max)  # amsgrad: v ← max(v_max, v)
        denom = xp.sqrt(v) / bias_correction2_sqrt + eps  # √v̂ + ε
        theta -= step_size * (m / denom)  # θ ← θ − α·m̂/(√v̂ + ε)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019): the default for transformers.

    Adam's ``weight_decay`` adds λθ to the gradient, which then goes through the adaptive scaling: a
    coordinate with large gradients is barely decayed. AdamW shrinks the weights directly instead,
    θ ← θ(1 − αλ), before the Adam step, so every weight decays at the same rate, as plain L2
    regularization would under SGD. The rest of the step is :class:`Adam`'s; λ defaults to 0.01.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )

"""AdaGrad: a learning rate per coordinate, shrinking with the gradients seen so far (curriculum 1.4.4)."""

from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from .optimizer import Optimizer, ParamsT, buffer, check_hyperparameter, regularized_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Divide each coordinate's step by the root of the sum of its squared gradients.

    Coordinates with large or frequent gradients take small steps, rare ones large steps. The sum only
    grows, so every step size decays towards zero: the problem RMSprop fixes. One step, for t = 1, 2, …
    with learning rate α, learning-rate decay η, weight decay λ::

        g ← ±g + λθ               maximize flips the sign; λθ is the L2 penalty's gradient
        αₜ ← α / (1 + (t − 1)η)
        G ← G + g²                G starts at initial_accumulator_value
        θ ← θ − αₜ · g / (√G + ε)

    The state of each parameter (created with the optimizer, as in PyTorch): ``"step"`` t and ``"sum"`` G.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("lr_decay value", lr_decay)
        check_hyperparameter("weight_decay value", weight_decay)
        check_hyperparameter("initial_accumulator_value value", initial_accumulator_value)
        check_hyperparameter("epsilon value", eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize}  # fmt: skip
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p]["step"] = 0
            buffer(self.state[p], "sum", p.data, group["initial_accumulator_value"])

    def _update(self, theta, g, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = get_array_module(theta)
        g = regularized_grad(theta, g, group)  # g ← ±g + λθ
        state["step"] += 1
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])  # αₜ
        G = state["sum"].data
        G += g * g  # G ← G + g²
        theta -= lr_t * (g / (xp.sqrt(G) + group["eps"]))  # θ ← θ − αₜ·g/(√G + ε)

"""The optimizer protocol that SGD, Adagrad, RMSprop, Adam and AdamW share.

An optimizer holds the parameters in *parameter groups*, each a dict with its own hyperparameters
(``{"params": [...], "lr": 0.1, ...}``; a key a group leaves out takes the optimizer's default), and a
*state* per parameter: momentum buffers, moment estimates, step counts.

``step()`` visits every parameter that has a gradient and applies the subclass's update rule,
``_update(theta, g, state, group)``, to the raw arrays: ``theta`` is the parameter's array, updated in
place; ``g`` its gradient's array, only read. No graph is recorded (an update is not part of the model),
and the parameter's version counter moves as for any in-place op, so a graph that saved the old value
refuses to backward through it.

``state_dict()`` has PyTorch's structure, with every parameter replaced by its index in the order of
the groups::

    {"state": {0: {"step": 3, "exp_avg": tensor(...), "exp_avg_sq": tensor(...)}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

One difference: ``"step"`` is a Python int here, where PyTorch keeps a 0-dim float tensor (both load).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["Optimizer", "ParamsT"]

# What an optimizer is built from: the parameters, or a list of parameter-group dicts.
ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state, ``step``, ``zero_grad`` and
    ``state_dict``. A subclass passes its hyperparameter defaults and writes ``_update``."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a Tensor (wrap it in a list: [tensor])"
            )
        _check_ordered(params)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with hyperparameters of its own (the rest take the defaults): a
        backbone and a head at different learning rates, or layers unfrozen later in fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = _check_ordered(param_group["params"])
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError("optimizer got a parameter group with the same parameter twice")
        if any(id(p) in ids for group in self.param_groups for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {"params": params} | {k: v for k, v in param_group.items() if k != "params"}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next backward: ``p.grad = None`` (the default, which frees
        the memory), or fill them with zeros when ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.data[...] = 0
                    p.grad._version[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place. ``closure``, if given, recomputes and
        returns the loss (with gradients enabled) before the update; its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p.data, p.grad.data, self.state[p], group)
                    p._version[0] += 1
        return loss

    def _update(self, theta, g, state: dict[str, Any], group: dict[str, Any]) -> None:
        """The update rule: change the array ``theta`` in place, given its gradient ``g`` (read only)."""
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    # ------------------------------------------------------------------ saving and loading
    def state_dict(self) -> dict[str, Any]:
        """The hyperparameters and state, with parameters replaced by their index (see the module doc).
        The state's tensors are shared, not copied: save or deep-copy the dict to keep a snapshot."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (of an optimizer built over
        parameters of the same shapes, in the same groups). State tensors are copied, cast to each
        parameter's dtype and moved to its device; the groups' hyperparameters replace the current ones."""
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved)} parameter groups, but the optimizer has "
                f"{len(self.param_groups)}"
            )
        params: dict[int, Tensor] = {}
        for i, (group, old) in enumerate(zip(self.param_groups, saved, strict=True)):
            if len(old["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(old['params'])} parameters in the state dict "
                    f"but {len(group['params'])} in the optimizer"
                )
            params.update(zip(old["params"], group["params"], strict=True))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for i, entries in state_dict["state"].items():
            if i not in params:
                raise ValueError(
                    f"loaded state dict has state for parameter {i}, which no parameter group lists"
                )
            state[params[i]] = {key: _load_value(params[i], i, key, value) for key, value in entries.items()}
        for group, old in zip(self.param_groups, saved, strict=True):
            group.update({k: copy.deepcopy(v) for k, v in old.items() if k != "params"})
        self.state = state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"


def _check_ordered(params: Any) -> Any:
    if isinstance(params, set):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the ordering of "
            "tensors in sets will change between runs. Please use a list instead."
        )
    return params


def _load_value(p: Tensor, index: int, key: str, value: Any) -> Any:
    """One saved state entry, made ready for parameter ``p``: a tensor is copied to ``p``'s device (and
    dtype, when floating), after checking its shape; ``step`` becomes an int; anything else is copied."""
    if key == "step":
        return int(value.item() if hasattr(value, "item") else value)
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if value.ndim and value.shape != p.shape:
        raise ValueError(
            f"loaded state dict: state {key!r} of parameter {index} has shape {tuple(value.shape)}, "
            f"but the parameter has shape {tuple(p.shape)}"
        )
    value = value.detach().to(device=p.device, dtype=p.dtype if value.is_floating_point() else None)
    return Tensor._make(value.data.copy())


# --------------------------------------------------------------------------- helpers of the update rules


def check_hyperparameter(name: str, value: float, low: float = 0.0, high: float | None = None) -> None:
    """Raise ``ValueError("Invalid <name>: <value>")`` unless ``low <= value`` (and ``value < high``)."""
    if not (low <= value and (high is None or value < high)):
        raise ValueError(f"Invalid {name}: {value}")


def buffer(state: dict[str, Any], name: str, theta, fill: float = 0.0):
    """The array of state entry ``name``, created on first use as a tensor like ``theta`` full of ``fill``."""
    if name not in state:
        state[name] = Tensor._make(get_array_module(theta).full_like(theta, fill))
    return state[name].data


def regularized_grad(theta, g, group: dict[str, Any]):
    """The gradient an update rule follows: ``-g`` when maximizing, plus ``λθ`` for weight decay λ (the
    gradient of the L2 penalty ``λ/2·‖θ‖²``). Returns a new array, or ``g`` itself when both are off."""
    if group["maximize"]:
        g = -g
    if group["weight_decay"] != 0:
        g = g + group["weight_decay"] * theta
    return g

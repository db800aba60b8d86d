"""Mixed precision (curriculum 1.7.4): float16 where it is fast, float32 where it must be exact.

float16 halves memory traffic and runs matrix products on a GPU's tensor cores several times faster,
but it holds only about 3 significant digits, its largest value is 65504 and anything below 6·10⁻⁸
becomes 0. Mixed-precision training therefore splits the work:

* :class:`autocast` runs the matmul-heavy ops (``matmul`` / ``@``, ``einsum``, ``linear``, the
  convolutions, and the layers built on them) in float16, casting their float32 inputs on the way
  in; the parameters themselves stay float32 (the *master weights*). The cast is a differentiable
  ``.to()``, so gradients flow back through it and arrive in float32.
* :class:`GradScaler` multiplies the loss by a large scale S before ``backward()``, so the small
  gradients of the float16 ops do not underflow to zero, and divides them by S again before the
  optimizer step. When S was too large, some gradient overflows to inf or NaN: the step is then
  skipped and S halved; after ``growth_interval`` good steps in a row, S doubles.

A training step::

    scaler = GradScaler()
    for x, y in loader:
        optimizer.zero_grad()
        with autocast():
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)   # optional: to clip the true gradients
        clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)       # skipped when a gradient is inf or NaN
        scaler.update()              # adapt S

PyTorch's names and semantics (``torch.autocast``, ``torch.amp.GradScaler``). As in PyTorch, autocast
leaves float64 inputs alone, and it only affects tensors on the device type it was opened for.
"""

from __future__ import annotations

import contextlib
from enum import Enum
from typing import Any

import numpy as np

from . import dtypes
from .backend import get_array_module
from .tensor import Tensor

__all__ = ["GradScaler", "autocast", "get_autocast_dtype", "is_autocast_enabled"]

# --------------------------------------------------------------------------- autocast

# The dtype matmul-heavy ops run in, per device type, for the device types autocast is on for.
_autocast_dtypes: dict[str, np.dtype] = {}


class autocast(contextlib.ContextDecorator):  # PyTorch's lower-case name
    """Inside ``with autocast():`` (or a function decorated with ``@autocast()``), ``matmul``, ``@``,
    ``einsum``, ``linear`` and the convolutions (``conv1d``, ``conv2d``, ``conv_transpose2d``) on
    tensors of ``device_type`` compute in ``dtype`` (float16 by default). A float32 bias of ``linear``
    or a convolution is added after the float16 product, so the layer's result is float32.

    ``enabled=False`` switches autocast off inside an autocast region (e.g. for a part that needs
    float32). Regions nest; leaving one restores the state before it.
    """

    def __init__(self, device_type: str = "cpu", dtype: Any = None, enabled: bool = True) -> None:
        if device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"User specified an unsupported autocast device_type {device_type!r}")
        self.device_type = device_type
        self.fast_dtype = dtypes.float16 if dtype is None else dtypes.as_dtype(dtype)
        if self.fast_dtype.kind != "f":
            raise ValueError(f"autocast: dtype must be a floating dtype, got {self.fast_dtype}")
        self.enabled = enabled
        self._outer: list[np.dtype | None] = []  # the state each (possibly nested) entry replaced

    def __enter__(self) -> autocast:
        self._outer.append(_autocast_dtypes.get(self.device_type))
        _set(self.device_type, self.fast_dtype if self.enabled else None)
        return self

    def __exit__(self, *exc: object) -> None:
        _set(self.device_type, self._outer.pop())


def _set(device_type: str, dtype: np.dtype | None) -> None:
    if dtype is None:
        _autocast_dtypes.pop(device_type, None)
    else:
        _autocast_dtypes[device_type] = dtype


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (``"cpu"`` or ``"cuda"``), or for any device type."""
    return bool(_autocast_dtypes) if device_type is None else device_type in _autocast_dtypes


def get_autocast_dtype(device_type: str) -> np.dtype:
    """The dtype autocast computes in on ``device_type`` (float16 when it is off)."""
    return _autocast_dtypes.get(device_type, dtypes.float16)


def autocast_inputs(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The hook the matmul-heavy ops call on their inputs: inside autocast, cast float16/float32 tensors
    to the autocast dtype (with a differentiable ``.to()``); otherwise return them unchanged."""
    if not _autocast_dtypes:
        return tensors
    dtype = _autocast_dtypes.get(tensors[0].device.type)
    if dtype is None:
        return tensors
    return tuple(t.to(dtype) if t.dtype.kind == "f" and t.dtype != dtypes.float64 else t for t in tensors)


# --------------------------------------------------------------------------- GradScaler


class _Stage(Enum):
    READY = 0  # gradients are still scaled
    UNSCALED = 1  # unscale_ ran (it may run once per optimizer and iteration)
    STEPPED = 2  # step ran; update() starts the next iteration


def _float32(x: float) -> float:
    """Round to float32, where PyTorch keeps the scale (inf past float32's largest value)."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


class GradScaler:
    """Dynamic loss scaling, with PyTorch's semantics (see the module docstring for a training step).

    * ``scale(loss)`` returns loss·S (S starts at ``init_scale``);
    * ``unscale_(optimizer)`` divides the gradients of its parameters by S, in place, and records
      whether any is inf or NaN; call it before inspecting or clipping gradients;
    * ``step(optimizer)`` unscales (unless done) and runs ``optimizer.step()`` only if all gradients
      were finite;
    * ``update()`` ends the iteration: S ← S·``backoff_factor`` if a step was skipped, otherwise, once
      ``growth_interval`` good iterations in a row have passed, S ← S·``growth_factor``.

    ``enabled=False`` makes every method a pass-through (one code path for both precisions). ``device``
    is accepted for PyTorch's signature ``GradScaler("cuda", ...)``; the scale follows the loss's device.
    """

    def __init__(
        self,
        device: str = "cpu",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        if enabled and growth_factor <= 1.0:
            raise ValueError("The growth factor must be > 1.0.")
        if enabled and backoff_factor >= 1.0:
            raise ValueError("The backoff factor must be < 1.0.")
        self._device, self._enabled = device, enabled
        self._init_scale, self._growth_factor = init_scale, growth_factor
        self._backoff_factor, self._growth_interval = backoff_factor, growth_interval
        self._scale: float | None = None  # set by the first scale()
        self._growth_tracker = 0  # good iterations in a row
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale S (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return _float32(self._init_scale) if self._scale is None else self._scale

    def scale(self, outputs: Any) -> Any:
        """``outputs``·S: a tensor, or each tensor of a (nested) list or tuple. The product is float32
        for a 0-dim float16 loss, as in PyTorch, so a scaled loss cannot overflow float16."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, list | tuple):
            return type(outputs)(self.scale(o) for o in outputs)
        if not isinstance(outputs, Tensor):
            raise ValueError(
                f"outputs must be a Tensor or an iterable of Tensors, got {type(outputs).__name__}"
            )
        if self._scale is None:
            self._scale = _float32(self._init_scale)
        xp = get_array_module(outputs.data)
        return outputs * Tensor._make(xp.asarray(self._scale, dtype=dtypes.float32))

    def _state(self, optimizer: Any, caller: str) -> dict[str, Any]:
        if self._scale is None:
            raise RuntimeError(
                f"Attempted {caller} but _scale is None. This may indicate your script did not use "
                "scaler.scale(loss or outputs) earlier in the iteration."
            )
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _Stage.READY, "found_inf": False})

    def unscale_(self, optimizer: Any) -> None:
        """Divide the gradients of ``optimizer``'s parameters by S in place, noting any inf or NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer, "unscale_")
        if state["stage"] is _Stage.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is _Stage.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = _float32(1.0 / self._scale)  # the reciprocal in float64, then rounded, as in PyTorch
        finite = []
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.dtype == dtypes.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                xp = get_array_module(p.grad.data)
                finite.append(xp.isfinite(p.grad.data).all())
                p.grad.data *= inv_scale
                p.grad._version[0] += 1
        state["found_inf"] = not all(bool(f) for f in finite)
        state["stage"] = _Stage.UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` on unscaled gradients, skipped when one of them is inf or NaN. Returns
        what ``optimizer.step`` returns, or None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer, "step")
        if state["stage"] is _Stage.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _Stage.READY:
            self.unscale_(optimizer)
        state["stage"] = _Stage.STEPPED
        return None if state["found_inf"] else optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """End the iteration: back off after an inf/NaN, grow after ``growth_interval`` good iterations
        (or set S to ``new_scale``)."""
        if not self._enabled:
            return
        if self._scale is None:
            raise RuntimeError(
                "Attempted update but _scale is None. This may indicate your script did not use "
                "scaler.scale(loss or outputs) earlier in the iteration."
            )
        if new_scale is not None:
            self._scale = _float32(float(new_scale))
        elif not self._per_optimizer:
            raise RuntimeError("No inf checks were recorded prior to update().")
        elif any(state["found_inf"] for state in self._per_optimizer.values()):
            self._scale = _float32(self._scale * self._backoff_factor)
            self._growth_tracker = 0
        elif self._growth_tracker + 1 == self._growth_interval:
            grown = _float32(self._scale * self._growth_factor)
            self._scale = grown if np.isfinite(grown) else self._scale
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
        self._per_optimizer = {}

    def state_dict(self) -> dict[str, Any]:
        """``{"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}`` (empty
        when disabled), as in PyTorch."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}  # fmt: skip

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance "
                "of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = _float32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

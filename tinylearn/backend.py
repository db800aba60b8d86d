"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every op runs through the array namespace of its inputs (``xp = get_array_module(x)``), so the
same code serves both devices. A tensor's device is read off its array's type; mixing devices
in one op is an error that names both.

CuPy is optional. Importing it can succeed on a machine with no GPU, so detection catches any
import error and then asks ``cupy.cuda.is_available()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType

import numpy as np

__all__ = ["Device", "cuda_is_available", "default_device", "device", "get_array_module"]


@dataclass(frozen=True)
class Device:
    """Where a tensor's memory lives: ``Device("cpu")`` or ``Device("cuda", 0)``."""

    type: str
    index: int | None = None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = Device("cpu")

# The CuPy module once it has been looked for: None = not yet looked, False = not available.
_cupy: ModuleType | bool | None = None


def _load_cupy() -> ModuleType | None:
    global _cupy
    if _cupy is None:
        try:
            import cupy

            _cupy = cupy if cupy.cuda.is_available() else False
        except Exception:  # ImportError, CUDA driver errors, missing libraries: all mean "no GPU"
            _cupy = False
    return _cupy or None


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _load_cupy() is not None


def device(spec: str | Device | None) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a :class:`Device`; check that it exists."""
    if spec is None:
        return default_device()
    if isinstance(spec, Device):
        dev = spec
    elif isinstance(spec, str):
        kind, colon, idx = spec.partition(":")
        if kind not in ("cpu", "cuda") or (colon and not idx.isdigit()) or (kind == "cpu" and colon):
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
        dev = Device(kind, int(idx) if idx else (0 if kind == "cuda" else None))
    else:
        raise TypeError(f"device: expected a string or Device, got {type(spec).__name__}")
    if dev.type == "cuda" and not cuda_is_available():
        raise RuntimeError(
            f"device {str(dev)!r} was requested but CUDA is not available: install the "
            "'cuda12' or 'cuda13' extra (CuPy) on a machine with an NVIDIA GPU, or use device='cpu'"
        )
    return dev


def default_device() -> Device:
    """The device new tensors go to: ``$TINYLEARN_DEVICE`` if set, else the CPU."""
    env = os.environ.get("TINYLEARN_DEVICE")
    return device(env) if env else CPU


def is_device_array(a) -> bool:
    """True for a CuPy array (False whenever CuPy is not available)."""
    cp = _load_cupy()
    return cp is not None and isinstance(a, cp.ndarray)


def array_device(a) -> Device:
    """The device an array lives on."""
    if isinstance(a, np.ndarray | np.generic):
        return CPU
    cp = _load_cupy()
    if cp is not None and isinstance(a, cp.ndarray):
        return Device("cuda", a.device.id)
    raise TypeError(f"expected a NumPy or CuPy array, got {type(a).__name__}")


def namespace(dev: Device) -> ModuleType:
    """The array module (``numpy`` or ``cupy``) that computes on ``dev``."""
    if dev.type == "cpu":
        return np
    cp = _load_cupy()
    if cp is None:
        device(dev)  # raises the clear "CUDA is not available" error
    return cp


def get_array_module(*arrays) -> ModuleType:
    """``numpy`` or ``cupy``, whichever the arrays belong to (non-arrays are ignored)."""
    cp = _load_cupy()
    if cp is not None:
        for a in arrays:
            if isinstance(a, cp.ndarray):
                return cp
    return np


def to_device(a, dev: Device):
    """Copy an array to ``dev`` (no copy when it is already there)."""
    if dev.type == "cpu":
        if isinstance(a, np.ndarray | np.generic):
            return a
        return _load_cupy().asnumpy(a)
    cp = namespace(dev)
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(a)

"""Data types and the rules for mixing them.

tinylearn's dtypes are NumPy's (``tinylearn.float32 is numpy.dtype("float32")``), under
PyTorch's names. Floats default to float32 (``set_default_dtype`` changes that).

Promotion (what ``a + b`` returns), as in PyTorch:

1. Order the categories ``bool < integer < floating``.
2. Among the tensor operands, the highest category wins; inside that category the widest
   dtype wins (``float16 + float32 -> float32``, ``int32 + int64 -> int64``), and a tensor of a
   lower category never widens it (``int64 + float16 -> float16``).
3. A Python scalar only matters when its category is higher than every tensor's: an integer
   tensor times ``2.5`` gives the default float dtype; a bool tensor plus ``1`` gives int64.
   Otherwise the tensor's dtype is kept (``float16_tensor * 3.0`` stays float16).
4. A 0-dim tensor sits between the two: it only matters when its category is higher than
   every dimensioned tensor's, and then its own dtype wins (``float32[3] + float64[]`` stays
   float32, ``int64[3] * float64[]`` is float64). Between 0-dim tensors alone, rule 2 applies.
"""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
uint8 = np.dtype("uint8")
int8 = np.dtype("int8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
bool = np.dtype("bool")

SUPPORTED = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
FLOATING = (float16, float32, float64)

_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and float creation functions produce (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (float16, float32 or float64) the default floating dtype."""
    global _default_float
    dt = as_dtype(dtype)
    if dt not in FLOATING:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dt}")
    _default_float = dt


def as_dtype(dtype) -> np.dtype:
    """Normalise ``dtype`` (a NumPy dtype, a type like ``float``, or a name) and check it is supported."""
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"unknown dtype {dtype!r}") from exc
    if dt not in SUPPORTED:
        names = ", ".join(str(d) for d in SUPPORTED)
        raise TypeError(f"dtype {dt} is not supported by tinylearn; use one of: {names}")
    return dt


def is_floating_point(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floats."""
    return 0 if dtype.kind == "b" else 2 if dtype.kind == "f" else 1


def scalar_dtype(value) -> np.dtype:
    """The dtype a Python scalar becomes on its own: bool, int64 or the default float."""
    if isinstance(value, builtins_bool | np.bool_):
        return bool
    if isinstance(value, builtins_int | np.integer):
        return int64
    if isinstance(value, builtins_float | np.floating):
        return _default_float
    raise TypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


def promote(
    tensor_dtypes: list[np.dtype], scalars: tuple = (), zero_dim_dtypes: list[np.dtype] = ()
) -> np.dtype:
    """The result dtype of an op over tensors of ``tensor_dtypes``, 0-dim tensors of
    ``zero_dim_dtypes`` and Python ``scalars``: each tier counts only where its category beats
    everything before it (rules 2-4 above)."""
    result = None
    for tier in (list(tensor_dtypes), list(zero_dim_dtypes), [scalar_dtype(s) for s in scalars]):
        if tier:
            top = max(category(d) for d in tier)
            if result is None or top > category(result):
                result = np.result_type(*[d for d in tier if category(d) == top])
    return result


import builtins as _builtins  # noqa: E402  (after the public names that shadow the builtins)

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool

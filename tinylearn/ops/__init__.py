"""The differentiable ops, grouped by kind, and the public functions that call them.

* :mod:`.elementwise` — arithmetic and unary math
* :mod:`.reduce` — sum, max, prod, cumsum, softmax
* :mod:`.shape` — broadcasting, reshape, permute, cat, pad, flip
* :mod:`.index` — indexing, gather and their scatter-add inverses
* :mod:`.linalg` — matmul, einsum
* :mod:`.conv` — convolution, transposed convolution, unfold/fold (im2col as matrix products)
* :mod:`.pool` — max and average pooling, adaptive pooling, interpolation
* :mod:`.norm` — batch normalisation as one fused Function
* :mod:`.loss` — cross-entropy of logits and class indices as one fused Function

This file adds what every op needs before its Function runs — turning Python numbers into
tensors and promoting dtypes (:mod:`tinylearn.dtypes`) — and, at the end, the table that makes
each op a ``Tensor`` method as well.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..autograd import Function
from ..backend import get_array_module, to_device
from ..tensor import Tensor
from . import elementwise as E
from .conv import Conv2d, Conv2dWeight, ConvTranspose2d, Fold, Unfold
from .index import (
    CopyFrom,
    Gather,
    GetItem,
    IndexAdd,
    ScatterAdd,
    SetItem,
    gather,
    getitem,
    index_select,
    masked_fill,
    normalize_index,
    scatter_add,
)
from .linalg import Einsum, Linear, LinearWeight, MatMul, einsum, matmul
from .loss import CrossEntropy
from .norm import BatchNorm
from .pool import AvgPool2d, AvgPool2dBackward, MaxPool2d, MaxPool2dBackward
from .reduce import (
    Amax,
    Cumsum,
    LogSoftmax,
    Prod,
    Softmax,
    Sum,
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    std,
    sum,
    var,
)
from .shape import (
    BroadcastTo,
    Cat,
    ConstantPad,
    Flip,
    Permute,
    Repeat,
    Reshape,
    Roll,
    SumTo,
    Tril,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    expand,
    flatten,
    flip,
    movedim,
    narrow,
    pad,
    permute,
    repeat,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    sum_to,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
)

Add, Sub, Mul, Div, Pow, PowScalar = E.Add, E.Sub, E.Mul, E.Div, E.Pow, E.PowScalar
Maximum, Minimum, Where, Clamp = E.Maximum, E.Minimum, E.Where, E.Clamp

# --------------------------------------------------------------------------- dtype and device moves


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def forward(self, x):
        if self.dtype.itemsize < x.dtype.itemsize and self.dtype.kind == "f":
            with np.errstate(over="ignore"):  # overflow to inf is the answer (GradScaler looks for it)
                return x.astype(self.dtype)
        return x.astype(self.dtype)

    def backward(self, g):
        x = self.inputs[0]
        return g.to(x.dtype) if x.is_floating_point() else None


class ToDevice(Function):
    """Copy to another device; the gradient travels back."""

    def forward(self, x):
        return to_device(x, self.device)

    def backward(self, g):
        return g.to(self.inputs[0].device)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; gradients flow through it."""
    return Clone.apply(x)


# --------------------------------------------------------------------------- operands and promotion


def as_operand(value, like: Tensor) -> Tensor:
    """A Python number (or array) as a constant tensor on ``like``'s device, with the dtype
    the promotion rules give (``int_tensor * 2.5`` → float32)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, int | float | bool | np.number | np.bool_):
        dt = _dt.promote([like.dtype], (value,))
        return Tensor._make(get_array_module(like.data).asarray(value, dtype=dt))
    return Tensor(value, device=like.device)


def promote_tensors(op: str, *tensors: Tensor) -> tuple[Tensor, ...]:
    """Cast tensors to their common dtype (a differentiable cast) so one forward serves all."""
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__}")
    first = tensors[0].dtype
    if builtins.all(t.dtype == first for t in tensors):
        return tensors
    dims, zero_dim = [t.dtype for t in tensors if t.ndim], [t.dtype for t in tensors if not t.ndim]
    dt = _dt.promote(dims, zero_dim_dtypes=zero_dim)
    return tuple(t if t.dtype == dt else t.to(dt) for t in tensors)


def _binary_operands(op: str, a, b) -> tuple[Tensor, Tensor]:
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(
                f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}"
            )
        a = as_operand(a, b)
    elif not isinstance(b, Tensor):
        b = as_operand(b, a)
    if a.dtype != b.dtype:
        a, b = promote_tensors(op, a, b)
    if a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise RuntimeError(
                f"{op}: the shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together "
                "(sizes must match or be 1, aligned from the last dimension)"
            ) from None
    return a, b


def _arith(fn: type[Function], op: str):
    def method(a, b):
        a, b = _binary_operands(op, a, b)
        return fn.apply(a, b)

    method.__name__ = op
    method.__doc__ = f"Elementwise {op} with broadcasting and dtype promotion."
    return method


add, sub, mul = _arith(Add, "add"), _arith(Sub, "sub"), _arith(Mul, "mul")
maximum, minimum = _arith(Maximum, "maximum"), _arith(Minimum, "minimum")


def div(a, b, *, rounding_mode=None) -> Tensor:
    """True division (integers divide to the default float dtype), or ``"floor"`` / ``"trunc"``."""
    a, b = _binary_operands("div", a, b)
    if rounding_mode is not None:
        xp = get_array_module(a.data)
        q = a.data / b.data
        q = xp.floor(q) if rounding_mode == "floor" else xp.trunc(q)
        return Tensor._make(q.astype(a.dtype))
    if not a.is_floating_point():
        a, b = a.to(_dt.get_default_dtype()), b.to(_dt.get_default_dtype())
    return Div.apply(a, b)


def pow(x, exponent) -> Tensor:
    """``x ** exponent`` for a number or a tensor exponent (and ``number ** tensor``)."""
    if isinstance(x, Tensor) and isinstance(exponent, int | float) and not isinstance(exponent, bool):
        if not x.is_floating_point() and (isinstance(exponent, float) or exponent < 0):
            x = x.to(_dt.get_default_dtype())
        return PowScalar.apply(x, exponent=exponent)
    a, b = _binary_operands("pow", x, exponent)
    return Pow.apply(a, b)


def where(condition: Tensor, input, other) -> Tensor:
    """Pick ``input`` where ``condition`` is True, else ``other`` (all three broadcast)."""
    if not isinstance(condition, Tensor) or condition.dtype.kind != "b":
        raise RuntimeError(
            f"where: condition must be a bool tensor, got {getattr(condition, 'dtype', type(condition))}"
        )
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_operand(
            input, Tensor._make(get_array_module(condition.data).zeros((), _dt.scalar_dtype(input)))
        )
    a, b = _binary_operands("where", input, other)
    try:
        np.broadcast_shapes(condition.shape, a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"where: condition {condition.shape}, input {a.shape} and other {b.shape} "
            "cannot be broadcast together"
        ) from None
    return Where.apply(condition, a, b)


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    """Limit values to [min, max] (either may be None, or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x if min is None else maximum(x, min)
        return out if max is None else minimum(out, max)
    return Clamp.apply(x, min=min, max=max)


def _unary(fn: type[Function], name: str, floating: bool = True):
    def op(x: Tensor) -> Tensor:
        if floating and not x.is_floating_point():
            x = x.to(_dt.get_default_dtype())
        return fn.apply(x)

    op.__name__ = name
    op.__doc__ = (fn.__doc__ or f"Elementwise {name}.").strip().splitlines()[0]
    return op


neg = _unary(E.Neg, "neg", floating=False)
abs = _unary(E.Abs, "abs", floating=False)
exp, log, log1p, expm1 = (
    _unary(E.Exp, "exp"),
    _unary(E.Log, "log"),
    _unary(E.Log1p, "log1p"),
    _unary(E.Expm1, "expm1"),
)
sqrt, rsqrt, sin, cos = (
    _unary(E.Sqrt, "sqrt"),
    _unary(E.Rsqrt, "rsqrt"),
    _unary(E.Sin, "sin"),
    _unary(E.Cos, "cos"),
)
tanh, sigmoid, erf = _unary(E.Tanh, "tanh"), _unary(E.Sigmoid, "sigmoid"), _unary(E.Erf, "erf")
relu = _unary(E.Relu, "relu", floating=False)


def square(x: Tensor) -> Tensor:
    return x * x


# --------------------------------------------------------------------------- non-differentiable ops


def _compare(ufunc: str, symbol: str):
    def op(a, b) -> Tensor:
        a, b = _binary_operands(ufunc, a, b)
        return Tensor._make(getattr(get_array_module(a.data), ufunc)(a.data, b.data))

    op.__name__ = ufunc
    op.__doc__ = f"Elementwise ``a {symbol} b`` as a bool tensor (not differentiable)."
    return op


eq, ne, lt = _compare("equal", "=="), _compare("not_equal", "!="), _compare("less", "<")
le, gt, ge = _compare("less_equal", "<="), _compare("greater", ">"), _compare("greater_equal", ">=")


def _logical(ufunc: str):
    def op(a, b=None) -> Tensor:
        xp = get_array_module(a.data)
        if b is None:
            return Tensor._make(getattr(xp, ufunc)(a.data))
        a, b = _binary_operands(ufunc, a, b)
        if a.is_floating_point():
            raise TypeError(f"{ufunc}: bitwise/logical ops need bool or integer tensors, got {a.dtype}")
        return Tensor._make(getattr(xp, ufunc)(a.data, b.data))

    op.__name__ = ufunc
    return op


bitwise_and, bitwise_or, bitwise_xor, bitwise_not = (
    _logical("bitwise_and"),
    _logical("bitwise_or"),
    _logical("bitwise_xor"),
    _logical("invert"),
)
logical_and, logical_or, logical_not = (
    _logical("logical_and"),
    _logical("logical_or"),
    _logical("logical_not"),
)
isfinite, isnan, isinf = _logical("isfinite"), _logical("isnan"), _logical("isinf")


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 (its gradient is zero almost everywhere, so it is not recorded)."""
    return Tensor._make(get_array_module(x.data).sign(x.data))


def floor(x: Tensor) -> Tensor:
    return Tensor._make(get_array_module(x.data).floor(x.data))


def round(x: Tensor, decimals: int = 0) -> Tensor:
    return Tensor._make(get_array_module(x.data).round(x.data, decimals))


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Tensor._make(x.data.astype(bool).any(axis=dim, keepdims=keepdim))


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Tensor._make(x.data.astype(bool).all(axis=dim, keepdims=keepdim))


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return bool(get_array_module(a.data).allclose(a.data, b.data, rtol=rtol, atol=atol))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both have the same shape and values."""
    return a.shape == b.shape and bool((a.data == b.data).all())


# --------------------------------------------------------------------------- Tensor methods


def _reflected(fn):
    return lambda self, other: fn(other, self)


_METHODS = {
    # arithmetic and its operators
    "add": add,
    "sub": sub,
    "mul": mul,
    "div": div,
    "true_divide": div,
    "pow": pow,
    "__add__": add,
    "__radd__": _reflected(add),
    "__sub__": sub,
    "__rsub__": _reflected(sub),
    "__mul__": mul,
    "__rmul__": _reflected(mul),
    "__truediv__": div,
    "__rtruediv__": _reflected(div),
    "__pow__": pow,
    "__rpow__": _reflected(pow),
    "__neg__": neg,
    "__pos__": lambda x: x,
    "__matmul__": matmul,
    "__rmatmul__": _reflected(matmul),
    "__abs__": abs,
    "__floordiv__": lambda a, b: div(a, b, rounding_mode="floor"),
    # unary math
    "neg": neg,
    "abs": abs,
    "exp": exp,
    "log": log,
    "log1p": log1p,
    "expm1": expm1,
    "sqrt": sqrt,
    "rsqrt": rsqrt,
    "sin": sin,
    "cos": cos,
    "tanh": tanh,
    "sigmoid": sigmoid,
    "relu": relu,
    "erf": erf,
    "square": square,
    "maximum": maximum,
    "minimum": minimum,
    "clamp": clamp,
    "clip": clamp,
    "where": lambda self, condition, other: where(condition, self, other),
    "clone": clone,
    # comparisons and logic (not differentiable)
    "__eq__": eq,
    "__ne__": ne,
    "__lt__": lt,
    "__le__": le,
    "__gt__": gt,
    "__ge__": ge,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
    "__and__": bitwise_and,
    "__or__": bitwise_or,
    "__xor__": bitwise_xor,
    "__invert__": bitwise_not,
    "logical_not": logical_not,
    "isfinite": isfinite,
    "isnan": isnan,
    "isinf": isinf,
    "sign": sign,
    "floor": floor,
    "round": round,
    "any": any,
    "all": all,
    # reductions
    "sum": sum,
    "mean": mean,
    "var": var,
    "std": std,
    "max": max,
    "min": min,
    "amax": amax,
    "amin": amin,
    "argmax": argmax,
    "argmin": argmin,
    "logsumexp": logsumexp,
    "prod": prod,
    "cumsum": cumsum,
    "softmax": softmax,
    "log_softmax": log_softmax,
    # shape
    "reshape": reshape,
    "view": reshape,
    "flatten": flatten,
    "unflatten": unflatten,
    "squeeze": squeeze,
    "unsqueeze": unsqueeze,
    "permute": permute,
    "transpose": transpose,
    "movedim": movedim,
    "expand": expand,
    "broadcast_to": broadcast_to,
    "expand_as": lambda x, other: broadcast_to(x, other.shape),
    "view_as": lambda x, other: reshape(x, other.shape),
    "reshape_as": lambda x, other: reshape(x, other.shape),
    "split": split,
    "chunk": chunk,
    "unbind": unbind,
    "narrow": narrow,
    "flip": flip,
    "roll": roll,
    "tril": tril,
    "triu": triu,
    "repeat": repeat,
    "pad": pad,
    "sum_to": sum_to,
    "matmul": matmul,
    # indexing
    "__getitem__": getitem,
    "gather": gather,
    "scatter_add": scatter_add,
    "index_select": index_select,
    "masked_fill": masked_fill,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

Tensor.T = property(lambda x: permute(x, tuple(reversed(range(x.ndim)))), doc="All dimensions reversed.")
Tensor.mT = property(
    lambda x: transpose(x, -2, -1), doc="The last two dimensions swapped (batched transpose)."
)

# Every Function in the library, for the op catalogue's completeness test.
FUNCTIONS: list[type[Function]] = [
    Add, Sub, Mul, Div, Pow, PowScalar, Maximum, Minimum, Where, Clamp,
    E.Neg, E.Abs, E.Exp, E.Log, E.Log1p, E.Expm1, E.Sqrt, E.Rsqrt, E.Sin, E.Cos, E.Tanh, E.Sigmoid,
    E.Relu, E.Erf, Sum, Amax, Prod, Cumsum, Softmax, LogSoftmax, SumTo, BroadcastTo, Reshape, Permute,
    Cat, ConstantPad, Flip, Roll, Tril, Repeat, GetItem, IndexAdd, SetItem, CopyFrom, Gather, ScatterAdd,
    MatMul, Linear, LinearWeight, Einsum, Cast, ToDevice, Clone, Conv2d, ConvTranspose2d, Conv2dWeight,
    Unfold, Fold, MaxPool2d, MaxPool2dBackward, AvgPool2d, AvgPool2dBackward, BatchNorm, CrossEntropy,
]  # fmt: skip

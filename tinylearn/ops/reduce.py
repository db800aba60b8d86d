"""Reductions and normalised exponentials: sum, max, prod, cumsum, softmax, log_softmax.

The primitives are few (Sum, Amax, Prod, Cumsum, Softmax, LogSoftmax); mean, var, std,
logsumexp and max-with-indices are built from them and other ops, so their gradients (of any
order) come from the primitives' rules:

    d sum    = g broadcast back to x's shape
    d amax   = g shared equally among the maxima
    d prod   = g·y/x  (computed without dividing when x has zeros)
    d cumsum = reversed cumsum of g
    d softmax     = y·(g − Σ g·y)
    d log_softmax = g − softmax(x)·Σ g
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes as _dt
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor
from .shape import _dim, _dims, broadcast_to


def resolve_dims(op: str, x: Tensor, dim, keepdim, axis=None, keepdims=None) -> tuple[tuple[int, ...], bool]:
    """Accept PyTorch's ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims``; return normalised dims."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass dim or axis, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    dims = tuple(range(x.ndim)) if dim is None else _dims(dim, x.ndim, op)
    return dims, bool(keepdim)


def _keep_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _expand_back(g: Tensor, x_shape: tuple[int, ...], dims: tuple[int, ...]) -> Tensor:
    """Undo a reduction's shape: reinsert the reduced dims as size 1, then broadcast."""
    return broadcast_to(g.reshape(_keep_shape(x_shape, dims)), x_shape)


class Sum(Function):
    def forward(self, x):
        dtype = _dt.int64 if x.dtype.kind in "biu" else None
        return x.sum(axis=self.dims, keepdims=self.keepdim, dtype=dtype)

    def backward(self, g):
        return _expand_back(g, self.inputs[0].shape, self.dims)


class Amax(Function):
    """Max over ``dims``; with ties the gradient is shared equally (``amin`` when ``negate``)."""

    def forward(self, x):
        y = (x.min if self.negate else x.max)(axis=self.dims, keepdims=True)
        self.winners = x == y
        return y if self.keepdim else y.reshape([n for i, n in enumerate(x.shape) if i not in self.dims])

    def backward(self, g):
        w = self.winners
        share = Tensor._make((w / w.sum(axis=self.dims, keepdims=True)).astype(g.dtype))
        return _expand_back(g, share.shape, self.dims) * share


class Prod(Function):
    def forward(self, x):
        return x.prod(axis=self.dim, keepdims=self.keepdim)

    def backward(self, g):
        (x,) = self.saved_tensors
        d = self.dim
        g = _expand_back(g, x.shape, (d,))
        if not bool(get_array_module(x.data).any(x.data == 0)):
            return g * _expand_back(self.saved_output, x.shape, (d,)) / x
        # With zeros, y/x is undefined: take the product of all the *other* elements directly.
        # Along an (n, n) pair of axes, replace the diagonal by 1 and multiply out.
        n = x.shape[d]
        xm = x.movedim(d, -1).unsqueeze(-2)  # (..., 1, n)
        xm = xm.expand(*xm.shape[:-2], n, n)  # (..., n, n): masked_fill keeps its input's shape
        eye = Tensor._make(get_array_module(x.data).eye(n, dtype=bool))
        others = xm.masked_fill(eye, 1.0).prod(-1)  # (..., n)
        return g * others.movedim(-1, d)


class Cumsum(Function):
    def forward(self, x):
        return x.cumsum(axis=self.dim)

    def backward(self, g):
        return g.flip(self.dim).cumsum(self.dim).flip(self.dim)


class Softmax(Function):
    """softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x): the max shift keeps exp from overflowing."""

    def forward(self, x):
        if not x.size:  # an empty tensor has no max to shift by, and nothing to normalise
            return x.copy()
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.dim, keepdims=True))
        return e / e.sum(axis=self.dim, keepdims=True)

    def backward(self, g):
        y = self.saved_output
        return y * (g - (g * y).sum(self.dim, keepdim=True))


class LogSoftmax(Function):
    """log_softmax(x) = x − max − log Σ exp(x − max), exact even when softmax underflows to 0."""

    def forward(self, x):
        if not x.size:  # as in Softmax
            return x.copy()
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.dim, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))

    def backward(self, g):
        y = self.saved_output
        return g - y.exp() * g.sum(self.dim, keepdim=True)


# --------------------------------------------------------------------------- public functions


def sum(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None). Bool and int tensors sum to int64."""
    dims, keepdim = resolve_dims("sum", x, dim, keepdim, axis, keepdims)
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, dims=dims, keepdim=keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Average over ``dim``; needs a floating tensor (or ``dtype=``), as PyTorch."""
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():
        raise RuntimeError(f"mean(): input dtype must be floating point, got {x.dtype}; pass dtype=")
    dims, keepdim = resolve_dims("mean", x, dim, keepdim, axis, keepdims)
    count = int(np.prod([x.shape[d] for d in dims]))
    return Sum.apply(x, dims=dims, keepdim=keepdim) / count


def var(
    x: Tensor,
    dim=None,
    *,
    correction: float = 1,
    keepdim: bool = False,
    unbiased=None,
    axis=None,
    keepdims=None,
    ddof=None,
) -> Tensor:
    """Variance Σ(x − mean)² / (N − correction); ``correction=1`` (Bessel's) by default, as PyTorch."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if ddof is not None:
        correction = ddof
    dims, keepdim = resolve_dims("var", x, dim, keepdim, axis, keepdims)
    count = int(np.prod([x.shape[d] for d in dims]))
    centered = x - mean(x, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim) / builtins.max(count - correction, 0)


def std(
    x: Tensor,
    dim=None,
    *,
    correction: float = 1,
    keepdim: bool = False,
    unbiased=None,
    axis=None,
    keepdims=None,
    ddof=None,
) -> Tensor:
    """√var: see :func:`var`."""
    dims, keepdim = resolve_dims("std", x, dim, keepdim, axis, keepdims)
    return var(x, dims, correction=correction, keepdim=keepdim, unbiased=unbiased, ddof=ddof).sqrt()


def amax(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """The maximum over ``dim`` (gradient shared among ties)."""
    dims, keepdim = resolve_dims("amax", x, dim, keepdim, axis, keepdims)
    _check_nonempty("amax", x, dims)
    return Amax.apply(x, dims=dims, keepdim=keepdim, negate=False)


def amin(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    dims, keepdim = resolve_dims("amin", x, dim, keepdim, axis, keepdims)
    _check_nonempty("amin", x, dims)
    return Amax.apply(x, dims=dims, keepdim=keepdim, negate=True)


def _check_nonempty(op: str, x: Tensor, dims) -> None:
    if any(x.shape[d] == 0 for d in dims):
        raise RuntimeError(f"{op}: cannot reduce over an empty dimension (shape {x.shape})")


def argmax(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the (first) maximum, over the flattened tensor when ``dim`` is None."""
    return _arg("argmax", x, dim, keepdim, axis, keepdims)


def argmin(x: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    return _arg("argmin", x, dim, keepdim, axis, keepdims)


def _arg(op: str, x: Tensor, dim, keepdim, axis, keepdims) -> Tensor:
    dim = axis if axis is not None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    if x.numel() == 0:
        raise RuntimeError(f"{op}: cannot take the {op} of an empty tensor")
    data = x.data
    if dim is None:
        idx = getattr(data.reshape(-1), op)()
        return Tensor._make(
            get_array_module(data).asarray(idx, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ())
        )
    d = _dim(dim, x.ndim, op)
    idx = getattr(data, op)(axis=d, keepdims=keepdim)
    return Tensor._make(idx.astype(np.int64, copy=False))


class _ValuesIndices(tuple):
    """``(values, indices)`` with names, as PyTorch's ``torch.return_types.max``."""

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def _max_min(op: str, x: Tensor, dim, keepdim, other, axis, keepdims):
    from . import maximum, minimum

    if isinstance(other, Tensor):
        return (maximum if op == "max" else minimum)(x, other)
    dim = axis if axis is not None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    if dim is None:
        return (amax if op == "max" else amin)(x)
    d = _dim(dim, x.ndim, op)
    idx = _arg("argmax" if op == "max" else "argmin", x, d, True, None, None)
    values = x.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return _ValuesIndices((values, idx))


def max(x: Tensor, dim=None, keepdim: bool = False, *, other=None, axis=None, keepdims=None):  # noqa: A001
    """``max(x)``: the largest value. ``max(x, dim)``: ``(values, indices)`` along ``dim`` (the
    gradient goes to the returned index). ``max(x, other_tensor)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        dim, other = None, dim
    return _max_min("max", x, dim, keepdim, other, axis, keepdims)


def min(x: Tensor, dim=None, keepdim: bool = False, *, other=None, axis=None, keepdims=None):  # noqa: A001
    if isinstance(dim, Tensor):
        dim, other = None, dim
    return _max_min("min", x, dim, keepdim, other, axis, keepdims)


def logsumexp(x: Tensor, dim, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """log Σ exp(x) along ``dim``, stable: m + log Σ exp(x − m) with m the (detached) max."""
    dims, keepdim = resolve_dims("logsumexp", x, dim if axis is None else None, keepdim, axis, keepdims)
    m = amax(x.detach(), dims, keepdim=True)
    m = m.masked_fill(~m.isfinite(), 0.0)
    out = (x - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dims)


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Product over one ``dim`` (or over everything when None)."""
    if dtype is not None:
        x = x.to(dtype)
    dim = axis if axis is not None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    if dim is None:
        out = Prod.apply(x.reshape(-1), dim=0, keepdim=False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    return Prod.apply(x, dim=_dim(dim, x.ndim, "prod"), keepdim=bool(keepdim))


def cumsum(x: Tensor, dim: int, *, dtype=None, axis=None) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    dim = axis if axis is not None else dim
    return Cumsum.apply(x, dim=_dim(dim, x.ndim, "cumsum"))


def softmax(x: Tensor, dim: int = -1, *, dtype=None, axis=None) -> Tensor:
    """exp(x) normalised to sum to 1 along ``dim`` (stable at extreme values)."""
    if dtype is not None:
        x = x.to(dtype)
    dim = axis if axis is not None else dim
    _require_float("softmax", x)
    return Softmax.apply(x, dim=_dim(dim, x.ndim, "softmax"))


def log_softmax(x: Tensor, dim: int = -1, *, dtype=None, axis=None) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    dim = axis if axis is not None else dim
    _require_float("log_softmax", x)
    return LogSoftmax.apply(x, dim=_dim(dim, x.ndim, "log_softmax"))


def _require_float(op: str, x: Tensor) -> None:
    if not x.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point tensor, got dtype {x.dtype}")

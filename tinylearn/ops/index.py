"""Indexing primitives: reading (``x[i]``, gather) and their scatter-add inverses.

Reading picks values; its backward puts each gradient back where the value was read from,
*adding* when one position was read several times (``x[[0, 0]]`` sends two gradients to x[0]).
So the pairs are:

    GetItem  (y = x[index])             ↔ IndexAdd   (z = zeros; z[index] += g)
    Gather   (y = x.gather(dim, index)) ↔ ScatterAdd (z.scatter_add(dim, index, g))
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor
from .shape import _dim


def normalize_index(index, x: Tensor):
    """Turn a user index into one NumPy/CuPy understands: Tensors and lists become arrays on
    ``x``'s device; integers, slices, None and Ellipsis pass through."""
    xp = get_array_module(x.data)
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            if it.dtype.kind not in "iub":
                raise IndexError(f"tensors used as indices must be long, int or bool, got {it.dtype}")
            if it.device != x.device:
                raise RuntimeError(f"indexing: index is on {it.device} but the tensor is on {x.device}")
            it = it.data if it.ndim else int(it.item()) if it.dtype.kind != "b" else it.data
        elif isinstance(it, list | np.ndarray):
            it = xp.asarray(it)
            if it.dtype.kind not in "iub":
                raise IndexError(f"index arrays must hold integers or bools, got {it.dtype}")
        out.append(it)
    return tuple(out)


def _is_basic(index) -> bool:
    """True when ``index`` is only ints, slices, None and ... (NumPy then returns a view)."""
    return all(isinstance(i, int | slice | type(None) | type(Ellipsis)) for i in index)


class GetItem(Function):
    def forward(self, x):
        return x[self.index]

    def backward(self, g):
        return IndexAdd.apply(g, index=self.index, shape=self.inputs[0].shape, basic=self.is_view)


class IndexAdd(Function):
    """``zeros(shape)`` with ``g`` added at ``index`` (repeated positions accumulate)."""

    def forward(self, g):
        xp = get_array_module(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        if self.basic:
            out[self.index] = g
        else:
            xp.add.at(out, self.index, g)
        return out

    def backward(self, gg):
        return GetItem.apply(gg, index=self.index, is_view=self.basic)


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` with ints, slices, None, ..., bool masks and integer arrays/tensors."""
    index = normalize_index(index, x)
    try:
        basic = _is_basic(index)
        return GetItem.apply(x, index=index, is_view=basic)
    except IndexError as exc:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {exc}") from None


class SetItem(Function):
    """The out-of-place core of ``x[index] = value``: a copy of x with ``value`` written in."""

    def forward(self, x, value):
        out = x.copy()
        out[self.index] = value
        return out

    def backward(self, g):
        x, value = self.inputs
        xp = get_array_module(g.data)
        keep = xp.ones(x.shape, dtype=g.dtype)
        keep[self.index] = 0
        gv = g[self.index]
        from .shape import sum_to

        return g * Tensor._make(keep), sum_to(gv, value.shape) if value.requires_grad else None


class CopyFrom(Function):
    """The out-of-place core of ``x.copy_(src)``: ``src`` broadcast and cast to x's shape and dtype."""

    def forward(self, x, src):
        xp = get_array_module(x)
        return xp.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    def backward(self, g):
        from ..tensor import zeros_like
        from .shape import sum_to

        src = self.inputs[1]  # x's old values were overwritten: its gradient is zero (as PyTorch)
        return zeros_like(g), sum_to(g, src.shape).to(src.dtype)


def _along(index, dim: int, xp):
    """The full NumPy index that addresses ``x[..., index[...], ...]`` along ``dim``."""
    grids = list(xp.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


class Gather(Function):
    def forward(self, x):
        return x[_along(self.index, self.dim, get_array_module(x))]

    def backward(self, g):
        x = self.inputs[0]
        return ScatterAdd.apply(
            Tensor._make(get_array_module(g.data).zeros(x.shape, g.dtype)), g, dim=self.dim, index=self.index
        )


class ScatterAdd(Function):
    """``out = x.copy(); out[..., index, ...] += src`` along ``dim``, accumulating repeats."""

    def forward(self, x, src):
        xp = get_array_module(x)
        out = x.copy()
        region = tuple(slice(0, n) for n in self.index.shape)
        xp.add.at(out, _along(self.index, self.dim, xp), src[region])
        return out

    def backward(self, g):
        src = self.inputs[1]
        gsrc = None
        if src.requires_grad:
            picked = Gather.apply(g, dim=self.dim, index=self.index)
            gsrc = (
                picked
                if picked.shape == src.shape
                else picked.pad(
                    [
                        p
                        for n, m in zip(reversed(src.shape), reversed(picked.shape), strict=True)
                        for p in (0, n - m)
                    ]
                )
            )
        return g, gsrc


def _check_index(op: str, x: Tensor, dim: int, index: Tensor) -> int:
    if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: index must be an integer tensor, got {getattr(index, 'dtype', type(index))}"
        )
    if index.device != x.device:
        raise RuntimeError(f"{op}: index is on {index.device} but the input is on {x.device}")
    d = _dim(dim, x.ndim, op)
    if index.ndim != x.ndim:
        raise RuntimeError(
            f"{op}: index (shape {index.shape}) must have as many dims as the input (shape {x.shape})"
        )
    for i, (n, m) in enumerate(zip(index.shape, x.shape, strict=True)):
        if i != d and n > m:
            raise RuntimeError(f"{op}: index shape {index.shape} exceeds input shape {x.shape} in dim {i}")
    if index.numel() and (int(index.data.min()) < -x.shape[d] or int(index.data.max()) >= x.shape[d]):
        raise IndexError(f"{op}: index out of range for dimension {d} of size {x.shape[d]}")
    return d


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for dim=0 (and likewise for other dims), as PyTorch."""
    d = _check_index("gather", x, dim, index)
    if x.shape[:d] + x.shape[d + 1 :] != index.shape[:d] + index.shape[d + 1 :]:
        x = x[tuple(slice(0, n) if i != d else slice(None) for i, n in enumerate(index.shape))]
    return Gather.apply(x, dim=d, index=index.data)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``x`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    d = _check_index("scatter_add", x, dim, index)
    if any(n > m for n, m in zip(index.shape, src.shape, strict=True)):
        raise RuntimeError(f"scatter_add: index shape {index.shape} exceeds src shape {src.shape}")
    from . import promote_tensors

    x, src = promote_tensors("scatter_add", x, src)
    return ScatterAdd.apply(x, src, dim=d, index=index.data)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``x`` at the positions ``index`` (1-D) along ``dim``."""
    d = _dim(dim, x.ndim, "index_select")
    if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype.kind not in "iu":
        raise RuntimeError("index_select: index must be a 1-D integer tensor")
    return getitem(x, (slice(None),) * d + (index.reshape(-1),))


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``x`` with ``value`` wherever ``mask`` (bool, broadcastable) is True."""
    if not isinstance(mask, Tensor) or mask.dtype.kind != "b":
        raise RuntimeError(
            f"masked_fill: mask must be a bool tensor, got {getattr(mask, 'dtype', type(mask))}"
        )
    from . import where

    if isinstance(value, Tensor):
        value = value.to(x.dtype)
    else:
        value = Tensor._make(get_array_module(x.data).asarray(value, dtype=x.dtype))
    out = where(mask, value, x)
    if out.shape != x.shape:
        raise RuntimeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    return out

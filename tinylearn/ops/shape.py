"""Shape primitives: broadcasting and its inverse, reshape, permute, joining, padding, flipping.

None of these change values, only where they sit, so every backward moves the gradient back
to where the value came from:

    broadcast_to ↔ sum_to      reshape ↔ reshape back      permute ↔ inverse permute
    cat → slice the gradient    flip/roll → flip/roll back  repeat → sum the copies
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor


def _dim(dim: int, ndim: int, op: str) -> int:
    """Normalise a possibly negative dimension, with an error naming the op when out of range."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % max(ndim, 1)


def _dims(dims, ndim: int, op: str) -> tuple[int, ...]:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated dimension in {dims}")
    return out


# --------------------------------------------------------------------------- broadcasting


class SumTo(Function):
    """Sum a broadcast gradient back down to ``shape`` (the inverse of broadcasting)."""

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape) if lead else y

    def backward(self, g):
        return broadcast_to(g, self.inputs[0].shape)


class BroadcastTo(Function):
    is_view = True

    def forward(self, x):
        return get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, g):
        return sum_to(g, self.inputs[0].shape)


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` over the broadcast dimensions so that it has ``shape`` (no-op if it already does)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Broadcast ``x`` to ``shape`` (a read-only view: no copy)."""
    shape = tuple(int(s) for s in shape)
    if x.shape == shape:
        return x
    try:
        get_array_module(x.data).broadcast_shapes(x.shape, shape)
    except ValueError:
        raise RuntimeError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to {shape}") from None
    if get_array_module(x.data).broadcast_shapes(x.shape, shape) != shape:
        raise RuntimeError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes``; ``-1`` keeps a dimension's size."""
    if len(sizes) == 1 and isinstance(sizes[0], Sequence):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least x.ndim ({x.ndim})")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def broadcast_tensors(*tensors: Tensor) -> list[Tensor]:
    shape = get_array_module(tensors[0].data).broadcast_shapes(*[t.shape for t in tensors])
    return [broadcast_to(t, shape) for t in tensors]


# --------------------------------------------------------------------------- reshaping


class Reshape(Function):
    is_view = True

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, g):
        return g.reshape(self.inputs[0].shape)


def reshape(x: Tensor, *shape) -> Tensor:
    """Same data, new shape; one dimension may be ``-1`` (inferred)."""
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    known = 1
    for s in shape:
        known *= s if s != -1 else 1
    if (
        shape.count(-1) > 1
        or any(s < -1 for s in shape)
        or (x.numel() != known if -1 not in shape else (known == 0 or x.numel() % known))
    ):
        raise RuntimeError(
            f"reshape: shape {shape} is invalid for a tensor of shape {x.shape} ({x.numel()} elements)"
        )
    return Reshape.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})")
    merged = 1
    for n in x.shape[s : e + 1]:
        merged *= n
    return reshape(x, x.shape[:s] + (merged,) + x.shape[e + 1 :])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = _dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1 :])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Drop dimensions of size 1 (all of them, or only ``dim``)."""
    dims = range(x.ndim) if dim is None else _dims(dim, x.ndim, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (negative counts from the new end)."""
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


class Permute(Function):
    is_view = True

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return g.permute(*inverse)


def permute(x: Tensor, *dims) -> Tensor:
    if len(dims) == 1 and isinstance(dims[0], Sequence):
        dims = tuple(dims[0])
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: got {len(dims)} dims {dims} for a tensor of shape {x.shape}")
    dims = _dims(dims, x.ndim, "permute")
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    d0, d1 = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    s, d = _dim(source, x.ndim, "movedim"), _dim(destination, x.ndim, "movedim")
    dims = [i for i in range(x.ndim) if i != s]
    dims.insert(d, s)
    return permute(x, dims)


# --------------------------------------------------------------------------- joining and splitting


class Cat(Function):
    def forward(self, *xs):
        return get_array_module(*xs).concatenate(xs, axis=self.dim)

    def backward(self, g):
        grads, start = [], 0
        for x in self.inputs:
            n = x.shape[self.dim]
            grads.append(g.narrow(self.dim, start, n))
            start += n
        return tuple(grads)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other dimensions must match."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    from . import promote_tensors

    tensors = promote_tensors("cat", *tensors)
    d = _dim(dim, tensors[0].ndim, "cat")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(ref) or t.shape[:d] + t.shape[d + 1 :] != ref[:d] + ref[d + 1 :]:
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}: tensor 0 has shape {ref}, "
                f"tensor {i} has shape {t.shape}"
            )
    return Cat.apply(*tensors, dim=d) if len(tensors) > 1 else tensors[0]


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but tensor 0 has shape {tensors[0].shape} "
                f"and tensor {i} has shape {t.shape}"
            )
    d = _dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` along ``dim`` (a view)."""
    d = _dim(dim, x.ndim, "narrow")
    n = x.shape[d]
    begin = start + n if start < 0 else start  # a negative start counts from the end, as PyTorch
    if begin < 0 or length < 0 or begin + length > n:
        raise RuntimeError(f"narrow: start {start} and length {length} do not fit in dim {d} of size {n}")
    index = (slice(None),) * d + (slice(begin, begin + length),)
    return x[index]


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} must sum to the size of dimension {d} ({n})")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of size ⌈n/chunks⌉ (fewer if n is small), as PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, max(1, -(-n // chunks)), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    d = _dim(dim, x.ndim, "unbind")
    return tuple(squeeze(p, d) for p in split(x, 1, d))


# --------------------------------------------------------------------------- rearranging


class ConstantPad(Function):
    """Pad with a constant; ``widths`` is NumPy's per-dimension (before, after) list."""

    def forward(self, x):
        return get_array_module(x).pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, g):
        index = tuple(slice(b, g.shape[i] - a) for i, (b, a) in enumerate(self.widths))
        return g[index]


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last ``len(pad)//2`` dimensions, PyTorch's way: ``pad = (left, right, top, bottom, ...)``
    starts with the *last* dimension. Modes: constant, reflect, replicate, circular."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of pads for at most {x.ndim} dims, got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        if any(b < 0 or a < 0 for b, a in widths):  # negative padding crops
            crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape, strict=True))
            x = x[crop]
            widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        return ConstantPad.apply(x, widths=tuple(widths), value=value) if any(map(any, widths)) else x
    numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if numpy_mode is None:
        raise ValueError(f"pad: mode must be constant, reflect, replicate or circular, got {mode!r}")
    import numpy as np

    for d, (b, a) in enumerate(widths):  # gather along each padded dim: differentiable by index_select
        if b or a:
            if mode == "reflect" and (b >= x.shape[d] or a >= x.shape[d]):
                raise ValueError(
                    f"pad: reflect padding {(b, a)} must be smaller than the dimension size {x.shape[d]}"
                )
            idx = np.pad(np.arange(x.shape[d]), (b, a), mode=numpy_mode)
            x = x.index_select(d, Tensor(idx, device=x.device))
    return x


class Flip(Function):
    def forward(self, x):
        return get_array_module(x).flip(x, axis=self.dims)

    def backward(self, g):
        return g.flip(self.dims)


def flip(x: Tensor, dims) -> Tensor:
    return Flip.apply(x, dims=_dims(dims, x.ndim, "flip"))


class Roll(Function):
    def forward(self, x):
        return get_array_module(x).roll(x, self.shifts, axis=self.dims)

    def backward(self, g):
        return g.roll(tuple(-s for s in self.shifts), self.dims)


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` cyclically (flattened first when ``dims`` is None)."""
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = _dims(dims, x.ndim, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(x, shifts=shifts, dims=dims)


class Tril(Function):
    """Keep the lower triangle (``upper=False``) or the upper one (``upper=True``)."""

    def forward(self, x):
        xp = get_array_module(x)
        return xp.triu(x, self.diagonal) if self.upper else xp.tril(x, self.diagonal)

    def backward(self, g):
        return g.triu(self.diagonal) if self.upper else g.tril(self.diagonal)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"tril: expected a tensor with at least 2 dimensions, got shape {x.shape}")
    return Tril.apply(x, diagonal=diagonal, upper=False)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"triu: expected a tensor with at least 2 dimensions, got shape {x.shape}")
    return Tril.apply(x, diagonal=diagonal, upper=True)


class Repeat(Function):
    """Tile ``x`` ``reps`` times per dimension; the backward sums the copies."""

    def forward(self, x):
        return get_array_module(x).tile(x.reshape((1,) * (len(self.reps) - x.ndim) + x.shape), self.reps)

    def backward(self, g):
        x = self.inputs[0]
        base = (1,) * (len(self.reps) - x.ndim) + x.shape
        interleaved = [n for pair in zip(self.reps, base, strict=True) for n in pair]
        summed = g.reshape(interleaved).sum(dim=tuple(range(0, 2 * len(base), 2)))
        return summed.reshape(x.shape)


def repeat(x: Tensor, *sizes) -> Tensor:
    """Repeat along each dimension (``x.repeat(2, 3)``); may add leading dimensions."""
    if len(sizes) == 1 and isinstance(sizes[0], Sequence):
        sizes = tuple(sizes[0])
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"repeat: the number of repeat dims ({len(sizes)}) can't be smaller than the tensor's ({x.ndim})"
        )
    return Repeat.apply(x, reps=tuple(int(s) for s in sizes))

"""Matrix products: ``matmul`` (``@``) and ``einsum``.

For C = A @ B the gradients are the two products that give back A's and B's shapes:

    dA = G @ Bᵀ        dB = Aᵀ @ G

(batched over leading dimensions, then summed back over the ones that were broadcast).
``einsum`` generalises this: the gradient of one operand is the einsum of the output gradient
with all the other operands, written to that operand's subscripts.

Mixed precision: both functions pass their inputs through ``autocast_inputs``, the hook of
:mod:`tinylearn.amp`. Outside ``autocast`` it returns them unchanged; inside, it casts float32
inputs to float16 with a differentiable ``.to()``, so the product runs in float16 while the
gradients of float32 weights come back in float32.
"""

from __future__ import annotations

import string

import numpy as np

from ..amp import autocast_inputs
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor
from .shape import sum_to

__all__ = ["Einsum", "Linear", "LinearWeight", "MatMul", "einsum", "linear", "matmul"]


def _half_precision(product, *xs):
    """A float16 product as a GPU's tensor cores compute it: float16 inputs, float32 sums,
    float16 result. On the CPU this is also what makes it fast: NumPy has no float16 BLAS, and its
    float16 matmul is a slow scalar loop. Overflow to inf is kept (GradScaler looks for it)."""
    xp = get_array_module(*xs)
    if xp is np:
        xs = [x.astype(np.float32) for x in xs]
    with np.errstate(over="ignore"):
        return product(*xs).astype(np.float16)


class MatMul(Function):
    """Batched matrix product of two tensors with ≥ 2 dims (1-D cases are handled by ``matmul``)."""

    def forward(self, a, b):
        if a.dtype == np.float16:
            return _half_precision(lambda a, b: a @ b, a, b)
        return a @ b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (
            sum_to(g @ self.saved(1).mT, a.shape) if need_a else None,
            sum_to(self.saved(0).mT @ g, b.shape) if need_b else None,
        )


def _affine(x, w, b=None):
    out = x @ w.T
    if b is not None:
        out += b
    return out


class Linear(Function):
    """y = x Wᵀ (+ b) for x (*, in), W (out, in), b (out,): one node where ``x @ W.T + b`` records
    three (a transpose, a product, a broadcast add) and whose gradients are three products::

        dx = G W        dW = Gᵀ x (summed over every leading dimension)        db = Σ G

    The forward adds the bias into the product's fresh result in place."""

    def forward(self, x, w, b=None):
        bias = () if b is None else (b,)
        if x.dtype == np.float16:  # float32 sums, one rounding to float16 at the end
            return _half_precision(_affine, x, w, *bias)
        return _affine(x, w, *bias)

    def backward(self, g):
        need_x, need_w, *need_b = self.needs_input_grad
        gx = MatMul.apply(g, self.saved(1)) if need_x else None
        gw = LinearWeight.apply(g, self.saved(0)) if need_w else None
        if not need_b:
            return gx, gw
        return gx, gw, g.sum(tuple(range(g.ndim - 1))) if need_b[0] else None


class LinearWeight(Function):
    """dW = Gᵀ x, summed over every leading dimension: G (*, out) and x (*, in) → (out, in). The
    weight gradient of :class:`Linear`, a node of its own so that it can be differentiated again:
    as a function of G it is a linear layer of weight ``gw``'s gradient, of x a product."""

    def forward(self, g, x):
        g2, x2 = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        if g.dtype == np.float16:
            return _half_precision(lambda g2, x2: g2.T @ x2, g2, x2)
        return g2.T @ x2

    def backward(self, gw):
        need_g, need_x = self.needs_input_grad
        return (
            Linear.apply(self.saved(1), gw) if need_g else None,  # d/dG: x gwᵀ
            MatMul.apply(self.saved(0), gw) if need_x else None,  # d/dx: G gw
        )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b (``nn.functional.linear``), one :class:`Linear` node when x has ≥ 2 dims."""
    from . import promote_tensors

    tensors = (x, weight) if bias is None else (x, weight, bias)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"linear: expected Tensors, got {type(t).__name__}")
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[-1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(x.shape)} needs {weight.shape[-1]} features in its last "
            f"dimension to match weight of shape {tuple(weight.shape)} (out_features, in_features)"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"linear: bias of shape {tuple(bias.shape)} does not match weight of shape "
            f"{tuple(weight.shape)}: expected ({weight.shape[0]},), one value per output feature"
        )
    tensors = promote_tensors("linear", *tensors)
    if x.ndim == 1 or autocast_inputs(tensors[0])[0] is not tensors[0]:
        # a single sample, or inside autocast: the float16 product (matmul's autocast hook), then the
        # bias in its own dtype (a float32 bias makes float32 logits, as the loss needs)
        out = matmul(tensors[0], tensors[1].mT)
        return out if bias is None else out + tensors[2]
    return Linear.apply(*tensors)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """NumPy's rules: 1-D × 1-D is a dot product, a 1-D left operand is a row vector, a 1-D
    right operand a column vector (the added dimension is removed again), and leading batch
    dimensions broadcast."""
    from . import promote_tensors

    a, b = autocast_inputs(*promote_tensors("matmul", a, b))
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise RuntimeError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({a2.shape[-1]} != {b2.shape[-2]})"
        )
    try:
        get_array_module(a.data).broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
    out = MatMul.apply(a2, b2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    if a.ndim == 1:
        out = out.squeeze(-2 if b.ndim > 1 else -1)
    return out


class Einsum(Function):
    """``einsum`` on an explicit equation (``"ij,jk->ik"``, no ``...``, no repeats in one operand)."""

    def forward(self, *xs):
        xp = get_array_module(*xs)
        if xs[0].dtype == np.float16:
            return _half_precision(lambda *xs: xp.einsum(self.equation, *xs), *xs)
        return xp.einsum(self.equation, *xs)

    def backward(self, g):
        ins, out = self.equation.split("->")
        subs = ins.split(",")
        xs = self.saved_tensors
        grads = []
        for i, (x, sub) in enumerate(zip(xs, subs, strict=True)):
            if not x.requires_grad:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(subs, xs, strict=True)) if j != i]
            seen = set(out).union(*[set(s) for s, _ in others])
            # Letters of this operand summed away by nothing else: its gradient is constant along them.
            kept = "".join(c for c in sub if c in seen)
            eq = ",".join([out] + [s for s, _ in others]) + "->" + kept
            gx = einsum(eq, g, *[t for _, t in others])
            if kept != sub:  # reinsert the missing letters as size 1, then broadcast
                gx = gx.reshape([n if c in kept else 1 for c, n in zip(sub, x.shape, strict=True)]).expand(
                    *x.shape
                )
            grads.append(gx)
        return tuple(grads)


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``; ``...`` is allowed."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    from . import promote_tensors

    operands = autocast_inputs(*promote_tensors("einsum", *operands))
    equation = _explicit(equation.replace(" ", ""), [t.ndim for t in operands])
    ins, out = equation.split("->")
    subs = ins.split(",")
    if len(subs) != len(operands):
        raise RuntimeError(f"einsum: equation {equation!r} names {len(subs)} operands, got {len(operands)}")
    for k, (s, t) in enumerate(zip(subs, operands, strict=True)):
        if len(s) != t.ndim:
            raise RuntimeError(f"einsum: operand {k} has shape {t.shape} but subscripts {s!r}")
    subs, operands = zip(*[_diagonal(s, t) for s, t in zip(subs, operands, strict=True)], strict=True)
    equation = ",".join(subs) + "->" + out
    sizes: dict[str, int] = {}
    for s, t in zip(subs, operands, strict=True):
        for c, n in zip(s, t.shape, strict=True):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise RuntimeError(f"einsum: subscript {c!r} has size {sizes[c]} and {n} in {equation!r}")
    for c in set("".join(subs)):  # broadcast size-1 dims so every subscript has one size
        n = max(t.shape[s.index(c)] for s, t in zip(subs, operands, strict=True) if c in s)
        sizes[c] = n
    operands = tuple(
        t.expand(*[sizes[c] for c in s]) if any(t.shape[k] != sizes[c] for k, c in enumerate(s)) else t
        for s, t in zip(subs, operands, strict=True)
    )
    return Einsum.apply(*operands, equation=equation)


def _diagonal(sub: str, t: Tensor) -> tuple[str, Tensor]:
    """A repeated subscript in one operand (``"ii"``) reads a diagonal: index it out with integer
    arrays (differentiable by GetItem's scatter-add), so the Einsum itself sees distinct letters."""
    if len(set(sub)) == len(sub):
        return sub, t
    unique = "".join(dict.fromkeys(sub))
    sizes = {}
    for c, n in zip(sub, t.shape, strict=True):
        if sizes.setdefault(c, n) != n:
            raise RuntimeError(f"einsum: repeated subscript {c!r} in {sub!r} spans sizes {sizes[c]} and {n}")
    grids = get_array_module(t.data).indices([sizes[c] for c in unique], sparse=True)
    return unique, t[tuple(Tensor._make(grids[unique.index(c)]) for c in sub)]


def _explicit(equation: str, ndims: list[int]) -> str:
    """Rewrite ``...`` and implicit outputs into an explicit equation with single letters."""
    ins, arrow, out = equation.partition("->")
    subs = ins.split(",")
    used = set(equation) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = max(
        (nd - len(s.replace("...", "")) for s, nd in zip(subs, ndims, strict=False) if "..." in s), default=0
    )
    ell = "".join(free[:n_ell])
    subs = [
        s.replace("...", ell[n_ell - (nd - len(s.replace("...", ""))) :]) if "..." in s else s
        for s, nd in zip(subs, ndims, strict=False)
    ]
    if not arrow:
        counts = {c: "".join(subs).count(c) for c in set("".join(subs))}
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return ",".join(subs) + "->" + out

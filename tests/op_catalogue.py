"""The op catalogue: every differentiable op of tinylearn, declared once.

Each :class:`OpSpec` says how tinylearn calls an op, what NumPy computes for it in float64, how
to draw its inputs (a hypothesis strategy of :class:`Case`: shapes, values and constant
arguments), which arguments are differentiable and which
:class:`~tinylearn.autograd.Function` classes it exercises. ``tests/test_op_catalogue.py``
turns the list into forward, gradcheck and gradgradcheck tests on every backend, and fails if
tinylearn defines a Function that no entry covers.

Input domains keep every op where it is smooth, so finite differences are meaningful: ``log``,
``sqrt`` and a ``pow`` base are positive; ``relu``, ``abs`` and divisors stay at least 0.1
away from 0; ``clamp`` inputs stay away from the bounds; ``maximum``, ``amax``, ``max(dim)``
and ``std`` get pairwise distinct values (no ties) from :func:`distinct`.

Adding an op: write its Function, add it to ``tinylearn.ops.FUNCTIONS``, and add an entry
here. Many entries use one lambda for both sides (``lambda x, y: x * y``), because tinylearn
follows NumPy's and PyTorch's spelling; where they differ (``dim`` vs ``axis``), the
reference is written out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import ops
from tinylearn.autograd import Function
from tinylearn.ops import elementwise as E

# --------------------------------------------------------------------------- the declaration


@dataclass(frozen=True)
class Case:
    """One drawn example of an op's inputs.

    ``args`` are the tensor arguments (float64 arrays, or bool / int64 arrays for masks,
    conditions and indices). ``kwargs`` are constants: dims, shapes, Python scalars, slices.
    NumPy arrays inside ``kwargs`` (also inside tuples, as in an index) become tensors on the
    test's device, never differentiable; the reference receives them as they are.
    """

    args: tuple[np.ndarray, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpSpec:
    """One op, declared once; the test suite derives every test from it."""

    name: str
    op: Callable[..., Any]
    """The tinylearn call on Tensors: ``op(*args, **kwargs)`` returns a Tensor or a tuple of them."""
    ref: Callable[..., Any]
    """The NumPy reference on the same arguments as arrays (float64)."""
    cases: st.SearchStrategy[Case]
    """How to draw the arguments: shapes, values (the op's domain) and constants."""
    functions: tuple[type[Function], ...]
    """The Function classes this entry exercises (forward or backward)."""
    grad_args: tuple[int, ...] | None = None
    """Positions of the differentiable args; None means every floating arg."""
    differentiable: bool = True
    """False for ops with bool / integer results (comparisons): forward tests only."""
    gradgrad: bool = True
    """False only where a second derivative is meaningless; say why next to the entry."""
    devices: tuple[str, ...] = ("cpu", "cuda")
    """Device types the entry runs on (moving to another device needs a GPU or the fake one)."""
    gradcheck_kwargs: Mapping[str, float] = field(default_factory=dict)
    """Extra arguments for gradcheck / gradgradcheck (a larger ``eps`` for casts)."""
    result_dtype: np.dtype | None = None
    """The floating result's dtype when it does not follow the inputs' (casts)."""
    rtol32: float = 1e-4
    atol32: float = 1e-5

    def __repr__(self) -> str:
        return f"OpSpec({self.name})"


# --------------------------------------------------------------------------- value domains


def floats(
    lo: float = -2.0, hi: float = 2.0, *, avoid: Sequence[float] = (), margin: float = 0.1
) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] at least ``margin`` away from each point of ``avoid`` (kinks, poles)."""
    edges = [lo, *[e for p in sorted(avoid) for e in (p - margin, p + margin)], hi]
    return st.one_of(
        [
            st.floats(a, b, allow_nan=False, allow_infinity=False, allow_subnormal=False)
            for a, b in zip(edges[::2], edges[1::2], strict=True)
            if a <= b
        ]
    )


REAL = floats()
POSITIVE = floats(0.1, 2.0)  # log, sqrt, rsqrt, the base of pow
NONZERO = floats(avoid=(0.0,))  # relu and abs (kink at 0), divisors (pole at 0)
LOG1P = floats(-0.5, 2.0)  # log1p has its pole at -1
WIDE = floats(-6.0, 6.0)  # sigmoid, tanh, softmax: reach the flat tails


def array(shape: tuple[int, ...], elements: st.SearchStrategy[float] = REAL) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with values from ``elements``."""
    return hnp.arrays(np.float64, shape, elements=elements)


def distinct(*shapes: tuple[int, ...]) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """Arrays (one per shape) whose values are all different, at least 0.02 apart: no max ties,
    and never within a finite-difference step of a tie."""
    sizes = [math.prod(s) for s in shapes]

    def split(flat: np.ndarray) -> tuple[np.ndarray, ...]:
        ends = np.cumsum(sizes)
        return tuple((p * 0.02).reshape(s) for p, s in zip(np.split(flat, ends[:-1]), shapes, strict=True))

    return hnp.arrays(np.int64, sum(sizes), elements=st.integers(-100, 100), unique=True).map(split)


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes of ``min_dims``..``max_dims`` dims, each of size ``min_side``..``max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable(n: int, min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy[hnp.BroadcastableShapes]:
    """``n`` shapes that broadcast together (sizes 1..4)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims, max_side=4)


# --------------------------------------------------------------------------- case strategies


def dim_of(ndim: int) -> st.SearchStrategy[int]:
    """A valid dimension for ``ndim`` dims, negative ones included."""
    return st.integers(-max(ndim, 1), max(ndim, 1) - 1)


def dims_of(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """A non-empty tuple of distinct dimensions, some written as negative numbers."""
    return st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])
    )


@st.composite
def broadcasts_to(draw, target: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``target``: some trailing dims of it, each kept or set to 1."""
    k = draw(st.integers(0, len(target)))
    return tuple(draw(st.sampled_from([1, n])) for n in target[len(target) - k :])


@st.composite
def elementwise(
    draw,
    *elements: st.SearchStrategy[float],
    broadcast: bool = True,
    min_dims: int = 0,
    max_dims: int = 3,
    **consts: st.SearchStrategy,
) -> Case:
    """One array per element strategy, with shapes that broadcast together (or are all equal);
    ``consts`` are drawn as they are (Python scalars)."""
    if broadcast:
        shps = draw(broadcastable(len(elements), min_dims, max_dims)).input_shapes
    else:
        shps = (draw(shapes(min_dims, max_dims)),) * len(elements)
    args = tuple(draw(array(s, e)) for s, e in zip(shps, elements, strict=True))
    return Case(args, {k: draw(v) for k, v in consts.items()})


@st.composite
def distinct_elementwise(draw, n: int = 2) -> Case:
    """``n`` broadcasting arrays with all values distinct (maximum, minimum, comparisons)."""
    return Case(draw(distinct(*draw(broadcastable(n)).input_shapes)))


@st.composite
def one_array(
    draw,
    elements: st.SearchStrategy[float] = REAL,
    min_dims: int = 0,
    *,
    ties: bool = True,
    **consts: Callable[[tuple[int, ...]], st.SearchStrategy],
) -> Case:
    """One array (distinct values unless ``ties``); each constant's strategy is made from its shape."""
    shape = draw(shapes(min_dims))
    x = draw(array(shape, elements)) if ties else draw(distinct(shape))[0]
    return Case((x,), {k: draw(make(shape)) for k, make in consts.items()})


@st.composite
def reduction(
    draw,
    elements: st.SearchStrategy[float] = REAL,
    *,
    multi: bool = False,
    keepdim: bool = True,
    ties: bool = True,
    min_count: int = 1,
    **consts: st.SearchStrategy,
) -> Case:
    """An array and a valid ``dim`` (a tuple of dims when ``multi``) over which ``min_count`` or
    more elements are reduced, and ``keepdim`` unless told not to; ``ties=False`` draws distinct values."""
    shape = draw(shapes(1))
    dim = draw(dims_of(len(shape)) if multi else dim_of(len(shape)))
    if math.prod(shape[d] for d in ((dim,) if isinstance(dim, int) else dim)) < min_count:
        shape = tuple(max(n, min_count) for n in shape)
    x = draw(array(shape, elements)) if ties else draw(distinct(shape))[0]
    kwargs = {"dim": dim, **{k: draw(v) for k, v in consts.items()}}
    if keepdim:
        kwargs["keepdim"] = draw(st.booleans())
    return Case((x,), kwargs)


@st.composite
def int_tensor_operand(draw) -> Case:
    shps = draw(broadcastable(2)).input_shapes
    return Case((draw(array(shps[0])), draw(hnp.arrays(np.int64, shps[1], elements=st.integers(-3, 3)))))


@st.composite
def reshape_case(draw, infer: bool) -> Case:
    """An array and another shape with as many elements (with one ``-1`` when ``infer``)."""
    shape = draw(shapes())
    n, factors = math.prod(shape), []
    while n > 1:
        f = draw(st.sampled_from([d for d in range(2, n + 1) if n % d == 0]))
        factors.append(f)
        n //= f
    target = draw(st.permutations(factors + [1] * draw(st.integers(0, 1))))
    if infer and target:
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Case((draw(array(shape)),), {"shape": tuple(target)})


@st.composite
def flatten_case(draw) -> Case:
    shape = draw(shapes(1))
    start, end = sorted(draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2)))
    start, end = (
        draw(st.sampled_from([start, start - len(shape)])),
        draw(st.sampled_from([end, end - len(shape)])),
    )
    return Case((draw(array(shape)),), {"start": start, "end": end})


@st.composite
def unflatten_case(draw) -> Case:
    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    rest = draw(shapes(0, 1))
    return Case((draw(array((math.prod(sizes), *rest))),), {"sizes": sizes})


@st.composite
def expand_case(draw, minus_one: bool) -> Case:
    """x and a shape x broadcasts to; with ``minus_one`` some kept sizes are written as -1."""
    target = draw(shapes())
    shape = draw(broadcasts_to(target))
    sizes = list(target)
    if minus_one:
        lead = len(target) - len(shape)
        for i, n in enumerate(shape):
            if n == target[lead + i] and draw(st.booleans()):
                sizes[lead + i] = -1
    return Case((draw(array(shape)),), {"shape": tuple(sizes)})


@st.composite
def expand_as_case(draw) -> Case:
    target = draw(shapes())
    return Case((draw(array(draw(broadcasts_to(target)))), draw(array(target))))


@st.composite
def sum_to_case(draw) -> Case:
    """A gradient-like array and a shape that broadcasts to its shape."""
    big = draw(shapes())
    return Case((draw(array(big)),), {"shape": draw(broadcasts_to(big))})


@st.composite
def index_case(draw, kind: str) -> Case:
    """An array and an index of one ``kind``: basic (ints, slices, None, ...), int_array (a
    tensor of indices along one dim, with a repeat), advanced (several int arrays that
    broadcast), mask (a bool mask over the leading dims), list (a Python list), mixed (a new
    axis, reversed slices and an int array)."""
    shape = draw(shapes(1))
    x = draw(array(shape))
    if kind == "basic":
        index = draw(
            hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
                lambda ix: np.empty(shape)[ix].size > 0
            )
        )
    elif kind == "int_array":
        d = draw(st.integers(0, len(shape) - 1))
        picks = draw(st.lists(st.integers(-shape[d], shape[d] - 1), min_size=1, max_size=5))
        index = (slice(None),) * d + (np.array([*picks, picks[0]]),)
    elif kind == "advanced":
        index = draw(hnp.integer_array_indices(shape, result_shape=shapes(1, 2)))
    elif kind == "mask":
        index = draw(hnp.arrays(bool, shape[: draw(st.integers(1, len(shape)))]).filter(np.any))
    elif kind == "list":
        index = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5))
    else:
        idx = np.array(draw(st.lists(st.integers(0, shape[-1] - 1), min_size=1, max_size=4)))
        index = (None, *[slice(None, None, -1)] * (len(shape) - 1), idx)
    return Case((x,), {"index": index})


@st.composite
def index_select_case(draw) -> Case:
    shape = draw(shapes(1))
    dim = draw(dim_of(len(shape)))
    index = draw(hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(0, shape[dim] - 1)))
    return Case((draw(array(shape)),), {"dim": dim, "index": index})


@st.composite
def narrow_case(draw) -> Case:
    shape = draw(shapes(1))
    start = draw(st.integers(0, shape[-1] - 1))
    return Case((draw(array(shape)),), {"start": start, "length": draw(st.integers(1, shape[-1] - start))})


@st.composite
def setitem_case(draw, kind: str) -> Case:
    """A base array, an index and a value to write there: basic, int_array (unique: with
    repeats the written value would depend on the order), mask, or scalar (a Python number at a
    mask). A tensor value has a shape that broadcasts to ``x[index]``."""
    shape = draw(shapes(1))
    x = draw(array(shape))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape).filter(lambda ix: np.empty(shape)[ix].size > 0))
    elif kind == "int_array":
        d = draw(st.integers(0, len(shape) - 1))
        picks = draw(st.lists(st.integers(0, shape[d] - 1), min_size=1, unique=True))
        index = (slice(None),) * d + (np.array(picks),)
    else:
        index = draw(hnp.arrays(bool, shape).filter(np.any))
    if kind == "scalar":
        return Case((x,), {"index": index, "value": draw(REAL)})
    target = np.empty(shape)[index].shape
    return Case((x, draw(array(draw(broadcasts_to(target))))), {"index": index})


@st.composite
def matmul_case(draw, left: str, right: str) -> Case:
    """``v`` a vector, ``m`` a matrix, ``b`` a batch of matrices (the batch dims broadcast)."""
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(broadcastable(2, max_dims=2)).input_shapes
    a = {"v": (k,), "m": (n, k), "b": (*batch[0], n, k)}[left]
    b = {"v": (k,), "m": (k, m), "b": (*batch[1], k, m)}[right]
    return Case((draw(array(a)), draw(array(b))))


@st.composite
def linear_case(draw, batch_dims: int, bias: bool) -> Case:
    """x (*batch, in) with ``batch_dims`` leading dims (0: a single vector), W (out, in), maybe b (out,)."""
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = tuple(draw(st.integers(1, 3)) for _ in range(batch_dims))
    args = (draw(array((*batch, n_in))), draw(array((n_out, n_in))))
    return Case(args + ((draw(array((n_out,))),) if bias else ()))


def np_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    return x @ w.T + (0.0 if b is None else b)


@st.composite
def einsum_case(draw, equation: str) -> Case:
    """Operands for ``equation``; ``...`` stands for batch dims that broadcast between operands."""
    ins = equation.partition("->")[0].split(",")
    sizes = {c: draw(st.integers(1, 4)) for c in sorted(set("".join(ins)) - set("."))}
    batch = draw(broadcastable(len(ins), max_dims=2)).input_shapes
    args = tuple(
        draw(array((*(batch[i] if "..." in s else ()), *(sizes[c] for c in s.replace("...", "")))))
        for i, s in enumerate(ins)
    )
    return Case(args, {"equation": equation})


@st.composite
def cat_case(draw, stack: bool) -> Case:
    """2 or 3 arrays that agree except along ``dim`` (that agree everywhere, for stack)."""
    shape = draw(shapes(0 if stack else 1))
    dim = draw(dim_of(len(shape) + 1 if stack else len(shape)))
    arrays = []
    for _ in range(draw(st.integers(2, 3))):
        s = list(shape)
        if not stack:
            s[dim] = draw(st.integers(1, 3))
        arrays.append(draw(array(tuple(s))))
    return Case(tuple(arrays), {"dim": dim})


@st.composite
def split_case(draw, sections: bool) -> Case:
    """A dim and either a piece size / chunk count, or a list of section sizes that add up."""
    shape = draw(shapes(1))
    dim = draw(dim_of(len(shape)))
    n = shape[dim]
    if sections:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        size = [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    else:
        size = draw(st.integers(1, n + 1))
    return Case((draw(array(shape)),), {"size": size, "dim": dim})


@st.composite
def pad_case(draw, mode: str) -> Case:
    """Pads for the last 1..3 dims: reflect needs pads < size, circular pads <= size; constant
    pads may be negative (they crop)."""
    shape = draw(shapes(1))
    pad = []
    for n in reversed(shape[-draw(st.integers(1, len(shape))) :]):
        top = {"reflect": n - 1, "circular": n}.get(mode, 3)
        low = -(n // 2) if mode == "constant" else 0
        pad += [draw(st.integers(low, top)), draw(st.integers(low, top))]
    kwargs: dict[str, Any] = {"pad": tuple(pad), "mode": mode}
    if mode == "constant":
        kwargs["value"] = draw(REAL)
    return Case((draw(array(shape)),), kwargs)


@st.composite
def gather_case(draw) -> Case:
    """An index no larger than x off ``dim`` (PyTorch allows smaller), entries repeating."""
    shape = draw(shapes(1))
    dim = draw(dim_of(len(shape)))
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(1, 4 if i == d else n)) for i, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    return Case((draw(array(shape)),), {"dim": dim, "index": index})


@st.composite
def cross_entropy_case(draw, reduction: str) -> Case:
    """Logits (N, C) and int targets (N,), some of them ``ignore_index`` (never all: the mean of no
    position is NaN, tested on its own)."""
    n, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ignore_index = draw(st.sampled_from([-100, 0]))
    target = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    if ignore_index == 0 and (target == 0).all():  # keep one position
        if classes > 1:
            target[0] = classes - 1
        else:
            ignore_index = -100
    return Case((draw(array((n, classes))),), {"target": target, "ignore_index": ignore_index,
                                               "reduction": reduction})  # fmt: skip


def np_cross_entropy(x: np.ndarray, target: np.ndarray, ignore_index: int, reduction: str) -> np.ndarray:
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    keep = target != ignore_index
    nll = -logp[np.arange(len(x)), np.where(keep, target, 0)] * keep
    return np.asarray(nll.sum() / keep.sum() if reduction == "mean" else nll.sum())


@st.composite
def scatter_case(draw) -> Case:
    """x, src and an index (no larger than src, nor than x off ``dim``) whose entries repeat."""
    shape = draw(shapes(1))
    d = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(draw(st.integers(1, 4 if i == d else n)) for i, n in enumerate(shape))
    sshape = tuple(m + draw(st.integers(0, 1)) for m in ishape)
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, shape[d] - 1)))
    return Case((draw(array(shape)), draw(array(sshape))), {"dim": d, "index": index})


@st.composite
def where_case(draw, scalar_other: bool) -> Case:
    """A bool condition and the values to pick from, all broadcasting together."""
    shps = draw(broadcastable(2 if scalar_other else 3)).input_shapes
    args = (draw(hnp.arrays(bool, shps[0])), *[draw(array(s)) for s in shps[1:]])
    return Case(args, {"other": draw(REAL)} if scalar_other else {})


@st.composite
def masked_fill_case(draw, tensor_value: bool) -> Case:
    """x and a bool mask that broadcasts to x's shape; the value is a number or a 0-d tensor."""
    shape = draw(shapes())
    x, mask = draw(array(shape)), draw(hnp.arrays(bool, draw(broadcasts_to(shape))))
    if tensor_value:
        return Case((x, draw(array(()))), {"mask": mask})
    return Case((x,), {"mask": mask, "value": draw(REAL)})


@st.composite
def clamp_case(draw, lo: float | None, hi: float | None) -> Case:
    """x kept 0.1 away from the bounds, where clamp has its kinks."""
    avoid = tuple(v for v in (lo, hi) if v is not None)
    return Case((draw(array(draw(shapes()), floats(avoid=avoid))),), {"lo": lo, "hi": hi})


@st.composite
def clamp_tensor_case(draw) -> Case:
    """x and tensor bounds lo < hi, all broadcasting, no value of x equal to a bound."""
    x, a, b = draw(distinct(*draw(broadcastable(3)).input_shapes))
    return Case((x, np.asarray(np.minimum(a, b)), np.asarray(np.maximum(a, b))))


@st.composite
def prod_zero_case(draw, full: bool) -> Case:
    """An array with one or two exact zeros (prod's gradient is then the product of the others)."""
    shape = draw(shapes(1))
    x = draw(array(shape, NONZERO))
    for _ in range(draw(st.integers(1, 2))):
        x[tuple(draw(st.integers(0, n - 1)) for n in shape)] = 0.0
    return Case((x,), {} if full else {"dim": draw(dim_of(len(shape))), "keepdim": draw(st.booleans())})


@st.composite
def inplace_case(draw, elements: st.SearchStrategy[float] = REAL) -> Case:
    """x and an operand whose shape broadcasts to x's (an in-place op cannot change x's shape)."""
    shape = draw(shapes())
    return Case((draw(array(shape)), draw(array(draw(broadcasts_to(shape)), elements))))


@st.composite
def empty_case(draw, kind: str) -> Case:
    """Inputs with a dimension of size 0: empty tensors must flow through forward and backward."""
    if kind == "add":
        shps = draw(
            hnp.mutually_broadcastable_shapes(
                num_shapes=2, min_dims=1, max_dims=3, min_side=0, max_side=3
            ).filter(lambda b: 0 in b.result_shape)
        ).input_shapes
        return Case(tuple(draw(array(s)) for s in shps))
    if kind == "matmul":
        n, k, m = draw(st.permutations([0, draw(st.integers(0, 3)), draw(st.integers(1, 3))]))
        return Case((draw(array((n, k))), draw(array((k, m)))))
    shape = draw(shapes(1, min_side=0, max_side=3).filter(lambda s: 0 in s))
    dim = draw(dim_of(len(shape)))
    if kind == "cat":
        other = tuple(0 if i == dim % len(shape) else n for i, n in enumerate(shape))
        return Case((draw(array(shape)), draw(array(other))), {"dim": dim})
    if kind == "getitem":
        return Case((draw(array(shape)),), {"index": draw(hnp.basic_indices(shape, allow_newaxis=True))})
    return Case((draw(array(shape)),), {"dim": dim})


# --------------------------------------------------------------------------- NumPy references


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def np_erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def np_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def np_sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``x`` over the axes along which ``shape`` was broadcast to ``x.shape``."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    return x.sum(axis=axes, keepdims=True).reshape(shape)


def np_expand(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``expand``: -1 keeps the size of the aligned dim of x."""
    lead = len(shape) - x.ndim
    return np.broadcast_to(x, tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape)))


def np_flatten(x: np.ndarray, start: int, end: int) -> np.ndarray:
    start, end = start % x.ndim, end % x.ndim
    return x.reshape((*x.shape[:start], -1, *x.shape[end + 1 :]))


def np_pad(x: np.ndarray, pad: tuple[int, ...], mode: str = "constant", value: float = 0.0) -> np.ndarray:
    """PyTorch's pad (``pad`` lists the last dimension first) written with np.pad."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        x = x[tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape, strict=True))]
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])


def np_gather(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """``out[pos] = x[pos with pos[dim] replaced by index[pos]]``, one element at a time."""
    out = np.empty(index.shape, x.dtype)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def np_scatter_add(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """``out[pos with pos[dim] replaced by index[pos]] += src[pos]``, one element at a time."""
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        dst = list(pos)
        dst[dim] = index[pos]
        out[tuple(dst)] += src[pos]
    return out


def np_split(x: np.ndarray, size: int | list[int], dim: int) -> tuple[np.ndarray, ...]:
    """PyTorch's split: pieces of ``size`` (the last one shorter), or sections of the listed sizes."""
    n = x.shape[dim]
    sizes = size if isinstance(size, list) else [min(size, n - s) for s in range(0, n, size)]
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))


def np_chunk(x: np.ndarray, size: int, dim: int) -> tuple[np.ndarray, ...]:
    """PyTorch's chunk into ``size`` chunks: pieces of ⌈n / size⌉ (so possibly fewer of them)."""
    return np_split(x, -(-x.shape[dim] // size), dim)


def np_clamp(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    return np.clip(x, lo, hi)


def np_setitem(x: np.ndarray, value: Any, index: Any) -> np.ndarray:
    y = x.copy()
    y[index] = value
    return y


# --------------------------------------------------------------------------- ops written as functions


def setitem(x: tl.Tensor, value: tl.Tensor | None = None, *, index: Any, **scalar: float) -> tl.Tensor:
    """``y = x * 1; y[index] = value; return y``: in place on a non-leaf (a tensor value, or a
    Python number passed as ``value=`` among the constants)."""
    y = x * 1
    y[index] = scalar["value"] if value is None else value
    return y


def copy_into(x: tl.Tensor, src: tl.Tensor) -> tl.Tensor:
    """``y = x * 1; y.copy_(src); return y``."""
    y = x * 1
    y.copy_(src)
    return y


def inplace(method: str) -> Callable[..., Any]:
    """``y = x * 1; y.<method>(other); return y``: an in-place op on a non-leaf."""

    def op(x: tl.Tensor, other: tl.Tensor) -> tl.Tensor:
        y = x * 1
        getattr(y, method)(other)
        return y

    op.__name__ = method
    return op


def _moves(perm: tuple[int, ...]) -> bool:
    """True for a permutation that is not the identity (which permute returns as it is)."""
    return perm != tuple(range(len(perm)))


def device_round_trip(x: tl.Tensor) -> tl.Tensor:
    """To the CPU and back: both moves are differentiable ``ToDevice`` nodes."""
    return (x.to("cpu") * 2).to(x.device)


# --------------------------------------------------------------------------- images: strategies


def _spatial(
    draw, kernel: tuple[int, ...], dilation: tuple[int, ...], padding: tuple[int, ...]
) -> tuple[int, ...]:
    """Sizes that fit at least one dilated window after padding, and a few more."""
    return tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 4 - 2 * p))
        for k, d, p in zip(kernel, dilation, padding, strict=True)
    )


@st.composite
def conv_case(draw, dims: int = 2, transposed: bool = False) -> Case:
    """x, a weight and maybe a bias for a convolution of ``dims`` spatial dims (1 or 2): 1–2
    images, 1–2 groups of 1–2 channels, kernels 1–3, stride and dilation 1–2, padding 0–1 (or
    "same"/"valid" for conv), and for the transposed convolution an output_padding below the
    stride or dilation."""
    n, groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding: Any = tuple(draw(st.integers(0, 1)) for _ in range(dims))
    kwargs: dict[str, Any] = {"stride": stride, "dilation": dilation, "groups": groups}
    if transposed:
        size = tuple(draw(st.integers(1, 3)) for _ in range(dims))
        kwargs["output_padding"] = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        )
        shapes_ = ((n, groups * cg, *size), (groups * cg, og, *kernel))
        padding = tuple(
            min(p, (d * (k - 1) + o) // 2)
            for p, d, k, o in zip(padding, dilation, kernel, kwargs["output_padding"], strict=True)
        )
    else:
        size = _spatial(draw, kernel, dilation, padding)
        if draw(st.integers(0, 3)) == 0:  # sometimes the strings, "same" only for stride 1
            padding = draw(st.sampled_from(["valid", "same"] if stride == (1,) * dims else ["valid"]))
            size = _spatial(draw, kernel, dilation, (0,) * dims)
        shapes_ = ((n, groups * cg, *size), (groups * og, cg, *kernel))
    if dims == 1:
        kwargs = {k: v[0] if isinstance(v, tuple) else v for k, v in kwargs.items()}
        padding = padding[0] if isinstance(padding, tuple) else padding
    kwargs["padding"] = padding
    args = tuple(draw(array(s)) for s in shapes_)
    if draw(st.booleans()):
        args += (draw(array((shapes_[1][1] * groups if transposed else shapes_[1][0],))),)
    return Case(args, kwargs)


@st.composite
def pool_case(draw, kind: str) -> Case:
    """An image batch with distinct values (no ties between a window's candidates) and the
    arguments of ``max_pool2d`` (kind "max": dilation, ceil_mode) or ``avg_pool2d`` (kind "avg":
    ceil_mode, count_include_pad, divisor_override); stride None means the kernel size."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2)) if kind == "max" else (1, 1)
    padding = tuple(
        draw(st.integers(0, (d * (k - 1) + 1) // 2)) for k, d in zip(kernel, dilation, strict=True)
    )
    size = _spatial(draw, kernel, dilation, padding)
    (x,) = draw(distinct((draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)))
    kwargs: dict[str, Any] = {
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }
    if kind == "max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        kwargs["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    return Case((x,), kwargs)


@st.composite
def adaptive_case(draw, path: str) -> Case:
    """An image batch and an output size that takes one of adaptive_avg_pool2d's paths: "global"
    (1 × 1), "even" (the output divides the input: average pooling) or "general" (overlapping or
    uneven bins: two interpolation-matrix products)."""
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    if path == "global":
        size: Any = draw(st.sampled_from([1, (1, 1)]))
    elif path == "even":
        size = (
            draw(st.sampled_from([d for d in range(1, h + 1) if h % d == 0])),
            draw(st.sampled_from([d for d in range(1, w + 1) if w % d == 0])),
        )
        assume(size != (1, 1))
    else:
        size = draw(st.tuples(st.one_of(st.none(), st.integers(1, 5)), st.integers(1, 5)))
        assume((h % (size[0] or h), w % size[1]) != (0, 0))
    return Case((draw(array((draw(st.integers(1, 2)), 2, h, w))),), {"output_size": size})


@st.composite
def interpolate_case(draw, mode: str, kind: str) -> Case:
    """A (N, C, L) or (N, C, H, W) input resized to a drawn ``size`` (kind "size"), by fractional
    scale factors ("fraction") or by integer ones ("integer"). Nearest resampling by a size or a
    fraction keeps to the indexing path (some dimension not an integer multiple); the linear
    modes change some dimension's size (an unchanged one is copied)."""
    dims = 1 if mode == "linear" else 2 if mode == "bilinear" else draw(st.integers(1, 2))
    in_sizes = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    kwargs: dict[str, Any] = {"mode": mode}
    if kind == "size":
        outs = kwargs["size"] = tuple(draw(st.integers(1, 6)) for _ in range(dims))
    else:
        factors = tuple(
            draw(st.sampled_from([1, 2, 3] if kind == "integer" else [0.75, 1.5, 2.5])) for _ in range(dims)
        )
        outs = tuple(math.floor(n * f) for n, f in zip(in_sizes, factors, strict=True))
        assume(min(outs) >= 1)
        kwargs["scale_factor"] = factors
    if mode == "nearest" and kind != "integer":
        assume(any(o < n or o % n for n, o in zip(in_sizes, outs, strict=True)))
    if mode != "nearest":
        assume(outs != in_sizes)
        kwargs["align_corners"] = draw(st.booleans())
    return Case((draw(array((draw(st.integers(1, 2)), 2, *in_sizes))),), kwargs)


@st.composite
def unfold_case(draw, fold: bool) -> Case:
    """An image (or, for fold, the columns unfold would make of one) and the window arguments."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
    size = _spatial(draw, kernel, dilation, padding)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kwargs: dict[str, Any] = {
        "kernel_size": kernel,
        "dilation": dilation,
        "padding": padding,
        "stride": stride,
    }
    if not fold:
        return Case((draw(array((n, c, *size))),), kwargs)
    blocks = math.prod(
        (s + 2 * p - d * (k - 1) - 1) // t + 1
        for s, k, d, p, t in zip(size, kernel, dilation, padding, stride, strict=True)
    )
    return Case((draw(array((n, c * kernel[0] * kernel[1], blocks))),), {"output_size": size, **kwargs})


@st.composite
def norm_case(draw, kind: str) -> Case:
    """(N, C, H, W) inputs with an affine weight and bias (and, for "batch_eval", running
    statistics with a positive variance); group norm draws a group count dividing C. The values
    alternate ±2 (plus noise in [−1, 1]) along W, so every set that is normalised has a standard
    deviation of at least 1: far from var + eps ≈ eps, where derivatives grow like 1/√eps."""
    groups = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, 2))
    n = draw(st.integers(2 if kind == "batch" else 1, 3))
    h, w = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    x = draw(array((n, c, h, w), floats(-1.0, 1.0))) + 2.0 * (-1.0) ** np.arange(w)
    args = (x, draw(array((c,))), draw(array((c,))))
    if kind == "batch_eval":  # running statistics are tensors of x's dtype, but not differentiated
        return Case((*args, draw(array((c,))), draw(array((c,), POSITIVE))))
    return Case(args, {"num_groups": groups} if kind == "group" else {})


# --------------------------------------------------------------------------- images: NumPy references


def _np_windows(size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False):
    """The start of every window along one dim, PyTorch's count (ceil_mode drops a last window
    that would start in the right padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (count - 1) * stride >= size + padding:
        count -= 1
    return [o * stride - padding for o in range(count)]


def np_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolution of (N, C, *S) with (O, C/G, *K) for 1 or 2 spatial dims, by its definition:
    out[n, o, p] = Σ_{c, q} x[n, g·C/G + c, p·stride + q·dilation − padding] · w[o, c, q]
    (zero outside x), one kernel offset q at a time."""
    dims = x.ndim - 2
    tup = lambda v: (v,) * dims if isinstance(v, int) else tuple(v)  # noqa: E731
    stride, dilation, kernel = tup(stride), tup(dilation), w.shape[2:]
    if padding == "valid":
        padding = 0
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        pads = [(total // 2, total - total // 2) for total in totals]
    else:
        pads = [(p, p) for p in tup(padding)]
    xp_ = np.pad(x, [(0, 0), (0, 0), *pads])
    geometry = zip(xp_.shape[2:], kernel, stride, dilation, strict=True)
    out_sizes = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in geometry]
    nb, c = x.shape[:2]
    o = w.shape[0]
    out = np.zeros((nb, o, *out_sizes))
    xg = xp_.reshape(nb, groups, c // groups, *xp_.shape[2:])
    wg = w.reshape(groups, o // groups, *w.shape[1:])
    for q in np.ndindex(*kernel):
        offsets = zip(q, dilation, stride, out_sizes, strict=True)
        sl = tuple(slice(qi * d, qi * d + s * (m - 1) + 1, s) for qi, d, s, m in offsets)
        patch = xg[(slice(None),) * 3 + sl]  # (N, G, C/G, *out)
        out += np.einsum("ngc...,goc->ngo...", patch, wg[(slice(None),) * 3 + q]).reshape(out.shape)
    if b is not None:
        out += b.reshape(1, o, *[1] * dims)
    return out


def np_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """The transposed convolution by its definition: every input pixel adds its value times the
    kernel into the output at p·stride + q·dilation − padding."""
    dims = x.ndim - 2
    tup = lambda v: (v,) * dims if isinstance(v, int) else tuple(v)  # noqa: E731
    stride, padding, output_padding, dilation = map(tup, (stride, padding, output_padding, dilation))
    nb, c = x.shape[:2]
    og, kernel = w.shape[1], w.shape[2:]
    full = [
        (n - 1) * s + d * (k - 1) + 1 + op
        for n, s, d, k, op in zip(x.shape[2:], stride, dilation, kernel, output_padding, strict=True)
    ]
    buf = np.zeros((nb, groups, og, *full))
    xg = x.reshape(nb, groups, c // groups, *x.shape[2:])
    wg = w.reshape(groups, c // groups, og, *kernel)
    for q in np.ndindex(*kernel):
        sl = tuple(
            slice(qi * d, qi * d + s * (n - 1) + 1, s)
            for qi, d, s, n in zip(q, dilation, stride, x.shape[2:], strict=True)
        )
        buf[(slice(None),) * 3 + sl] += np.einsum("ngc...,gco->ngo...", xg, wg[(slice(None),) * 3 + q])
    crop = tuple(slice(p, f - p) for p, f in zip(padding, full, strict=True))
    out = buf.reshape(nb, groups * og, *full)[(slice(None), slice(None)) + crop]
    return out if b is None else out + b.reshape(1, -1, *[1] * dims)


def np_max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, with_indices=False):
    """Every window's maximum (over the positions inside x) and its flat index h·W + w."""
    stride = stride if stride is not None else kernel_size
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    n, c, h, w = x.shape
    rows = _np_windows(h, kh, sh, ph, dh, ceil_mode)
    cols = _np_windows(w, kw, sw, pw, dw, ceil_mode)
    out = np.full((n, c, len(rows), len(cols)), -np.inf)
    index = np.zeros(out.shape, dtype=np.int64)
    for i, r0 in enumerate(rows):
        for j, c0 in enumerate(cols):
            for a in range(kh):
                for b in range(kw):
                    r, q = r0 + a * dh, c0 + b * dw
                    if 0 <= r < h and 0 <= q < w:
                        better = x[:, :, r, q] > out[:, :, i, j]
                        out[:, :, i, j] = np.where(better, x[:, :, r, q], out[:, :, i, j])
                        index[:, :, i, j] = np.where(better, r * w + q, index[:, :, i, j])
    return (out, index) if with_indices else out


def np_avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Every window's sum over the positions inside x, divided as PyTorch divides: by
    ``divisor_override``, or by the window clipped to the padded input (count_include_pad), or by
    the number of positions inside x."""
    stride = stride if stride is not None else kernel_size
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    rows, cols = _np_windows(h, kh, sh, ph, 1, ceil_mode), _np_windows(w, kw, sw, pw, 1, ceil_mode)
    out = np.zeros((n, c, len(rows), len(cols)))
    for i, r0 in enumerate(rows):
        for j, c0 in enumerate(cols):
            r1, c1 = min(r0 + kh, h + ph), min(c0 + kw, w + pw)
            inside = x[:, :, max(r0, 0) : min(r1, h), max(c0, 0) : min(c1, w)]
            if divisor_override:
                divisor = divisor_override
            elif count_include_pad:
                divisor = (r1 - r0) * (c1 - c0)
            else:
                divisor = inside.shape[2] * inside.shape[3]
            out[:, :, i, j] = inside.sum((2, 3)) / divisor
    return out


def np_adaptive_avg_pool2d(x, output_size):
    """Output (i, j) is the mean of rows ⌊i·H/Ho⌋ .. ⌈(i+1)·H/Ho⌉ − 1 and the same columns."""
    h, w = x.shape[2:]
    sizes = (output_size, output_size) if isinstance(output_size, int) else output_size
    ho, wo = (h if sizes[0] is None else sizes[0]), (w if sizes[1] is None else sizes[1])
    out = np.zeros((*x.shape[:2], ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, r1 = i * h // ho, -(-(i + 1) * h // ho)
            c0, c1 = j * w // wo, -(-(j + 1) * w // wo)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean((2, 3))
    return out


def np_interpolate(x, mode, size=None, scale_factor=None, align_corners=False):
    """Resampling, one output pixel at a time, by PyTorch's source-coordinate formulas."""
    dims = x.ndim - 2
    if size is not None:
        outs, scales = tuple(size), (None,) * dims
    else:
        outs = tuple(math.floor(n * f) for n, f in zip(x.shape[2:], scale_factor, strict=True))
        scales = tuple(1.0 / f for f in scale_factor)

    def nearest(n, o, s):  # source index of each output index
        if o == n:
            return list(range(o))
        if o == 2 * n:
            return [i // 2 for i in range(o)]
        sc = np.float32(n / o if s is None else s)
        return [min(int(np.floor(np.float32(i) * sc)), n - 1) for i in range(o)]

    def linear(n, o, s):  # (low index, high index, weight of high) of each output index
        if o == n:
            return [(i, i, 0.0) for i in range(o)]
        taps = []
        for i in range(o):
            if align_corners:
                src = i * (n - 1) / (o - 1) if o > 1 else 0.0
            else:
                src = max((i + 0.5) * (n / o if s is None else s) - 0.5, 0.0)
            lo = min(math.floor(src), n - 1)
            taps.append((lo, min(lo + 1, n - 1), src - lo))
        return taps

    out = np.zeros((*x.shape[:2], *outs))
    if mode == "nearest":
        idx = [nearest(n, o, s) for n, o, s in zip(x.shape[2:], outs, scales, strict=True)]
        for pos in np.ndindex(*outs):
            out[(slice(None), slice(None), *pos)] = x[
                (slice(None), slice(None), *[idx[d][p] for d, p in enumerate(pos)])
            ]
        return out
    taps = [linear(n, o, s) for n, o, s in zip(x.shape[2:], outs, scales, strict=True)]
    for pos in np.ndindex(*outs):
        value = 0.0
        for corner in np.ndindex(*(2,) * dims):
            weight, src = 1.0, []
            for d, (p, side) in enumerate(zip(pos, corner, strict=True)):
                lo, hi, frac = taps[d][p]
                weight *= frac if side else 1 - frac
                src.append(hi if side else lo)
            value = value + weight * x[(slice(None), slice(None), *src)]
        out[(slice(None), slice(None), *pos)] = value
    return out


def np_unfold(x, kernel_size, dilation, padding, stride):
    """Column l = (i, j) of image n holds x[n, c, i·s + a·d − p, j·s + b·d − p] at row (c, a, b)."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    n, c, h, w = x.shape
    rows, cols = _np_windows(h, kh, sh, ph, dh), _np_windows(w, kw, sw, pw, dw)
    out = np.zeros((n, c, kh, kw, len(rows), len(cols)))
    for i, r0 in enumerate(rows):
        for j, c0 in enumerate(cols):
            for a in range(kh):
                for b in range(kw):
                    r, q = r0 + a * dh, c0 + b * dw
                    if 0 <= r < h and 0 <= q < w:
                        out[:, :, a, b, i, j] = x[:, :, r, q]
    return out.reshape(n, c * kh * kw, -1)


def np_fold(cols, output_size, kernel_size, dilation, padding, stride):
    """The sum, at every pixel, of the column entries unfold would have read from it."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    (h, w), n = output_size, cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    rows, starts = _np_windows(h, kh, sh, ph, dh), _np_windows(w, kw, sw, pw, dw)
    blocks = cols.reshape(n, c, kh, kw, len(rows), len(starts))
    out = np.zeros((n, c, h, w))
    for i, r0 in enumerate(rows):
        for j, c0 in enumerate(starts):
            for a in range(kh):
                for b in range(kw):
                    r, q = r0 + a * dh, c0 + b * dw
                    if 0 <= r < h and 0 <= q < w:
                        out[:, :, r, q] += blocks[:, :, a, b, i, j]
    return out


def np_normalize(x, weight, bias, axes, mean=None, var=None, eps=1e-5):
    """(x − mean) / √(var + eps) · weight + bias with per-channel weight and bias; the mean and
    biased variance over ``axes`` unless given."""
    mean = x.mean(axes, keepdims=True) if mean is None else mean
    var = x.var(axes, keepdims=True) if var is None else var
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


def np_group_norm(x, weight, bias, num_groups):
    """Each sample's channel group normalised over its channels and positions, then per-channel affine."""
    g = x.reshape(x.shape[0], num_groups, -1)
    normed = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return normed * weight.reshape(shape) + bias.reshape(shape)


# --------------------------------------------------------------------------- the catalogue


def _same(name: str, fn: Callable, cases: st.SearchStrategy[Case], functions: tuple, **kw) -> OpSpec:
    """An entry whose tinylearn call and NumPy reference are the same expression."""
    return OpSpec(name, fn, fn, cases, functions, **kw)


def _unary(name: str, fn: Callable, ref: Callable, function: type[Function], elements=REAL) -> OpSpec:
    """An elementwise function of one tensor, with inputs from the ``elements`` domain."""
    return OpSpec(name, fn, ref, elementwise(elements), (function,))


def _scalar(name: str, fn: Callable, function: type[Function], c=REAL, x=REAL) -> OpSpec:
    """``fn(x, c)`` with a Python number ``c``."""
    return _same(name, fn, elementwise(x, c=c), (function,))


def _compare(name: str, fn: Callable) -> OpSpec:
    """A comparison: bool results, forward tests only (distinct values, except where ties are drawn)."""
    return _same(name, fn, distinct_elementwise(), (), differentiable=False)


NONZERO_SCALAR = st.one_of(st.sampled_from([2, -3]), floats(-3.0, 3.0, avoid=(0.0,), margin=0.25))
POSITIVE_SCALAR = st.sampled_from([2, 3, 0.5, 1.5, 2.5])
EINSUMS = {
    "mm": "ij,jk->ik", "batched": "bij,bjk->bik", "ellipsis": "...ij,...jk->...ik", "column_sum": "ij->j",
    "total": "ij->", "dot": "i,i->", "outer": "i,j->ij", "implicit": "ij,jk", "transpose": "ij->ji",
    "chain": "ij,jk,kl->il", "summed_in_one_operand": "ij,k->ik", "ellipsis_sum": "...i->...",
    "trace": "ii->", "diagonal": "ii->i", "diagonal_batched": "bii,bi->b",
}  # fmt: skip


CATALOGUE: list[OpSpec] = [
    # ---- arithmetic with broadcasting, reflected operators and Python scalars
    _same("add", lambda x, y: x + y, elementwise(REAL, REAL), (ops.Add, ops.SumTo)),
    _same("sub", lambda x, y: x - y, elementwise(REAL, REAL), (ops.Sub, ops.SumTo)),
    _same("mul", lambda x, y: x * y, elementwise(REAL, REAL), (ops.Mul, ops.SumTo)),
    _same("div", lambda x, y: x / y, elementwise(REAL, NONZERO), (ops.Div, ops.SumTo)),
    OpSpec(
        "functional_arith",
        lambda x, y: tl.div(tl.sub(tl.add(x, y), tl.mul(x, y)), y),
        lambda x, y: (x + y - x * y) / y,
        elementwise(REAL, NONZERO),
        (ops.Add, ops.Sub, ops.Mul, ops.Div),
    ),
    _scalar("add_scalar", lambda x, c: x + c, ops.Add),
    _scalar("radd_scalar", lambda x, c: c + x, ops.Add),
    _scalar("sub_scalar", lambda x, c: x - c, ops.Sub),
    _scalar("rsub_scalar", lambda x, c: c - x, ops.Sub),
    _scalar("mul_int_scalar", lambda x, c: x * c, ops.Mul, c=st.integers(-3, 3)),
    _scalar("rmul_scalar", lambda x, c: c * x, ops.Mul),
    _scalar("div_scalar", lambda x, c: x / c, ops.Div, c=NONZERO_SCALAR),
    _scalar("rdiv_scalar", lambda x, c: c / x, ops.Div, c=NONZERO_SCALAR, x=NONZERO),
    # an int64 tensor operand is promoted to float64 by a Cast node, and gets no gradient
    _same("add_int_tensor", lambda x, k: x + k, int_tensor_operand(), (ops.Add, ops.Cast)),
    _scalar("pow_int_exponent", lambda x, c: x**c, ops.PowScalar, c=st.sampled_from([0, 1, 2, 3])),
    _scalar(
        "pow_float_exponent",
        lambda x, c: x**c,
        ops.PowScalar,
        c=st.sampled_from([-2, -1.5, -0.5, 0.5, 1.5, 2.5]),
        x=POSITIVE,
    ),
    _same("pow_tensor", lambda x, y: x**y, elementwise(POSITIVE, REAL), (ops.Pow, ops.SumTo)),
    OpSpec("pow_function", tl.pow, np.power, elementwise(POSITIVE, REAL), (ops.Pow,)),
    _scalar("rpow_scalar", lambda x, c: c**x, ops.Pow, c=POSITIVE_SCALAR),
    _unary("square", lambda x: x.square(), np.square, ops.Mul),
    # ---- unary math
    _unary("neg", lambda x: -x, np.negative, E.Neg),
    _unary("neg_method", lambda x: x.neg(), np.negative, E.Neg),
    _unary("abs", abs, np.abs, E.Abs, NONZERO),
    _unary("exp", lambda x: x.exp(), np.exp, E.Exp),
    _unary("log", lambda x: x.log(), np.log, E.Log, POSITIVE),
    _unary("log1p", tl.log1p, np.log1p, E.Log1p, LOG1P),
    _unary("expm1", tl.expm1, np.expm1, E.Expm1),
    _unary("sqrt", lambda x: x.sqrt(), np.sqrt, E.Sqrt, POSITIVE),
    _unary("rsqrt", lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), E.Rsqrt, POSITIVE),
    _unary("sin", tl.sin, np.sin, E.Sin, WIDE),
    _unary("cos", tl.cos, np.cos, E.Cos, WIDE),
    _unary("tanh", lambda x: x.tanh(), np.tanh, E.Tanh, WIDE),
    _unary("sigmoid", lambda x: x.sigmoid(), np_sigmoid, E.Sigmoid, WIDE),
    _unary("sigmoid_functional", F.sigmoid, np_sigmoid, E.Sigmoid, WIDE),
    _unary("relu", F.relu, lambda x: np.maximum(x, 0), E.Relu, NONZERO),
    _unary("relu_method", lambda x: x.relu(), lambda x: np.maximum(x, 0), E.Relu, NONZERO),
    _unary("erf", tl.erf, np_erf, E.Erf),
    # ---- maximum, minimum, clamp, where (no ties, no value at a bound)
    OpSpec("maximum", tl.maximum, np.maximum, distinct_elementwise(), (ops.Maximum, ops.SumTo)),
    OpSpec(
        "minimum", lambda x, y: x.minimum(y), np.minimum, distinct_elementwise(), (ops.Minimum, ops.SumTo)
    ),
    OpSpec("max_binary", lambda x, y: tl.max(x, y), np.maximum, distinct_elementwise(), (ops.Maximum,)),
    OpSpec("min_binary", lambda x, y: x.min(y), np.minimum, distinct_elementwise(), (ops.Minimum,)),
    OpSpec(
        "clamp_min",
        lambda x, lo, hi: x.clamp(min=lo),
        lambda x, lo, hi: np.maximum(x, lo),
        clamp_case(-0.5, None),
        (ops.Clamp,),
    ),
    OpSpec(
        "clamp_max",
        lambda x, lo, hi: x.clamp(max=hi),
        lambda x, lo, hi: np.minimum(x, hi),
        clamp_case(None, 0.5),
        (ops.Clamp,),
    ),
    OpSpec(
        "clamp_both",
        lambda x, lo, hi: tl.clamp(x, min=lo, max=hi),
        np_clamp,
        clamp_case(-0.5, 0.5),
        (ops.Clamp,),
    ),
    OpSpec("clip_method", lambda x, lo, hi: x.clip(lo, hi), np_clamp, clamp_case(-1.0, 0.25), (ops.Clamp,)),
    OpSpec(
        "clamp_tensor_bounds",
        lambda x, lo, hi: x.clamp(lo, hi),
        np.clip,
        clamp_tensor_case(),
        (ops.Maximum, ops.Minimum),
    ),
    OpSpec("where", tl.where, np.where, where_case(False), (ops.Where, ops.SumTo)),
    OpSpec(
        "where_scalar", tl.where, lambda c, x, other: np.where(c, x, other), where_case(True), (ops.Where,)
    ),
    OpSpec("where_method", lambda c, x, y: x.where(c, y), np.where, where_case(False), (ops.Where,)),
    OpSpec(
        "masked_fill",
        lambda x, mask, value: x.masked_fill(mask, value),
        lambda x, mask, value: np.where(mask, value, x),
        masked_fill_case(False),
        (ops.Where,),
    ),
    OpSpec(
        "masked_fill_tensor_value",
        lambda x, v, mask: tl.masked_fill(x, mask, v),
        lambda x, v, mask: np.where(mask, v, x),
        masked_fill_case(True),
        (ops.Where, ops.SumTo),
    ),
    # ---- reductions
    OpSpec("sum_all", lambda x: x.sum(), np.sum, elementwise(REAL), (ops.Sum,)),
    OpSpec(
        "sum_dim",
        lambda x, dim, keepdim: x.sum(dim, keepdim=keepdim),
        lambda x, dim, keepdim: x.sum(axis=dim, keepdims=keepdim),
        reduction(),
        (ops.Sum,),
    ),
    OpSpec(
        "sum_dims",
        lambda x, dim, keepdim: tl.sum(x, dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: x.sum(axis=dim, keepdims=keepdim),
        reduction(multi=True),
        (ops.Sum,),
    ),
    _same(
        "sum_numpy_names",
        lambda x, dim, keepdim: x.sum(axis=dim, keepdims=keepdim),
        reduction(multi=True),
        (ops.Sum,),
    ),
    OpSpec("mean_all", lambda x: x.mean(), np.mean, elementwise(REAL), (ops.Sum, ops.Div)),
    OpSpec(
        "mean_dims",
        lambda x, dim, keepdim: x.mean(dim, keepdim),
        lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim),
        reduction(multi=True),
        (ops.Sum, ops.Div),
    ),
    OpSpec(
        "mean_numpy_names",
        lambda x, dim, keepdim: tl.mean(x, axis=dim, keepdims=keepdim),
        lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim),
        reduction(),
        (ops.Sum,),
    ),
    OpSpec(
        "var_all",
        lambda x: x.var(),
        lambda x: np.var(x, ddof=1),
        one_array(min_dims=1).filter(lambda c: c.args[0].size > 1),
        (ops.Sum, ops.Sub, ops.Mul),
    ),
    # correction < count, so the divisor stays positive
    OpSpec(
        "var_dims",
        lambda x, dim, keepdim, correction: x.var(dim, keepdim=keepdim, correction=correction),
        lambda x, dim, keepdim, correction: np.var(x, axis=dim, keepdims=keepdim, ddof=correction),
        reduction(multi=True, min_count=3, correction=st.sampled_from([0, 1, 2])),
        (ops.Sum, ops.Mul),
    ),
    _same(
        "var_numpy_names",
        lambda x, dim, keepdim: x.var(axis=dim, ddof=0, keepdims=keepdim),
        reduction(),
        (ops.Sum,),
    ),
    OpSpec(
        "var_unbiased_false",
        lambda x, dim, keepdim: tl.var(x, dim, unbiased=False, keepdim=keepdim),
        lambda x, dim, keepdim: np.var(x, axis=dim, keepdims=keepdim),
        reduction(),
        (ops.Sum,),
    ),
    # std = √var is not differentiable where var = 0: distinct values, two or more per reduction
    OpSpec(
        "std_all",
        lambda x: x.std(),
        lambda x: np.std(x, ddof=1),
        one_array(min_dims=1, ties=False).filter(lambda c: c.args[0].size > 1),
        (ops.Sum, E.Sqrt),
    ),
    OpSpec(
        "std_dims",
        lambda x, dim, keepdim, correction: x.std(dim, keepdim=keepdim, correction=correction),
        lambda x, dim, keepdim, correction: np.std(x, axis=dim, keepdims=keepdim, ddof=correction),
        reduction(multi=True, ties=False, min_count=2, correction=st.sampled_from([0, 1])),
        (ops.Sum, E.Sqrt),
    ),
    OpSpec(
        "std_numpy_names",
        lambda x, dim, keepdim: tl.std(x, axis=dim, keepdims=keepdim, ddof=1),
        lambda x, dim, keepdim: np.std(x, axis=dim, keepdims=keepdim, ddof=1),
        reduction(ties=False, min_count=2),
        (ops.Sum, E.Sqrt),
    ),
    OpSpec("max_all", lambda x: x.max(), np.max, one_array(ties=False), (ops.Amax,)),
    OpSpec("min_all", tl.min, np.min, one_array(ties=False), (ops.Amax,)),
    OpSpec(
        "max_dim",
        lambda x, dim, keepdim: x.max(dim, keepdim=keepdim),
        lambda x, dim, keepdim: (
            np.max(x, axis=dim, keepdims=keepdim),
            np.argmax(x, axis=dim, keepdims=keepdim),
        ),
        reduction(ties=False),
        (ops.Gather, ops.ScatterAdd),
    ),
    OpSpec(
        "min_dim",
        lambda x, dim, keepdim: tl.min(x, dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: (
            np.min(x, axis=dim, keepdims=keepdim),
            np.argmin(x, axis=dim, keepdims=keepdim),
        ),
        reduction(ties=False),
        (ops.Gather,),
    ),
    OpSpec(
        "max_values_numpy_names",
        lambda x, dim, keepdim: x.max(axis=dim, keepdims=keepdim).values,
        lambda x, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim),
        reduction(ties=False),
        (ops.Gather,),
    ),
    OpSpec(
        "amax",
        lambda x, dim, keepdim: x.amax(dim, keepdim),
        lambda x, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim),
        reduction(multi=True, ties=False),
        (ops.Amax,),
    ),
    OpSpec(
        "amin",
        lambda x, dim, keepdim: tl.amin(x, dim=dim, keepdim=keepdim),
        lambda x, dim, keepdim: np.min(x, axis=dim, keepdims=keepdim),
        reduction(multi=True, ties=False),
        (ops.Amax,),
    ),
    OpSpec(
        "logsumexp",
        lambda x, dim, keepdim: x.logsumexp(dim, keepdim),
        lambda x, dim, keepdim: np.log(np.exp(x).sum(axis=dim, keepdims=keepdim)),
        reduction(WIDE, multi=True),
        (ops.Sum, E.Exp, E.Log),
    ),
    OpSpec(
        "prod_dim",
        lambda x, dim, keepdim: x.prod(dim, keepdim=keepdim),
        lambda x, dim, keepdim: np.prod(x, axis=dim, keepdims=keepdim),
        reduction(NONZERO),
        (ops.Prod,),
    ),
    OpSpec("prod_all", tl.prod, np.prod, elementwise(NONZERO), (ops.Prod,)),
    OpSpec(
        "prod_dim_with_zeros",
        lambda x, dim, keepdim: x.prod(dim, keepdim=keepdim),
        lambda x, dim, keepdim: np.prod(x, axis=dim, keepdims=keepdim),
        prod_zero_case(False),
        (ops.Prod, ops.Where, ops.Permute),
    ),
    OpSpec("prod_all_with_zeros", lambda x: x.prod(), np.prod, prod_zero_case(True), (ops.Prod, ops.Where)),
    OpSpec(
        "cumsum",
        lambda x, dim: x.cumsum(dim),
        lambda x, dim: np.cumsum(x, axis=dim),
        reduction(keepdim=False),
        (ops.Cumsum, ops.Flip),
    ),
    OpSpec(
        "softmax",
        lambda x, dim: F.softmax(x, dim=dim),
        np_softmax,
        reduction(WIDE, keepdim=False),
        (ops.Softmax, ops.Sum),
    ),
    OpSpec(
        "log_softmax",
        lambda x, dim: x.log_softmax(dim),
        lambda x, dim: np.log(np_softmax(x, dim)),
        reduction(WIDE, keepdim=False),
        (ops.LogSoftmax, E.Exp),
    ),
    OpSpec(
        "sum_to", lambda x, shape: x.sum_to(shape), np_sum_to, sum_to_case(), (ops.SumTo, ops.BroadcastTo)
    ),
    # ---- matrix products
    OpSpec("matmul_vv", lambda a, b: a @ b, np.matmul, matmul_case("v", "v"), (ops.MatMul, ops.Reshape)),
    OpSpec("matmul_vm", lambda a, b: a @ b, np.matmul, matmul_case("v", "m"), (ops.MatMul,)),
    OpSpec("matmul_mv", lambda a, b: a.matmul(b), np.matmul, matmul_case("m", "v"), (ops.MatMul,)),
    OpSpec("matmul_mm", tl.matmul, np.matmul, matmul_case("m", "m"), (ops.MatMul,)),
    OpSpec("matmul_batched", lambda a, b: a @ b, np.matmul, matmul_case("b", "b"), (ops.MatMul, ops.SumTo)),
    OpSpec("matmul_vb", lambda a, b: a @ b, np.matmul, matmul_case("v", "b"), (ops.MatMul, ops.SumTo)),
    OpSpec("matmul_bv", lambda a, b: a @ b, np.matmul, matmul_case("b", "v"), (ops.MatMul,)),
    OpSpec("matmul_bm", lambda a, b: a @ b, np.matmul, matmul_case("b", "m"), (ops.MatMul, ops.SumTo)),
    # F.linear: one Linear node for batches, whose weight gradient LinearWeight is itself differentiable
    OpSpec("linear", F.linear, np_linear, linear_case(1, bias=True), (ops.Linear, ops.LinearWeight)),
    OpSpec("linear_no_bias", F.linear, np_linear, linear_case(1, bias=False), (ops.Linear, ops.LinearWeight)),
    OpSpec("linear_batched", F.linear, np_linear, linear_case(2, bias=True), (ops.Linear, ops.LinearWeight)),
    OpSpec("linear_vector", F.linear, np_linear, linear_case(0, bias=True), (ops.MatMul,)),
    *[
        OpSpec(
            f"einsum_{label}",
            lambda *xs, equation: tl.einsum(equation, *xs),
            lambda *xs, equation: np.einsum(equation, *xs),
            einsum_case(eq),
            (ops.Einsum, ops.GetItem) if label.startswith(("trace", "diag")) else (ops.Einsum,),
        )
        for label, eq in EINSUMS.items()
    ],
    OpSpec(
        "einsum_operand_list",
        lambda x, y: tl.einsum("i,i->i", [x, y]),
        np.multiply,
        elementwise(REAL, REAL, broadcast=False, min_dims=1, max_dims=1),
        (ops.Einsum,),
    ),
    # ---- reshaping and moving dims
    _same("reshape", lambda x, shape: x.reshape(shape), reshape_case(False), (ops.Reshape,)),
    OpSpec(
        "view_infer",
        lambda x, shape: x.view(*shape),
        lambda x, shape: x.reshape(shape),
        reshape_case(True),
        (ops.Reshape,),
    ),
    OpSpec(
        "flatten", lambda x, start, end: x.flatten(start, end), np_flatten, flatten_case(), (ops.Reshape,)
    ),
    OpSpec("flatten_all", tl.flatten, lambda x: x.reshape(-1), elementwise(REAL), (ops.Reshape,)),
    OpSpec(
        "unflatten",
        lambda x, sizes: x.unflatten(0, sizes),
        lambda x, sizes: x.reshape(sizes + x.shape[1:]),
        unflatten_case(),
        (ops.Reshape,),
    ),
    OpSpec(
        "transpose",
        lambda x, d0, d1: x.transpose(d0, d1),
        lambda x, d0, d1: np.swapaxes(x, d0, d1),
        one_array(min_dims=1, d0=lambda s: dim_of(len(s)), d1=lambda s: dim_of(len(s))),
        (ops.Permute,),
    ),
    OpSpec(
        "permute",
        lambda x, dims: x.permute(*dims),
        lambda x, dims: np.transpose(x, dims),
        one_array(min_dims=2, dims=lambda s: st.permutations(range(len(s))).map(tuple).filter(_moves)),
        (ops.Permute,),
    ),
    _same("T", lambda x: x.T, elementwise(REAL), (ops.Permute,)),
    _same("mT", lambda x: x.mT, one_array(min_dims=2), (ops.Permute,)),
    OpSpec(
        "movedim",
        lambda x, s, d: x.movedim(s, d),
        lambda x, s, d: np.moveaxis(x, s, d),
        one_array(min_dims=1, s=lambda s: dim_of(len(s)), d=lambda s: dim_of(len(s))),
        (ops.Permute,),
    ),
    OpSpec(
        "squeeze_all",
        lambda x: x.squeeze(),
        np.squeeze,
        one_array().filter(lambda c: 1 in c.args[0].shape),
        (ops.Reshape,),
    ),
    OpSpec(
        "squeeze_dim",
        tl.squeeze,
        lambda x, dim: np.squeeze(x, dim) if x.shape[dim] == 1 else x,
        one_array(min_dims=1, dim=lambda s: dim_of(len(s))),
        (ops.Reshape,),
    ),
    OpSpec(
        "unsqueeze",
        lambda x, dim: x.unsqueeze(dim),
        lambda x, dim: np.expand_dims(x, dim),
        one_array(dim=lambda s: st.integers(-len(s) - 1, len(s))),
        (ops.Reshape,),
    ),
    OpSpec(
        "expand",
        lambda x, shape: x.expand(*shape),
        np_expand,
        expand_case(True),
        (ops.BroadcastTo, ops.SumTo),
    ),
    OpSpec(
        "broadcast_to", tl.broadcast_to, np.broadcast_to, expand_case(False), (ops.BroadcastTo, ops.SumTo)
    ),
    # y only lends its shape
    OpSpec(
        "expand_as",
        lambda x, y: x.expand_as(y),
        lambda x, y: np.broadcast_to(x, y.shape),
        expand_as_case(),
        (ops.BroadcastTo,),
        grad_args=(0,),
    ),
    OpSpec(
        "broadcast_tensors",
        lambda x, y: tuple(tl.broadcast_tensors(x, y)),
        np.broadcast_arrays,
        elementwise(REAL, REAL),
        (ops.BroadcastTo,),
    ),
    # ---- indexing
    *[
        _same(f"getitem_{kind}", lambda x, index: x[index], index_case(kind), (ops.GetItem, ops.IndexAdd))
        for kind in ["basic", "int_array", "advanced", "mask", "list", "mixed"]
    ],
    OpSpec(
        "index_select",
        lambda x, dim, index: x.index_select(dim, index),
        lambda x, dim, index: np.take(x, index, axis=dim),
        index_select_case(),
        (ops.GetItem, ops.IndexAdd),
    ),
    OpSpec(
        "gather",
        lambda x, dim, index: x.gather(dim, index),
        lambda x, dim, index: np_gather(
            x[tuple(slice(None) if i == dim % x.ndim else slice(0, n) for i, n in enumerate(index.shape))],
            dim % x.ndim,
            index,
        ),
        gather_case(),
        (ops.Gather, ops.ScatterAdd),
    ),
    # F.cross_entropy of logits (N, C) and class indices: one CrossEntropy node
    *[
        OpSpec(
            f"cross_entropy_{r}",
            lambda x, **kw: F.cross_entropy(x, **kw),
            np_cross_entropy,
            cross_entropy_case(r),
            (ops.CrossEntropy,),
        )
        for r in ("mean", "sum")
    ],
    OpSpec(
        "scatter_add",
        lambda x, src, dim, index: x.scatter_add(dim, index, src),
        np_scatter_add,
        scatter_case(),
        (ops.ScatterAdd, ops.Gather, ops.ConstantPad),
    ),
    OpSpec(
        "narrow",
        lambda x, start, length: x.narrow(-1, start, length),
        lambda x, start, length: x[..., start : start + length],
        narrow_case(),
        (ops.GetItem, ops.IndexAdd),
    ),
    # ---- joining and splitting
    OpSpec(
        "cat",
        lambda *xs, dim: tl.cat(xs, dim),
        lambda *xs, dim: np.concatenate(xs, dim),
        cat_case(False),
        (ops.Cat,),
    ),
    OpSpec(
        "stack",
        lambda *xs, dim: tl.stack(list(xs), dim=dim),
        lambda *xs, dim: np.stack(xs, dim),
        cat_case(True),
        (ops.Cat, ops.Reshape),
    ),
    OpSpec(
        "split_size",
        lambda x, size, dim: x.split(size, dim),
        np_split,
        split_case(False),
        (ops.GetItem, ops.IndexAdd),
    ),
    OpSpec(
        "split_sections",
        lambda x, size, dim: tl.split(x, size, dim=dim),
        np_split,
        split_case(True),
        (ops.GetItem,),
    ),
    OpSpec("chunk", lambda x, size, dim: x.chunk(size, dim), np_chunk, split_case(False), (ops.GetItem,)),
    OpSpec(
        "unbind",
        lambda x, dim: x.unbind(dim),
        lambda x, dim: tuple(np.moveaxis(x, dim, 0)),
        one_array(min_dims=1, dim=lambda s: dim_of(len(s))),
        (ops.GetItem, ops.Reshape),
    ),
    # ---- padding and rearranging
    OpSpec(
        "pad_constant",
        lambda x, **kw: F.pad(x, **kw),
        np_pad,
        pad_case("constant"),
        (ops.ConstantPad, ops.GetItem),
    ),
    *[
        OpSpec(
            f"pad_{mode}", lambda x, **kw: F.pad(x, **kw), np_pad, pad_case(mode), (ops.GetItem, ops.IndexAdd)
        )
        for mode in ["reflect", "replicate", "circular"]
    ],
    OpSpec(
        "flip",
        lambda x, dims: x.flip(dims),
        lambda x, dims: np.flip(x, dims),
        one_array(min_dims=1, dims=lambda s: dims_of(len(s))),
        (ops.Flip,),
    ),
    OpSpec(
        "roll",
        lambda x, shifts, dims: x.roll(shifts, dims),
        lambda x, shifts, dims: np.roll(x, shifts, dims),
        one_array(min_dims=1, dims=lambda s: dims_of(len(s))).flatmap(
            lambda c: st.tuples(*[st.integers(-5, 5) for _ in c.kwargs["dims"]]).map(
                lambda sh: Case(c.args, {**c.kwargs, "shifts": sh})
            )
        ),
        (ops.Roll,),
    ),
    OpSpec(
        "roll_flat",
        tl.roll,
        lambda x, shifts: np.roll(x, shifts),
        one_array(shifts=lambda s: st.integers(-5, 5)),
        (ops.Roll, ops.Reshape),
    ),
    OpSpec(
        "tril",
        lambda x, k: x.tril(k),
        np.tril,
        one_array(min_dims=2, k=lambda s: st.integers(-2, 2)),
        (ops.Tril,),
    ),
    OpSpec(
        "triu",
        lambda x, k: tl.triu(x, diagonal=k),
        np.triu,
        one_array(min_dims=2, k=lambda s: st.integers(-2, 2)),
        (ops.Tril,),
    ),
    OpSpec(
        "repeat",
        lambda x, reps: x.repeat(*reps),
        lambda x, reps: np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps),
        one_array(
            reps=lambda s: st.lists(st.integers(1, 3), min_size=len(s), max_size=len(s) + 1).map(tuple)
        ),
        (ops.Repeat, ops.Sum, ops.Reshape),
    ),
    # ---- copies, dtype and device moves
    OpSpec("clone", lambda x: x.clone(), np.copy, elementwise(REAL), (ops.Clone,)),
    # A float64 -> float32 -> float64 round trip. Finite differences see its float32 steps
    # (~1e-7), so gradcheck takes eps = 1e-3: the function is linear, the larger step is exact.
    OpSpec(
        "cast_float",
        lambda x: x.to(tl.float32).to(tl.float64),
        lambda x: x.astype(np.float32).astype(np.float64),
        elementwise(REAL),
        (ops.Cast,),
        gradcheck_kwargs={"eps": 1e-3},
        result_dtype=np.dtype(np.float64),
    ),
    OpSpec(
        "cast_to_int",
        lambda x: x.to(tl.int64),
        lambda x: x.astype(np.int64),
        elementwise(floats(-3.0, 3.0)),
        (ops.Cast,),
        differentiable=False,
    ),
    OpSpec(
        "to_device", device_round_trip, lambda x: x * 2, elementwise(REAL), (ops.ToDevice,), devices=("cuda",)
    ),
    # ---- in-place updates of a non-leaf (each records its out-of-place op on the old value)
    OpSpec("setitem_basic", setitem, np_setitem, setitem_case("basic"), (ops.SetItem, ops.SumTo)),
    OpSpec("setitem_int_array", setitem, np_setitem, setitem_case("int_array"), (ops.SetItem,)),
    OpSpec("setitem_mask", setitem, np_setitem, setitem_case("mask"), (ops.SetItem,)),
    OpSpec(
        "setitem_scalar",
        setitem,
        lambda x, index, value: np_setitem(x, value, index),
        setitem_case("scalar"),
        (ops.SetItem,),
    ),
    # copy_ overwrites every element, so the result does not depend on x: only src is differentiable
    OpSpec(
        "copy_",
        copy_into,
        lambda x, src: np.broadcast_to(src, x.shape).copy(),
        inplace_case(),
        (ops.CopyFrom, ops.SumTo),
        grad_args=(1,),
    ),
    OpSpec("add_", inplace("add_"), np.add, inplace_case(), (ops.Add,)),
    OpSpec("sub_", inplace("__isub__"), np.subtract, inplace_case(), (ops.Sub,)),
    OpSpec("mul_", inplace("mul_"), np.multiply, inplace_case(), (ops.Mul,)),
    OpSpec("div_", inplace("__itruediv__"), np.divide, inplace_case(NONZERO), (ops.Div,)),
    OpSpec(
        "clamp_", lambda x, lo, hi: x.mul(1).clamp_(lo, hi), np_clamp, clamp_case(-0.5, 0.5), (ops.Clamp,)
    ),
    # ---- empty tensors (a dimension of size 0)
    _same("add_empty", lambda x, y: x + y, empty_case("add"), (ops.Add,)),
    OpSpec(
        "sum_empty", lambda x, dim: x.sum(dim), lambda x, dim: x.sum(axis=dim), empty_case("sum"), (ops.Sum,)
    ),
    OpSpec("matmul_empty", lambda a, b: a @ b, np.matmul, empty_case("matmul"), (ops.MatMul,)),
    OpSpec(
        "cat_empty",
        lambda x, y, dim: tl.cat([x, y], dim),
        lambda x, y, dim: np.concatenate([x, y], dim),
        empty_case("cat"),
        (ops.Cat,),
    ),
    _same("getitem_empty", lambda x, index: x[index], empty_case("getitem"), (ops.GetItem,)),
    OpSpec("softmax_empty", lambda x, dim: x.softmax(dim), np_softmax, empty_case("softmax"), (ops.Softmax,)),
    OpSpec(
        "log_softmax_empty",
        lambda x, dim: F.log_softmax(x, dim),
        lambda x, dim: np.log(np_softmax(x, dim)),
        empty_case("softmax"),
        (ops.LogSoftmax,),
    ),
    # ---- convolution, pooling, resampling, normalisation of images
    OpSpec(
        "conv2d",
        lambda *xs, **kw: F.conv2d(*xs, **kw),
        np_conv,
        conv_case(2),
        (ops.Conv2d, ops.ConvTranspose2d, ops.Conv2dWeight),
    ),
    OpSpec(
        "conv1d",
        lambda *xs, **kw: F.conv1d(*xs, **kw),
        np_conv,
        conv_case(1),
        (ops.Conv2d, ops.ConvTranspose2d, ops.Conv2dWeight, ops.Reshape),
    ),
    OpSpec(
        "conv_transpose2d",
        lambda *xs, **kw: F.conv_transpose2d(*xs, **kw),
        np_conv_transpose,
        conv_case(2, transposed=True),
        (ops.ConvTranspose2d, ops.Conv2d, ops.Conv2dWeight),
    ),
    OpSpec(
        "max_pool2d",
        lambda x, **kw: F.max_pool2d(x, **kw),
        np_max_pool2d,
        pool_case("max"),
        (ops.MaxPool2d, ops.MaxPool2dBackward),
    ),
    OpSpec(
        "max_pool2d_with_indices",
        lambda x, **kw: F.max_pool2d(x, return_indices=True, **kw),
        lambda x, **kw: np_max_pool2d(x, with_indices=True, **kw),
        pool_case("max"),
        (ops.MaxPool2d, ops.MaxPool2dBackward),
    ),
    OpSpec(
        "avg_pool2d",
        lambda x, **kw: F.avg_pool2d(x, **kw),
        np_avg_pool2d,
        pool_case("avg"),
        (ops.AvgPool2d, ops.AvgPool2dBackward),
    ),
    OpSpec(
        "adaptive_avg_pool2d_global",
        F.adaptive_avg_pool2d,
        np_adaptive_avg_pool2d,
        adaptive_case("global"),
        (ops.Sum,),
    ),
    OpSpec(
        "adaptive_avg_pool2d_even",
        F.adaptive_avg_pool2d,
        np_adaptive_avg_pool2d,
        adaptive_case("even"),
        (ops.AvgPool2d, ops.AvgPool2dBackward),
    ),
    OpSpec(
        "adaptive_avg_pool2d_general",
        F.adaptive_avg_pool2d,
        np_adaptive_avg_pool2d,
        adaptive_case("general"),
        (ops.MatMul,),
    ),
    *[
        OpSpec(
            f"interpolate_{mode}_{kind}",
            lambda x, **kw: F.interpolate(x, **kw),
            np_interpolate,
            interpolate_case(mode, kind),
            (ops.BroadcastTo, ops.Reshape)
            if kind == "integer"
            else (ops.GetItem,)
            if mode == "nearest"
            else (ops.MatMul,),
        )
        for mode, kind in [
            ("nearest", "size"),
            ("nearest", "fraction"),
            ("nearest", "integer"),
            ("linear", "size"),
            ("bilinear", "size"),
            ("bilinear", "fraction"),
        ]
    ],
    OpSpec(
        "unfold", lambda x, **kw: F.unfold(x, **kw), np_unfold, unfold_case(False), (ops.Unfold, ops.Fold)
    ),
    OpSpec("fold", lambda c, **kw: F.fold(c, **kw), np_fold, unfold_case(True), (ops.Fold, ops.Unfold)),
    OpSpec(
        "batch_norm_2d",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: np_normalize(x, w, b, (0, 2, 3)),
        norm_case("batch"),
        (ops.BatchNorm, ops.Sum, E.Rsqrt),
    ),
    OpSpec(
        "batch_norm_2d_eval",
        lambda x, w, b, running_mean, running_var: F.batch_norm(x, running_mean, running_var, w, b),
        lambda x, w, b, running_mean, running_var: np_normalize(
            x, w, b, (), running_mean.reshape(1, -1, 1, 1), running_var.reshape(1, -1, 1, 1)
        ),
        norm_case("batch_eval"),
        (ops.BatchNorm, ops.Mul),
        grad_args=(0, 1, 2),
    ),
    OpSpec(
        "group_norm",
        lambda x, w, b, num_groups: F.group_norm(x, num_groups, w, b),
        np_group_norm,
        norm_case("group"),
        (ops.Sum, E.Rsqrt),
    ),
    OpSpec(
        "instance_norm",
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: np_normalize(x, w, b, (2, 3)),
        norm_case("instance"),
        (ops.Sum, E.Rsqrt),
    ),
    # ---- comparisons: bool results, forward only
    _compare("eq", lambda x, y: x == y),
    _compare("ne", lambda x, y: x != y),
    _compare("lt", lambda x, y: x < y),
    _compare("le", lambda x, y: x <= y),
    _compare("gt", lambda x, y: x > y),
    _compare("ge", lambda x, y: x >= y),
    OpSpec(
        "eq_with_ties",
        tl.eq,
        np.equal,
        elementwise(st.sampled_from([0.0, 1.0]), st.sampled_from([0.0, 1.0])),
        (),
        differentiable=False,
    ),
    _same("lt_scalar", lambda x, c: x < c, elementwise(REAL, c=REAL), (), differentiable=False),
    _same("ge_reflected_scalar", lambda x, c: c >= x, elementwise(REAL, c=REAL), (), differentiable=False),
]

BY_NAME: dict[str, OpSpec] = {spec.name: spec for spec in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "two catalogue entries share a name"

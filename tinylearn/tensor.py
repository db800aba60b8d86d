"""The Tensor: an n-dimensional array that remembers how it was made.

A Tensor holds ``data`` (a NumPy or CuPy array), and when it takes part in a computation that
needs gradients, ``grad_fn``: the :class:`~tinylearn.autograd.Function` that produced it.
Following ``grad_fn`` and its ``next_functions`` backwards is the computational graph that
``backward()`` walks. Leaf tensors (made by the user, ``grad_fn is None``) with
``requires_grad=True`` receive their gradient in ``.grad``.

The math lives in :mod:`tinylearn.ops`; this file holds the object itself, conversion,
in-place updates and the creation functions (``zeros``, ``randn``, ...).
"""

from __future__ import annotations

import builtins
import itertools
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from . import autograd, backend
from . import dtypes as _dt
from .autograd import AccumulateGrad, Function
from .random import default_generator

__all__ = [
    "Tensor",
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "is_tensor",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "tensor",
    "zeros",
    "zeros_like",
]


class Tensor:
    """A multi-dimensional array with autograd. Make one with :func:`tinylearn.tensor`."""

    __slots__ = (
        "__weakref__",
        "_accumulator",
        "_hooks",
        "_is_view",
        "_retains_grad",
        "_version",
        "data",
        "grad",
        "grad_fn",
        "requires_grad",
    )
    # Make NumPy defer to our reflected operators (np_array + tensor -> Tensor.__radd__).
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype, device)
        self._init(arr)
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, arr) -> None:
        self.data = arr
        self.grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self.requires_grad = False
        self._version = [0]  # shared with views, so in-place changes are seen through them
        self._is_view = False
        self._hooks: dict = {}
        self._retains_grad = False
        self._accumulator = None

    @classmethod
    def _make(cls, arr) -> Tensor:
        """Wrap an array that is already of a supported dtype (the fast path of every op)."""
        t = object.__new__(cls)
        if not isinstance(arr, np.ndarray) and isinstance(arr, np.generic):
            arr = np.asarray(arr)  # NumPy reductions return scalars; a Tensor always holds an array
        t._init(arr)
        return t

    # ------------------------------------------------------------------ basic attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> backend.Device:
        return backend.array_device(self.data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (no ``grad_fn``); only leaves get ``.grad`` by default."""
        return self.grad_fn is None

    @property
    def itemsize(self) -> int:
        return self.data.itemsize

    def size(self, dim: int | None = None):
        """The shape (``size()``) or the length of one dimension (``size(dim)``)."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared memory on the CPU, a copy from a GPU)."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return backend.to_device(self.data, backend.CPU)

    def __array__(self, dtype=None, copy=None):
        arr = self.detach().numpy()
        return arr if dtype is None else arr.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"item(): a Tensor with {self.numel()} elements cannot be converted to a number"
            )
        return self.data.reshape(()).item()

    def tolist(self):
        return backend.to_device(self.data, backend.CPU).tolist()

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"Boolean value of a Tensor with {self.numel()} elements is ambiguous; use .any() or .all()"
            )
        return builtins.bool(self.item())

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iub" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def to(self, *args, dtype=None, device=None, copy: bool = False) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``; differentiable."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str | backend.Device):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            dev = backend.device(device)
            if dev != self.device:
                out = ops.ToDevice.apply(out, device=dev)
        if dtype is not None:
            dt = _dt.as_dtype(dtype)
            if dt != out.dtype:
                out = ops.Cast.apply(out, dtype=dt)
        return out.clone() if copy and out is self else out

    def type(self, dtype) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(_dt.float32)

    def double(self) -> Tensor:
        return self.to(_dt.float64)

    def half(self) -> Tensor:
        return self.to(_dt.float16)

    def long(self) -> Tensor:
        return self.to(_dt.int64)

    def int(self) -> Tensor:
        return self.to(_dt.int32)

    def bool(self) -> Tensor:
        return self.to(_dt.bool)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        return self.to(f"cuda:{index}")

    # ------------------------------------------------------------------ autograd
    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        For a non-scalar tensor pass ``gradient`` (same shape): the vector in the
        vector-Jacobian product. The graph is freed afterwards unless ``retain_graph=True``;
        ``create_graph=True`` records the backward pass itself, for higher-order gradients.
        """
        if gradient is not None and not isinstance(gradient, Tensor):
            raise TypeError(f"backward: gradient must be a Tensor, got {type(gradient).__name__}")
        autograd.backward(self, gradient, retain_graph, create_graph)

    def _grad_edge(self):
        """The graph node that gradients for this tensor flow into (None if it needs none)."""
        if self.grad_fn is not None:
            return self.grad_fn
        if not self.requires_grad:
            return None
        if self._accumulator is None:
            self._accumulator = AccumulateGrad(self)
        return self._accumulator

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Ask for (or stop asking for) this leaf's gradient. Only floating tensors can."""
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got dtype {self.dtype}"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; use .detach() for a non-leaf tensor"
            )
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut off from the graph."""
        t = Tensor._make(self.data)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        self.grad_fn, self.requires_grad = None, False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too after ``backward()``."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return RemovableHandle(self._hooks, hook)

    # ------------------------------------------------------------------ in-place updates
    def _inplace(self, fn: type[Function], *others: Tensor, **params) -> Tensor:
        """Run ``fn`` out of place on (self, *others), then write the result into self.

        With the graph recording, self's ``grad_fn`` becomes the new node, whose first input is
        a stand-in for self's old value; every function that saved self before sees its version
        counter move and refuses to backward with stale data.
        """
        recording = (
            autograd.is_grad_enabled()
            and self.is_floating_point()
            and (self.requires_grad or any(o.requires_grad for o in others))
        )
        if recording and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"a leaf Tensor that requires grad is being used in an in-place operation ({fn.__name__}). "
                "Wrap the update in `with tinylearn.no_grad():` (as optimizers do) or use an out-of-place op."
            )
        if recording and self._is_view:
            raise RuntimeError(
                f"in-place {fn.__name__} on a view (a slice, reshape or transpose of another tensor) while "
                "recording gradients is not supported: its base would not see the change. Use an "
                "out-of-place op, or .clone() the view first."
            )
        old = self
        if recording:
            # A stand-in for the value before the update: the first input of the new node and,
            # from now on, the output of self's old grad_fn. It needs its own copy of the data only
            # when another input's gradient will read it (d(self*w)/dw = self). Otherwise it shares
            # self's memory, so its version is the one after the update: a backward that needs the
            # old output (exp, tanh, ...) then refuses to run on the overwritten values.
            needs_copy = any(o.requires_grad for o in others)
            old = Tensor._make(self.data.copy() if needs_copy else self.data)
            old.requires_grad, old.grad_fn, old._accumulator = (
                self.requires_grad,
                self.grad_fn,
                self._accumulator,
            )
            old._version = [self._version[0] + (0 if needs_copy else 1)]
        with autograd.set_grad_enabled(recording):
            new = fn.apply(old, *others, **params)
        if new.dtype != self.dtype and not np.can_cast(new.dtype, self.dtype, "same_kind"):
            raise RuntimeError(
                f"in-place {fn.__name__}: result type {new.dtype} can't be cast to the tensor's "
                f"dtype {self.dtype}"
            )
        if new.shape != self.shape:
            raise RuntimeError(
                f"in-place {fn.__name__}: the result has shape {tuple(new.shape)} but the tensor has shape "
                f"{tuple(self.shape)}; in-place ops cannot change shape"
            )
        if recording and self.grad_fn is not None and self.grad_fn._output() is self:
            if old.data is not self.data:  # the old value was copied: the old node can still use it
                self.grad_fn._set_output(old)
            else:  # it will be overwritten: the old node's backward must refuse to use it
                self.grad_fn._output = weakref.ref(old)
        self.data[...] = new.data
        self._version[0] += 1
        if recording:
            self.requires_grad, self.grad_fn = True, new.grad_fn
            new.grad_fn._set_output(self)
        return self

    def _scalar(self, value) -> Tensor:
        return value if isinstance(value, Tensor) else ops.as_operand(value, self)

    def _operand(self, other, op: str) -> Tensor:
        """``other`` made ready for in-place arithmetic on self: it must broadcast to self's shape,
        and it is cast to self's dtype (differentiably, so its gradient keeps its own dtype)
        unless its kind is higher (a float into an int tensor), which PyTorch refuses too."""
        other = self._scalar(other)
        if other.shape != self.shape:
            try:
                fits = np.broadcast_shapes(self.shape, other.shape) == self.shape
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(
                    f"{op}: a tensor of shape {tuple(other.shape)} does not broadcast to the shape "
                    f"{tuple(self.shape)} of the tensor updated in place"
                )
        if other.dtype != self.dtype:
            if _dt.category(other.dtype) > _dt.category(self.dtype):
                raise RuntimeError(
                    f"{op}: result type {other.dtype} can't be cast to the tensor's dtype {self.dtype}"
                )
            other = other.to(self.dtype)
        return other

    def add_(self, other, *, alpha=1) -> Tensor:
        other = self._scalar(other)
        return self._inplace(ops.Add, self._operand(other if alpha == 1 else other * alpha, "add_"))

    def sub_(self, other, *, alpha=1) -> Tensor:
        other = self._scalar(other)
        return self._inplace(ops.Sub, self._operand(other if alpha == 1 else other * alpha, "sub_"))

    def mul_(self, other) -> Tensor:
        return self._inplace(ops.Mul, self._operand(other, "mul_"))

    def div_(self, other) -> Tensor:
        return self._inplace(ops.Div, self._operand(other, "div_"))

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._inplace(ops.Clamp, min=min, max=max)

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype and device) into self."""
        src = self._scalar(src)
        if src.device != self.device:
            src = src.to(self.device)
        return self._inplace(ops.CopyFrom, src)

    def fill_(self, value) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0)

    def __setitem__(self, index, value) -> None:
        value = self._scalar(value)
        if value.device != self.device:
            raise RuntimeError(f"__setitem__: value is on {value.device} but the tensor is on {self.device}")
        # Cast first (differentiably, so the value's gradient keeps its own dtype), as PyTorch does.
        self._inplace(ops.SetItem, value.to(self.dtype), index=ops.normalize_index(index, self))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        gen = generator or default_generator
        return self._fill_random(gen.uniform(a, b, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        gen = generator or default_generator
        return self._fill_random(gen.normal(mean, std, self.shape))

    def _fill_random(self, values: np.ndarray) -> Tensor:
        if autograd.is_grad_enabled() and self.requires_grad:
            raise RuntimeError("a Tensor that requires grad can't be filled in place outside no_grad()")
        self.data[...] = backend.to_device(values.astype(self.dtype, copy=False), self.device)
        self._version[0] += 1
        return self

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        arr = backend.to_device(self.data, backend.CPU)
        prefix = "tensor("
        body = np.array2string(
            arr,
            separator=", ",
            prefix=prefix,
            threshold=1000,
            edgeitems=3,
            formatter=None if arr.dtype.kind != "f" else {"float_kind": _format_float(arr)},
        )
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if arr.size == 0:  # no values to read the dtype off, so it is shown unless it is the default
            body = "[]"
            if arr.ndim != 1:
                extras.append(f"size={tuple(arr.shape)}")
            if self.dtype != _dt.get_default_dtype():
                extras.append(f"dtype=tinylearn.{self.dtype}")
        elif self.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool):
            extras.append(f"dtype=tinylearn.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return prefix + body + "".join(", " + e for e in extras) + ")"


def _format_float(arr: np.ndarray) -> Callable[[float], str]:
    """PyTorch's float format, decided on the values that get printed: whole numbers as ``2.``,
    others with 4 decimals, scientific notation when the nonzero values span more than 1000×
    (or are above 1e8, or below 1e-4); every value right-aligned to one width."""
    if arr.size > 1000:  # summarised like the printout: only the first and last 3 along each dim
        for axis, n in enumerate(arr.shape):
            if n > 6:
                arr = np.concatenate([arr.take(range(3), axis), arr.take(range(n - 3, n), axis)], axis)
    values = arr[np.isfinite(arr) & (arr != 0)].astype(np.float64)  # float16 overflows at 1e8
    if values.size == 0:
        return lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)
    big, small = np.abs(values).max(), np.abs(values).min()
    integral = bool(np.all(values == np.ceil(values)))
    if big / small > 1000 or big > 1e8 or (small < 1e-4 and not integral):

        def fmt(v: float) -> str:
            return f"{v:.4e}"
    elif integral:

        def fmt(v: float) -> str:
            return f"{v:.0f}." if np.isfinite(v) else str(v)
    else:

        def fmt(v: float) -> str:
            return f"{v:.4f}"

    width = max(len(fmt(v)) for v in values)
    return lambda v: fmt(v).rjust(width)


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict, hook) -> None:
        self._hooks, self.id = hooks, next(RemovableHandle._ids)
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def check_same_device(op: str, tensors: Sequence[Tensor]) -> None:
    """Raise a clear error when the tensors of one op live on different devices."""
    first = type(tensors[0].data)
    if all(type(t.data) is first for t in tensors) and first is np.ndarray:
        return
    devices = [t.device for t in tensors]
    if any(d != devices[0] for d in devices):
        names = ", ".join(f"input {i} on {d}" for i, d in enumerate(devices))
        raise RuntimeError(f"{op}: expected all tensors on the same device, but found {names}")


# --------------------------------------------------------------------------- creation


def _to_array(data, dtype=None, device=None):
    """Turn nested lists, scalars, arrays or Tensors into an array of a supported dtype."""
    dev = backend.device(device) if device is not None else None
    dt = _dt.as_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray | np.generic) or backend.is_device_array(data):
        arr = data
        if dt is None and arr.dtype not in _dt.SUPPORTED:
            raise TypeError(f"tensor(): arrays of dtype {arr.dtype} are not supported by tinylearn")
    else:
        if dt is None:
            dt = _infer_dtype(data)
        try:
            arr = np.asarray(data, dtype=dt)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"tensor(): could not convert {type(data).__name__} to a tensor: {exc}") from exc
    if dt is not None and arr.dtype != dt:
        arr = arr.astype(dt)
    if dev is None:
        dev = (
            backend.array_device(arr)
            if not isinstance(arr, np.ndarray | np.generic)
            else backend.default_device()
        )
    return backend.to_device(np.asarray(arr) if isinstance(arr, np.generic) else arr, dev)


def _infer_dtype(data) -> np.dtype:
    """bool for bools, int64 for ints, the default float for anything with a float in it."""
    try:
        flat = np.asarray(data)
    except ValueError:  # NumPy refuses ragged nesting ("inhomogeneous shape")
        flat = np.empty(0, dtype=object)
    if flat.dtype.kind == "f":
        return _dt.get_default_dtype()
    if flat.dtype.kind in "iu":
        return _dt.int64
    if flat.dtype.kind == "b":
        return _dt.bool
    if flat.dtype == object:
        raise TypeError("tensor(): nested sequences must be rectangular and hold numbers only")
    raise TypeError(f"tensor(): cannot make a tensor from data of kind {flat.dtype}")


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a Tensor).

    Floats become the default dtype (float32), ints int64, bools bool; NumPy arrays keep
    their dtype.
    """
    if isinstance(data, Tensor):
        data = data.detach().data
    t = Tensor(data, dtype=dtype, device=device, requires_grad=False)
    on_host = isinstance(data, np.ndarray) and isinstance(t.data, np.ndarray)
    if t.data is data or (on_host and np.shares_memory(t.data, data)):
        t.data = t.data.copy()
    return t.requires_grad_(True) if requires_grad else t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but shares memory with a NumPy array when it can."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array, device="cpu")


def _shape(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], Sequence | np.ndarray):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, builtins.int | np.integer) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(builtins.int(s) for s in size)


def _creation(make: Callable, dtype, device, requires_grad: bool, default=None) -> Tensor:
    dt = _dt.as_dtype(dtype) if dtype is not None else (default or _dt.get_default_dtype())
    dev = backend.device(device)
    t = Tensor._make(make(backend.namespace(dev), dt))
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = _shape(size)
    return _creation(lambda xp, dt: xp.zeros(shape, dt), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = _shape(size)
    return _creation(lambda xp, dt: xp.ones(shape, dt), dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = _shape(size)
    return _creation(lambda xp, dt: xp.empty(shape, dt), dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = _shape((size,))
    default = _dt.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    return _creation(lambda xp, dt: xp.full(shape, fill_value, dt), dtype, device, requires_grad, default)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``; int64 if all are ints."""
    if end is None:
        start, end = 0, start
    integral = all(isinstance(v, builtins.int | np.integer) for v in (start, end, step))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    default = _dt.int64 if integral else _dt.get_default_dtype()
    return _creation(
        lambda xp, dt: xp.arange(start, end, step).astype(dt), dtype, device, requires_grad, default
    )


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _creation(lambda xp, dt: xp.linspace(start, end, steps, dtype=dt), dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _creation(lambda xp, dt: xp.eye(n, m, dtype=dt), dtype, device, requires_grad)


def _random(values: Callable, size, dtype, device, requires_grad, default=None) -> Tensor:
    """Random numbers are drawn on the host from the seeded generator, then moved: the same
    seed gives the same numbers on every device."""
    shape = _shape(size)
    return _creation(
        lambda xp, dt: backend.to_device(values(shape).astype(dt, copy=False), backend.device(device)),
        dtype,
        device,
        requires_grad,
        default,
    )


def _check_floating(op: str, dtype) -> None:
    """Real-valued draws cast to an integer dtype would be silently truncated: refuse, as PyTorch."""
    if dtype is not None and not _dt.is_floating_point(_dt.as_dtype(dtype)):
        raise RuntimeError(f"{op}: expected a floating point dtype, got {_dt.as_dtype(dtype)}")


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1)."""
    _check_floating("rand", dtype)
    gen = generator or default_generator
    return _random(lambda s: gen.uniform(0.0, 1.0, s), size, dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    _check_floating("randn", dtype)
    gen = generator or default_generator
    return _random(lambda s: gen.normal(0.0, 1.0, s), size, dtype, device, requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` starts at 0)."""
    if high is None or isinstance(high, tuple | list):
        low, high, size = 0, low, high if high is not None else size
    gen = generator or default_generator
    size = tuple(size) if isinstance(size, tuple | list) else (size,)
    return _random(lambda s: gen.integers(low, high, s), (size,), dtype, device, requires_grad, _dt.int64)


def _like(
    fn: Callable, t: Tensor, *args, dtype=None, device=None, requires_grad: bool = False, **kw
) -> Tensor:
    return fn(
        *args, t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad, **kw
    )


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, t, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(ones, t, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(empty, t, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(
        t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad
    )


def rand_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    return _like(rand, t, dtype=dtype, device=device, requires_grad=requires_grad, generator=generator)


def randn_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    return _like(randn, t, dtype=dtype, device=device, requires_grad=requires_grad, generator=generator)


def randint_like(t: Tensor, low, high=None, dtype=None, device=None, generator=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, generator=generator, dtype=dtype or t.dtype, device=device or t.device)


from . import ops  # noqa: E402  (ops builds on Tensor; imported last to break the cycle)

"""A CPU test double of CuPy that refuses host/device mixing.

No GPU exists in CI, yet every op should be tested "on cuda". This module stands in for the ``cupy``
module: it mirrors NumPy's namespace, but its arrays are :class:`FakeArray` objects, which wrap a NumPy
array and are *not* ``numpy.ndarray`` instances. Like real CuPy arrays they

* compute with each other, with Python scalars and with NumPy scalars (``np.float32(2) * x``);
* refuse to be turned into NumPy arrays implicitly: ``np.asarray(x)`` raises CuPy's own TypeError;
* refuse to mix with ``numpy.ndarray`` operands, indices or values: ``np_arr + x``, ``x + np_arr``,
  ``fakecupy.concatenate([x, np_arr])`` and ``x[0] = np_arr`` raise :class:`HostDeviceMixingError`;
* only cross the boundary through explicit transfers: :func:`asarray` / :func:`array` (host to device),
  :func:`asnumpy` / :meth:`FakeArray.get` (device to host), and ``float(x)`` / ``x.item()`` syncs.

The double is deliberately *stricter* than CuPy in one place: real CuPy arrays implement
``__array_ufunc__`` and ``__array_function__``, so ``np.exp(cupy_arr)`` or ``np.sum(cupy_arr)`` quietly
dispatch to CuPy. Here any NumPy function called on a device array raises, because array code is
expected to go through the array's namespace (``xp = get_array_module(x)``), never ``np`` directly.

Use it from a test by installing it as tinylearn's CuPy::

    from tests import fakecupy

    @pytest.fixture
    def fake_cuda(monkeypatch):
        return fakecupy.install(monkeypatch)  # tinylearn.backend now sees one CUDA device

Attribute lookups the module does not define itself (``fakecupy.exp``, ``fakecupy.float32``,
``fakecupy.linalg.norm``, ``fakecupy.lib.stride_tricks.sliding_window_view``, ...) resolve to the NumPy
object of the same name: functions are wrapped to unwrap :class:`FakeArray` arguments, reject NumPy
arrays and wrap array results; ufuncs keep their ``reduce``/``accumulate``/``outer``/``at`` methods;
dtypes, classes and constants pass through unchanged. ``fakecupy.random`` does not exist.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

if TYPE_CHECKING:
    import pytest

__all__ = [
    "FakeArray",
    "HostDeviceMixingError",
    "array",
    "asanyarray",
    "asarray",
    "asnumpy",
    "cuda",
    "get_array_module",
    "get_default_memory_pool",
    "install",
    "ndarray",
]

_IMPLICIT_CONVERSION = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array "
    "explicitly."
)
_SCALARS = (bool, int, float, complex, np.generic)
_COMPARISONS = frozenset({"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"})
# NumPy attributes that expose the host buffer itself; a device array has no such thing.
_HOST_ONLY_ATTRS = frozenset({"ctypes", "data"})
# Dtypes CuPy cannot hold.
_UNSUPPORTED_KINDS = frozenset("OSUMm")
# Namespaces that are deliberately absent (CuPy's versions differ too much to fake).
_ABSENT = frozenset({"random"})
# NumPy's index-trick objects (``np.r_[...]``): not callable, used through ``__getitem__``.
_INDEX_TRICKS = frozenset({"r_", "c_", "mgrid", "ogrid"})
DEVICE_COUNT = 1


class HostDeviceMixingError(TypeError):
    """A NumPy (host) array met a device array where CuPy would refuse it."""


def _mixing(where: str) -> HostDeviceMixingError:
    return HostDeviceMixingError(
        f"host/device mixing: {where} got a numpy.ndarray where a device array was expected "
        "(move it explicitly with cupy.asarray(), or bring device data back with .get())"
    )


def _numpy_on_device(what: str) -> HostDeviceMixingError:
    return HostDeviceMixingError(
        f"host/device mixing: {what} was called on a device array; call it through the array's "
        "namespace (xp = get_array_module(x)) or move the data explicitly with .get()"
    )


def _unsupported(value: object) -> TypeError:
    return TypeError(f"Unsupported type {type(value)}")


# --------------------------------------------------------------------------------------------------
# Unwrapping arguments and wrapping results
# --------------------------------------------------------------------------------------------------


def _unwrap(obj: Any, where: str, seen: dict[int, FakeArray], allow_host: bool = False) -> Any:
    """Replace FakeArrays (also inside lists, tuples and dicts) by their NumPy arrays.

    Raises :class:`HostDeviceMixingError` on a ``numpy.ndarray`` unless ``allow_host`` (an explicit
    transfer). ``seen`` records the FakeArray behind each unwrapped buffer, so that a result which *is*
    one of the inputs (``out=``, ``astype(copy=False)``) comes back as the same FakeArray object.
    """
    if isinstance(obj, FakeArray):
        seen[id(obj._a)] = obj
        return obj._a
    if isinstance(obj, np.ndarray):
        if allow_host:
            return obj
        raise _mixing(where)
    if isinstance(obj, list):
        return [_unwrap(o, where, seen, allow_host) for o in obj]
    if isinstance(obj, tuple):
        items = [_unwrap(o, where, seen, allow_host) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, dict):
        return {k: _unwrap(v, where, seen, allow_host) for k, v in obj.items()}
    return obj


def _wrap(obj: Any, seen: dict[int, FakeArray] | None = None) -> Any:
    """Turn NumPy results into device results: arrays and NumPy scalars become FakeArrays.

    NumPy scalars become 0-d arrays because that is what CuPy returns from reductions and scalar
    indexing (``x.sum()``, ``x[0, 0]``); Python scalars (``x.item()``) and non-arrays pass through.
    """
    if isinstance(obj, np.ndarray):
        if seen:
            original = seen.get(id(obj))
            if original is not None and original._a is obj:
                return original
        return FakeArray(obj)
    if isinstance(obj, np.generic):
        return FakeArray(np.asarray(obj))
    if isinstance(obj, tuple):
        items = [_wrap(o, seen) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if type(obj) is list:
        return [_wrap(o, seen) for o in obj]
    return obj


def _call(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    where: str,
    seen: dict[int, FakeArray] | None = None,
) -> Any:
    """Call a NumPy callable on unwrapped arguments and wrap what it returns."""
    seen = {} if seen is None else seen
    return _wrap(func(*_unwrap(args, where, seen), **_unwrap(kwargs, where, seen)), seen)


def _is_scalar(value: object) -> bool:
    return isinstance(value, _SCALARS)


def _operand(value: object, where: str) -> Any:
    """An operand of a ufunc-like call: a FakeArray's buffer or a scalar; anything else is refused."""
    if isinstance(value, FakeArray):
        return value._a
    if isinstance(value, np.ndarray):
        raise _mixing(where)
    if _is_scalar(value):
        return value
    raise _unsupported(value)


def _defers_to(other: object) -> bool:
    """Whether a binary operator should return NotImplemented so ``other``'s reflected op runs.

    Same rule as CuPy: defer to objects with ``__array_ufunc__ = None``, or, for objects without
    ``__array_ufunc__``, to a higher ``__array_priority__``.
    """
    try:
        ufunc_attr = type(other).__array_ufunc__  # type: ignore[attr-defined]
    except AttributeError:
        return getattr(other, "__array_priority__", 0) > FakeArray.__array_priority__
    return ufunc_attr is None


# --------------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------------


class Device:
    """``cupy.cuda.Device``: a context manager selecting a GPU. Only device 0 exists."""

    def __init__(self, device: int | None = None) -> None:
        self.id = 0 if device is None else int(device)

    def _check(self) -> None:
        if not 0 <= self.id < DEVICE_COUNT:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal (device {self.id})")

    def use(self) -> None:
        self._check()

    def synchronize(self) -> None:
        self._check()

    def __enter__(self) -> Device:
        self._check()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("cuda", self.id))

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


def _is_available() -> bool:
    return True


def _device_count() -> int:
    return DEVICE_COUNT


def _synchronize() -> None:
    return None


def _get_device_id() -> int:
    return 0


cuda = SimpleNamespace(
    is_available=_is_available,
    Device=Device,
    get_device_id=_get_device_id,
    runtime=SimpleNamespace(getDeviceCount=_device_count, deviceSynchronize=_synchronize),
)
"""The ``cupy.cuda`` sub-namespace: one always-available device."""


class _MemoryPool:
    """``cupy.get_default_memory_pool()``: nothing is pooled on the host, so everything reads 0."""

    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_all_blocks(self) -> None:
        return None


_MEMORY_POOL = _MemoryPool()


def get_default_memory_pool() -> _MemoryPool:
    """The (empty) default memory pool."""
    return _MEMORY_POOL


# --------------------------------------------------------------------------------------------------
# The device array
# --------------------------------------------------------------------------------------------------


def _binary(ufunc: np.ufunc) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The forward, reflected and in-place operator methods computing ``ufunc``."""
    where = f"operator {ufunc.__name__}"

    def forward(self: FakeArray, other: object) -> Any:
        if not isinstance(other, FakeArray | np.ndarray) and not _is_scalar(other) and _defers_to(other):
            return NotImplemented
        return _wrap(ufunc(self._a, _operand(other, where)))

    def reflected(self: FakeArray, other: object) -> Any:
        if not isinstance(other, FakeArray | np.ndarray) and not _is_scalar(other) and _defers_to(other):
            return NotImplemented
        return _wrap(ufunc(_operand(other, where), self._a))

    def inplace(self: FakeArray, other: object) -> FakeArray:
        ufunc(self._a, _operand(other, where), out=self._a)
        return self

    return forward, reflected, inplace


def _unary(ufunc: np.ufunc) -> Callable[[FakeArray], FakeArray]:
    def op(self: FakeArray) -> FakeArray:
        return _wrap(ufunc(self._a))

    return op


class FakeArray:
    """A "device" array: a NumPy array that only computes with other device arrays and scalars.

    Not an ``numpy.ndarray`` subclass. Create one with :func:`asarray` (or any fakecupy function);
    ``FakeArray(np_array)`` wraps without copying. Attributes and methods not defined here are looked
    up on the wrapped array, with arguments unwrapped and array results wrapped.
    """

    __slots__ = ("_a",)
    __array_priority__ = 100  # CuPy's value; used only by :func:`_defers_to`

    def __init__(self, a: np.ndarray) -> None:
        if not isinstance(a, np.ndarray):
            raise TypeError(
                f"FakeArray wraps a numpy.ndarray, got {type(a).__name__}; use fakecupy.asarray()"
            )
        self._a = a

    # ---- NumPy interop: refused, like CuPy ---------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: Any = None) -> NoReturn:
        raise TypeError(_IMPLICIT_CONVERSION)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # ``np.float32(2) * x`` and ``np.float64(1) < x`` reach here: NumPy scalars do not defer to the
        # reflected operator but call the ufunc (comparisons pass the scalar as a 0-d array). CuPy
        # computes these, so the double does too; every other NumPy ufunc call on a device array is
        # host code touching device data and raises.
        if method == "__call__" and not kwargs and len(inputs) == 2 and inputs[1] is self:
            scalar = inputs[0]
            if isinstance(scalar, np.ndarray) and scalar.ndim == 0 and ufunc.__name__ in _COMPARISONS:
                scalar = scalar[()]
            if isinstance(scalar, np.generic):
                return _wrap(ufunc(scalar, self._a))
            if isinstance(scalar, np.ndarray):
                raise _mixing(f"operator {ufunc.__name__}")
        if any(isinstance(x, np.ndarray) for x in inputs + tuple(kwargs.get("out", ()) or ())):
            raise _mixing(f"numpy.{ufunc.__name__}")
        raise _numpy_on_device(f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}"))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> NoReturn:
        raise _numpy_on_device(f"numpy.{getattr(func, '__name__', func)}")

    # ---- explicit transfers -------------------------------------------------------------------------

    def get(
        self, stream: Any = None, order: str = "C", out: np.ndarray | None = None, blocking: bool = True
    ) -> np.ndarray:
        """Copy to the host (``cupy.ndarray.get``)."""
        if out is not None:
            np.copyto(out, self._a)
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        """Copy a host array into this array (``cupy.ndarray.set``); shapes and dtypes must match."""
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr).__name__}")
        if arr.shape != self._a.shape or arr.dtype != self._a.dtype:
            raise ValueError(
                f"set: shape/dtype mismatch {arr.shape} {arr.dtype} vs {self.shape} {self.dtype}"
            )
        np.copyto(self._a, arr)

    # ---- attributes -------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value: tuple[int, ...]) -> None:
        self._a.shape = value

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def strides(self) -> tuple[int, ...]:
        return self._a.strides

    @property
    def flags(self) -> Any:
        return self._a.flags

    @property
    def T(self) -> FakeArray:
        return FakeArray(self._a.T)

    @property
    def mT(self) -> FakeArray:
        return FakeArray(self._a.mT)

    @property
    def real(self) -> FakeArray:
        return _wrap(self._a.real, {id(self._a): self})

    @property
    def imag(self) -> FakeArray:
        return FakeArray(self._a.imag)

    @property
    def base(self) -> FakeArray | None:
        """The array this one is a view of (a new wrapper around it, so not ``is``-identical)."""
        return (
            None
            if self._a.base is None or not isinstance(self._a.base, np.ndarray)
            else FakeArray(self._a.base)
        )

    @property
    def device(self) -> Device:
        return Device(0)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never expose __array_interface__ & co: they would bypass __array__
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if name in _HOST_ONLY_ATTRS:
            raise AttributeError(f"a device array has no host buffer ({name!r}); use .get()")
        attr = getattr(self._a, name)
        if callable(attr):
            where = f"ndarray.{name}"

            @functools.wraps(attr)
            def method(*args: Any, **kwargs: Any) -> Any:
                return _call(attr, args, kwargs, where, {id(self._a): self})

            return method
        return _wrap(attr, {id(self._a): self})

    # ---- Python protocols ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        return repr(self._a)  # CuPy prints exactly like NumPy

    def __str__(self) -> str:
        return str(self._a)

    def __format__(self, spec: str) -> str:
        return format(self._a, spec)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Iterator[FakeArray]:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __contains__(self, value: object) -> bool:
        return bool((self == value).any())

    # Explicit syncs, allowed by CuPy; NumPy's rules decide which shapes convert.
    def __bool__(self) -> bool:
        return bool(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __round__(self, ndigits: int | None = None) -> FakeArray:
        return _wrap(np.round(self._a, ndigits or 0))

    def __copy__(self) -> FakeArray:
        return FakeArray(self._a.copy())

    def __deepcopy__(self, memo: dict[int, Any]) -> FakeArray:
        return FakeArray(self._a.copy())

    def __reduce__(self) -> tuple[Any, ...]:
        return (FakeArray, (self._a.copy(),))

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._a[_unwrap(key, "indexing", {})], {id(self._a): self})

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[_unwrap(key, "indexing", {})] = _unwrap(value, "item assignment", {})

    # ---- operators -------------------------------------------------------------------------------

    __add__, __radd__, __iadd__ = _binary(np.add)
    __sub__, __rsub__, __isub__ = _binary(np.subtract)
    __mul__, __rmul__, __imul__ = _binary(np.multiply)
    __truediv__, __rtruediv__, __itruediv__ = _binary(np.true_divide)
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary(np.floor_divide)
    __mod__, __rmod__, __imod__ = _binary(np.remainder)
    __pow__, __rpow__, __ipow__ = _binary(np.power)
    __matmul__, __rmatmul__, __imatmul__ = _binary(np.matmul)
    __and__, __rand__, __iand__ = _binary(np.bitwise_and)
    __or__, __ror__, __ior__ = _binary(np.bitwise_or)
    __xor__, __rxor__, __ixor__ = _binary(np.bitwise_xor)
    __lshift__, __rlshift__, __ilshift__ = _binary(np.left_shift)
    __rshift__, __rrshift__, __irshift__ = _binary(np.right_shift)
    __divmod__, __rdivmod__, _ = _binary(np.divmod)
    __eq__, _, _ = _binary(np.equal)  # type: ignore[assignment]
    __ne__, _, _ = _binary(np.not_equal)  # type: ignore[assignment]
    __lt__, _, _ = _binary(np.less)
    __le__, _, _ = _binary(np.less_equal)
    __gt__, _, _ = _binary(np.greater)
    __ge__, _, _ = _binary(np.greater_equal)
    del _
    __hash__ = None  # type: ignore[assignment]  # mutable, like every array

    __neg__ = _unary(np.negative)
    __pos__ = _unary(np.positive)
    __abs__ = _unary(np.absolute)
    __invert__ = _unary(np.invert)


ndarray = FakeArray
"""``cupy.ndarray``, for ``isinstance`` checks."""


# --------------------------------------------------------------------------------------------------
# Explicit transfers and namespace helpers
# --------------------------------------------------------------------------------------------------


def _to_device(obj: Any, dtype: Any, copy: bool, **kwargs: Any) -> FakeArray:
    if isinstance(obj, FakeArray):
        return _wrap(np.array(obj._a, dtype=dtype, copy=copy or None, **kwargs), {id(obj._a): obj})
    # From the host: always a fresh buffer, exactly as a host-to-device copy would be.
    host = np.array(_unwrap(obj, "asarray", {}, allow_host=True), dtype=dtype, copy=True, **kwargs)
    if host.dtype.kind in _UNSUPPORTED_KINDS:
        raise ValueError(f"Unsupported dtype {host.dtype}")
    return FakeArray(host)


def asarray(a: Any, dtype: Any = None, order: str | None = None, *, blocking: bool = False) -> FakeArray:
    """``cupy.asarray``: device arrays pass through (no copy); anything else is copied to the device."""
    return _to_device(a, dtype, False, order=order)


def asanyarray(a: Any, dtype: Any = None, order: str | None = None, *, blocking: bool = False) -> FakeArray:
    """``cupy.asanyarray``: same as :func:`asarray`."""
    return _to_device(a, dtype, False, order=order)


def array(
    obj: Any,
    dtype: Any = None,
    copy: bool = True,
    order: str = "K",
    subok: bool = False,
    ndmin: int = 0,
    *,
    blocking: bool = False,
) -> FakeArray:
    """``cupy.array``: a device array from host data or another device array (copied by default)."""
    return _to_device(obj, dtype, copy, order=order, ndmin=ndmin)


def asnumpy(
    a: Any, stream: Any = None, order: str = "C", out: np.ndarray | None = None, *, blocking: bool = True
) -> np.ndarray:
    """``cupy.asnumpy``: a NumPy copy of a device array; host data is passed to ``np.asarray``."""
    if isinstance(a, FakeArray):
        return a.get(order=order, out=out)
    host = np.asarray(a, order=order)  # type: ignore[call-overload]
    if out is not None:
        np.copyto(out, host)
        return out
    return host


def _module() -> ModuleType:
    return sys.modules[__name__]


def get_array_module(*args: Any) -> ModuleType:
    """This module if any argument is a device array, else ``numpy``."""
    return _module() if any(isinstance(a, FakeArray) for a in args) else np


def install(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Make ``tinylearn.backend`` use this double as CuPy for the current test.

    Sets ``tinylearn.backend._cupy`` to this module with ``monkeypatch.setattr``, so ``"cuda"`` devices
    become available and run on the CPU; pytest restores the real detection after the test. Returns
    this module (the "cupy" that tensors on ``cuda`` will hold arrays of).
    """
    import tinylearn.backend as backend

    module = _module()
    monkeypatch.setattr(backend, "_cupy", module)
    return module


# --------------------------------------------------------------------------------------------------
# Everything else: NumPy's namespace, translated
# --------------------------------------------------------------------------------------------------


class _FakeUfunc:
    """A NumPy ufunc whose inputs must be device arrays or scalars, with its methods."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.__doc__ = ufunc.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        where = self.__name__
        for x in args[: self._ufunc.nin]:
            _operand(x, where)
        return _call(self._ufunc, args, kwargs, where)

    def _method(
        self, method: str, arrays: tuple[Any, ...], rest: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        where = f"{self.__name__}.{method}"
        for x in arrays:
            if not isinstance(x, FakeArray):
                raise _mixing(where) if isinstance(x, np.ndarray) else _unsupported(x)
        return _call(getattr(self._ufunc, method), arrays + rest, kwargs, where)

    def reduce(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._method("reduce", (array,), args, kwargs)

    def accumulate(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._method("accumulate", (array,), args, kwargs)

    def reduceat(self, array: Any, *args: Any, **kwargs: Any) -> Any:
        return self._method("reduceat", (array,), args, kwargs)

    def outer(self, a: Any, b: Any, **kwargs: Any) -> Any:
        for x in (a, b):
            _operand(x, f"{self.__name__}.outer")
        return _call(self._ufunc.outer, (a, b), kwargs, f"{self.__name__}.outer")

    def at(self, a: Any, indices: Any, b: Any = None) -> None:
        """Unbuffered in-place ``a[indices] op= b``: mutates ``a``'s buffer."""
        return self._method("at", (a,), (indices,) if b is None else (indices, b), {})

    def __getattr__(self, name: str) -> Any:  # nin, nout, nargs, identity, types, signature, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._ufunc, name)

    def __repr__(self) -> str:
        return f"<ufunc {self.__name__!r}>"


class _FakeIndexTrick:
    """``np.r_``/``np.c_``/``np.mgrid``/``np.ogrid``: used by subscription, results on the device."""

    def __init__(self, obj: Any, name: str) -> None:
        self._obj = obj
        self._name = name

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._obj[_unwrap(key, self._name, {})])


class _FakeNamespace:
    """A NumPy submodule (``linalg``, ``fft``, ``lib``, ...) seen through the device translation."""

    def __init__(self, module: ModuleType, name: str) -> None:
        self._module = module
        self.__name__ = name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = _translate(getattr(self._module, name), f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"<fake module {self.__name__!r}>"


def _translate(obj: Any, name: str) -> Any:
    """The device-side counterpart of a NumPy object."""
    if obj is np.ndarray:
        return FakeArray
    if isinstance(obj, np.ufunc):
        return _FakeUfunc(obj)
    if isinstance(obj, ModuleType):
        return _FakeNamespace(obj, name)
    if isinstance(obj, type):  # dtypes (np.float32), finfo, errstate, exceptions: shared with NumPy
        return obj
    if callable(obj):
        where = name

        @functools.wraps(obj)
        def function(*args: Any, **kwargs: Any) -> Any:
            return _call(obj, args, kwargs, where)

        return function
    if name.rpartition(".")[2] in _INDEX_TRICKS:
        return _FakeIndexTrick(obj, name)
    return obj  # constants: pi, inf, nan, newaxis, ...


def __getattr__(name: str) -> Any:
    if name.startswith("_") or name in _ABSENT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        obj = getattr(np, name)
    except AttributeError:
        raise AttributeError(
            f"module {__name__!r} has no attribute {name!r} (numpy has none either)"
        ) from None
    value = _translate(obj, name)
    setattr(_module(), name, value)  # cache: later lookups skip __getattr__
    return value

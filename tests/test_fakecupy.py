"""Tests of the CuPy test double itself: it computes like NumPy and refuses host/device mixing."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from tests import fakecupy as cp
from tests.fakecupy import FakeArray, HostDeviceMixingError


@pytest.fixture
def host() -> np.ndarray:
    return np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5


@pytest.fixture
def dev(host: np.ndarray) -> FakeArray:
    return cp.asarray(host)


# ---- transfers -------------------------------------------------------------------------------------


def test_asarray_asnumpy_round_trip(host: np.ndarray) -> None:
    d = cp.asarray(host)
    assert isinstance(d, cp.ndarray) and not isinstance(d, np.ndarray)
    back = cp.asnumpy(d)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host)
    assert back is not host


def test_asarray_copies_from_host_but_not_from_device(host: np.ndarray) -> None:
    d = cp.asarray(host)
    host[0, 0] = 100.0
    assert float(d[0, 0]) == -5.5  # the device copy is independent of the host buffer
    assert cp.asarray(d) is d
    assert cp.asarray(d, dtype=np.float32).dtype == np.float32
    assert cp.array(d) is not d


def test_asarray_from_lists_scalars_and_device_lists(dev: FakeArray) -> None:
    assert cp.asarray([1, 2, 3]).dtype == np.int64
    assert cp.asarray(2.5).shape == ()
    stacked = cp.asarray([dev[0], dev[1]])
    np.testing.assert_array_equal(stacked.get(), dev.get()[:2])
    with pytest.raises(ValueError, match="Unsupported dtype"):
        cp.asarray(["a", "b"])


def test_get_returns_a_host_copy(dev: FakeArray) -> None:
    h = dev.get()
    h[...] = 0
    assert float(abs(dev).sum()) == 36.0


def test_get_array_module(dev: FakeArray, host: np.ndarray) -> None:
    assert cp.get_array_module(dev) is cp
    assert cp.get_array_module(host, 1.0, dev) is cp
    assert cp.get_array_module(host) is np


def test_cuda_namespace() -> None:
    assert cp.cuda.is_available()
    assert cp.cuda.runtime.getDeviceCount() == 1
    with cp.cuda.Device(0) as d:
        assert d.id == 0
    with pytest.raises(RuntimeError, match="invalid device"), cp.cuda.Device(1):
        pass
    assert cp.asarray([1.0]).device.id == 0


# ---- NumPy-equivalent computation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: abs(a) ** b,
        lambda a, b: a @ b.T,
        lambda a, b: a < b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
        lambda a, b: -a + (+b),
        lambda a, b: 2.0 - a,
        lambda a, b: np.float32(3) * a,
        lambda a, b: np.float64(0.5) < a,
        lambda a, b: 3 / (abs(b) + 1),
    ],
)
def test_arithmetic_matches_numpy(op, host: np.ndarray) -> None:
    other = host[::-1] * 0.5 + 1.0
    expected = op(host, other)
    got = op(cp.asarray(host), cp.asarray(other))
    assert isinstance(got, FakeArray)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got.get(), expected)


def test_integer_and_bitwise_ops() -> None:
    a, b = np.array([5, 6, 7]), np.array([1, 2, 3])
    da, db = cp.asarray(a), cp.asarray(b)
    for got, want in [
        (da & db, a & b),
        (da | db, a | b),
        (da ^ db, a ^ b),
        (da << db, a << b),
        (da >> db, a >> b),
        (~da, ~a),
    ]:
        np.testing.assert_array_equal(got.get(), want)
    q, r = divmod(da, db)
    np.testing.assert_array_equal(q.get(), a // b)
    np.testing.assert_array_equal(r.get(), a % b)


def test_attributes(dev: FakeArray, host: np.ndarray) -> None:
    assert dev.shape == host.shape and dev.dtype == host.dtype and dev.ndim == 2
    assert dev.size == 12 and dev.itemsize == 8 and dev.nbytes == 96 and dev.strides == host.strides
    assert dev.flags.c_contiguous
    assert isinstance(dev.T, FakeArray) and dev.T.shape == (4, 3)
    assert dev.mT.shape == (4, 3)
    assert dev.reshape(2, 6).base is not None
    assert len(dev) == 3
    assert repr(dev) == repr(host)


def test_methods_forward_and_wrap(dev: FakeArray, host: np.ndarray) -> None:
    for name, args in [
        ("sum", ()),
        ("mean", (0,)),
        ("max", (1,)),
        ("argmax", ()),
        ("cumsum", (1,)),
        ("transpose", ()),
        ("swapaxes", (0, 1)),
        ("ravel", ()),
        ("flatten", ()),
        ("prod", (0,)),
        ("clip", (-1, 1)),
        ("astype", (np.float32,)),
        ("copy", ()),
    ]:
        got = getattr(dev, name)(*args)
        assert isinstance(got, FakeArray), name
        np.testing.assert_allclose(got.get(), getattr(host, name)(*args), err_msg=name)
    assert dev.sum().shape == ()  # reductions stay on the device as 0-d arrays, as in CuPy
    assert dev.max().item() == host.max()
    assert dev.tolist() == host.tolist()
    np.testing.assert_allclose(dev.dot(dev.T).get(), host @ host.T)
    assert dev.astype(np.float64, copy=False) is dev
    nz = (dev > 0).nonzero()
    assert isinstance(nz, tuple) and all(isinstance(i, FakeArray) for i in nz)


def test_scalar_conversions(dev: FakeArray) -> None:
    s = dev.sum()
    assert float(s) == pytest.approx(0.0)
    assert int(cp.asarray(7)) == 7
    assert bool(cp.asarray(True)) and not bool(cp.asarray([0]))
    assert [0, 1, 2, 3][cp.asarray(2)] == 2
    assert f"{dev[0, 0]:.2f}" == "-5.50"
    with pytest.raises(ValueError, match="ambiguous"):
        bool(dev)
    with pytest.raises(TypeError):
        float(dev)


def test_iteration(dev: FakeArray) -> None:
    rows = list(dev)
    assert len(rows) == 3 and all(isinstance(r, FakeArray) and r.shape == (4,) for r in rows)
    with pytest.raises(TypeError, match="0-d"):
        iter(cp.asarray(1.0))


def test_inplace_ops_mutate(dev: FakeArray, host: np.ndarray) -> None:
    view = dev[0]
    alias = dev
    dev += 1.0
    dev *= cp.asarray(2.0)
    assert dev is alias
    np.testing.assert_allclose(view.get(), (host[0] + 1.0) * 2.0)
    d_int = cp.asarray([1, 2])
    with pytest.raises(TypeError):  # same_kind casting, like NumPy and CuPy
        d_int += 0.5


def test_module_functions(dev: FakeArray, host: np.ndarray) -> None:
    np.testing.assert_allclose(cp.exp(dev).get(), np.exp(host))
    np.testing.assert_allclose(cp.matmul(dev, dev.T).get(), host @ host.T)
    np.testing.assert_allclose(cp.einsum("ij,kj->ik", dev, dev).get(), host @ host.T)
    np.testing.assert_allclose(cp.where(dev > 0, dev, 0.0).get(), np.where(host > 0, host, 0.0))
    np.testing.assert_allclose(cp.concatenate([dev, dev], axis=0).get(), np.concatenate([host, host]))
    assert float(cp.linalg.norm(dev)) == pytest.approx(np.linalg.norm(host))
    parts = cp.split(dev, 3)
    assert isinstance(parts, list) and all(isinstance(p, FakeArray) for p in parts)
    assert cp.zeros((2, 3), dtype=cp.float32).dtype == np.float32
    assert cp.float32 is np.float32 and cp.newaxis is None and cp.pi == np.pi
    assert cp.result_type(dev, np.float32) == np.float64
    assert cp.finfo(cp.float32).eps == np.finfo(np.float32).eps
    win = cp.lib.stride_tricks.sliding_window_view(dev, 2, axis=1)
    assert isinstance(win, FakeArray) and win.shape == (3, 3, 2)
    out = cp.empty_like(dev)
    assert cp.add(dev, 1.0, out=out) is out
    with pytest.raises(AttributeError):
        cp.random


def test_ufunc_methods(dev: FakeArray, host: np.ndarray) -> None:
    assert cp.add.nin == 2 and cp.add.nout == 1
    np.testing.assert_allclose(cp.maximum.reduce(dev, axis=1).get(), np.maximum.reduce(host, axis=1))
    np.testing.assert_allclose(cp.add.accumulate(dev, axis=0).get(), np.add.accumulate(host, axis=0))
    np.testing.assert_allclose(cp.multiply.outer(dev[0], dev[1]).get(), np.multiply.outer(host[0], host[1]))


def test_ufunc_at_mutates() -> None:
    target = cp.zeros(4)
    idx = cp.asarray([0, 1, 1, 3])
    cp.add.at(target, idx, cp.asarray([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(target.get(), [1.0, 5.0, 0.0, 4.0])
    cp.add.at(target, [0, 0], 1.0)
    assert float(target[0]) == 3.0
    with pytest.raises(HostDeviceMixingError):
        cp.add.at(target, np.array([0]), 1.0)
    with pytest.raises(HostDeviceMixingError):
        cp.add.at(np.zeros(4), idx, 1.0)


def test_indexing_with_device_indices(dev: FakeArray, host: np.ndarray) -> None:
    idx = cp.asarray([2, 0])
    np.testing.assert_array_equal(dev[idx].get(), host[[2, 0]])
    np.testing.assert_array_equal(dev[dev > 0].get(), host[host > 0])
    np.testing.assert_array_equal(dev[idx, 1:3].get(), host[[2, 0], 1:3])
    np.testing.assert_array_equal(dev[:, None, ...].get(), host[:, None, ...])
    assert isinstance(dev[1, 2], FakeArray) and dev[1, 2].shape == ()


def test_setitem(dev: FakeArray, host: np.ndarray) -> None:
    dev[cp.asarray([0, 2]), 1] = cp.asarray([10.0, 20.0])
    dev[dev < -4] = 0.0
    dev[1] = [1.0, 2.0, 3.0, 4.0]
    expected = host.copy()
    expected[[0, 2], 1] = [10.0, 20.0]
    expected[expected < -4] = 0.0
    expected[1] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(dev.get(), expected)


def test_setitem_with_host_array_raises(dev: FakeArray) -> None:
    with pytest.raises(HostDeviceMixingError, match="host/device mixing"):
        dev[0] = np.ones(4)
    with pytest.raises(HostDeviceMixingError):
        dev[np.array([0, 1])] = 1.0
    with pytest.raises(HostDeviceMixingError):
        dev[np.array([0, 1])]


# ---- host/device mixing is refused -----------------------------------------------------------------


def test_implicit_conversion_raises_like_cupy(dev: FakeArray) -> None:
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(dev)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array([dev, dev])
    with pytest.raises(TypeError):
        memoryview(dev)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "op",
    [
        lambda h, d: h + d,
        lambda h, d: d + h,
        lambda h, d: h * d,
        lambda h, d: d @ h.T,
        lambda h, d: h @ d.T,
        lambda h, d: h < d,
        lambda h, d: d == h,
        lambda h, d: np.array(2.0) * d,
        lambda h, d: d - np.array(2.0),
    ],
)
def test_operators_with_host_arrays_raise(op, host: np.ndarray, dev: FakeArray) -> None:
    with pytest.raises(HostDeviceMixingError, match="host/device mixing"):
        op(host, dev)


def test_inplace_with_host_array_raises(host: np.ndarray, dev: FakeArray) -> None:
    with pytest.raises(HostDeviceMixingError):
        dev += host
    h = host.copy()
    with pytest.raises(HostDeviceMixingError):
        h += dev
    np.testing.assert_array_equal(h, host)


def test_numpy_functions_on_device_arrays_raise(host: np.ndarray, dev: FakeArray) -> None:
    with pytest.raises(HostDeviceMixingError, match="host/device mixing"):
        np.add(host, dev)
    with pytest.raises(HostDeviceMixingError, match=r"numpy\.exp"):
        np.exp(dev)
    with pytest.raises(HostDeviceMixingError, match=r"numpy\.sum"):
        np.sum(dev)
    with pytest.raises(HostDeviceMixingError):
        np.concatenate([host, dev])


def test_fake_functions_with_host_arrays_raise(host: np.ndarray, dev: FakeArray) -> None:
    with pytest.raises(
        HostDeviceMixingError, match=r"got a numpy\.ndarray where a device array was expected"
    ):
        cp.concatenate([dev, host])
    with pytest.raises(HostDeviceMixingError):
        cp.exp(host)
    with pytest.raises(HostDeviceMixingError):
        cp.where(dev > 0, host, 0.0)
    with pytest.raises(HostDeviceMixingError):
        cp.einsum("ij,ij->", dev, host)
    with pytest.raises(HostDeviceMixingError):
        cp.add(np.array(1.0), dev)  # CuPy refuses 0-d host arrays too
    with pytest.raises(HostDeviceMixingError):
        dev.dot(host.T)
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.add(dev[0], [1.0, 2.0, 3.0, 4.0])  # CuPy ufuncs take arrays and scalars only


def test_scalars_mix_freely(dev: FakeArray, host: np.ndarray) -> None:
    for scalar in (2, 2.5, True, np.float32(2), np.int64(3), np.bool_(True)):
        np.testing.assert_allclose((dev * scalar).get(), host * scalar)
        np.testing.assert_allclose((scalar * dev).get(), scalar * host)
    assert (dev + np.float32(1)).dtype == np.float64
    assert (cp.asarray([1.0], dtype=np.float16) * np.float32(2)).dtype == np.float32
    np.testing.assert_allclose(cp.maximum(dev, np.float64(0)).get(), np.maximum(host, 0))


def test_unknown_operand_types() -> None:
    class Defers:
        __array_ufunc__ = None

        def __radd__(self, other: object) -> str:
            return "deferred"

    d = cp.asarray([1.0])
    assert d + Defers() == "deferred"
    with pytest.raises(TypeError, match="Unsupported type"):
        d + [1.0]
    with pytest.raises(TypeError, match="Unsupported type"):
        d == None  # noqa: B015, E711 - CuPy raises here too


def test_copy_and_pickle(dev: FakeArray) -> None:
    for clone in (copy.copy(dev), copy.deepcopy(dev), pickle.loads(pickle.dumps(dev))):
        assert isinstance(clone, FakeArray)
        np.testing.assert_array_equal(clone.get(), dev.get())
        clone[0, 0] = 42.0
        assert float(dev[0, 0]) != 42.0


def test_install(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = pytest.importorskip("tinylearn.backend")
    assert cp.install(monkeypatch) is cp
    assert backend.cuda_is_available()
    dev = backend.device("cuda")
    moved = backend.to_device(np.ones(3), dev)
    assert isinstance(moved, FakeArray)
    assert backend.array_device(moved) == dev
    assert backend.get_array_module(moved) is cp
    assert backend.to_device(moved, dev) is moved
    back = backend.to_device(moved, backend.device("cpu"))
    assert isinstance(back, np.ndarray)

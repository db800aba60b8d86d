"""The Tensor object: construction, dtypes and promotion, creation functions, the RNG, conversion,
attributes and repr. PyTorch's behaviour is the reference throughout."""

from __future__ import annotations

import builtins
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinylearn as tl


@pytest.fixture
def default_dtype() -> Iterator[None]:
    """Restore the default floating dtype after a test that changes it."""
    before = tl.get_default_dtype()
    yield
    tl.set_default_dtype(before)


# --------------------------------------------------------------------------- tensor(): dtype inference


@pytest.mark.parametrize(
    ("data", "dtype", "shape"),
    [
        ([1.0, 2.5], tl.float32, (2,)),
        ([1, 2.0], tl.float32, (2,)),  # one float makes the whole tensor floating
        ([1, 2, 3], tl.int64, (3,)),
        ([[1, 2], [3, 4]], tl.int64, (2, 2)),
        ([True, False], tl.bool, (2,)),
        ([True, 2], tl.int64, (2,)),
        ([True, 2.5], tl.float32, (2,)),
        (3, tl.int64, ()),
        (2.0, tl.float32, ()),
        (True, tl.bool, ()),
        ([], tl.float32, (0,)),  # PyTorch: an empty list is a float tensor
    ],
)
def test_tensor_infers_dtype_from_python_data(data, dtype, shape) -> None:
    t = tl.tensor(data)
    assert t.dtype == dtype
    assert t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=dtype))


@pytest.mark.parametrize(
    "np_dtype", ["float16", "float32", "float64", "int32", "int64", "int8", "uint8", "bool"]
)
def test_tensor_keeps_numpy_dtype(np_dtype: str) -> None:
    arr = np.arange(6).reshape(2, 3).astype(np_dtype)
    t = tl.tensor(arr)
    assert t.dtype == np.dtype(np_dtype)
    np.testing.assert_array_equal(t.numpy(), arr)


def test_float64_numpy_stays_float64_everywhere() -> None:
    arr = np.array([0.1, 0.2], dtype=np.float64)
    for make in (tl.tensor, tl.as_tensor, tl.from_numpy):
        t = make(arr)
        assert t.dtype == tl.float64, make
        assert t.numpy()[0] == 0.1  # no round trip through float32
    assert tl.tensor(np.float64(0.1)).dtype == tl.float64  # NumPy scalars keep their dtype too


def test_tensor_dtype_argument_converts() -> None:
    assert tl.tensor([1, 2], dtype=tl.float32).dtype == tl.float32
    assert tl.tensor([1.7, -1.7], dtype=tl.int64).tolist() == [1, -1]  # truncation, as PyTorch
    assert tl.tensor(np.ones(2), dtype=tl.float16).dtype == tl.float16
    assert tl.tensor([0, 2], dtype=tl.bool).tolist() == [False, True]
    assert tl.tensor([1, 2], dtype=float).dtype == tl.float32  # Python types as dtypes
    assert tl.tensor([1.5], dtype=int).dtype == tl.int64
    assert tl.tensor([1.0], dtype="float64").dtype == tl.float64


def test_tensor_copies_its_input() -> None:
    arr = np.array([1.0, 2.0], dtype=np.float32)
    t = tl.tensor(arr)
    arr[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    t.data[1] = -5.0
    assert arr[1] == 2.0

    src = tl.tensor([1.0, 2.0], requires_grad=True)
    t2 = tl.tensor(src)
    assert not t2.requires_grad and t2.is_leaf
    t2.data[0] = 7.0
    assert src.data[0] == 1.0


def test_from_numpy_and_as_tensor_share_memory() -> None:
    arr = np.array([1.0, 2.0, 3.0])
    shared = [tl.from_numpy(arr), tl.as_tensor(arr)]
    arr[0] = 42.0
    for t in shared:
        assert t[0].item() == 42.0
        assert np.shares_memory(t.numpy(), arr)
    shared[0].data[2] = -1.0
    assert arr[2] == -1.0


def test_as_tensor_copies_only_when_it_must() -> None:
    arr = np.array([1.0, 2.0])
    converted = tl.as_tensor(arr, dtype=tl.float32)  # a dtype change cannot share memory
    assert converted.dtype == tl.float32
    assert not np.shares_memory(converted.numpy(), arr)
    t = tl.tensor([1.0, 2.0])
    assert tl.as_tensor(t) is t  # a Tensor comes back as itself, as PyTorch
    assert tl.as_tensor([1, 2]).dtype == tl.int64


@pytest.mark.parametrize(
    "data",
    [
        [1 + 2j, 3],
        np.array([1 + 1j]),
        np.array([1.0], dtype=np.complex64),
        [object()],
        np.array([object()]),
        ["a", "b"],
        np.array(["a"]),
        [[1, 2], [3]],  # ragged
        [[1.0], [2.0, 3.0]],
        [[[1]], [2]],
    ],
)
def test_unsupported_data_raises_a_clear_type_error(data) -> None:
    with pytest.raises(TypeError, match=r"tensor\(\)"):
        tl.tensor(data)


def test_from_numpy_rejects_non_arrays_and_unsupported_dtypes() -> None:
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        tl.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="complex"):
        tl.from_numpy(np.zeros(2, dtype=np.complex128))


@pytest.mark.parametrize("bad", [np.complex64, "complex128", object, "U3"])
def test_unsupported_dtype_arguments_raise(bad) -> None:
    with pytest.raises(TypeError, match="dtype"):
        tl.zeros(2, dtype=bad)
    with pytest.raises(TypeError, match="dtype"):
        tl.tensor([1.0], dtype=bad)


def test_requires_grad_at_construction() -> None:
    t = tl.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    with pytest.raises(RuntimeError, match="floating point"):
        tl.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tl.tensor([True], requires_grad=True)


# --------------------------------------------------------------------------- creation functions


@pytest.mark.parametrize("make", [tl.zeros, tl.ones, tl.empty, tl.rand, tl.randn])
def test_creation_shapes_and_default_dtype(make) -> None:
    for args, shape in [((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([4],), (4,)), ((0,), (0,)), (((),), ())]:
        t = make(*args)
        assert t.shape == shape, (make, args)
        assert t.dtype == tl.float32
        assert t.device == "cpu"
        assert not t.requires_grad
    t = make(2, dtype=tl.float64, requires_grad=True)
    assert t.dtype == tl.float64 and t.requires_grad and t.is_leaf


def test_zeros_ones_values_and_integer_dtypes() -> None:
    assert tl.zeros(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert tl.ones(3, dtype=tl.int64).tolist() == [1, 1, 1]
    assert tl.ones(2, dtype=tl.bool).tolist() == [True, True]
    with pytest.raises(RuntimeError, match="floating point"):
        tl.zeros(2, dtype=tl.int32, requires_grad=True)
    with pytest.raises((ValueError, RuntimeError)):
        tl.zeros(-1)


def test_full_infers_dtype_from_the_fill_value() -> None:
    assert tl.full((2,), 3).dtype == tl.int64  # as PyTorch >= 1.7
    assert tl.full((2,), 3.5).dtype == tl.float32
    assert tl.full((2,), True).dtype == tl.bool
    t = tl.full((2, 3), 1.5, dtype=tl.float64, requires_grad=True)
    assert t.dtype == tl.float64 and t.requires_grad
    np.testing.assert_array_equal(t.detach().numpy(), np.full((2, 3), 1.5))
    assert tl.full([2], 7).tolist() == [7, 7]


@pytest.mark.parametrize(
    ("args", "kwargs", "expected", "dtype"),
    [
        ((5,), {}, [0, 1, 2, 3, 4], tl.int64),
        ((1, 10, 3), {}, [1, 4, 7], tl.int64),
        ((5, 0, -2), {}, [5, 3, 1], tl.int64),
        ((5.0,), {}, [0.0, 1.0, 2.0, 3.0, 4.0], tl.float32),
        ((0, 1, 0.25), {}, [0.0, 0.25, 0.5, 0.75], tl.float32),
        ((0, 2), {"dtype": tl.float64}, [0.0, 1.0], tl.float64),
        ((3,), {"dtype": tl.int32}, [0, 1, 2], tl.int32),
    ],
)
def test_arange(args, kwargs, expected, dtype) -> None:
    t = tl.arange(*args, **kwargs)
    assert t.dtype == dtype
    assert t.tolist() == expected


def test_arange_rejects_a_zero_step() -> None:
    with pytest.raises(ValueError, match="step"):
        tl.arange(0, 5, 0)


def test_arange_float_requires_grad() -> None:
    t = tl.arange(0.0, 3.0, requires_grad=True)
    assert t.requires_grad and t.dtype == tl.float32
    with pytest.raises(RuntimeError, match="floating point"):
        tl.arange(3, requires_grad=True)


def test_linspace_and_eye() -> None:
    t = tl.linspace(0, 1, 5)
    assert t.dtype == tl.float32
    np.testing.assert_allclose(t.numpy(), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert tl.linspace(-1, 1, 3, dtype=tl.float64).dtype == tl.float64
    assert tl.linspace(0, 1, 1).tolist() == [0.0]
    e = tl.eye(3)
    assert e.dtype == tl.float32
    np.testing.assert_array_equal(e.numpy(), np.eye(3))
    np.testing.assert_array_equal(tl.eye(2, 3).numpy(), np.eye(2, 3))
    assert tl.eye(2, dtype=tl.int64).tolist() == [[1, 0], [0, 1]]
    assert tl.eye(2, requires_grad=True).requires_grad


def test_rand_and_randn_distributions() -> None:
    tl.manual_seed(0)
    u = tl.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02
    n = tl.randn(20000, dtype=tl.float64).numpy()
    assert n.dtype == np.float64
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1.0) < 0.03


@pytest.mark.parametrize("make", [tl.rand, tl.randn])
@pytest.mark.parametrize("dtype", [tl.int64, tl.int32, tl.bool])
def test_rand_and_randn_refuse_integer_dtypes(make, dtype) -> None:
    """Truncating uniform or normal draws to integers would give (mostly) zeros: PyTorch refuses."""
    with pytest.raises(RuntimeError, match="floating point"):
        make(3, dtype=dtype)
    like = {tl.rand: tl.rand_like, tl.randn: tl.randn_like}[make]
    with pytest.raises(RuntimeError, match="floating point"):
        like(tl.zeros(3, dtype=dtype))
    assert like(tl.zeros(3, dtype=dtype), dtype=tl.float32).dtype == tl.float32


def test_creation_functions_accept_a_device() -> None:
    for device in ("cpu", tl.device("cpu")):
        made = [
            tl.zeros(2, device=device),
            tl.ones(2, device=device),
            tl.empty(2, device=device),
            tl.full((2,), 1.0, device=device),
            tl.arange(2, device=device),
            tl.linspace(0, 1, 2, device=device),
            tl.eye(2, device=device),
            tl.rand(2, device=device),
            tl.randn(2, device=device),
            tl.randint(0, 2, (2,), device=device),
            tl.tensor([1.0], device=device),
            tl.as_tensor([1.0], device=device),
        ]
        for t in made:
            assert t.device == "cpu" and isinstance(t.data, np.ndarray)


def test_randint_forms_bounds_and_dtype() -> None:
    tl.manual_seed(1)
    a = tl.randint(3, 7, (1000,))
    assert a.dtype == tl.int64 and a.shape == (1000,)
    assert set(a.tolist()) == {3, 4, 5, 6}
    b = tl.randint(5, (2, 3))  # randint(high, size) starts at 0
    assert b.shape == (2, 3) and b.numpy().min() >= 0 and b.numpy().max() < 5
    c = tl.randint(0, 10, size=(4,), dtype=tl.int32)
    assert c.dtype == tl.int32
    assert tl.randint(0, 2, (3,), dtype=tl.float32).dtype == tl.float32


def test_like_functions_inherit_shape_dtype_and_device() -> None:
    x = tl.tensor([[1.0, 2.0, 3.0]], dtype=tl.float64)
    i = tl.tensor([[1, 2], [3, 4]], dtype=tl.int32)
    for fn in (tl.zeros_like, tl.ones_like, tl.empty_like, tl.rand_like, tl.randn_like):
        t = fn(x)
        assert t.shape == x.shape and t.dtype == tl.float64 and t.device == x.device, fn
        assert not t.requires_grad
        assert fn(x, dtype=tl.float16).dtype == tl.float16
        r = fn(x, requires_grad=True)
        assert r.requires_grad and r.is_leaf
    assert tl.zeros_like(i).dtype == tl.int32
    np.testing.assert_array_equal(tl.zeros_like(x).numpy(), np.zeros((1, 3)))
    np.testing.assert_array_equal(tl.ones_like(i).numpy(), np.ones((2, 2)))
    f = tl.full_like(i, 7)
    assert f.dtype == tl.int32 and f.tolist() == [[7, 7], [7, 7]]
    assert tl.full_like(x, 2).dtype == tl.float64
    assert tl.full_like(x, 0.5, dtype=tl.float32).tolist() == [[0.5, 0.5, 0.5]]
    r = tl.randint_like(i, 10)
    assert r.dtype == tl.int32 and r.shape == (2, 2) and r.numpy().max() < 10
    r = tl.randint_like(x, 3, 5)
    assert r.dtype == tl.float64 and set(np.unique(r.numpy())) <= {3.0, 4.0}
    with pytest.raises(RuntimeError, match="floating point"):
        tl.zeros_like(i, requires_grad=True)


def test_like_functions_do_not_copy_the_graph() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True) * 2
    z = tl.zeros_like(x)
    assert z.grad_fn is None and not z.requires_grad


# --------------------------------------------------------------------------- the RNG


@pytest.mark.parametrize(
    "draw",
    [
        lambda **kw: tl.rand(3, 4, **kw),
        lambda **kw: tl.randn(5, dtype=tl.float64, **kw),
        lambda **kw: tl.randint(0, 1000, (6,), **kw),
    ],
)
def test_manual_seed_reproduces_draws(draw) -> None:
    tl.manual_seed(1234)
    a, a2 = draw(), draw()
    tl.manual_seed(1234)
    b, b2 = draw(), draw()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a2.numpy(), b2.numpy())
    assert not np.array_equal(a.numpy(), a2.numpy())  # successive draws differ
    tl.manual_seed(4321)
    assert not np.array_equal(draw().numpy(), a.numpy())


def test_manual_seed_returns_the_default_generator() -> None:
    g = tl.manual_seed(7)
    assert g is tl.default_generator
    assert tl.initial_seed() == 7


def test_generator_objects_are_independent_of_the_default_one() -> None:
    tl.manual_seed(0)
    expected = tl.randn(4).numpy()

    tl.manual_seed(0)
    g = tl.Generator().manual_seed(99)
    for _ in range(3):  # drawing from g must not advance the default generator
        tl.randn(4, generator=g)
        tl.rand(2, generator=g)
        tl.randint(0, 5, (2,), generator=g)
    np.testing.assert_array_equal(tl.randn(4).numpy(), expected)


def test_generators_with_the_same_seed_agree_and_match_the_default() -> None:
    g1, g2 = tl.Generator().manual_seed(5), tl.Generator().manual_seed(5)
    a = tl.rand(6, generator=g1)
    np.testing.assert_array_equal(a.numpy(), tl.rand(6, generator=g2).numpy())
    tl.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), tl.rand(6).numpy())
    assert g1.initial_seed() == 5
    x = tl.zeros(3)
    np.testing.assert_array_equal(
        tl.randn_like(x, generator=tl.Generator().manual_seed(3)).numpy(),
        tl.randn(3, generator=tl.Generator().manual_seed(3)).numpy(),
    )


def test_rng_state_round_trip_reproduces_the_next_draws() -> None:
    tl.manual_seed(11)
    tl.randn(3)  # move away from the seeded state first
    state = tl.get_rng_state()
    assert isinstance(state, tl.Tensor) and state.dtype == tl.uint8
    a, b, c = tl.randn(5), tl.rand(2, 2), tl.randint(0, 100, (4,))
    tl.randn(10)
    tl.set_rng_state(state)
    np.testing.assert_array_equal(tl.randn(5).numpy(), a.numpy())
    np.testing.assert_array_equal(tl.rand(2, 2).numpy(), b.numpy())
    np.testing.assert_array_equal(tl.randint(0, 100, (4,)).numpy(), c.numpy())


def test_generator_state_round_trip_and_transfer() -> None:
    g = tl.Generator().manual_seed(3)
    tl.rand(4, generator=g)
    state = g.get_state()
    expected = tl.randn(8, generator=g).numpy()
    other = tl.Generator().manual_seed(1000)
    other.set_state(state)  # a state moves between generators
    np.testing.assert_array_equal(tl.randn(8, generator=other).numpy(), expected)
    g.set_state(state)
    np.testing.assert_array_equal(tl.randn(8, generator=g).numpy(), expected)


def test_set_state_rejects_garbage() -> None:
    with pytest.raises((ValueError, RuntimeError)):
        tl.Generator().set_state(tl.tensor([1, 2, 3], dtype=tl.uint8))


def test_manual_seed_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        tl.Generator().manual_seed(1.5)


# --------------------------------------------------------------------------- dtype promotion

_FLOATS = [tl.float16, tl.float32, tl.float64]
_INTS = [tl.uint8, tl.int8, tl.int16, tl.int32, tl.int64]
_ALL = [tl.bool, *_INTS, *_FLOATS]


def _expected_tensor_tensor(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's rule for two dimensioned tensors, written out independently of the engine."""
    kind = {"b": 0, "u": 1, "i": 1, "f": 2}
    if kind[a.kind] != kind[b.kind]:
        return a if kind[a.kind] > kind[b.kind] else b
    if a.kind == "b":
        return a
    table = {  # same category: the wider one, and uint8 with a signed int needs a wider signed int
        frozenset({tl.uint8, tl.int8}): tl.int16,
    }
    if a == b:
        return a
    if frozenset({a, b}) in table:
        return table[frozenset({a, b})]
    return a if a.itemsize > b.itemsize else b


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (tl.float16, tl.float32, tl.float32),
        (tl.float32, tl.float64, tl.float64),
        (tl.int32, tl.int64, tl.int64),
        (tl.int64, tl.float16, tl.float16),  # a lower category never widens a float
        (tl.int64, tl.float32, tl.float32),
        (tl.int32, tl.float64, tl.float64),
        (tl.bool, tl.int32, tl.int32),
        (tl.bool, tl.int64, tl.int64),
        (tl.bool, tl.float16, tl.float16),
        (tl.bool, tl.bool, tl.bool),
        (tl.uint8, tl.int8, tl.int16),
    ],
)
def test_promotion_tensor_tensor_table(a, b, expected) -> None:
    x, y = tl.ones(2, dtype=a), tl.ones(2, dtype=b)
    for out in (x + y, y + x, x * y, y - x if a != tl.bool and b != tl.bool else x + y, tl.maximum(x, y)):
        assert out.dtype == expected, (a, b, out.dtype)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_ALL), st.sampled_from(_ALL))
def test_promotion_tensor_tensor_property(a, b) -> None:
    x = tl.tensor(np.array([1, 0, 1]).astype(a))
    y = tl.tensor(np.array([1, 1, 0]).astype(b))
    expected = _expected_tensor_tensor(a, b)
    assert (x + y).dtype == expected
    assert (y * x).dtype == expected
    assert tl.cat([x, y]).dtype == expected
    assert tl.where(tl.tensor([True, False, True]), x, y).dtype == expected
    # the values are computed in the promoted dtype
    np.testing.assert_array_equal(
        (x * y).numpy(), (np.array([1, 0, 1]) * np.array([1, 1, 0])).astype(expected)
    )


@pytest.mark.parametrize(
    ("dtype", "scalar", "expected"),
    [
        (tl.int64, 2.5, tl.float32),  # int tensor * float scalar -> default float
        (tl.int32, 2.5, tl.float32),
        (tl.int32, 5, tl.int32),  # same category: the tensor's dtype wins
        (tl.int32, True, tl.int32),
        (tl.bool, 1, tl.int64),  # bool tensor + int scalar -> int64
        (tl.bool, 1.5, tl.float32),
        (tl.bool, True, tl.bool),
        (tl.float16, 3.0, tl.float16),  # a float scalar never widens a float tensor
        (tl.float16, 3, tl.float16),
        (tl.float64, 1, tl.float64),
        (tl.uint8, 3, tl.uint8),
    ],
)
def test_promotion_tensor_scalar(dtype, scalar, expected) -> None:
    t = tl.tensor([1, 0, 1], dtype=dtype)
    assert (t + scalar).dtype == expected
    assert (scalar + t).dtype == expected
    assert (t * scalar).dtype == expected
    assert (scalar * t).dtype == expected


def test_promotion_scalar_values() -> None:
    i = tl.tensor([1, 2, 3])
    assert (i * 2.5).tolist() == [2.5, 5.0, 7.5]
    assert (2.5 * i).tolist() == [2.5, 5.0, 7.5]
    assert (i - 0.5).tolist() == [0.5, 1.5, 2.5]
    assert (1 - i).tolist() == [0, -1, -2]
    assert (tl.tensor([True, False]) + 1).tolist() == [2, 1]
    h = tl.tensor([1.0, 2.0], dtype=tl.float16) * 3.0
    assert h.tolist() == [3.0, 6.0]
    assert (i < 2.5).tolist() == [True, True, False]
    assert (i == 2.0).tolist() == [False, True, False]


def test_integer_division_promotes_but_floor_division_does_not() -> None:
    i = tl.tensor([1, 2, 3], dtype=tl.int32)
    assert (i / 2).dtype == tl.float32
    assert (i / 2).tolist() == [0.5, 1.0, 1.5]
    assert (i / i).dtype == tl.float32
    assert (7 / tl.tensor([2])).tolist() == [3.5]
    assert (i // 2).dtype == tl.int32
    assert (i // 2).tolist() == [0, 1, 1]
    assert (tl.tensor([-7]) // 2).tolist() == [-4]  # floor, not truncation


def test_promotion_follows_the_default_dtype(default_dtype) -> None:
    tl.set_default_dtype(tl.float64)
    assert (tl.tensor([1, 2]) * 2.5).dtype == tl.float64
    assert (tl.tensor([1, 2]) / 2).dtype == tl.float64
    assert (tl.tensor([1.0], dtype=tl.float32) * 2.5).dtype == tl.float32
    assert (tl.tensor([True]) + 0.5).dtype == tl.float64


def test_gradient_flows_through_promotion() -> None:
    a = tl.tensor([1.0, 2.0], dtype=tl.float16, requires_grad=True)
    b = tl.tensor([3.0, 4.0], dtype=tl.float32, requires_grad=True)
    out = a * b
    assert out.dtype == tl.float32
    out.sum().backward()
    assert a.grad.dtype == tl.float16 and b.grad.dtype == tl.float32  # each grad in its own dtype
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]


def test_zero_dim_tensors_promote_like_scalars() -> None:
    """PyTorch: a 0-dim tensor only decides the dtype when its category is higher than every
    dimensioned tensor's (``float32[2] + float64[]`` stays float32)."""
    f32 = tl.tensor([1.5, 2.5])
    assert (f32 + tl.tensor(2.0, dtype=tl.float64)).dtype == tl.float32
    assert (tl.tensor(2.0, dtype=tl.float64) * f32).dtype == tl.float32
    h = tl.tensor([1.0], dtype=tl.float16)
    assert (h * tl.tensor(2.0)).dtype == tl.float16
    i = tl.tensor([1, 2], dtype=tl.int32)
    assert (i + tl.tensor(1)).dtype == tl.int32
    assert (i * tl.tensor(2.5, dtype=tl.float64)).dtype == tl.float64  # higher category: its own dtype
    assert (tl.tensor(1, dtype=tl.int32) + tl.tensor(2.0, dtype=tl.float16)).dtype == tl.float16
    assert (tl.tensor(1.0) + tl.tensor(2.0, dtype=tl.float64)).dtype == tl.float64  # all 0-dim: normal rules


# --------------------------------------------------------------------------- conversion


def test_to_dtype_and_shorthands() -> None:
    x = tl.tensor([1.7, -1.7, 0.0])
    assert x.to(tl.float64).dtype == tl.float64
    assert x.to(dtype=tl.float16).dtype == tl.float16
    assert x.to("cpu", tl.float64).dtype == tl.float64
    assert x.to(tl.zeros(1, dtype=tl.int32)).dtype == tl.int32  # to(other_tensor)
    assert x.double().dtype == tl.float64
    assert x.half().dtype == tl.float16
    assert x.float().dtype == tl.float32
    assert x.long().dtype == tl.int64 and x.long().tolist() == [1, -1, 0]  # truncates toward zero
    assert x.int().dtype == tl.int32 and x.int().tolist() == [1, -1, 0]
    assert x.bool().tolist() == [True, True, False]
    assert tl.tensor([1, 2]).float().tolist() == [1.0, 2.0]


def test_to_returns_self_when_nothing_changes_and_copies_on_request() -> None:
    x = tl.tensor([1.0, 2.0])
    assert x.to(tl.float32) is x
    assert x.to("cpu") is x
    assert x.float() is x
    c = x.to(tl.float32, copy=True)
    assert c is not x
    c.data[0] = 9.0
    assert x[0].item() == 1.0


def test_casts_are_differentiable() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype == tl.float64 and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.dtype == tl.float32
    assert x.grad.tolist() == [3.0, 3.0]


def test_integer_casts_of_a_grad_tensor_do_not_require_grad() -> None:
    """As PyTorch: only floating tensors can require grad, so an integer result is a constant."""
    x = tl.tensor([1.5, -2.5], requires_grad=True)
    for t in (x.long(), x.int(), x.bool(), x.to(tl.int64), x > 0, x.argmax()):
        assert not t.requires_grad and t.grad_fn is None and t.is_leaf
        t.numpy()  # allowed: nothing to detach from


def test_numpy_shares_memory_and_refuses_grad_tensors() -> None:
    t = tl.zeros(3)
    arr = t.numpy()
    arr[0] = 5.0
    assert t[0].item() == 5.0
    g = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        g.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        (g * 2).numpy()
    np.testing.assert_array_equal(g.detach().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(g), [1.0, 1.0])  # __array__ detaches, as np.asarray(x.detach())


def test_item() -> None:
    f, i, b = tl.tensor(2.5).item(), tl.tensor([[3]]).item(), tl.tensor([True]).item()
    assert f == 2.5 and type(f) is builtins.float
    assert i == 3 and type(i) is builtins.int
    assert b is True
    assert tl.tensor(1.0, requires_grad=True).item() == 1.0  # item() is allowed on grad tensors
    with pytest.raises(RuntimeError, match="2 elements"):
        tl.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError):
        tl.zeros(0).item()


def test_tolist() -> None:
    assert tl.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    out = tl.tensor([0.5, 1.5]).tolist()
    assert out == [0.5, 1.5] and all(type(v) is builtins.float for v in out)
    assert tl.tensor(3).tolist() == 3
    assert tl.zeros(2, 0).tolist() == [[], []]
    assert tl.tensor([1.0], requires_grad=True).tolist() == [1.0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=4), st.sampled_from(_ALL))
def test_numpy_tolist_round_trip(shape, dtype) -> None:
    arr = (np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype)
    t = tl.tensor(arr)
    np.testing.assert_array_equal(t.numpy(), arr)
    assert t.tolist() == arr.tolist()
    assert tl.tensor(t.tolist(), dtype=dtype).shape == arr.shape


def test_shape_attributes() -> None:
    t = tl.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dim() == 3
    assert t.dtype == tl.float32
    assert t.device == tl.device("cpu") and str(t.device) == "cpu"
    assert t.size() == (2, 3, 4)
    assert t.size(0) == 2 and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24
    assert len(t) == 2
    assert t.is_floating_point() and not tl.zeros(1, dtype=tl.int64).is_floating_point()
    s = tl.tensor(1.0)
    assert s.shape == () and s.ndim == 0 and s.numel() == 1
    with pytest.raises(IndexError):
        t.size(3)
    with pytest.raises(TypeError):
        len(s)


# --------------------------------------------------------------------------- repr


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: tl.tensor([1.0, 2.0]), "tensor([1., 2.])"),
        (lambda: tl.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
        (lambda: tl.tensor([1.0, 2.0], requires_grad=True) * 2, "tensor([2., 4.], grad_fn=<MulBackward>)"),
        (lambda: tl.tensor([1.0, 2.0], requires_grad=True) + 1, "tensor([2., 3.], grad_fn=<AddBackward>)"),
        (lambda: tl.tensor([1.0, 2.0], dtype=tl.float64), "tensor([1., 2.], dtype=tinylearn.float64)"),
        (
            lambda: tl.tensor([1.0], dtype=tl.float64, requires_grad=True) * 3,
            "tensor([3.], dtype=tinylearn.float64, grad_fn=<MulBackward>)",
        ),
        (lambda: tl.tensor([1.5, 2.0]), "tensor([1.5000, 2.0000])"),
        (lambda: tl.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
        (lambda: tl.tensor([1, 2], dtype=tl.int32), "tensor([1, 2], dtype=tinylearn.int32)"),
        (lambda: tl.tensor([True, False]), "tensor([ True, False])"),
        (lambda: tl.tensor(3.0), "tensor(3.)"),
        (lambda: tl.tensor(7), "tensor(7)"),
        (lambda: tl.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
        (lambda: tl.tensor([1.0, 2.0], dtype=tl.float16), "tensor([1., 2.], dtype=tinylearn.float16)"),
        (lambda: tl.tensor([]), "tensor([])"),
        (lambda: tl.zeros(0, dtype=tl.int64), "tensor([], dtype=tinylearn.int64)"),
        (lambda: tl.zeros(2, 0), "tensor([], size=(2, 0))"),
        (lambda: tl.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
        # values are right-aligned to one width, as PyTorch does
        (lambda: tl.tensor([1.0, -2.0]), "tensor([ 1., -2.])"),
        (lambda: tl.tensor([0.0, -2.0]), "tensor([ 0., -2.])"),
        (lambda: tl.tensor([100.0, -0.5]), "tensor([100.0000,  -0.5000])"),
        (
            lambda: tl.tensor([[-0.5, 0.25], [1.5, -2.0]]),
            "tensor([[-0.5000,  0.2500],\n        [ 1.5000, -2.0000]])",
        ),
        (lambda: tl.tensor([1e-5, -1.0]), "tensor([ 1.0000e-05, -1.0000e+00])"),
        # scientific notation once the nonzero values span more than 1000x
        (lambda: tl.tensor([0.001, 2.0]), "tensor([1.0000e-03, 2.0000e+00])"),
        (lambda: tl.tensor([1.0, 2000.0]), "tensor([1.0000e+00, 2.0000e+03])"),
        (lambda: tl.tensor([float("inf"), float("nan"), 1.0]), "tensor([inf, nan, 1.])"),
        (lambda: tl.tensor([-3, 10]), "tensor([-3, 10])"),
    ],
)
def test_repr_looks_like_torch(make, expected: str) -> None:
    assert repr(make()) == expected


def test_repr_of_a_sum_shows_its_grad_fn_and_dtype_follows_the_default(default_dtype) -> None:
    x = tl.ones(2, requires_grad=True)
    assert repr(x.sum()) == "tensor(2., grad_fn=<SumBackward>)"
    tl.set_default_dtype(tl.float64)
    assert repr(tl.tensor([1.0])) == "tensor([1.])"
    assert repr(tl.tensor([1.0], dtype=tl.float32)) == "tensor([1.], dtype=tinylearn.float32)"


def test_repr_handles_non_finite_and_float16_values() -> None:
    r = repr(tl.tensor([float("inf"), float("nan"), 1.5]))
    assert "inf" in r and "nan" in r and "1.5000" in r
    assert repr(tl.tensor([60000.0, 0.5], dtype=tl.float16)) == (
        "tensor([6.0000e+04, 5.0000e-01], dtype=tinylearn.float16)"
    )


def test_repr_of_a_large_tensor_is_summarised() -> None:
    r = repr(tl.arange(5000.0).reshape(1000, 5))
    assert "..." in r and r.count("\n") < 20
    assert "4.9990e+03" in r  # the last value is shown


# --------------------------------------------------------------------------- default dtype


def test_set_default_dtype(default_dtype) -> None:
    assert tl.get_default_dtype() == tl.float32
    tl.set_default_dtype(tl.float64)
    assert tl.get_default_dtype() == tl.float64
    assert tl.tensor([1.5]).dtype == tl.float64
    assert tl.tensor([1]).dtype == tl.int64  # ints are unaffected
    for t in (
        tl.zeros(2),
        tl.ones(2),
        tl.rand(2),
        tl.randn(2),
        tl.arange(0.0, 2.0),
        tl.linspace(0, 1, 3),
        tl.eye(2),
    ):
        assert t.dtype == tl.float64
    assert tl.full((1,), 0.5).dtype == tl.float64
    tl.set_default_dtype(tl.float16)
    assert tl.tensor([1.5]).dtype == tl.float16
    tl.set_default_dtype(tl.float32)
    assert tl.tensor([1.5]).dtype == tl.float32


@pytest.mark.parametrize("bad", [tl.int64, tl.int32, tl.bool])
def test_set_default_dtype_rejects_non_floating(bad, default_dtype) -> None:
    with pytest.raises(TypeError, match="floating"):
        tl.set_default_dtype(bad)
    assert tl.get_default_dtype() == tl.float32

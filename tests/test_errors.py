"""Error paths: every mistake a learner makes should produce an error that names the op, the
shapes involved and what was expected, with the exception type PyTorch raises."""

from __future__ import annotations

import re

import pytest

import tinylearn as tl
import tinylearn.nn.functional as F


def _shapes_named(message: str, *shapes: tuple[int, ...]) -> bool:
    return all(str(tuple(s)) in message for s in shapes)


# --------------------------------------------------------------------------- shape mismatches

A, B = (2, 3), (4,)

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": tl.maximum,
    "minimum": tl.minimum,
}


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("reflected", [False, True])
def test_broadcast_mismatch_names_the_op_and_both_shapes(op: str, reflected: bool) -> None:
    a, b = tl.ones(*A), tl.ones(*B)
    if reflected:
        a, b = b, a
    with pytest.raises(RuntimeError, match=rf"^{op}\b") as info:
        BINARY[op](a, b)
    assert _shapes_named(str(info.value), a.shape, b.shape)
    assert "broadcast" in str(info.value)


def test_method_and_function_forms_name_the_same_op() -> None:
    a, b = tl.ones(*A), tl.ones(*B)
    for call in (lambda: a.add(b), lambda: tl.add(a, b)):
        with pytest.raises(RuntimeError, match=r"^add: .*\(2, 3\).*\(4,\)"):
            call()
    with pytest.raises(RuntimeError, match=r"^mul: .*\(2, 3\).*\(4,\)"):
        tl.mul(a, b)


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((2, 3), (2, 3)),
        ((3,), (4,)),
        ((2, 3), (4,)),
        ((5,), (4, 2)),
        ((2, 2, 3), (3, 3, 2)),
        ((4, 3), (2, 4)),
    ],
)
def test_matmul_mismatch_names_the_op_and_both_shapes(sa, sb) -> None:
    a, b = tl.ones(*sa), tl.ones(*sb)
    for call in (lambda: a @ b, lambda: tl.matmul(a, b), lambda: a.matmul(b)):
        with pytest.raises(RuntimeError, match=r"^matmul") as info:
            call()
        assert _shapes_named(str(info.value), sa, sb)


def test_matmul_of_a_scalar_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"matmul.*at least 1 dimension.*\(\).*\(2, 3\)"):
        tl.tensor(2.0) @ tl.ones(2, 3)


def test_cat_mismatch_names_the_op_and_both_shapes() -> None:
    a, c = tl.ones(2, 3), tl.ones(3, 2)
    with pytest.raises(RuntimeError, match=r"^cat") as info:
        tl.cat([a, c], dim=0)
    assert _shapes_named(str(info.value), (2, 3), (3, 2))
    with pytest.raises(RuntimeError, match=r"^cat.*tensor 2 has shape \(2, 4\)"):
        tl.cat([a, a, tl.ones(2, 4)], dim=0)  # names which tensor is off
    with pytest.raises(RuntimeError, match=r"^cat") as info:
        tl.cat([a, tl.ones(3)])
    assert _shapes_named(str(info.value), (2, 3), (3,))
    with pytest.raises(RuntimeError, match="non-empty"):
        tl.cat([])


def test_stack_mismatch_names_the_op_and_both_shapes() -> None:
    with pytest.raises(RuntimeError, match=r"^stack") as info:
        tl.stack([tl.ones(2, 3), tl.ones(2, 3), tl.ones(3, 2)])
    assert _shapes_named(str(info.value), (2, 3), (3, 2))
    assert "tensor 2" in str(info.value)
    with pytest.raises(RuntimeError, match="non-empty"):
        tl.stack([])


def test_where_mismatch_names_the_op_and_the_shapes() -> None:
    cond = tl.ones(2, 3, dtype=tl.bool)
    with pytest.raises(RuntimeError, match=r"^where") as info:
        tl.where(cond, tl.ones(2, 3), tl.ones(4))
    assert _shapes_named(str(info.value), (2, 3), (4,))
    with pytest.raises(RuntimeError, match=r"^where") as info:
        tl.where(tl.ones(5, dtype=tl.bool), tl.ones(2, 3), tl.ones(2, 3))
    assert _shapes_named(str(info.value), (5,), (2, 3))
    with pytest.raises(RuntimeError, match=r"where.*bool"):
        tl.where(tl.ones(2, 3), tl.ones(2, 3), tl.ones(2, 3))


def test_other_shape_errors_name_their_op() -> None:
    x = tl.ones(2, 3)
    cases = [
        ("broadcast_to", lambda: x.broadcast_to((3, 3))),
        ("broadcast_to", lambda: x.expand(4, 3)),
        ("expand", lambda: x.expand(3)),
        ("split", lambda: x.split([1, 1], dim=1)),
        ("permute", lambda: x.permute(1, 0, 2)),
        ("repeat", lambda: x.repeat(2)),
        ("einsum", lambda: tl.einsum("ij,jk->ik", x, x)),
        ("tril", lambda: tl.ones(3).tril()),
        ("flatten", lambda: tl.ones(2, 3, 4).flatten(2, 1)),
        ("roll", lambda: x.roll((1, 2), (0,))),
        ("narrow", lambda: x.narrow(1, 2, 5)),
        ("clamp", lambda: x.clamp()),
        ("masked_fill", lambda: x.masked_fill(x, 0.0)),
    ]
    for op, call in cases:
        with pytest.raises(RuntimeError, match=rf"^{op}\b"):
            call()
    with pytest.raises(ValueError, match=r"^pad"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match=r"^chunk"):
        x.chunk(0)


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("shape", [(2, 3), (4,), (3, 1)])
def test_inplace_shape_mismatch_names_the_op_and_both_shapes(op: str, shape) -> None:
    a = tl.ones(3)
    with pytest.raises(RuntimeError, match=rf"^{op}") as info:
        getattr(a, op)(tl.ones(*shape))  # in place, self cannot grow to the broadcast shape
    assert _shapes_named(str(info.value), (3,), shape)
    assert a.tolist() == [1.0, 1.0, 1.0]


def test_inplace_into_a_lower_dtype_kind_is_refused() -> None:
    i = tl.tensor([1, 2])
    for call in (lambda: i.mul_(1.5), lambda: i.add_(tl.tensor([0.5, 0.5])), lambda: i.div_(2)):
        with pytest.raises(RuntimeError, match=r"can't be cast to the tensor's dtype int64"):
            call()
    assert i.tolist() == [1, 2]


# --------------------------------------------------------------------------- reshape


@pytest.mark.parametrize("shape", [(4, 2), (7,), (-1, 4), (-1, -1), (0, -1), (-2, -3), (2, -2)])
def test_reshape_to_an_invalid_shape(shape) -> None:
    x = tl.ones(2, 3)
    for call in (
        lambda: x.reshape(*shape),
        lambda: x.reshape(shape),
        lambda: tl.reshape(x, shape),
        lambda: x.view(*shape),
    ):
        with pytest.raises(RuntimeError, match=r"^reshape: shape") as info:
            call()
        message = str(info.value)
        assert str(tuple(shape)) in message and "(2, 3)" in message and "6 elements" in message


def test_valid_reshapes_still_work() -> None:
    x = tl.ones(2, 3)
    assert x.reshape(-1).shape == (6,)
    assert x.reshape(3, -1).shape == (3, 2)
    assert tl.zeros(0, 3).reshape(-1, 3).shape == (0, 3)
    assert x.view(1, 6, 1).shape == (1, 6, 1)


# --------------------------------------------------------------------------- dims and indices


DIM_OPS = {
    "sum": lambda x, d: x.sum(dim=d),
    "mean": lambda x, d: x.mean(d),
    "var": lambda x, d: x.var(dim=d),
    "std": lambda x, d: x.std(dim=d),
    "max": lambda x, d: x.max(dim=d),
    "min": lambda x, d: x.min(dim=d),
    "amax": lambda x, d: x.amax(d),
    "argmax": lambda x, d: x.argmax(dim=d),
    "argmin": lambda x, d: x.argmin(dim=d),
    "logsumexp": lambda x, d: x.logsumexp(d),
    "prod": lambda x, d: x.prod(d),
    "cumsum": lambda x, d: x.cumsum(d),
    "softmax": lambda x, d: x.softmax(d),
    "log_softmax": lambda x, d: x.log_softmax(d),
    "transpose": lambda x, d: x.transpose(0, d),
    "squeeze": lambda x, d: x.squeeze(d),
    "flip": lambda x, d: x.flip(d),
    "cat": lambda x, d: tl.cat([x, x], dim=d),
    "split": lambda x, d: x.split(1, dim=d),
    "chunk": lambda x, d: x.chunk(2, dim=d),
    "unbind": lambda x, d: x.unbind(d),
    "index_select": lambda x, d: x.index_select(d, tl.tensor([0])),
    "gather": lambda x, d: x.gather(d, tl.zeros(2, 3, dtype=tl.int64)),
    "narrow": lambda x, d: x.narrow(d, 0, 1),
}


@pytest.mark.parametrize("op", list(DIM_OPS))
@pytest.mark.parametrize("dim", [2, -3, 5])
def test_bad_dim_raises_an_index_error_naming_the_op(op: str, dim: int) -> None:
    x = tl.ones(2, 3)
    with pytest.raises(IndexError, match=rf"^{op}\b.*{dim}") as info:
        DIM_OPS[op](x, dim)
    assert "2 dimensions" in str(info.value)


def test_bad_dim_for_ops_that_add_a_dimension() -> None:
    x = tl.ones(2, 3)
    with pytest.raises(IndexError, match=r"^unsqueeze.*4"):
        x.unsqueeze(4)
    with pytest.raises(IndexError, match=r"^stack.*4"):
        tl.stack([x, x], dim=4)
    assert x.unsqueeze(2).shape == (2, 3, 1) and x.unsqueeze(-1).shape == (2, 3, 1)


def test_indexing_out_of_range() -> None:
    x = tl.ones(2, 3)
    with pytest.raises(IndexError, match=re.escape("(2, 3)")):
        x[5]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="long, int or bool"):
        x[tl.tensor([0.0])]
    with pytest.raises(IndexError, match="integers or bools"):
        x[[0.5]]


# --------------------------------------------------------------------------- gather and friends


@pytest.mark.parametrize("dtype", [tl.float32, tl.float64, tl.bool])
def test_gather_with_a_wrong_index_dtype(dtype) -> None:
    x = tl.ones(2, 3)
    index = tl.zeros(2, 1, dtype=dtype)
    with pytest.raises(RuntimeError, match=rf"^gather: index must be an integer tensor, got {dtype}"):
        x.gather(1, index)
    with pytest.raises(RuntimeError, match=r"^scatter_add: index must be an integer tensor"):
        x.scatter_add(1, index, tl.ones(2, 1))
    with pytest.raises(RuntimeError, match=r"^index_select: index must be a 1-D integer tensor"):
        x.index_select(0, tl.zeros(1, dtype=dtype))


def test_gather_index_shape_and_range() -> None:
    x = tl.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"^gather.*\(2,\).*\(2, 3\)"):
        x.gather(1, tl.zeros(2, dtype=tl.int64))
    with pytest.raises(IndexError, match=r"^gather: index out of range.*size 3"):
        x.gather(1, tl.full((2, 1), 5))
    with pytest.raises(RuntimeError, match=r"^scatter_add.*\(2, 3\).*\(2, 1\)"):
        x.scatter_add(1, tl.zeros(2, 3, dtype=tl.int64), tl.ones(2, 1))
    with pytest.raises(RuntimeError, match=r"^index_select"):
        x.index_select(0, tl.zeros(1, 1, dtype=tl.int64))


# --------------------------------------------------------------------------- autograd errors


def test_int_tensors_cannot_require_grad() -> None:
    for make in (
        lambda: tl.tensor([1, 2], requires_grad=True),
        lambda: tl.tensor([1, 2]).requires_grad_(),
        lambda: tl.zeros(2, dtype=tl.int64, requires_grad=True),
        lambda: tl.ones(2, dtype=tl.int32, requires_grad=True),
        lambda: tl.arange(3, requires_grad=True),
        lambda: tl.full((2,), True, requires_grad=True),
        lambda: tl.randint(0, 3, (2,), requires_grad=True),
    ):
        with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
            make()


def test_non_scalar_backward_explains_itself() -> None:
    y = tl.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "scalar" in message and "(2, 3)" in message
    assert "gradient" in message and "ones_like" in message and ".sum().backward()" in message


def test_backward_gradient_shape_mismatch() -> None:
    y = tl.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient 0 has shape \(3,\).*\(2, 3\)"):
        y.backward(tl.ones(3))


def test_numpy_of_a_grad_tensor() -> None:
    with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)\.numpy\(\)"):
        tl.ones(2, requires_grad=True).numpy()


# --------------------------------------------------------------------------- conversions


def test_conversion_errors() -> None:
    x = tl.ones(2, 3)
    with pytest.raises(RuntimeError, match="6 elements"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(tl.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(tl.tensor(1.0))
    with pytest.raises(TypeError, match="not supported"):
        tl.zeros(2, dtype="complex64")
    with pytest.raises(TypeError, match="index"):
        [1, 2, 3][tl.tensor(1.0)]
    assert [1, 2, 3][tl.tensor(1)] == 2

"""Every op of the engine is reachable where PyTorch has it, so code translates by the import."""

import pytest

import tinylearn as tl
import tinylearn.nn.functional as F

# Names PyTorch offers both as ``torch.<name>`` and as a Tensor method.
BOTH = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "abs",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "erf",
    "maximum",
    "minimum",
    "clamp",
    "where",
    "sum",
    "mean",
    "var",
    "std",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "logsumexp",
    "prod",
    "cumsum",
    "matmul",
    "reshape",
    "flatten",
    "transpose",
    "permute",
    "squeeze",
    "unsqueeze",
    "broadcast_to",
    "flip",
    "roll",
    "tril",
    "triu",
    "gather",
    "scatter_add",
    "index_select",
    "masked_fill",
    "softmax",
    "log_softmax",
    "split",
    "chunk",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "clone",
    "narrow",
    "movedim",
    "square",
    "isfinite",
]
FUNCTION_ONLY = ["cat", "stack", "einsum", "tensor", "zeros", "ones", "full", "empty", "arange", "linspace",
                 "eye", "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "empty_like",
                 "rand_like", "randn_like", "randint_like", "manual_seed", "no_grad", "enable_grad",
                 "gradcheck", "gradgradcheck", "Generator"]  # fmt: skip
METHOD_ONLY = ["view", "expand", "expand_as", "repeat", "backward", "detach", "requires_grad_", "retain_grad",
               "register_hook", "add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_", "to",
               "float", "double", "half", "long", "int", "bool", "numpy", "item", "tolist", "size", "numel",
               "dim", "__getitem__", "__setitem__"]  # fmt: skip
FUNCTIONAL = ["pad", "softmax", "log_softmax", "relu", "sigmoid", "tanh"]


@pytest.mark.parametrize("name", BOTH + FUNCTION_ONLY)
def test_module_level(name):
    assert callable(getattr(tl, name)), f"tinylearn.{name} is missing"


@pytest.mark.parametrize("name", BOTH + METHOD_ONLY)
def test_tensor_method(name):
    assert callable(getattr(tl.Tensor, name)), f"Tensor.{name} is missing"


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional(name):
    assert callable(getattr(F, name)), f"tinylearn.nn.functional.{name} is missing"


def test_transpose_properties():
    x = tl.arange(24).reshape(2, 3, 4)
    assert x.T.shape == (4, 3, 2)
    assert x.mT.shape == (2, 4, 3)


def test_numpy_aliases():
    x = tl.arange(6.0).reshape(2, 3)
    assert tl.equal(x.sum(axis=1, keepdims=True), x.sum(dim=1, keepdim=True))
    assert tl.equal(x.mean(axis=0), x.mean(0))
    assert tl.equal(x.amax(axis=1), x.amax(dim=1))
    with pytest.raises(TypeError, match="dim or axis"):
        x.sum(dim=0, axis=0)

"""gradcheck and gradgradcheck: they pass on correct ops and name the entry where a rule is wrong."""

from __future__ import annotations

import sys
from types import ModuleType

import numpy as np
import pytest

import tinylearn as tl
from tests import fakecupy
from tinylearn.autograd import Function
from tinylearn.gradcheck import GradcheckError, dodge_kinks, gradcheck, gradgradcheck
from tinylearn.tensor import Tensor


def randn(*shape: int, dtype=tl.float64, device: str = "cpu") -> Tensor:
    return tl.randn(*shape, dtype=dtype, device=device, requires_grad=True)


@pytest.fixture(autouse=True)
def _seed() -> None:
    tl.manual_seed(0)


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return fakecupy.install(monkeypatch)


# ---- deliberately wrong (or non-differentiable) Functions ------------------------------------------


class HalfSquare(Function):
    """x², with the factor 2 forgotten in the backward."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * x


class ArraySquare(Function):
    """x², with a backward that is right but computed on raw arrays: it has no second derivative."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.saved_tensors
        return Tensor._make(g.data * 2 * x.data)


class NoisySquare(Function):
    """x², with random noise of size ``scale`` added to a correct backward."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.saved_tensors
        noise = np.random.default_rng().standard_normal(x.shape) * self.scale
        return g * 2 * x + Tensor._make(noise)


# ---- passing on correct ops ------------------------------------------------------------------------

CORRECT = {
    "tanh": (tl.tanh, lambda: (randn(3, 4),)),
    "matmul": (tl.matmul, lambda: (randn(3, 4), randn(4, 2))),
    "batched matmul, broadcast": (tl.matmul, lambda: (randn(2, 3, 4), randn(4, 5))),
    "sum with broadcasting": (lambda a, b: (a * b + a).sum(dim=0), lambda: (randn(3, 4), randn(4))),
    "multi-input": (lambda a, b, c: a * b.exp() - c.sin() / 2, lambda: (randn(2, 3), randn(2, 3), randn(3))),
    "multi-output": (lambda a, b: (a @ b, (a * a).sum(), b.tanh()), lambda: (randn(2, 3), randn(3, 2))),
    "scalar": (lambda a: a * a * a, lambda: (randn(),)),
    "softmax": (lambda a: tl.softmax(a, -1), lambda: (randn(2, 5),)),
}


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("case", CORRECT)
def test_passes_on_correct_ops(case: str, fast_mode: bool) -> None:
    fn, make = CORRECT[case]
    assert gradcheck(fn, make(), fast_mode=fast_mode)


def test_non_tensor_and_non_differentiable_inputs_pass_through() -> None:
    x, c = randn(3), tl.randn(3, dtype=tl.float64)
    assert gradcheck(lambda a, scale, b: a * scale + b * a, (x, 2.5, c))
    assert gradcheck(lambda a: (a.exp(), a.argmax()), x)  # the integer output is not checked


def test_inputs_are_restored_exactly() -> None:
    x = randn(4)
    before = x.detach().numpy().copy()
    gradcheck(tl.tanh, x)
    gradcheck(tl.tanh, x, fast_mode=True)
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None  # gradcheck uses autograd.grad, so no .grad accumulates


def test_output_that_is_a_view_of_the_input() -> None:
    assert gradcheck(lambda a: (a.reshape(6), a.T), randn(2, 3))


def test_float32_inputs_are_promoted_and_pass() -> None:
    x, w = randn(3, 4, dtype=tl.float32), randn(4, 2, dtype=tl.float32)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, w))
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), (x, w))
    assert x.dtype == tl.float32 and x.grad is None  # the caller's tensors are untouched


def test_float32_inside_fn_is_named_as_the_likely_cause() -> None:
    with pytest.raises(GradcheckError, match="rounding noise") as info:
        gradcheck(lambda a: a.float().double(), randn(3))
    assert "lies on a kink" not in str(info.value)
    with pytest.raises(GradcheckError, match="output 0 is float32"):
        gradcheck(lambda a: a.float() * 2, randn(3))


def test_fast_mode_reports_a_directional_mismatch_the_full_jacobian_does_not_show(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check = sys.modules["tinylearn.gradcheck"]._Check
    monkeypatch.setattr(check, "full", lambda self, only=None: None)
    with pytest.raises(GradcheckError, match="fast mode") as info:
        gradcheck(tl.tanh, randn(4), fast_mode=True, atol=0.0, rtol=1e-15)
    assert "rerun with fast_mode=False" in str(info.value)


def test_called_under_no_grad_still_checks() -> None:
    with tl.no_grad():
        assert gradcheck(tl.tanh, randn(3))


def test_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(tl.tanh, tl.randn(3, dtype=tl.float64))


# ---- catching wrong gradients ----------------------------------------------------------------------


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_catches_a_wrong_backward_and_names_the_entry(fast_mode: bool) -> None:
    x = tl.tensor([[0.5, -1.0], [2.0, 3.0]], dtype=tl.float64, requires_grad=True)

    def half_square(a, b):
        return a + 1, HalfSquare.apply(b)

    with pytest.raises(GradcheckError) as info:
        gradcheck(half_square, (randn(2), x), fast_mode=fast_mode)
    message = str(info.value)
    assert "half_square" in message
    assert "output 1 (shape (2, 2))" in message and "input 1 (shape (2, 2))" in message
    # The worst entry is d(x²)/dx at x = 3: autograd says 3, the truth is 6.
    assert "d output[(1, 1)] / d input[(1, 1)]" in message
    assert "analytical (autograd):           3\n" in message
    assert "numerical (central differences): 6" in message
    assert "atol=1e-05, rtol=0.001" in message
    assert "max abs error 3.000e+00" in message
    assert "kink" not in message and "unreliable" not in message


def test_raise_exception_false_returns_false() -> None:
    x = randn(3)
    assert gradcheck(HalfSquare.apply, x, raise_exception=False) is False
    assert gradcheck(HalfSquare.apply, x, raise_exception=False, fast_mode=True) is False
    assert gradgradcheck(ArraySquare.apply, x, raise_exception=False) is False
    assert gradcheck(tl.tanh, x, raise_exception=False) is True


def test_gradcheck_error_is_a_runtime_error() -> None:
    assert issubclass(GradcheckError, RuntimeError)


def test_cut_graph_is_reported() -> None:
    x = randn(3)
    with pytest.raises(GradcheckError, match="output 1 does not require grad") as info:
        gradcheck(lambda a: (a * 2, a.detach() * 3), x)
    assert "numerical (central differences): 3" in str(info.value)
    # Outputs that really do not depend on the inputs pass, as in PyTorch.
    assert gradcheck(lambda a: (a * 2, tl.ones(2, dtype=tl.float64)), x)


def test_wrong_gradient_dtype_is_reported() -> None:
    class SquareToFloat32(Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            (x,) = self.saved_tensors
            return (g * 2 * x).to(tl.float32)

    with pytest.raises(GradcheckError, match="gradient of input 0 has dtype float32"):
        gradcheck(SquareToFloat32.apply, randn(3))


# ---- kinks -----------------------------------------------------------------------------------------


def test_kink_is_named_in_the_message() -> None:
    x = tl.tensor([1.0, 0.0, -2.0], dtype=tl.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(tl.relu, x)
    message = str(info.value)
    assert "d output[(1,)] / d input[(1,)]" in message
    assert "numerical (central differences): 0.5" in message
    assert "(input 0, index (1,) lies on a kink: left derivative 0, right derivative 1)" in message


def test_dodge_kinks_moves_values_off_kinks_and_ties() -> None:
    x = tl.tensor([0.0, 1e-4, -1e-4, 0.7, 0.7, 0.7005, -3.0], dtype=tl.float64, requires_grad=True)
    y = dodge_kinks(x, kinks=(0.0,), margin=1e-3, distinct=True)
    values = y.detach().numpy()
    assert y.requires_grad and y.dtype == tl.float64 and y.shape == x.shape
    assert np.all(np.abs(values) >= 1e-3 - 1e-15)
    assert np.all(np.diff(np.sort(values)) >= 1e-3)
    assert values[-1] == -3.0  # values far from kinks and ties stay where they are
    assert gradcheck(tl.relu, dodge_kinks(tl.tensor([0.0, 1.0, -2.0], dtype=tl.float64, requires_grad=True)))
    assert gradcheck(lambda a: a.max(), y)


# ---- reproducibility of the backward ---------------------------------------------------------------


def test_nondeterministic_backward_is_caught() -> None:
    with pytest.raises(GradcheckError, match="not reproducible") as info:
        gradcheck(lambda a: NoisySquare.apply(a, scale=1.0), randn(3))
    assert "nondet_tol=0.0" in str(info.value)
    # Noise below nondet_tol (and far below atol) is accepted when asked for.
    assert gradcheck(lambda a: NoisySquare.apply(a, scale=1e-12), randn(3), nondet_tol=1e-9)
    assert not gradcheck(lambda a: NoisySquare.apply(a, scale=1e-12), randn(3), raise_exception=False)


# ---- second derivatives ----------------------------------------------------------------------------

SECOND_ORDER = {
    "tanh": (tl.tanh, lambda: (randn(3, 2),)),
    "exp*sin": (lambda a: a.exp() * a.sin(), lambda: (randn(4),)),
    "matmul": (tl.matmul, lambda: (randn(2, 3), randn(3, 2))),
    "softmax": (lambda a: tl.softmax(a, -1), lambda: (randn(2, 4),)),
}


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("case", SECOND_ORDER)
def test_gradgradcheck_passes(case: str, fast_mode: bool) -> None:
    fn, make = SECOND_ORDER[case]
    assert gradgradcheck(fn, make(), fast_mode=fast_mode)


def test_gradgradcheck_with_given_and_non_contiguous_grad_outputs() -> None:
    x = randn(3, 2)
    assert gradgradcheck(tl.tanh, x, tl.randn(3, 2, dtype=tl.float64, requires_grad=True))
    assert gradgradcheck(tl.tanh, x, gen_non_contig_grad_outputs=True)


def test_gradgradcheck_catches_a_backward_built_from_arrays() -> None:
    x = randn(3)
    assert gradcheck(ArraySquare.apply, x)  # right to first order
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(ArraySquare.apply, x)
    message = str(info.value)
    assert "vector-Jacobian product of ArraySquare.apply" in message
    assert "does not require grad" in message and "array math" in message


# ---- devices ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_works_on_a_device_without_host_conversion(fake_cuda: ModuleType, fast_mode: bool) -> None:
    x, w = randn(3, 4, device="cuda"), randn(4, 2, dtype=tl.float32, device="cuda")
    assert isinstance(x.data, fake_cuda.ndarray)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, w), fast_mode=fast_mode)
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), (x, w), fast_mode=fast_mode)
    with pytest.raises(GradcheckError, match="lies on a kink"):
        gradcheck(tl.relu, tl.tensor([0.0, 1.0], dtype=tl.float64, device="cuda", requires_grad=True))
    y = dodge_kinks(tl.zeros(3, device="cuda"))
    assert isinstance(y.data, fake_cuda.ndarray) and y.tolist() == pytest.approx([1e-3] * 3)

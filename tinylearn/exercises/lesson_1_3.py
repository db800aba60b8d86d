"""Exercises of lesson 1.3 (backpropagation): the backward of a matrix product, every gradient of a
two-layer net, and the backward rule of a tinylearn ``Function``.

The reference solutions are the library's own: the backward method of
:class:`tinylearn.ops.linalg.MatMul` and of :class:`tinylearn.ops.elementwise.Div` (run on a node that
``Function.apply`` recorded), and tinylearn's autograd for the two-layer net
(:func:`tinylearn.viz.lesson_1_3.two_layer_autograd`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function, enable_grad, no_grad
from ..ops.elementwise import Div
from ..ops.linalg import MatMul
from ..tensor import Tensor
from ..viz.lesson_1_3 import two_layer_autograd, two_layer_setup
from . import ExerciseFailure, exercise, expect_close, expect_gradcheck, expect_shape


def _f64(value: Any, grad: bool = False) -> Tensor:
    from .. import dtypes, tensor

    return tensor(np.asarray(value, dtype=np.float64), dtype=dtypes.float64, requires_grad=grad)


def _pair(got: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise ExerciseFailure(
            f"{what} must return a pair (grad_a, grad_b), got {type(got).__name__}: {got!r}"
        )
    return got[0], got[1]


# ------------------------------------------------------------------------------------------------
# 1.3.3 The backward of a matrix product
# ------------------------------------------------------------------------------------------------


def _matmul_backward(a: np.ndarray, b: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The library's rule: ``MatMul.backward`` of the node recorded for ``a @ b``."""
    with enable_grad():  # record the node even when called inside a backward pass
        node = MatMul.apply(_f64(a, True), _f64(b, True)).grad_fn
    with no_grad():
        ga, gb = node.backward(_f64(grad_out))
    return ga.numpy().copy(), gb.numpy().copy()


def _matmul_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(13)
    cases = []
    for m, k, n in [(2, 3, 4), (4, 4, 4), (1, 5, 1), (3, 1, 2), (5, 2, 3)]:
        cases.append((rng.normal(size=(m, k)), rng.normal(size=(k, n)), rng.normal(size=(m, n))))
    return cases


@exercise(
    "1.3.3",
    "matmul_backward",
    reference=_matmul_backward,
    signature="matmul_backward(a, b, grad_out)",
    prompt="For C = a @ b (2-D NumPy arrays, a: (m, k), b: (k, n)) and grad_out = dL/dC of shape (m, n), "
    "return (dL/da, dL/db) as NumPy arrays with the shapes of a and b.",
)
def _check_matmul_backward(fn):
    for a, b, g in _matmul_cases():
        what = f"matmul_backward(a {a.shape}, b {b.shape}, grad_out {g.shape})"
        ga, gb = _pair(fn(a.copy(), b.copy(), g.copy()), what)
        want_a, want_b = _matmul_backward(a, b, g)
        expect_shape(ga, a.shape, f"{what}: dL/da (it must have a's shape)")
        expect_shape(gb, b.shape, f"{what}: dL/db (it must have b's shape)")
        expect_close(ga, want_a, f"{what}: dL/da")
        expect_close(gb, want_b, f"{what}: dL/db")

    class LearnersMatMul(Function):  # the learner's rule as the backward of a real op
        def forward(self, a, b):
            return a @ b

        def backward(self, g):
            a, b = self.saved_tensors
            ga, gb = fn(a.detach().numpy(), b.detach().numpy(), g.detach().numpy())
            return _f64(ga), _f64(gb)

    a, b, _ = _matmul_cases()[0]
    expect_gradcheck(
        LearnersMatMul.apply, (_f64(a, True), _f64(b, True)), "matmul_backward inside a Function"
    )


# ------------------------------------------------------------------------------------------------
# 1.3.3 Every gradient of a two-layer net
# ------------------------------------------------------------------------------------------------

_TWO_LAYER_SIZES = [(4, 3, 5, 2), (1, 2, 3, 1), (6, 4, 2, 3), (3, 1, 1, 1)]


@exercise(
    "1.3.3",
    "two_layer_grads",
    reference=two_layer_autograd,
    signature="two_layer_grads(X, Y, W1, b1, W2, b2)",
    prompt="For Yhat = tanh(X @ W1 + b1) @ W2 + b2 and L = mean((Yhat - Y)**2) over all entries, return "
    "(dL/dW1, dL/db1, dL/dW2, dL/db2) as NumPy arrays, by hand (no autograd).",
)
def _check_two_layer_grads(fn):
    names = ("dL/dW1", "dL/db1", "dL/dW2", "dL/db2")
    for seed, (batch, n_in, n_hidden, n_out) in enumerate(_TWO_LAYER_SIZES):
        arrays = two_layer_setup(batch, n_in, n_hidden, n_out, seed=seed)
        what = f"two_layer_grads with X {arrays[0].shape}, hidden {n_hidden}, Y {arrays[1].shape}"
        got = fn(*(a.copy() for a in arrays))
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            raise ExerciseFailure(f"{what}: return a 4-tuple (dW1, db1, dW2, db2), got {got!r}")
        want = two_layer_autograd(*arrays)
        for name, g, w in zip(names, got, want, strict=True):
            expect_shape(g, w.shape, f"{what}: {name}")
            expect_close(g, w, f"{what}: {name}", rtol=1e-6, atol=1e-10)


# ------------------------------------------------------------------------------------------------
# 1.3.5 The backward rule of a Function
# ------------------------------------------------------------------------------------------------


def _div_backward(a: Tensor, b: Tensor, grad_output: Tensor) -> tuple[Tensor, Tensor]:
    """The library's rule: ``Div.backward`` of the node recorded for ``a / b``."""
    with enable_grad():  # record the node even when called inside a backward pass
        node = Div.apply(a.detach().requires_grad_(), b.detach().requires_grad_()).grad_fn
    return node.backward(grad_output)


def _div_cases() -> list[tuple[Tensor, Tensor, Tensor]]:
    rng = np.random.default_rng(5)
    cases = []
    for shape in [(3,), (2, 3), (1,), (4, 2)]:
        a = rng.normal(size=shape)
        b = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)  # away from 0
        cases.append((_f64(a, True), _f64(b, True), _f64(rng.normal(size=shape))))
    return cases


@exercise(
    "1.3.5",
    "div_backward",
    reference=_div_backward,
    signature="div_backward(a, b, grad_output)",
    prompt="The backward rule of out = a / b (same shapes): given the saved inputs a, b and "
    "grad_output = dL/dout as Tensors, return (dL/da, dL/db) as Tensors, computed with Tensor ops.",
)
def _check_div_backward(fn):
    for a, b, g in _div_cases():
        what = f"div_backward(a, b, grad_output) with shape {tuple(a.shape)}"
        ga, gb = _pair(fn(a, b, g), what)
        for name, got in (("dL/da", ga), ("dL/db", gb)):
            if not isinstance(got, Tensor):
                raise ExerciseFailure(
                    f"{what}: {name} must be a Tensor (compute it with Tensor ops such as "
                    f"grad_output / b), got {type(got).__name__}"
                )
        want_a, want_b = _div_backward(a, b, g)
        expect_close(ga, want_a, f"{what}: dL/da (a = {_short(a)}, b = {_short(b)})")
        expect_close(gb, want_b, f"{what}: dL/db (a = {_short(a)}, b = {_short(b)})")

    class LearnersDiv(Function):  # the learner's rule as the backward of a real op
        def forward(self, a, b):
            return a / b

        def backward(self, g):
            a, b = self.saved_tensors
            return tuple(fn(a, b, g))

    for a, b, _ in _div_cases()[:2]:
        expect_gradcheck(
            LearnersDiv.apply, (a, b), f"a Function whose backward is your div_backward, shape {a.shape}"
        )


def _short(t: Tensor) -> str:
    values = t.detach().numpy().ravel()
    text = ", ".join(f"{v:.3g}" for v in values[:4])
    return f"[{text}{', ...' if values.size > 4 else ''}]"

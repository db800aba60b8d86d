"""Reverse-mode autograd: the graph, backward and autograd.grad, grad modes, higher-order
gradients, hooks, and in-place updates with their version counter. PyTorch is the reference."""

from __future__ import annotations

import math
import sys
import time
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinylearn as tl
from tinylearn import autograd


@pytest.fixture(autouse=True)
def _grad_mode_is_restored():
    """Every test starts and must end with recording switched on."""
    assert tl.is_grad_enabled()
    yield
    leaked = not tl.is_grad_enabled()
    tl.set_grad_enabled(True)
    assert not leaked, "the test left grad mode switched off"


def f64(data, requires_grad: bool = True) -> tl.Tensor:
    return tl.tensor(data, dtype=tl.float64, requires_grad=requires_grad)


# --------------------------------------------------------------------------- the graph


def test_leaves_and_non_leaves() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    c = tl.tensor([3.0, 4.0])
    y = x * c
    assert x.is_leaf and x.grad_fn is None
    assert c.is_leaf and not c.requires_grad
    assert not y.is_leaf and y.requires_grad
    assert repr(y.grad_fn) == "<MulBackward>"
    assert y.grad_fn.next_functions[0] is x._grad_edge()
    assert repr(y.grad_fn.next_functions[0]) == "<AccumulateGrad>"
    assert y.grad_fn.next_functions[1] is None  # c needs no gradient
    z = c * 2  # nothing requires grad: a constant, and a leaf
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None
    y.sum().backward()
    assert x.grad is not None and y.grad is None and c.grad is None  # only leaves keep .grad


def test_grad_is_a_tensor_of_the_leaf_shape_and_dtype() -> None:
    x = tl.tensor([[1.0, 2.0, 3.0]], dtype=tl.float64, requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, tl.Tensor)
    assert x.grad.shape == x.shape and x.grad.dtype == tl.float64
    assert not x.grad.requires_grad and x.grad.grad_fn is None
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 4.0, 6.0]])


def test_gradients_accumulate_across_backward_calls() -> None:
    x = tl.tensor([1.0, -2.0], requires_grad=True)
    (x * 3).sum().backward()
    first = x.grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2.0, 3 - 4.0])
    assert first is x.grad  # accumulated in place, as PyTorch
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_gradients_of_a_reused_tensor_sum_within_one_graph() -> None:
    x = tl.tensor(3.0, requires_grad=True)
    y = x * x + x * 2 + x  # d/dx = 2x + 3
    y.backward()
    assert x.grad.item() == 9.0


def test_second_backward_through_a_freed_graph_raises() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        autograd.grad(y, x)


def test_retain_graph_allows_a_second_backward() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    y.backward()  # the last one may free the graph
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_non_scalar_backward_without_gradient_explains_itself() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2,\).*gradient") as info:
        y.backward()
    assert "sum()" in str(info.value)  # the message says what to do
    one = (x * 2).sum().reshape(1, 1)  # a one-element tensor is fine, as PyTorch
    one.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_backward_with_an_explicit_gradient() -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(tl.tensor([1.0, 0.5, -2.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, -12.0])  # the vector-Jacobian product
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        (x * x).backward(tl.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="Tensor"):
        (x * x).backward([1.0, 1.0, 1.0])  # as PyTorch: a list is not a gradient


def test_backward_on_a_leaf_itself() -> None:
    x = tl.tensor([[2.0]], requires_grad=True)
    x.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0]])
    (g,) = autograd.grad(x.sum(), x)
    np.testing.assert_array_equal(g.numpy(), [[1.0]])


def test_backward_of_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        tl.tensor([1.0, 2.0]).sum().backward()
    with tl.no_grad():
        y = (tl.tensor([1.0], requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_tl_autograd_backward_with_several_roots() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * x
    autograd.backward([a, b], [tl.ones(2), tl.tensor([1.0, 10.0])])
    np.testing.assert_array_equal(x.grad.numpy(), [2 + 2.0, 2 + 40.0])


# --------------------------------------------------------------------------- grad modes


def test_no_grad_context_manager() -> None:
    x = tl.tensor([1.0], requires_grad=True)
    with tl.no_grad():
        assert not tl.is_grad_enabled()
        y = x * 2
    assert tl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


def test_grad_modes_nest() -> None:
    x = tl.tensor([1.0], requires_grad=True)
    with tl.no_grad():
        with tl.enable_grad():
            assert tl.is_grad_enabled()
            y = x * 2
            with tl.set_grad_enabled(False):
                assert not tl.is_grad_enabled()
                with tl.no_grad():
                    assert not tl.is_grad_enabled()
                assert not tl.is_grad_enabled()
            assert tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
        z = x * 2
        with tl.set_grad_enabled(True):
            w = x * 2
    assert y.requires_grad and not z.requires_grad and w.requires_grad


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ValueError, match="boom"), tl.no_grad():
        raise ValueError("boom")
    assert tl.is_grad_enabled()


def test_grad_modes_as_decorators() -> None:
    x = tl.tensor([1.0], requires_grad=True)

    @tl.no_grad()
    def frozen(t: tl.Tensor) -> tl.Tensor:
        """Docs survive decoration."""
        assert not tl.is_grad_enabled()
        return t * 2

    @tl.enable_grad()
    def recorded(t: tl.Tensor) -> tl.Tensor:
        return t * 2

    @tl.set_grad_enabled(False)
    def switched_off(t: tl.Tensor) -> tl.Tensor:
        return t * 2

    assert tl.is_grad_enabled()  # decorating switches nothing
    assert frozen.__name__ == "frozen" and frozen.__doc__ == "Docs survive decoration."
    assert not frozen(x).requires_grad
    assert not switched_off(x).requires_grad
    assert tl.is_grad_enabled()
    with tl.no_grad():
        assert recorded(x).requires_grad
        assert not tl.is_grad_enabled()  # the mode found on entry is restored
        switched_off(x)
        assert not tl.is_grad_enabled()
    assert recorded(x).requires_grad


def test_no_grad_decorator_without_parentheses() -> None:
    @tl.no_grad
    def frozen(t: tl.Tensor) -> tl.Tensor:
        return t * 2

    assert not frozen(tl.tensor([1.0], requires_grad=True)).requires_grad
    assert tl.is_grad_enabled()


def test_a_decorated_function_may_call_itself() -> None:
    @tl.no_grad()
    def countdown(n: int) -> bool:
        return countdown(n - 1) if n else tl.is_grad_enabled()

    @tl.enable_grad()
    def countup(n: int) -> bool:
        return countup(n - 1) if n else tl.is_grad_enabled()

    assert countdown(3) is False
    assert tl.is_grad_enabled()
    with tl.no_grad():
        assert countup(3) is True
        assert not tl.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call() -> None:
    tl.set_grad_enabled(False)
    assert not tl.is_grad_enabled()
    assert not (tl.tensor([1.0], requires_grad=True) * 2).requires_grad
    tl.set_grad_enabled(True)
    assert tl.is_grad_enabled()
    with tl.set_grad_enabled(mode=False):
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()


# --------------------------------------------------------------------------- autograd.grad


def test_grad_returns_gradients_and_leaves_dot_grad_alone() -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tl.tensor([0.5, 0.5, 0.5], requires_grad=True)
    (gx, gw) = autograd.grad((x * x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 4.0, 9.0])
    assert x.grad is None and w.grad is None
    (x * 2).sum().backward()
    before = x.grad.numpy().copy()
    autograd.grad((x * 7).sum(), x)
    np.testing.assert_array_equal(x.grad.numpy(), before)  # untouched, not accumulated into


def test_grad_with_grad_outputs() -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = autograd.grad(x * x, x, grad_outputs=tl.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g.numpy(), [2.0, 0.0, 12.0])
    a, b = x * 2, x.sum()
    (g,) = autograd.grad([a, b], [x], grad_outputs=[tl.tensor([1.0, 2.0, 3.0]), tl.tensor(10.0)])
    np.testing.assert_array_equal(g.numpy(), [12.0, 14.0, 16.0])
    with pytest.raises(RuntimeError, match="scalar"):
        autograd.grad(x * x, x)


def test_grad_allow_unused() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    unused = tl.tensor([5.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])
    assert gu is None


def test_grad_of_a_non_leaf_input() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad((x * 2).sum(), tl.tensor([1.0]))


def test_grad_create_graph_and_retain_graph() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    (gg,) = autograd.grad(g.sum(), x)  # the graph was retained because create_graph=True
    np.testing.assert_allclose(gg.numpy(), [6.0, 12.0])
    (g2,) = autograd.grad(y, x)  # still there for one more plain call ...
    assert not g2.requires_grad and g2.grad_fn is None
    with pytest.raises(RuntimeError, match="retain_graph"):  # ... which freed it
        autograd.grad(y, x)
    z = (x * x).sum()
    autograd.grad(z, x, retain_graph=True)
    autograd.grad(z, x)


def test_backward_create_graph_accumulates_a_differentiable_grad() -> None:
    x = tl.tensor(2.0, requires_grad=True)
    (x**3).backward(create_graph=True)
    assert x.grad.requires_grad
    assert x.grad.item() == 12.0
    (gg,) = autograd.grad(x.grad, x)
    assert gg.item() == 12.0  # d/dx 3x² = 6x


# --------------------------------------------------------------------------- deep graphs


def test_a_chain_of_100000_ops_does_not_hit_the_recursion_limit() -> None:
    n = 100_000
    x = tl.tensor(1.0, dtype=tl.float64, requires_grad=True)
    start = time.perf_counter()
    y = x
    for i in range(n):  # mostly cheap adds; every 100th op scales, so the gradient is 1.0000001^1000
        y = y * 1.0000001 if i % 100 == 0 else y + 0.0
    forward_s = time.perf_counter() - start
    limit = sys.getrecursionlimit()
    # Leave only a little headroom above the current depth: a recursive walk would need n frames.
    sys.setrecursionlimit(len(traceback.extract_stack()) + 200)
    try:
        start = time.perf_counter()
        y.backward()
        backward_s = time.perf_counter() - start
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad.item() == pytest.approx(1.0000001 ** (n // 100), rel=1e-9)
    print(f"100k-op chain: forward {forward_s:.2f} s, backward {backward_s:.2f} s")
    assert backward_s < 30.0, f"backward of a 100k chain took {backward_s:.1f} s"
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_a_deep_graph_can_be_dropped_without_backward() -> None:
    x = tl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30_000):
        y = y + 0.0
    del y  # freeing 30k nested nodes must not overflow the C stack either
    (x * 2).backward()
    assert x.grad.item() == 2.0


def test_a_wide_diamond_graph_visits_each_node_once() -> None:
    x = tl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200):  # each step uses y twice: a naive walk would take 2^200 paths
        y = y * 0.5 + y * 0.5
    y.backward()
    assert x.grad.item() == pytest.approx(1.0)


# --------------------------------------------------------------------------- higher order


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=-3.0, max_value=3.0), min_size=1, max_size=6))
def test_second_derivative_of_tanh(values: list[float]) -> None:
    x = f64(values)
    (g,) = autograd.grad(x.tanh().sum(), x, create_graph=True)
    (gg,) = autograd.grad(g.sum(), x)
    t = np.tanh(np.asarray(values))
    np.testing.assert_allclose(g.detach().numpy(), 1 - t**2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gg.numpy(), -2 * t * (1 - t**2), rtol=1e-10, atol=1e-14)


def test_third_derivative_of_tanh() -> None:
    x = f64([0.3, -1.1])
    (g,) = autograd.grad(x.tanh().sum(), x, create_graph=True)
    (gg,) = autograd.grad(g.sum(), x, create_graph=True)
    (ggg,) = autograd.grad(gg.sum(), x)
    t = np.tanh([0.3, -1.1])
    np.testing.assert_allclose(ggg.numpy(), -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-10)


def test_hessian_vector_product_of_a_cubic() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    c = rng.normal(size=4)
    x0, v0 = rng.normal(size=4), rng.normal(size=4)
    x, v, A, C = f64(x0), f64(v0, False), f64(a, False), f64(c, False)

    f = (x @ A @ x) + (C * x**3).sum()  # f = xᵀAx + Σ cᵢxᵢ³
    (g,) = autograd.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), (a + a.T) @ x0 + 3 * c * x0**2, rtol=1e-12)
    (hv,) = autograd.grad((g * v).sum(), x)
    hessian = a + a.T + np.diag(6 * c * x0)
    np.testing.assert_allclose(hv.numpy(), hessian @ v0, rtol=1e-10, atol=1e-12)


def test_full_hessian_row_by_row() -> None:
    x0 = np.array([0.5, -1.0, 2.0])
    x = f64(x0)
    f = (x[0] * x[1] * x[2]) + (x * x).sum().exp() * 0.01  # mixed partials, and a dense part
    (g,) = autograd.grad(f, x, create_graph=True)
    rows = [autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)]
    s = np.exp((x0**2).sum()) * 0.01
    expected = s * (2 * np.eye(3) + 4 * np.outer(x0, x0))
    expected += np.array([[0, x0[2], x0[1]], [x0[2], 0, x0[0]], [x0[1], x0[0], 0]])
    np.testing.assert_allclose(np.stack(rows), expected, rtol=1e-10)


def _newton(f, x0: float, steps: int) -> list[float]:
    """Newton's method on f' = 0, with f' and f'' from autograd."""
    xs = [x0]
    for _ in range(steps):
        x = f64(xs[-1])
        (d1,) = autograd.grad(f(x), x, create_graph=True)
        (d2,) = autograd.grad(d1, x)
        xs.append(xs[-1] - d1.item() / d2.item())
    return xs


def test_newton_minimises_a_smooth_convex_function() -> None:
    xs = _newton(lambda x: x.exp() - 2 * x, x0=2.0, steps=8)  # minimum at ln 2
    errors = [abs(v - math.log(2)) for v in xs]
    assert errors[-1] < 1e-14
    # quadratic convergence: once close, the error roughly squares at each step
    assert errors[4] < 1e-3 and errors[5] < 10 * errors[4] ** 2


def test_newton_finds_the_root_of_x3_minus_2x_minus_5() -> None:
    # F(x) = x⁴/4 - x² - 5x has F' = x³ - 2x - 5 (Newton's own example) and F'' = 3x² - 2.
    xs = _newton(lambda x: x**4 / 4 - x**2 - 5 * x, x0=2.0, steps=6)
    assert xs[-1] == pytest.approx(2.0945514815423265, abs=1e-14)


def _critic(x: tl.Tensor, w1: tl.Tensor, b1: tl.Tensor, w2: tl.Tensor, b2: tl.Tensor) -> tl.Tensor:
    """A one-hidden-layer MLP made of raw tensors: D(x) = tanh(x W1ᵀ + b1) · w2 + b2."""
    return (x @ w1.T + b1).tanh() @ w2 + b2


def _penalty_numpy(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray) -> float:
    """WGAN-GP by hand: ∂D/∂x = (w2 ⊙ (1 - h²)) W1 per sample; the penalty is mean (‖∂D/∂x‖ - 1)²."""
    h = np.tanh(x @ w1.T + b1)
    dx = (w2 * (1 - h**2)) @ w1
    return float(((np.sqrt((dx**2).sum(1)) - 1) ** 2).mean())


def test_gradient_penalty_matches_finite_differences() -> None:
    rng = np.random.default_rng(42)
    x0 = rng.normal(size=(5, 3))
    params0 = {"w1": rng.normal(size=(4, 3)), "b1": rng.normal(size=4), "w2": rng.normal(size=4)}
    params = {k: f64(v) for k, v in params0.items()}
    b2 = f64([0.3])
    x = f64(x0)

    d = _critic(x, params["w1"], params["b1"], params["w2"], b2)
    (dx,) = autograd.grad(d.sum(), x, create_graph=True)
    penalty = ((((dx * dx).sum(1)).sqrt() - 1) ** 2).mean()
    assert penalty.item() == pytest.approx(_penalty_numpy(x0, **params0), rel=1e-12)
    penalty.backward()

    eps = 1e-6
    for name, value in params0.items():
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[i] += eps
            minus[i] -= eps
            numeric[i] = (
                _penalty_numpy(x0, **{**params0, name: plus}) - _penalty_numpy(x0, **{**params0, name: minus})
            ) / (2 * eps)
        np.testing.assert_allclose(params[name].grad.numpy(), numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    assert b2.grad is None  # the penalty does not depend on the output bias
    assert x.grad is not None  # x requires grad, and the penalty depends on it


# --------------------------------------------------------------------------- detach, requires_grad_


def test_detach() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.detach().numpy())
    z = d * x  # d is a constant now
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_detach_in_place() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_detach_shares_the_version_counter() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    w = tl.tensor([3.0, 4.0], requires_grad=True)
    y = x * 1
    z = y * w  # Mul saves y
    y.detach().add_(1)  # same memory: the saved value is stale now
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 3.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_requires_grad_() -> None:
    x = tl.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        tl.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        tl.tensor([True]).requires_grad_(True)
    tl.tensor([1, 2]).requires_grad_(False)  # asking for no gradient is always fine
    y = tl.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_retain_grad_on_a_non_leaf() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    other = x * 4
    (h * h + other).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 12.0])
    assert other.grad is None
    x.retain_grad()  # a no-op on a leaf
    assert not x.retains_grad
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tl.tensor([1.0]).retain_grad()


def test_retained_grads_accumulate_too() -> None:
    x = tl.tensor([1.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = (h * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(h.grad.numpy(), [4.0])


# --------------------------------------------------------------------------- hooks


def test_hook_on_a_leaf_changes_its_grad_and_can_be_removed() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: seen.append(g.tolist()))  # returning None keeps the gradient
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])
    assert seen == [[30.0, 30.0]]  # hooks run in registration order, each on the previous result
    handle.remove()
    handle.remove()  # removing twice is harmless
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert seen[-1] == [3.0, 3.0]


def test_hook_on_a_non_leaf_changes_what_flows_on() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    a.retain_grad()
    handle = a.register_hook(lambda g: g + 1)
    (a * a).sum().backward()  # dL/da = 2a = [4, 8], hooked to [5, 9]
    np.testing.assert_array_equal(a.grad.numpy(), [5.0, 9.0])
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 18.0])
    handle.remove()
    x.grad = None
    b = x * 2
    (b * b).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


def test_a_leaf_hook_sees_the_total_gradient_once() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.tolist()))
    (x * 2 + x * x + x.exp().log()).sum().backward()  # three paths into x
    assert calls == [[2.0 + 2.0 + 1.0, 2.0 + 4.0 + 1.0]]


def test_hooks_apply_to_autograd_grad_as_well() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: -g)
    (g,) = autograd.grad((x * x).sum(), x)
    np.testing.assert_array_equal(g.numpy(), [-2.0, -4.0])


def test_register_hook_needs_requires_grad() -> None:
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tl.tensor([1.0]).register_hook(lambda g: g)


# --------------------------------------------------------------------------- in-place ops

W = [1.0, -2.0, 3.0]

# (name, in-place update, out-of-place equivalent)
INPLACE = [
    ("add_", lambda t: t.add_(2.0), lambda t: t + 2.0),
    (
        "add_alpha",
        lambda t: t.add_(tl.tensor([1.0, 2.0, 3.0]), alpha=2),
        lambda t: t + 2 * tl.tensor([1.0, 2.0, 3.0]),
    ),
    ("sub_", lambda t: t.sub_(1.5), lambda t: t - 1.5),
    ("mul_", lambda t: t.mul_(3.0), lambda t: t * 3.0),
    ("div_", lambda t: t.div_(4.0), lambda t: t / 4.0),
    ("mul_broadcast", lambda t: t.mul_(tl.tensor(2.0)), lambda t: t * 2.0),
    ("zero_", lambda t: t.zero_(), lambda t: t * 0.0),
    ("fill_", lambda t: t.fill_(7.0), lambda t: t * 0.0 + 7.0),
    ("copy_", lambda t: t.copy_(tl.tensor([4.0, 5.0, 6.0])), lambda t: t * 0.0 + tl.tensor([4.0, 5.0, 6.0])),
    ("clamp_", lambda t: t.clamp_(2.5, 5.0), lambda t: t.clamp(2.5, 5.0)),
    ("clamp_min", lambda t: t.clamp_(min=3.0), lambda t: t.clamp(min=3.0)),
    ("iadd", lambda t: t.__iadd__(1.0), lambda t: t + 1.0),
    ("isub", lambda t: t.__isub__(tl.tensor([1.0, 1.0, 1.0])), lambda t: t - 1.0),
    ("imul", lambda t: t.__imul__(-2.0), lambda t: t * -2.0),
    ("itruediv", lambda t: t.__itruediv__(2.0), lambda t: t / 2.0),
    (
        "setitem_int",
        lambda t: (t.__setitem__(1, 10.0), t)[1],
        lambda t: tl.where(tl.tensor([False, True, False]), 10.0, t),
    ),
    (
        "setitem_mask",
        lambda t: (t.__setitem__(tl.tensor([True, False, True]), 0.5), t)[1],
        lambda t: tl.where(tl.tensor([True, False, True]), 0.5, t),
    ),
    (
        "setitem_slice",
        lambda t: (t.__setitem__(slice(0, 2), 1.0), t)[1],
        lambda t: tl.cat([t[2:] * 0 + 1, t[2:] * 0 + 1, t[2:]]),
    ),
]


@pytest.mark.parametrize(("name", "inplace", "outofplace"), INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_values_and_gradients_match_out_of_place(name, inplace, outofplace) -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * x  # a non-leaf, so in-place is allowed
    out = inplace(a)
    assert out is a  # in-place ops return the tensor itself
    assert a.grad_fn is not None and a.requires_grad
    (a * tl.tensor(W)).sum().backward()
    inplace_grad, inplace_value = x.grad.numpy().copy(), a.detach().numpy().copy()

    x.grad = None
    b = outofplace(x * x)
    (b * tl.tensor(W)).sum().backward()
    np.testing.assert_allclose(inplace_value, b.detach().numpy(), err_msg=name)
    np.testing.assert_allclose(inplace_grad, x.grad.numpy(), err_msg=name)


def test_inplace_with_an_operand_that_requires_grad() -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tl.tensor([2.0, -1.0, 0.5], requires_grad=True)
    a = x * 1
    a.mul_(w)  # w's gradient needs a's value from before the update
    a.add_(w)
    (a * a).sum().backward()
    x0, w0 = np.array([1.0, 2.0, 3.0]), np.array([2.0, -1.0, 0.5])
    value = x0 * w0 + w0
    np.testing.assert_allclose(x.grad.numpy(), 2 * value * w0)
    np.testing.assert_allclose(w.grad.numpy(), 2 * value * (x0 + 1))


def test_inplace_with_another_dtype_keeps_each_gradient_in_its_own_dtype() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    w = tl.tensor([2.0, 3.0], dtype=tl.float64, requires_grad=True)
    a = x * 1
    a.mul_(w)  # the result keeps a's dtype, as PyTorch
    a.add_(w)
    assert a.dtype == tl.float32
    a.sum().backward()
    assert x.grad.dtype == tl.float32 and w.grad.dtype == tl.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])


def test_setitem_and_copy_with_another_dtype_keep_each_gradient_in_its_own_dtype() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    v = tl.tensor(3.0, dtype=tl.float64, requires_grad=True)
    a = x * 1
    a[0] = v * 2
    assert a.dtype == tl.float32
    a.sum().backward()
    assert v.grad.dtype == tl.float64 and v.grad.item() == 2.0
    assert x.grad.dtype == tl.float32 and x.grad.tolist() == [0.0, 1.0]

    x.grad = None
    m = tl.zeros(3, dtype=tl.float64)
    m[1] = x[0] * 2
    b = tl.zeros(2, dtype=tl.float16)
    b.copy_(x * 3)
    (m.sum() + b.sum()).backward()
    assert x.grad.dtype == tl.float32 and x.grad.tolist() == [5.0, 3.0]


def test_setitem_and_copy_from_a_tensor_that_requires_grad() -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = tl.tensor(5.0, requires_grad=True)
    a = x * 1
    a[0] = v * 2
    (a * tl.tensor(W)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -2.0, 3.0])
    assert v.grad.item() == 2.0 * W[0]

    buf = tl.zeros(3)  # a plain buffer that starts recording once a grad tensor is copied in
    buf.copy_(x * 3)
    assert buf.requires_grad and not buf.is_leaf
    x.grad = None
    buf.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 3.0])

    m = tl.zeros(2, 3)
    m[1] = x  # a row of a constant matrix gets a differentiable value
    (m * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0, 5.0])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(min_value=-5, max_value=5), min_size=4, max_size=4),
    st.lists(st.floats(min_value=0.5, max_value=3), min_size=4, max_size=4),
)
def test_inplace_chains_match_out_of_place(values: list[float], scale: list[float]) -> None:
    def run(inplace: bool) -> tuple[np.ndarray, np.ndarray]:
        x = f64(values)
        s = f64(scale, False)
        a = x.sigmoid()
        if inplace:
            a = a * 1.0
            a.mul_(s)
            a.sub_(0.5)
            a.div_(s)
            a.clamp_(-0.2, 0.9)
        else:
            a = ((a * s - 0.5) / s).clamp(-0.2, 0.9)
        (a.tanh() * tl.tensor([1.0, 2.0, 3.0, 4.0], dtype=tl.float64)).sum().backward()
        return a.detach().numpy(), x.grad.numpy()

    (v1, g1), (v2, g2) = run(True), run(False)
    np.testing.assert_allclose(v1, v2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)


def test_modifying_a_saved_input_raises_at_backward_time() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    w = tl.tensor([3.0, 4.0], requires_grad=True)
    y = x.exp()
    z = y * w  # Mul saves y (for w's gradient)
    y.add_(1)  # no error yet: PyTorch also raises only at backward
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation") as info:
        z.sum().backward()
    message = str(info.value)
    assert "MulBackward" in message
    assert "version 1" in message and "expected version 0" in message


def test_modifying_a_saved_output_raises_at_backward_time() -> None:
    """exp, tanh, sigmoid, sqrt save their output; changing it in place must not give a silently
    wrong gradient."""
    for op, name in [(tl.exp, "ExpBackward"), (tl.tanh, "TanhBackward"), (tl.sigmoid, "SigmoidBackward")]:
        x = tl.tensor([0.5, 1.0], requires_grad=True)
        y = op(x)
        y.mul_(2)
        with pytest.raises(RuntimeError, match=name) as info:
            y.sum().backward()
        assert "version" in str(info.value)


def test_modifying_the_base_of_a_saved_view_raises() -> None:
    x = tl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = tl.tensor([5.0, 6.0], requires_grad=True)
    a = x * 1
    row = a[0]  # a view: it shares a's memory and version counter
    z = row * w  # Mul saves the view (for w's gradient)
    a.add_(1)  # changes the view's values too
    np.testing.assert_array_equal(row.detach().numpy(), [2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"MulBackward.*version 1.*expected version 0"):
        z.sum().backward()


def test_modifying_a_saved_output_under_no_grad_raises_too() -> None:
    x = tl.tensor([0.5, 1.0], requires_grad=True)
    y = x.sqrt()
    with tl.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="SqrtBackward"):
        y.sum().backward()


def test_a_saved_output_copied_before_the_update_is_fine() -> None:
    x = tl.tensor([0.5, 1.0], requires_grad=True)
    w = tl.tensor([2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.mul_(w)  # w's gradient needs the old y, so it is kept: exp's backward can use it
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]) * [2.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)


def test_inplace_on_a_tensor_no_backward_needs_is_fine() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a + 1  # Add does not need its inputs' values
    a.add_(10)
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_modifying_an_input_whose_value_no_gradient_needs_is_fine() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    y = a * 2  # d(a*2)/da = 2: a's value is not needed
    a.add_(1)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_inplace_on_a_leaf_that_requires_grad_raises() -> None:
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    updates = [
        lambda: x.add_(1),
        lambda: x.mul_(2),
        lambda: x.zero_(),
        lambda: x.fill_(1.0),
        lambda: x.copy_(tl.ones(2)),
        lambda: x.clamp_(0, 1),
        lambda: x.__setitem__(0, 5.0),
        lambda: x.__iadd__(1),
    ]
    for update in updates:
        with pytest.raises(RuntimeError, match=r"leaf.*no_grad"):
            update()
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])  # nothing was written
    assert x.is_leaf and x.grad_fn is None


def test_inplace_on_a_leaf_inside_no_grad_works_optimizer_style() -> None:
    w = tl.tensor([1.0, -1.0], requires_grad=True)
    for _ in range(3):
        loss = ((w - 3.0) ** 2).sum()
        loss.backward()
        with tl.no_grad():
            w -= 0.25 * w.grad
            w.grad.zero_()
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    # each step halves the distance to 3
    np.testing.assert_allclose(w.detach().numpy(), 3 - np.array([2.0, 4.0]) / 8)
    with tl.no_grad():
        w.mul_(0)
        w[1] = 4.0
        w.fill_(w[1].item())
    np.testing.assert_array_equal(w.detach().numpy(), [4.0, 4.0])
    (w * w).sum().backward()  # the updated leaf still works in a new graph
    np.testing.assert_array_equal(w.grad.numpy(), [8.0, 8.0])


def test_inplace_on_a_view_while_recording_raises() -> None:
    x = tl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = x * 1
    for make_view in (lambda t: t[0], lambda t: t[:, 1], lambda t: t.reshape(4), lambda t: t.T):
        v = make_view(a)
        with pytest.raises(RuntimeError, match="view"):
            v.mul_(2)
    np.testing.assert_array_equal(a.detach().numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_inplace_on_a_view_without_recording_writes_through() -> None:
    t = tl.zeros(2, 3)
    t[0].add_(1)  # basic indexing gives a view, as in PyTorch
    t[:, 2].fill_(5.0)
    np.testing.assert_array_equal(t.numpy(), [[1.0, 1.0, 5.0], [0.0, 0.0, 5.0]])
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    with tl.no_grad():
        x[1:].mul_(10)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 20.0])


def test_inplace_cannot_change_dtype_or_shape() -> None:
    i = tl.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.mul_(1.5)
    a = tl.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="shape"):
        a.add_(tl.ones(3, 2))
    a.retain_grad()  # the failed update left the graph intact
    a.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])


def test_integer_tensor_in_place_updates() -> None:
    i = tl.tensor([1, 2, 3])
    i += 2
    i *= 3
    i[0] = -1
    assert i.tolist() == [-1, 12, 15] and i.dtype == tl.int64
    x = tl.tensor([1.5, -2.5], requires_grad=True)
    i = tl.tensor([0, 0])
    i[0] = x[1] * 2  # copying a grad value into an int tensor: no graph, truncated
    assert i.tolist() == [-5, 0] and not i.requires_grad


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t.tanh(),
        lambda t: t.sigmoid(),
        lambda t: t.exp(),
        lambda t: t.expm1(),
        lambda t: t.abs().sqrt(),
        lambda t: (t.abs() + 1).rsqrt(),
        lambda t: t.softmax(-1),
        lambda t: t.log_softmax(-1),
        lambda t: t.abs() ** t,
    ],
)
def test_an_output_saved_for_backward_survives_when_only_its_consumer_holds_it(op) -> None:
    # The intermediate Tensor object dies as soon as the consumer (matmul) releases its inputs
    # during backward; the producer's backward still needs the output's values.
    tl.manual_seed(0)
    a = tl.randn(5, 4, dtype=tl.float64, requires_grad=True)
    w = tl.randn(3, 4, dtype=tl.float64, requires_grad=True)
    (op(a) @ w.T).sum().backward()
    assert a.grad is not None and w.grad is not None
    inputs = (a.detach().requires_grad_(), w.detach().requires_grad_())
    assert tl.gradcheck(lambda a, w: op(a) @ w.T, inputs)
    assert tl.gradgradcheck(lambda a, w: op(a) @ w.T, inputs)

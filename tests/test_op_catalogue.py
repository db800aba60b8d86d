"""Tests generated from the op catalogue (``tests/op_catalogue.py``).

For every entry and every backend — the CPU, the CuPy test double (``fakecuda``: "cuda"
tensors computed on the CPU, failing on any host/device mixing) and, where CuPy sees a GPU,
real CUDA — hypothesis draws inputs from the entry's strategy and checks:

* the forward pass against the NumPy reference in float64, and in float32 with looser
  tolerances (shape, dtype, device, and ``requires_grad`` only on floating results);
* ``tl.gradcheck`` (first derivatives) and ``tl.gradgradcheck`` (second derivatives).

Then the meta-tests: every Function subclass tinylearn defines is covered by some entry, and
listed in ``tinylearn.ops.FUNCTIONS``; every entry really runs the Functions it claims. Last, a
property test of the one broadcasting rule: the gradient of a broadcast binary op, summed back
over the broadcast axes, has each input's own shape.

The examples are derandomized (the same every run). ``TINYLEARN_CATALOGUE_EXAMPLES`` sets how
many per test (default 10); raise it for a deeper sweep.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinylearn as tl
from tests import fakecupy
from tests.op_catalogue import CATALOGUE, Case, OpSpec, array, broadcastable, distinct, floats, np_sum_to
from tinylearn.autograd import Function

EXAMPLES = int(os.environ.get("TINYLEARN_CATALOGUE_EXAMPLES", "10"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # CI sees the same examples every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
DIFFERENTIABLE = [spec for spec in CATALOGUE if spec.differentiable]


# --------------------------------------------------------------------------- backends


BACKENDS = [
    "cpu",
    "fakecuda",
    # Asked before any test patches the backend: a real GPU is tested as well when there is one.
    *([pytest.param("cuda", marks=pytest.mark.cuda)] if tl.cuda_is_available() else []),
]


@pytest.fixture(params=BACKENDS)
def device(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The device type a test runs on: "cpu", or "cuda" (the CuPy double, or a real GPU)."""
    if request.param == "fakecuda":
        fakecupy.install(monkeypatch)
    return "cpu" if request.param == "cpu" else "cuda"


def _skip_unless_runs_on(spec: OpSpec, device: str) -> None:
    if device not in spec.devices:
        pytest.skip(f"{spec.name} runs on {', '.join(spec.devices)} only")


def _for_each_case(spec: OpSpec, check: Callable[[Case], None], config: settings = SETTINGS) -> None:
    """Run ``check`` on hypothesis-drawn cases of ``spec``."""

    @config
    @given(case=spec.cases)
    def run(case: Case) -> None:
        check(case)

    run()


# --------------------------------------------------------------------------- building the call


def _on(value: Any, device: str, dtype: np.dtype | None = None) -> Any:
    """A case value as tinylearn gets it: arrays become tensors on ``device`` (floating ones
    cast to ``dtype``), tuples are converted item by item, anything else passes through."""
    if isinstance(value, np.ndarray):
        if dtype is not None and value.dtype.kind == "f":
            value = value.astype(dtype)
        return tl.tensor(value).to(device)
    if isinstance(value, tuple):
        return tuple(_on(v, device) for v in value)
    return value


def _rounded(value: Any, dtype: np.dtype) -> Any:
    """A case value rounded to ``dtype`` and back to float64: the numbers a ``dtype`` op really
    sees (Python floats included, as they are cast to the tensor's dtype), for its reference."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype).astype(np.float64)
    if isinstance(value, float):
        return float(dtype.type(value))
    if isinstance(value, tuple):
        return tuple(_rounded(v, dtype) for v in value)
    return value


def _grad_positions(spec: OpSpec, case: Case) -> tuple[int, ...]:
    if spec.grad_args is not None:
        return spec.grad_args
    return tuple(i for i, a in enumerate(case.args) if a.dtype.kind == "f")


def _call(
    spec: OpSpec, case: Case, device: str, dtype: np.dtype, requires_grad: bool
) -> tuple[Callable[..., Any], tuple[tl.Tensor, ...]]:
    """``(fn, args)``: the op as a function of its tensor arguments, and those arguments."""
    grad = _grad_positions(spec, case) if requires_grad else ()
    args = tuple(_on(a, device, dtype).requires_grad_(i in grad) for i, a in enumerate(case.args))
    kwargs = {k: _on(v, device) for k, v in case.kwargs.items()}

    def fn(*xs: tl.Tensor) -> Any:
        return spec.op(*xs, **kwargs)

    fn.__name__ = spec.name
    return fn, args


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, tuple | list) else [out]


def _host(t: tl.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


# --------------------------------------------------------------------------- (a) forward


def _check_forward(
    spec: OpSpec, case: Case, device: str, dtype: np.dtype, rtol: float, atol: float, requires_grad: bool
) -> None:
    fn, args = _call(spec, case, device, dtype, requires_grad)
    outputs = _as_list(fn(*args))
    ref_args = [_rounded(a, dtype) for a in case.args]
    ref_kwargs = {k: _rounded(v, dtype) for k, v in case.kwargs.items()}
    expected = [np.asarray(e) for e in _as_list(spec.ref(*ref_args, **ref_kwargs))]
    assert len(outputs) == len(expected), f"{spec.name}: {len(outputs)} outputs, expected {len(expected)}"
    wants_grad = requires_grad and spec.differentiable and bool(_grad_positions(spec, case))
    for k, (out, exp) in enumerate(zip(outputs, expected, strict=True)):
        where = f"{spec.name}, output {k}"
        assert isinstance(out, tl.Tensor), f"{where}: got {type(out).__name__}, expected a Tensor"
        assert out.device.type == device, f"{where}: on {out.device}, expected {device}"
        assert out.shape == exp.shape, f"{where}: shape {out.shape}, expected {exp.shape}"
        if exp.dtype.kind == "f":
            assert out.dtype == (spec.result_dtype or dtype), f"{where}: dtype {out.dtype}"
            assert out.requires_grad == wants_grad, f"{where}: requires_grad is {out.requires_grad}"
            np.testing.assert_allclose(_host(out), exp, rtol=rtol, atol=atol, err_msg=where)
        else:
            assert out.dtype == exp.dtype, f"{where}: dtype {out.dtype}, expected {exp.dtype}"
            assert not out.requires_grad, f"{where}: a {out.dtype} result cannot require grad"
            np.testing.assert_array_equal(_host(out), exp, err_msg=where)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_forward_float64(spec: OpSpec, device: str) -> None:
    """Matches NumPy in float64, on the right device, and records the graph only for floats."""
    _skip_unless_runs_on(spec, device)
    _for_each_case(
        spec, lambda case: _check_forward(spec, case, device, np.dtype(np.float64), 1e-9, 1e-12, True)
    )


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_forward_float32(spec: OpSpec, device: str) -> None:
    """Stays float32 (no silent upcast) and matches the float64 reference to float32 accuracy."""
    _skip_unless_runs_on(spec, device)
    _for_each_case(
        spec,
        lambda case: _check_forward(
            spec, case, device, np.dtype(np.float32), spec.rtol32, spec.atol32, False
        ),
    )


# --------------------------------------------------------------------------- (b, c) gradients


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=lambda s: s.name)
def test_gradcheck(spec: OpSpec, device: str) -> None:
    _skip_unless_runs_on(spec, device)

    def check(case: Case) -> None:
        fn, args = _call(spec, case, device, np.dtype(np.float64), True)
        assert tl.gradcheck(fn, args, **spec.gradcheck_kwargs)

    _for_each_case(spec, check)


@pytest.mark.parametrize("spec", [s for s in DIFFERENTIABLE if s.gradgrad], ids=lambda s: s.name)
def test_gradgradcheck(spec: OpSpec, device: str) -> None:
    _skip_unless_runs_on(spec, device)

    def check(case: Case) -> None:
        fn, args = _call(spec, case, device, np.dtype(np.float64), True)
        assert tl.gradgradcheck(fn, args, **spec.gradcheck_kwargs)

    _for_each_case(spec, check)


# --------------------------------------------------------------------------- (d) completeness


def _tinylearn_functions() -> set[type[Function]]:
    """Every Function subclass defined in the tinylearn package (all its modules imported)."""
    import tinylearn

    for info in pkgutil.walk_packages(tinylearn.__path__, "tinylearn."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional dependency (numba, cupy, ...) is missing
            continue
    found: set[type[Function]] = set()
    stack = [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return {f for f in found if f.__module__.startswith("tinylearn")}


def _names(functions: set[type[Function]]) -> list[str]:
    return sorted(f"{f.__module__}.{f.__qualname__}" for f in functions)


def test_every_function_is_in_the_catalogue() -> None:
    covered = {f for spec in CATALOGUE for f in spec.functions}
    missing = _tinylearn_functions() - covered
    assert not missing, (
        f"Functions no catalogue entry covers (add one to tests/op_catalogue.py): {_names(missing)}"
    )


def test_every_function_is_listed_in_ops_functions() -> None:
    missing = _tinylearn_functions() - set(tl.ops.FUNCTIONS)
    assert not missing, f"Functions missing from tinylearn.ops.FUNCTIONS: {_names(missing)}"


def test_catalogue_declares_only_tinylearn_functions() -> None:
    known = _tinylearn_functions()
    for spec in CATALOGUE:
        assert set(spec.functions) <= known, f"{spec.name} declares {_names(set(spec.functions) - known)}"


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
def test_entry_runs_the_functions_it_declares(
    spec: OpSpec, device: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keeps the catalogue honest: forward plus a differentiable backward apply every declared Function."""
    _skip_unless_runs_on(spec, device)
    applied: set[type[Function]] = set()
    apply = Function.apply.__func__

    def recording_apply(cls: type[Function], *inputs: tl.Tensor, **params: Any) -> tl.Tensor:
        applied.add(cls)
        return apply(cls, *inputs, **params)

    monkeypatch.setattr(Function, "apply", classmethod(recording_apply))

    def check(case: Case) -> None:
        fn, args = _call(spec, case, device, np.dtype(np.float64), spec.differentiable)
        outputs = [y for y in _as_list(fn(*args)) if y.requires_grad]
        inputs = [x for x in args if x.requires_grad]
        if outputs and inputs:
            tl.autograd.grad(
                outputs, inputs, [tl.ones_like(y) for y in outputs], create_graph=True, allow_unused=True
            )

    _for_each_case(spec, check)
    missing = set(spec.functions) - applied
    assert not missing, f"{spec.name} declares {_names(missing)} but never applied them"


# --------------------------------------------------------------------------- (e) broadcasting


def _partials_max(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (a > b).astype(float), (a < b).astype(float)


def _partials_min(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (a < b).astype(float), (a > b).astype(float)


# op -> (the tinylearn call, the elementwise partial derivatives d/da and d/db in NumPy, the
# domain of a and b: "real", "b_nonzero", "a_positive" or "distinct")
BROADCAST_OPS: dict[str, tuple[Callable, Callable, str]] = {
    "add": (lambda a, b: a + b, lambda a, b: (np.ones_like(a), np.ones_like(b)), "real"),
    "sub": (lambda a, b: a - b, lambda a, b: (np.ones_like(a), -np.ones_like(b)), "real"),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a), "real"),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2), "b_nonzero"),
    "pow": (lambda a, b: a**b, lambda a, b: (b * a ** (b - 1), a**b * np.log(a)), "a_positive"),
    "maximum": (tl.maximum, _partials_max, "distinct"),
    "minimum": (tl.minimum, _partials_min, "distinct"),
}


@pytest.mark.parametrize("name", list(BROADCAST_OPS))
def test_broadcast_gradient_sums_over_broadcast_axes(name: str, device: str) -> None:
    """For broadcastable shapes, d/da Σ w·(a op b) has a's shape and is NumPy's elementwise
    partial derivative times w, summed over the axes along which a was broadcast (same for b)."""
    op, partials, domain = BROADCAST_OPS[name]

    @SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        sa, sb = data.draw(broadcastable(2), label="shapes").input_shapes
        if domain == "distinct":
            a, b = data.draw(distinct(sa, sb), label="a, b")
        else:
            a = data.draw(array(sa, floats(0.1, 2.0) if domain == "a_positive" else floats()), label="a")
            b = data.draw(array(sb, floats(avoid=(0.0,)) if domain == "b_nonzero" else floats()), label="b")
        out_shape = np.broadcast_shapes(sa, sb)
        w = data.draw(array(out_shape), label="w")
        ta, tb = (tl.tensor(v).to(device).requires_grad_() for v in (a, b))
        (op(ta, tb) * tl.tensor(w).to(device)).sum().backward()
        da, db = partials(np.broadcast_to(a, out_shape), np.broadcast_to(b, out_shape))
        for t, v, d in ((ta, a, da), (tb, b, db)):
            assert t.grad.shape == v.shape and t.grad.device == t.device
            np.testing.assert_allclose(_host(t.grad), np_sum_to(d * w, v.shape), rtol=1e-10, atol=1e-12)

    run()


# --------------------------------------------------------------------------- conventions at kinks

# The catalogue draws inputs away from kinks and ties, where finite differences cannot decide.
# There the gradient is a convention; these are PyTorch's: (name, f, x, d/dx sum(f(x))).
KINK_CONVENTIONS = [
    ("relu is flat at 0", lambda x: x.relu(), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    ("abs has slope 0 at 0", abs, [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    ("clamp passes the gradient at its bounds", lambda x: x.clamp(-1.0, 1.0), [-1.0, 0.0, 1.0, 2.0],
     [1.0, 1.0, 1.0, 0.0]),
    ("amax shares ties equally", lambda x: x.amax(), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    ("max() shares ties equally", lambda x: x.max(), [3.0, 3.0, 3.0, 1.0], [1 / 3, 1 / 3, 1 / 3, 0.0]),
    ("amin shares ties equally", lambda x: x.amin(0), [2.0, 1.0, 1.0], [0.0, 0.5, 0.5]),
    ("maximum splits a tie in half", lambda x: tl.maximum(x[:2], x[2:]), [1.0, 2.0, 1.0, 0.0],
     [0.5, 1.0, 0.5, 0.0]),
    ("minimum splits a tie in half", lambda x: tl.minimum(x[:2], x[2:]), [1.0, 2.0, 1.0, 0.0],
     [0.5, 0.0, 0.5, 1.0]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fn", "x", "expected"), KINK_CONVENTIONS, ids=[k[0] for k in KINK_CONVENTIONS]
)
def test_gradient_convention_at_kinks(name: str, fn: Callable, x: list, expected: list, device: str) -> None:
    t = tl.tensor(x, dtype=tl.float64).to(device).requires_grad_()
    fn(t).sum().backward()
    np.testing.assert_allclose(_host(t.grad), expected, rtol=1e-12, err_msg=name)


def test_max_with_dim_sends_the_gradient_to_the_returned_index(device: str) -> None:
    """With ties, max(dim) picks one index; the gradient goes there, and only there."""
    t = tl.tensor([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]], dtype=tl.float64).to(device).requires_grad_()
    values, indices = t.max(1)
    values.sum().backward()
    expected = np.zeros((2, 3))
    expected[[0, 1], _host(indices)] = 1.0
    np.testing.assert_array_equal(_host(t.grad), expected)

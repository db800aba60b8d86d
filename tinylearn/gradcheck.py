"""Checking gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

A wrong backward rule does not crash: the model just learns badly. ``gradcheck`` compares
what autograd computes (the *analytical* gradient) with what the definition of the derivative
gives (the *numerical* gradient), and names the entry where they disagree.

**Central differences.** Nudge one input element xⱼ by ±ε and watch the outputs:

    ∂f/∂xⱼ ≈ (f(x + ε·eⱼ) − f(x − ε·eⱼ)) / (2ε)          (eⱼ: the j-th unit vector)

By Taylor's theorem the ε² terms cancel, so the error is O(ε²); the one-sided quotient
(f(x + ε·eⱼ) − f(x)) / ε is only O(ε). One pair of forward passes per input element gives one
row of the numerical Jacobian; one backward pass per output element (a vector-Jacobian
product with a one-hot ``grad_output``) gives one column of the analytical Jacobian. They must
agree entry by entry:

    |analytical − numerical| ≤ atol + rtol·|numerical|

**Why float64.** The quotient divides the rounding error of f by 2ε. In float32 f is rounded
to about 6e-8·|f|, so with ε = 1e-6 the numerical derivative is wrong by a few percent, and no
choice of ε gets more than about 5 digits. In float64 (rounding about 1e-16) ε = 1e-6 gives
about 10 correct digits. So gradcheck computes in float64: floating inputs of another dtype
are replaced by float64 copies (``x.detach().to(float64).requires_grad_(x.requires_grad)``)
before anything runs. float64 inputs are used as they are: their elements are perturbed in
place and restored exactly.

**Fast mode** checks one random direction instead of the whole Jacobian J: with seeded
random unit vectors u (per input) and v (per output) it compares

    vᵀ·(f(x + εu) − f(x − εu)) / (2ε)     with     (vᵀJ)·u  (one backward pass with grad_output v)

— two forward passes per input and one backward pass per output, instead of two per input
element and one per output element. When the two disagree, the full Jacobian of that input
and output is computed to name the worst entry.

**Kinks.** At a point where f is not differentiable (ReLU at 0, |x| at 0, a tie in max) the
central difference averages the two one-sided slopes (ReLU at 0: 0.5), while autograd returns
one conventional value (0 or 1). Such a mismatch is no bug, but no finite difference can
confirm the convention either. So when an entry disagrees, gradcheck also measures the
one-sided slopes (f(x) − f(x − h·eⱼ))/h and (f(x + h·eⱼ) − f(x))/h there, with h = ε and 2ε.
If they differ from each other but not with h, the failure message says that the entry lies
on a kink; if they change with h, it says the numerical derivative is unreliable there
(rounding noise, typically float32 inside ``fn``). The check still fails either way: draw
test inputs away from kinks with :func:`dodge_kinks`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd, backend
from . import dtypes as _dt
from .tensor import Tensor

__all__ = ["GradcheckError", "dodge_kinks", "gradcheck", "gradgradcheck"]

# Fast mode's random directions and gradgradcheck's random grad_outputs come from a generator
# of their own with this seed: every run checks the same thing, and the user's random stream
# (tinylearn.manual_seed) is left alone.
_SEED = 0


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree (or the backward is not reproducible)."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
) -> bool:
    """Check the gradients autograd computes for ``fn`` against central finite differences.

    ``inputs`` is a Tensor or a tuple of arguments for ``fn``; the floating Tensors among them
    with ``requires_grad=True`` are the ones differentiated (other arguments are passed through
    unchanged). Everything is computed in float64 (see the module docstring for why). ``fn`` may
    return a Tensor or a tuple; every floating-point output is checked against every
    differentiated input:

    * each entry of the Jacobian, ``|analytical − numerical| ≤ atol + rtol·|numerical|``, where
      the numerical value is (f(x + ε·eⱼ) − f(x − ε·eⱼ)) / (2ε) with ε = ``eps`` — or, with
      ``fast_mode=True``, one random directional derivative vᵀJu per input and output;
    * the gradient of each input has the input's shape, dtype and device;
    * running the backward twice gives the same result within ``nondet_tol`` (a backward must
      be reproducible);
    * an output that does not require grad counts as having zero gradient, so a graph cut by
      ``no_grad()``, ``.data`` or raw array math fails with a message that says so.

    The finite differences call ``fn`` under ``no_grad()`` (no graph is needed there); a ``fn``
    that differentiates something itself must wrap that in ``tinylearn.enable_grad()``.

    Returns True when everything agrees. Otherwise raises :class:`GradcheckError`, whose message
    names the function, the input and output (number and shape), the worst entry (an index
    into each), both values there, the error and the tolerances — or returns False when
    ``raise_exception=False``.
    """
    check = _Check(fn, _to_float64(_as_tuple(inputs)), eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol)
    try:
        check.run(fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    gen_non_contig_grad_outputs: bool = False,
) -> bool:
    """Check second derivatives: :func:`gradcheck` applied to the backward pass of ``fn``.

    The function checked is the vector-Jacobian product

        vjp(*inputs, *grad_outputs) = autograd.grad(fn(*inputs), differentiable inputs,
                                                    grad_outputs, create_graph=True)

    whose inputs are ``fn``'s inputs and the ``grad_outputs`` (one per output of ``fn`` that
    requires grad). Its Jacobian holds the second derivatives of ``fn``, so this fails when a
    backward rule is right to first order but not itself differentiable — for instance one that
    computes with raw arrays instead of Tensor ops. As in PyTorch, the gradients of inputs that
    ``fn`` does not use (None) are left out of vjp's outputs.

    Without ``grad_outputs``, random ones are drawn (uniform in [-1, 1), float64, seeded,
    ``requires_grad=True``; non-contiguous views when ``gen_non_contig_grad_outputs``). The
    other arguments are as in :func:`gradcheck`.
    """
    inputs = _to_float64(_as_tuple(inputs))
    diff = _differentiable_inputs(inputs)
    if grad_outputs is None:
        with autograd.enable_grad():
            outputs = _as_tuple(fn(*inputs))
        rng = np.random.default_rng(_SEED)
        grad_outputs = tuple(
            _random_grad_output(y, rng, gen_non_contig_grad_outputs) for y in outputs if _requires_grad(y)
        )
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)

    def vjp(*args: Any) -> tuple[Tensor, ...]:
        xs, gs = args[:n_inputs], args[n_inputs:]
        with autograd.enable_grad():  # gradcheck's finite differences run under no_grad()
            ys = [y for y in _as_tuple(fn(*xs)) if _requires_grad(y)]
            grads = autograd.grad(ys, [xs[i] for i in diff], gs, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    vjp.__name__ = vjp.__qualname__ = f"the vector-Jacobian product of {_fn_name(fn)}"
    return gradcheck(
        vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode,
        raise_exception=raise_exception, nondet_tol=nondet_tol,
    )


def dodge_kinks(
    x: Tensor, kinks: Sequence[float] = (0.0,), margin: float = 1e-3, distinct: bool = False
) -> Tensor:
    """A copy of ``x`` whose values keep at least ``margin`` away from the ``kinks``.

    For drawing gradcheck inputs where the function is differentiable. Each value closer than
    ``margin`` to a kink (relu and abs: 0; clamp: its bounds) moves to kink ± margin, on its own
    side (a value exactly on the kink goes up). With ``distinct=True`` the values are first
    spread, in their sorted order, to be at least 2·margin apart, so that max, min and sort see
    no ties. ``margin`` must be far larger than gradcheck's ``eps`` and the kinks farther than
    4·margin apart. Same dtype, device and ``requires_grad`` as ``x``.
    """
    values = np.array(backend.to_device(x.detach().data, backend.CPU), dtype=np.float64)
    flat = values.reshape(-1)  # a view: editing flat edits values
    if distinct and flat.size > 1:
        order = np.argsort(flat, kind="stable")
        # Sorted s₀ ≤ s₁ ≤ …: s'ₖ = 2mk + max_{j≤k}(sⱼ − 2mj) keeps the order, leaves values that are
        # already far enough apart unchanged, and makes s'ₖ − s'ₖ₋₁ ≥ 2m.
        steps = 2 * margin * np.arange(flat.size)
        flat[order] = np.maximum.accumulate(flat[order] - steps) + steps
    for kink in kinks:
        near = np.abs(flat - kink) < margin
        flat[near] = kink + np.where(flat[near] < kink, -margin, margin)
    return Tensor(values, dtype=x.dtype, device=x.device).requires_grad_(x.requires_grad)


# --------------------------------------------------------------------------- the check


class _Check:
    """One gradcheck: ``fn``, its (float64) inputs, the tolerances, and the steps of the check."""

    def __init__(
        self, fn: Callable[..., Any], inputs: tuple[Any, ...], *, eps: float, atol: float, rtol: float,
        nondet_tol: float,
    ) -> None:
        if eps <= 0:
            raise ValueError(f"gradcheck: eps must be positive, got {eps}")
        self.fn, self.inputs, self.name = fn, inputs, _fn_name(fn)
        self.eps, self.atol, self.rtol, self.nondet_tol = eps, atol, rtol, nondet_tol
        self.diff = _differentiable_inputs(inputs)

    def run(self, fast_mode: bool) -> None:
        with autograd.enable_grad():  # the graph the analytical gradients come from
            self.outputs = _as_tuple(self.fn(*self.inputs))
        # Every floating output is checked; integer outputs (indices, counts) have no gradient.
        self.checked = [k for k, y in enumerate(self.outputs) if _is_float_tensor(y)]
        self.fast() if fast_mode else self.full()

    # ------------------------------------------------------------------ the two modes
    def full(self, only: tuple[int, int] | None = None) -> None:
        """Compare the whole Jacobian of every (input, output) pair (or of the pair ``only``)."""
        inputs, outputs = (self.diff, self.checked) if only is None else ([only[0]], [only[1]])
        numerical = {i: self._numerical_jacobian(i) for i in inputs}
        for k in outputs:
            analytical = self._analytical_jacobian(k)
            for i in inputs:
                self._compare(i, k, analytical[i], numerical[i][k])

    def fast(self) -> None:
        """Compare one random directional derivative vᵀJu per (input, output) pair."""
        rng = np.random.default_rng(_SEED)
        u = {i: _unit_vector(rng, self.inputs[i].shape) for i in self.diff}
        v = {k: _unit_vector(rng, self.outputs[k].shape) for k in self.checked}
        numerical = {}  # i -> k -> vᵀ·(f(x + εu) − f(x − εu)) / (2ε)
        for i in self.diff:
            step = backend.to_device(self.eps * u[i], self.inputs[i].device)
            plus, minus = self._evaluate_shifted(i, ..., step), self._evaluate_shifted(i, ..., -step)
            numerical[i] = {
                k: float(v[k].ravel() @ (plus[k] - minus[k]).ravel()) / (2 * self.eps) for k in self.checked
            }
        for k in self.checked:
            y = self.outputs[k]
            v_k = Tensor._make(backend.to_device(v[k].astype(y.dtype), y.device))
            gradients = self._vjp(k, v_k)  # i -> vᵀJ, flattened
            for i in self.diff:
                a, n = float(gradients[i] @ u[i].ravel()), numerical[i][k]
                # |vᵀ(A − N)u| ≤ Σᵢⱼ|vᵢ|·atol·|uⱼ| when every entry of A − N is within atol.
                atol = self.atol * np.abs(u[i]).sum() * np.abs(v[k]).sum()
                if not abs(a - n) <= atol + self.rtol * abs(n):
                    self.full(only=(i, k))  # raises, naming the worst entry, if any entry disagrees
                    raise GradcheckError(self._fast_message(i, k, a, n, atol))

    # ------------------------------------------------------------------ numerical side
    def _evaluate(self) -> dict[int, np.ndarray]:
        """The checked outputs of ``fn`` at the current input values, as float64 host copies."""
        with autograd.no_grad():
            outputs = _as_tuple(self.fn(*self.inputs))
        return {k: _host(outputs[k]) for k in self.checked}

    def _evaluate_shifted(self, i: int, index: Any, delta: Any) -> dict[int, np.ndarray]:
        """The outputs with ``inputs[i].data[index]`` moved by ``delta`` (a number or an array).

        The change is written straight into the array (no Tensor op, so nothing is recorded)
        and undone afterwards by writing back the saved original values, bit for bit.
        """
        data = self.inputs[i].data
        original = data[index].copy()
        data[index] = original + delta
        try:
            return self._evaluate()
        finally:
            data[index] = original

    def _numerical_jacobian(self, i: int) -> dict[int, np.ndarray]:
        """k -> (numel of input i, numel of output k): row j is (f(x + εeⱼ) − f(x − εeⱼ)) / 2ε."""
        x = self.inputs[i]
        jacobian = {k: np.zeros((x.numel(), self.outputs[k].numel())) for k in self.checked}
        for j, index in enumerate(np.ndindex(x.shape)):
            plus = self._evaluate_shifted(i, index, self.eps)
            minus = self._evaluate_shifted(i, index, -self.eps)
            for k in self.checked:
                jacobian[k][j] = ((plus[k] - minus[k]) / (2 * self.eps)).ravel()
        return jacobian

    def _one_sided(self, i: int, k: int, in_index: tuple, out_index: tuple) -> list[tuple[float, float]]:
        """The left and right quotients (f(x) − f(x − heⱼ))/h and (f(x + heⱼ) − f(x))/h for h = ε, 2ε."""
        base = self._evaluate()[k][out_index]
        slopes = []
        for h in (self.eps, 2 * self.eps):
            plus = self._evaluate_shifted(i, in_index, h)[k][out_index]
            minus = self._evaluate_shifted(i, in_index, -h)[k][out_index]
            slopes.append((float(base - minus) / h, float(plus - base) / h))
        return slopes

    def _local_note(self, i: int, k: int, in_index: tuple, out_index: tuple) -> list[str]:
        """Why the numerical derivative may be misleading at a mismatching entry, if it can tell.

        On a kink the one-sided slopes differ from each other but not from their values with
        twice the step. Slopes that change with the step mean f is not smooth at the scale of ε:
        rounding noise, or a kink within ε. Where f is smooth, nothing is said.
        """

        def close(p: float, q: float) -> bool:
            return abs(p - q) <= self.atol + self.rtol * max(abs(p), abs(q))

        (left, right), (left2, right2) = self._one_sided(i, k, in_index, out_index)
        if not (close(left, left2) and close(right, right2)):
            return [
                f"  note: the numerical derivative is unreliable here: the one-sided slopes are {left:.6g} "
                f"(left) and {right:.6g} (right) with step eps, {left2:.6g} and {right2:.6g} with 2*eps. "
                "f is not smooth at the scale of eps: rounding noise (does fn compute in float32 "
                "somewhere?) or a kink closer than eps to this point."
            ]
        if not close(left, right):
            return [
                f"  (input {i}, index {in_index} lies on a kink: left derivative {left:.10g}, right "
                f"derivative {right:.10g}) — the gradient there is a convention that finite differences "
                "cannot confirm; draw inputs away from kinks (from tinylearn.gradcheck import dodge_kinks)"
            ]
        return []

    # ------------------------------------------------------------------ analytical side
    def _analytical_jacobian(self, k: int) -> dict[int, np.ndarray]:
        """i -> (numel of input i, numel of output k): column m is the gradient of output element m."""
        y = self.outputs[k]
        jacobian = {i: np.zeros((self.inputs[i].numel(), y.numel())) for i in self.diff}
        if not y.requires_grad:  # a cut graph: autograd sees no dependence at all
            return jacobian
        for m, index in enumerate(np.ndindex(y.shape)):
            one_hot = backend.get_array_module(y.data).zeros_like(y.data)
            one_hot[index] = 1
            for i, g in self._vjp(k, Tensor._make(one_hot)).items():
                jacobian[i][:, m] = g
        return jacobian

    def _vjp(self, k: int, v: Tensor) -> dict[int, np.ndarray]:
        """i -> vᵀ·∂(output k)/∂(input i), flattened on the host; run twice to check reproducibility."""
        if not self.outputs[k].requires_grad:
            return {i: np.zeros(self.inputs[i].numel()) for i in self.diff}
        first, second = self._vjp_once(k, v), self._vjp_once(k, v)
        for i in self.diff:
            gap = np.abs(first[i] - second[i])
            same = (gap <= self.nondet_tol) | (np.isnan(first[i]) & np.isnan(second[i]))
            if not same.all():
                j = int(np.argmax(np.where(same, -1.0, np.nan_to_num(gap, nan=np.inf))))
                raise GradcheckError(
                    f"gradcheck failed for {self.name}: the backward is not reproducible. Running it "
                    f"twice with the same grad_output for output {k} gave different gradients for input "
                    f"{i} (shape {tuple(self.inputs[i].shape)}): at index {_index(j, self.inputs[i].shape)} "
                    f"first {first[i][j]:.10g}, then {second[i][j]:.10g} (difference {gap[j]:.3e} > "
                    f"nondet_tol={self.nondet_tol}). A backward must be deterministic; pass nondet_tol "
                    "if it is nondeterministic on purpose."
                )
        return first

    def _vjp_once(self, k: int, v: Tensor) -> dict[int, np.ndarray]:
        xs = [self.inputs[i] for i in self.diff]
        grads = autograd.grad(self.outputs[k], xs, v, retain_graph=True, allow_unused=True)
        result = {}
        for i, x, g in zip(self.diff, xs, grads, strict=True):
            if g is not None:
                self._check_gradient_type(i, x, g)
            result[i] = np.zeros(x.numel()) if g is None else _host(g).ravel()
        return result

    def _check_gradient_type(self, i: int, x: Tensor, g: Tensor) -> None:
        for what, got, expected in (("shape", g.shape, x.shape), ("dtype", g.dtype, x.dtype),
                                    ("device", g.device, x.device)):
            if got != expected:
                raise GradcheckError(
                    f"gradcheck failed for {self.name}: the gradient of input {i} has {what} {got}, but "
                    f"the input has {what} {expected}; a backward rule must return gradients of its "
                    "input's shape, dtype and device"
                )

    # ------------------------------------------------------------------ comparing and reporting
    def _compare(self, i: int, k: int, analytical: np.ndarray, numerical: np.ndarray) -> None:
        """Raise, naming the worst entry, unless |a − n| ≤ atol + rtol·|n| everywhere (NaN fails)."""
        error = np.abs(analytical - numerical)
        bad = ~(error <= self.atol + self.rtol * np.abs(numerical))
        if not bad.any():
            return
        j, m = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0)), bad.shape)
        x, y = self.inputs[i], self.outputs[k]
        in_index, out_index = _index(j, x.shape), _index(m, y.shape)
        a, n = analytical[j, m], numerical[j, m]
        lines = [
            f"gradcheck failed for {self.name}: Jacobian mismatch for output {k} (shape {tuple(y.shape)}) "
            f"with respect to input {i} (shape {tuple(x.shape)}).",
            f"  worst entry: d output[{out_index}] / d input[{in_index}]",
            f"    analytical (autograd):           {a:.10g}",
            f"    numerical (central differences): {n:.10g}",
            f"  max abs error {error[j, m]:.3e} > atol + rtol*|numerical| "
            f"(atol={self.atol}, rtol={self.rtol}); {int(bad.sum())} of {bad.size} Jacobian entries disagree",
        ]
        lines += self._local_note(i, k, in_index, out_index) + self._notes(k)
        raise GradcheckError("\n".join(lines))

    def _fast_message(self, i: int, k: int, a: float, n: float, atol: float) -> str:
        x, y = self.inputs[i], self.outputs[k]
        lines = [
            f"gradcheck failed for {self.name} (fast mode): the directional derivative vᵀJu of output {k} "
            f"(shape {tuple(y.shape)}) with respect to input {i} (shape {tuple(x.shape)}) disagrees.",
            f"    analytical (autograd):           {a:.10g}",
            f"    numerical (central differences): {n:.10g}",
            f"  abs error {abs(a - n):.3e} > atol·Σ|u|·Σ|v| + rtol*|numerical| "
            f"({atol:.3e} + {self.rtol}*|numerical|).",
            "  Every entry of the full Jacobian agrees within atol and rtol, so this is a tolerance effect "
            "of the random direction: rerun with fast_mode=False.",
        ]
        return "\n".join(lines + self._notes(k))

    def _notes(self, k: int) -> list[str]:
        """Likely causes worth naming next to a mismatch."""
        y = self.outputs[k]
        notes = []
        if not y.requires_grad:
            notes.append(
                f"  note: output {k} does not require grad, so autograd's gradient is zero: its graph was "
                "cut (computed under no_grad(), from .data or raw arrays, or detached). A backward written "
                "with array math instead of Tensor ops does this to gradgradcheck."
            )
        if y.dtype != _dt.float64:
            notes.append(
                f"  note: output {k} is {y.dtype}; finite differences need float64 all the way through"
            )
        return notes


# --------------------------------------------------------------------------- small helpers


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _is_float_tensor(x: Any) -> bool:
    return isinstance(x, Tensor) and x.is_floating_point()


def _requires_grad(x: Any) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _differentiable_inputs(inputs: tuple[Any, ...]) -> list[int]:
    diff = [i for i, x in enumerate(inputs) if _requires_grad(x)]
    if not diff:
        raise ValueError(
            "gradcheck expects at least one input Tensor to require gradient, but none of them has "
            "requires_grad=True"
        )
    return diff


def _to_float64(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Replace floating Tensors of another dtype by float64 copies (keeping ``requires_grad``)."""
    return tuple(
        x.detach().to(_dt.float64).requires_grad_(x.requires_grad)
        if _is_float_tensor(x) and x.dtype != _dt.float64
        else x
        for x in inputs
    )


def _fn_name(fn: Callable[..., Any]) -> str:
    # A Function's apply is named after its class ("BadSquare.apply"), not "apply" or "Function.apply".
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and getattr(fn, "__name__", None):
        return f"{owner.__name__}.{fn.__name__}"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name.rsplit("<locals>.", 1)[-1] if name else repr(fn)


def _host(t: Tensor) -> np.ndarray:
    """A float64 NumPy copy of a tensor's values, wherever they live."""
    return np.array(backend.to_device(t.data, backend.CPU), dtype=np.float64)


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A flat (C-order) position as an index tuple into ``shape``."""
    return tuple(int(v) for v in np.unravel_index(flat, shape))


def _unit_vector(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random direction of length 1 (normal draws, normalised), as a host array of ``shape``."""
    w = rng.standard_normal(shape)
    norm = np.linalg.norm(w)
    return w / norm if norm > 0 else w


def _random_grad_output(y: Tensor, rng: np.random.Generator, non_contiguous: bool) -> Tensor:
    """Uniform values in [-1, 1) shaped like ``y``: float64, on y's device, requiring grad."""
    shape = tuple(y.shape) + ((2,) if non_contiguous else ())
    data = backend.to_device(rng.uniform(-1.0, 1.0, shape), y.device)
    return Tensor._make(data[..., 0] if non_contiguous else data).requires_grad_()

"""Reverse-mode automatic differentiation.

The whole protocol fits on a screen:

* A :class:`Function` is one differentiable primitive. ``forward`` computes on raw arrays
  (NumPy or CuPy); ``backward`` turns the gradient of the output into gradients of the inputs
  and is written with Tensor ops, so it can itself be differentiated (``create_graph=True``).
* ``Function.apply`` runs ``forward`` and, when a gradient is wanted, records the node: the
  output's ``grad_fn`` is the function, and the function's ``next_functions`` are the nodes that
  produced its inputs (or an :class:`AccumulateGrad` for a leaf tensor).
* :func:`backward` sorts the nodes reachable from the output in topological order (iteratively:
  a chain of 100,000 ops is fine), then visits them once each, outputs first, summing the
  gradient contributions that reach every node before calling its ``backward``.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = [
    "Function",
    "backward",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]

# --------------------------------------------------------------------------- grad mode

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default); False inside ``no_grad()``."""
    return _grad_enabled


class _GradMode:
    """Set the grad mode to ``self.mode`` inside a ``with`` block, restoring it on exit.

    As a decorator each call enters a fresh copy (:meth:`clone`), so a decorated function may
    call itself, or be called inside another mode, and the mode it found is restored.
    """

    mode: bool

    def __new__(cls, func: Callable | None = None, *args, **kwargs):
        """``@no_grad`` works without parentheses too, as in PyTorch (``set_grad_enabled``'s
        arguments pass on to its ``__init__``)."""
        self = super().__new__(cls)
        return self(func) if callable(func) else self

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, self.mode

    def __exit__(self, *exc) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def clone(self) -> _GradMode:
        return type(self)()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def run_in_mode(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return run_in_mode


class no_grad(_GradMode):
    """Inside ``with no_grad():`` (or a function decorated with ``@no_grad()``) no graph is recorded."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` region (a context manager or a decorator)."""

    mode = True


class set_grad_enabled(_GradMode):
    """Switch graph recording on or off: a context manager, a decorator, or a plain call.

    As in PyTorch, constructing it switches at once (so ``set_grad_enabled(False)`` alone works);
    leaving the ``with`` block restores the mode from before, and decorating switches nothing.
    """

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.prev, self.mode = _grad_enabled, bool(mode)
        _grad_enabled = self.mode

    def __enter__(self) -> None:  # ``prev`` was saved when the object was made
        global _grad_enabled
        _grad_enabled = self.mode

    def __call__(self, func: Callable) -> Callable:
        global _grad_enabled
        _grad_enabled = self.prev  # undo the switch made by __init__: only calls of func switch
        return super().__call__(func)

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)


# --------------------------------------------------------------------------- graph nodes

_FREED = (
    "Trying to backward through the graph a second time (or to use saved tensors after they "
    "were freed): {name} already ran its backward and released what it saved. Pass "
    "retain_graph=True to the first backward() (or autograd.grad) if you need to backward "
    "through the same graph again."
)


class Function:
    """One differentiable primitive. Subclasses define ``forward`` and ``backward``.

    ``forward(self, *arrays)`` receives the inputs' arrays and returns the output array; it may
    keep whatever ``backward`` needs on ``self``. Keyword arguments of :meth:`apply` (axes,
    shapes, ...) are set as attributes before ``forward`` runs.

    ``backward(self, grad_output)`` receives the output's gradient as a Tensor and returns one
    gradient (a Tensor, or None when not differentiable) per input, computed with Tensor ops.
    It reads input values through ``self.saved(i)`` (or all of them through
    ``self.saved_tensors``) and the output through ``self.saved_output``: each checks that no
    in-place op modified the tensor since the forward. ``self.needs_input_grad`` says which
    gradients are wanted; return None for the others.
    """

    # Ops whose output shares memory with their first input (reshape, transpose, slicing, ...)
    # set this: the output then shares the input's version counter, so an in-place change of
    # either one is seen by every function that saved the other.
    is_view = False

    def __init__(self, **params) -> None:
        self.__dict__.update(params)

    # The two methods every primitive writes.
    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, grad_output: Tensor) -> Tensor | tuple[Tensor | None, ...] | None:
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run the op on Tensors and, if any input requires grad, record it in the graph."""
        fn = cls(**params)
        if len(inputs) > 1:
            _tensor.check_same_device(cls.__name__, inputs)
        out = _tensor.Tensor._make(fn.forward(*[x.data for x in inputs]))
        if fn.is_view:
            out._version = inputs[0]._version
            out._is_view = True
        # Only floating outputs carry gradients (casts to int, comparisons, argmax are constants).
        if _grad_enabled and out.dtype.kind == "f" and any(x.requires_grad for x in inputs):
            out.requires_grad = True
            out.grad_fn = fn
            fn.inputs = inputs
            fn.next_functions = tuple(x._grad_edge() for x in inputs)
            fn._versions = tuple(x._version[0] for x in inputs)
            fn._set_output(out)
        return out

    def _set_output(self, out: Tensor) -> None:
        """Remember the output: its array and version counter (for ``saved_output``) strongly, the
        Tensor object itself weakly (for its hooks and ``retain_grad``; a strong reference would be
        a cycle out -> grad_fn -> out)."""
        self._output = weakref.ref(out)
        self._output_data, self._output_counter = out.data, out._version
        self._output_version = out._version[0]

    @property
    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Which inputs want a gradient: a backward may return None for the others (and skip
        computing them)."""
        return tuple(edge is not None for edge in self.next_functions)

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        """The input Tensors, after checking that no in-place op changed them since forward."""
        inputs = self.inputs
        if inputs is None:
            raise RuntimeError(_FREED.format(name=self.name))
        for i in range(len(inputs)):
            self.saved(i)
        return inputs

    def saved(self, i: int) -> Tensor:
        """Input ``i``, after checking that no in-place op changed it since forward. Read only
        the inputs whose values a gradient needs: modifying one that is not read is allowed."""
        if self.inputs is None:
            raise RuntimeError(_FREED.format(name=self.name))
        x, v = self.inputs[i], self._versions[i]
        if x._version[0] != v:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"in-place operation: input {i} of {self.name}, a Tensor of shape "
                f"{tuple(x.shape)}, is at version {x._version[0]}; expected version {v}. "
                "Use the out-of-place op (e.g. x = x + 1 instead of x.add_(1)) or .clone() first."
            )
        return x

    @property
    def saved_output(self) -> Tensor:
        """The output, after the same in-place check. If the user's Tensor object is gone (only
        its array was needed downstream), an equivalent one is rebuilt: same array, same version
        counter, and this node as its ``grad_fn``, so higher-order gradients still flow through it."""
        from .tensor import Tensor

        if self.inputs is None:
            raise RuntimeError(_FREED.format(name=self.name))
        data, counter = self._output_data, self._output_counter
        if counter[0] != self._output_version:
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an in-place "
                f"operation: the output of {self.name}, a Tensor of shape {tuple(data.shape)}, is at "
                f"version {counter[0]}; expected version {self._output_version}. Use an out-of-place "
                "op or .clone() it first."
            )
        out = self._output()
        if out is None or out.data is not data:
            out = Tensor._make(data)
            out.requires_grad, out.grad_fn, out._version = True, self, counter
        return out

    def _release(self) -> None:
        """Drop what the backward needed, so memory is freed and a second backward is caught."""
        keep = {"next_functions": self.next_functions, "_output": self._output, "inputs": None}
        self.__dict__.clear()
        self.__dict__.update(keep)


class AccumulateGrad:
    """The graph node of a leaf tensor: adds the gradient that reaches it into ``leaf.grad``."""

    next_functions: tuple = ()
    name = "AccumulateGrad"

    def __init__(self, leaf: Tensor) -> None:
        self.variable = leaf

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


# --------------------------------------------------------------------------- the backward pass


def _topological_order(roots: Sequence) -> list:
    """Every node reachable from ``roots``, each after all nodes that feed gradient into it.

    Iterative depth-first search (no recursion, so no recursion limit): a node is appended
    once all its ``next_functions`` are done; reversing the list puts outputs first.
    """
    order, visited = [], set()
    for root in roots:
        if root is None or root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child is not None and child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _run_hooks(tensor: Tensor, grad: Tensor) -> Tensor:
    for hook in tensor._hooks.values():
        new = hook(grad)
        if new is not None:
            grad = new
    return grad


def _accumulate(tensor: Tensor, grad: Tensor, create_graph: bool) -> None:
    """``tensor.grad += grad``: a fresh tensor first time, in place after, out of place when
    ``create_graph`` (so the accumulated gradient keeps its own graph)."""
    from .tensor import Tensor

    if tensor.grad is None:
        tensor.grad = grad if create_graph else Tensor._make(grad.data.copy())
    elif create_graph or tensor.grad.requires_grad:
        tensor.grad = tensor.grad + grad
    else:
        tensor.grad.data += grad.data


def _engine(roots, root_grads, retain_graph: bool, create_graph: bool, capture=None):
    """Propagate ``root_grads`` from ``roots`` (output Tensors) back through the graph.

    With ``capture`` (a dict node -> None) the gradients reaching those nodes are stored there
    and leaves are left untouched (that is :func:`grad`); otherwise leaves accumulate ``.grad``.
    """
    grads: dict = {}
    for t, g in zip(roots, root_grads, strict=True):
        node = t.grad_fn if t.grad_fn is not None else t._grad_edge()
        grads[node] = grads[node] + g if node in grads else g
    order = _topological_order(list(grads))
    with set_grad_enabled(create_graph):
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                continue
            if isinstance(node, AccumulateGrad):
                g = _run_hooks(node.variable, g)
                if capture is None:
                    _accumulate(node.variable, g, create_graph)
                elif node in capture:
                    capture[node] = g
                continue
            if node.inputs is None:
                raise RuntimeError(_FREED.format(name=node.name))
            out = node._output()
            if out is not None:
                g = _run_hooks(out, g)
                if out._retains_grad and capture is None:
                    _accumulate(out, g, create_graph)
            if capture is not None and node in capture:
                capture[node] = g
            inputs = node.inputs
            input_grads = node.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if not retain_graph:
                node._release()
            for child, x, gx in zip(node.next_functions, inputs, input_grads, strict=True):
                if child is None or gx is None:
                    continue
                if gx.shape != x.shape:
                    raise RuntimeError(
                        f"{node.name} returned a gradient of shape {tuple(gx.shape)} for an input of "
                        f"shape {tuple(x.shape)}: a backward rule is wrong"
                    )
                grads[child] = grads[child] + gx if child in grads else gx


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf they depend on."""
    tensors, grads = _prepare(tensors, grad_tensors, "backward")
    _engine(tensors, grads, create_graph if retain_graph is None else retain_graph, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of stored.

    ``.grad`` of the leaves is left untouched. With ``create_graph=True`` the returned
    gradients are differentiable themselves (for Hessian-vector products, gradient penalties,
    Newton's method).
    """
    from .tensor import Tensor

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad, so it has no gradient")
    outputs, grads = _prepare(outputs, grad_outputs, "autograd.grad")
    nodes = [x.grad_fn if x.grad_fn is not None else x._grad_edge() for x in inputs]
    capture = dict.fromkeys(nodes)
    _engine(outputs, grads, create_graph if retain_graph is None else retain_graph, create_graph, capture)
    result = []
    for i, node in enumerate(nodes):
        g = capture[node]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {tuple(inputs[i].shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)


def _prepare(tensors, grad_tensors, who: str):
    from .tensor import Tensor, ones_like

    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"{who}: got {len(tensors)} outputs but {len(grad_tensors)} gradients")
    out = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors, strict=True)):
        if not t.requires_grad:
            raise RuntimeError(
                f"{who}: output {i} does not require grad and has no grad_fn: nothing that produced it "
                "requires grad (did you forget requires_grad=True, or compute it under no_grad()?)"
            )
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"{who}: grad can be created implicitly only for scalar outputs, but output {i} has "
                    f"shape {tuple(t.shape)}. Pass the gradient explicitly (e.g. "
                    "y.backward(tinylearn.ones_like(y))) or reduce first (y.sum().backward())"
                )
            g = ones_like(t)
        elif not isinstance(g, Tensor):
            raise TypeError(f"{who}: gradient {i} must be a Tensor, got {type(g).__name__}")
        elif g.shape != t.shape:
            raise RuntimeError(
                f"{who}: gradient {i} has shape {tuple(g.shape)} but the output has shape {tuple(t.shape)}"
            )
        out.append(g)
    return tensors, out


# The Tensor class, for Function.apply (the hot path: an attribute lookup instead of an import per
# op). tensor.py imports this module first, so the import comes last to break the cycle.
from . import tensor as _tensor  # noqa: E402

"""Draw the computational graph behind a tensor: operations as nodes, data flowing on edges.

Every tensor made by an op remembers the op (``y.grad_fn``), and every op remembers where its
inputs came from (``next_functions``). :func:`draw_graph` walks those links back from a result
and draws them the way data flows forward::

    w (3, 4) float32 ─┐
                      ├─► MatMul ─► (3, 2) float32 ─┐
    x (4, 2) float32 ─┘                             ├─► Add ─► ... ─► Sum ─► () float32
                                  b (3, 1) float32 ─┘

Two kinds of node appear:

* **op nodes** (rounded, orange): one per :class:`~tinylearn.autograd.Function` call, labelled
  with the op's name (``MulBackward`` is drawn as ``Mul``) and its short parameters
  (``dims=(0,)``). A numbered edge tells which argument an input was (``a @ b`` is not ``b @ a``).
* **tensor nodes** (boxes), labelled with shape and dtype, a name if you give one, and the
  gradient once ``backward()`` has filled it in: blue for leaves that require grad (the
  parameters), grey for inputs that don't (data, constants), green for the result, white for
  intermediate results that are still alive.

The result is always Graphviz DOT text (``drawing.dot``). Pictures come from the ``dot`` program
when it is installed and from matplotlib otherwise (with a layered layout computed here), so a
drawing appears on every machine::

    >>> import tinylearn as tl
    >>> w = tl.randn(3, 4, requires_grad=True)
    >>> b = tl.zeros(3, 1, requires_grad=True)
    >>> x = tl.randn(4, 2)
    >>> y = (w @ x + b).tanh().sum()
    >>> g = tl.viz.draw_graph(y, names={w: "w", b: "b", x: "x"})
    >>> [n.title for n in g.nodes if n.kind == "op"]
    ['Sum', 'Tanh', 'Add', 'MatMul']
    >>> g.save("graph.svg")  # or .png / .pdf / .dot  # doctest: +SKIP

In a notebook, a :class:`GraphDrawing` as the last expression of a cell shows the picture.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import shutil
import subprocess
import tempfile
import warnings
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..autograd import AccumulateGrad, Function
from ..backend import CPU as _CPU
from ..backend import get_array_module, to_device
from ..tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["GraphDrawing", "GraphEdge", "GraphNode", "draw_graph"]

NodeKind = Literal["op", "leaf", "input", "intermediate", "output", "more"]
ImageFormat = Literal["svg", "png", "pdf", "dot"]
Engine = Literal["auto", "dot", "matplotlib"]
Direction = Literal["TB", "LR"]

_SUFFIXES: dict[str, ImageFormat] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

# Fill and outline colour of each kind of node (DOT and matplotlib use the same palette).
_STYLE: dict[str, tuple[str, str]] = {
    "op": ("#fde2b8", "#c07a1a"),
    "leaf": ("#d3e6fb", "#2f6db5"),
    "input": ("#ececec", "#8a8a8a"),
    "intermediate": ("#ffffff", "#7a7a7a"),
    "output": ("#d5f0cf", "#3b8f35"),
    "more": ("#f6f6f6", "#9a9a9a"),
}

# How long the ``dot`` program may take before we give up on it.
_DOT_TIMEOUT_S = 120


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class GraphNode:
    """One node of a drawn graph, as plain data.

    ``kind`` is ``"op"`` for an operation and, for tensors, ``"leaf"`` (requires grad, made by
    you), ``"input"`` (does not require grad: data or a constant), ``"intermediate"`` (made by an
    op and still alive) or ``"output"`` (the tensor you asked to draw). ``"more"`` stands for the
    part of the graph cut off by ``max_ops``. ``label`` is the full text shown in the picture.
    """

    id: str
    kind: NodeKind
    label: str
    title: str = ""
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    detail: str | None = None  # an op's parameters, or the value of a one-element input
    grad: str | None = None


@dataclass(frozen=True)
class GraphEdge:
    """Data flowing from node ``src`` to node ``dst``; ``arg`` is the argument position at an op."""

    src: str
    dst: str
    arg: int | None = None


# --------------------------------------------------------------------------- the entry point


def draw_graph(
    tensor: Tensor | Sequence[Tensor],
    *,
    format: ImageFormat | None = None,
    path: str | os.PathLike[str] | None = None,
    show_grads: bool = True,
    names: Mapping | Iterable | None = None,
    show_inputs: bool = True,
    show_intermediates: bool = True,
    max_ops: int | None = 500,
    grad_values: int = 6,
    direction: Direction = "TB",
    engine: Engine = "auto",
) -> GraphDrawing:
    """Draw the computational graph that produced ``tensor``.

    Args:
        tensor: the result to start from (its ``grad_fn``), or a list of results drawn together.
            A leaf tensor gives a one-node graph.
        format: ``"svg"``, ``"png"``, ``"pdf"`` or ``"dot"``. With ``path``, the format to write
            (default: from the file's suffix). In a notebook, only this image type is offered.
        path: if given, the drawing is also saved there (see :meth:`GraphDrawing.save`).
        show_grads: label tensors with their ``.grad`` when they have one: the values for small
            tensors (at most ``grad_values`` elements), the norm ‖grad‖ for larger ones.
        names: names for tensors, shown in their nodes: ``{tensor: "w"}``, ``{"w": tensor}``,
            pairs ``[("w", tensor), ...]``, or a model with ``named_parameters()``.
        show_inputs: draw the inputs that don't require grad (data, constants such as the
            ``2`` in ``x * 2``), while the graph still holds them (until a ``backward()`` frees it).
        show_intermediates: draw the tensors between ops that are still alive (while the graph
            is not freed, all of them are: the ops keep their inputs for the backward pass).
        max_ops: draw at most this many ops, nearest to the result first; the rest is drawn as
            one "... more ops" node. ``None`` draws everything (DOT text for 100k ops is fine;
            a picture of it is not).
        grad_values: the largest ``.grad`` whose values are printed instead of its norm.
        direction: ``"TB"``: data flows top to bottom; ``"LR"``: left to right.
        engine: ``"auto"`` renders with Graphviz's ``dot`` when it is installed, with matplotlib
            otherwise; ``"dot"`` or ``"matplotlib"`` forces one.

    Returns:
        A :class:`GraphDrawing`: ``.dot`` text, ``.nodes`` and ``.edges`` as plain data,
        ``.save(path)``, ``.figure()``, and the picture when shown in a notebook.

    Example:
        >>> import tinylearn as tl
        >>> x = tl.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward(retain_graph=True)
        >>> g = tl.viz.draw_graph(y, names={x: "x"})
        >>> print(g.node("x").label)
        x
        (2,) float32
        grad [2, 4]
        >>> len(g.edges)  # x -> Mul (twice: it is both arguments), Mul -> t, t -> Sum, Sum -> y
        5
    """
    if format is not None and format not in ("svg", "png", "pdf", "dot"):
        raise ValueError(f"draw_graph: format must be 'svg', 'png', 'pdf' or 'dot', got {format!r}")
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"draw_graph: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    if direction not in ("TB", "LR"):
        raise ValueError(f"draw_graph: direction must be 'TB' or 'LR', got {direction!r}")
    if max_ops is not None and max_ops < 1:
        raise ValueError(f"draw_graph: max_ops must be at least 1 (or None for no limit), got {max_ops}")
    roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError("draw_graph: expected a Tensor or a non-empty sequence of Tensors")
    builder = _GraphBuilder(
        _name_table(names),
        show_grads=show_grads,
        show_inputs=show_inputs,
        show_intermediates=show_intermediates,
        grad_values=grad_values,
    )
    nodes, edges = builder.build(roots, max_ops)
    drawing = GraphDrawing(nodes, edges, direction=direction, engine=engine, format=format)
    if path is not None:
        drawing.save(path, format=format)
    return drawing


def _name_table(names: Mapping | Iterable | None) -> dict[int, str]:
    """Turn the accepted spellings of ``names`` into ``{id(tensor): name}``."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters") and not isinstance(names, Mapping):
        names = names.named_parameters()
    items = names.items() if isinstance(names, Mapping) else names
    table: dict[int, str] = {}
    for item in items:
        try:
            a, b = item
        except (TypeError, ValueError):
            raise TypeError(
                "draw_graph: names must map tensors to names ({w: 'w'}), names to tensors ({'w': w}) "
                f"or be (name, tensor) pairs; got an item {item!r}"
            ) from None
        if isinstance(a, Tensor) and isinstance(b, str):
            table[id(a)] = b
        elif isinstance(a, str) and isinstance(b, Tensor):
            table[id(b)] = a
        else:
            raise TypeError(
                f"draw_graph: names: expected a (Tensor, str) pair, got ({type(a).__name__}, "
                f"{type(b).__name__})"
            )
    return table


# --------------------------------------------------------------------------- walking the graph


class _GraphBuilder:
    """Collects nodes and edges while walking ``next_functions`` breadth-first from the roots.

    The walk is a loop over a queue (no recursion), so a chain of 100,000 ops is fine. An op is
    *discovered* when first reached; at that moment it gets its node and the node of its output
    tensor, so that the ops consuming that output (visited earlier, being nearer the result)
    and the op itself refer to the same ids.
    """

    def __init__(
        self,
        names: dict[int, str],
        *,
        show_grads: bool,
        show_inputs: bool,
        show_intermediates: bool,
        grad_values: int,
    ) -> None:
        self.names = names
        self.show_grads = show_grads
        self.show_inputs = show_inputs
        self.show_intermediates = show_intermediates
        self.grad_values = grad_values
        self.nodes: list[GraphNode] = []
        self.edges: list[GraphEdge] = []
        self.tensor_ids: dict[int, str] = {}  # id(tensor) -> node id
        self.keep_alive: list[Tensor] = []  # so that no id() is reused while we build
        self.op_ids: dict[Function, str] = {}
        self.source: dict[object, str] = {}  # graph node -> the node its data comes out of

    # ---------------------------------------------------------------- nodes
    def tensor_node(self, t: Tensor, kind: NodeKind) -> str:
        key = id(t)
        if key in self.tensor_ids:
            return self.tensor_ids[key]
        node_id = f"t{len(self.tensor_ids)}"
        self.tensor_ids[key] = node_id
        self.keep_alive.append(t)
        title = self.names.get(key, "")
        shape, dtype = tuple(int(n) for n in t.shape), str(t.dtype)
        device = t.device
        where = "" if device == _CPU else f" {device}"
        detail = _scalar_text(t) if kind == "input" and t.numel() == 1 else None
        grad = _grad_text(t.grad, self.grad_values) if self.show_grads and t.grad is not None else None
        lines = [title] if title else []
        lines.append(f"{shape} {dtype}{where}")
        if detail is not None:
            lines.append(f"= {detail}")
        if grad is not None:
            lines.append(grad if grad.startswith("‖") else f"grad {grad}")
        self.nodes.append(GraphNode(node_id, kind, "\n".join(lines), title, shape, dtype, detail, grad))
        return node_id

    def discover(self, fn: Function, output: str | None = None) -> None:
        """Give ``fn`` its op node, and its output tensor a node if the tensor is still alive."""
        op_id = f"op{len(self.op_ids)}"
        self.op_ids[fn] = op_id
        title = _op_title(fn)
        params = _op_params(fn)
        label = title if params is None else f"{title}\n{params}"
        self.nodes.append(GraphNode(op_id, "op", label, title, detail=params))
        if output is None and self.show_intermediates:
            ref = getattr(fn, "_output", None)
            out = ref() if ref is not None else None
            if out is not None:
                output = self.tensor_node(out, "intermediate")
        if output is not None:
            self.edges.append(GraphEdge(op_id, output))
        self.source[fn] = output if output is not None else op_id

    # ---------------------------------------------------------------- the walk
    def build(self, roots: list[Tensor], max_ops: int | None) -> tuple[list[GraphNode], list[GraphEdge]]:
        queue: deque[Function] = deque()
        for t in roots:
            if t.grad_fn is None:
                self.tensor_node(t, "leaf" if t.requires_grad else "input")
            elif t.grad_fn not in self.op_ids:
                self.discover(t.grad_fn, self.tensor_node(t, "output"))
                queue.append(t.grad_fn)
        cut: list[tuple[str, int]] = []  # (op id, argument) of inputs left out by max_ops
        while queue:
            fn = queue.popleft()
            op_id = self.op_ids[fn]
            inputs = getattr(fn, "inputs", None)
            for arg, child in enumerate(fn.next_functions or ()):
                if child is None:  # an input that does not require grad
                    if self.show_inputs and inputs is not None:
                        self.edges.append(GraphEdge(self.tensor_node(inputs[arg], "input"), op_id, arg))
                    continue
                if isinstance(child, AccumulateGrad):
                    if child not in self.source:
                        self.source[child] = self.tensor_node(child.variable, "leaf")
                elif child not in self.op_ids:
                    if max_ops is not None and len(self.op_ids) >= max_ops:
                        cut.append((op_id, arg))
                        continue
                    self.discover(child)
                    queue.append(child)
                self.edges.append(GraphEdge(self.source[child], op_id, arg))
        if cut:
            hidden = _count_ops(roots) - len(self.op_ids)
            label = f"… {hidden} more op{'s' if hidden != 1 else ''}\n(max_ops={max_ops})"
            self.nodes.append(GraphNode("more", "more", label, f"… {hidden} more ops"))
            self.edges.extend(GraphEdge("more", op_id, arg) for op_id, arg in cut)
        self.keep_alive.clear()
        return self.nodes, self.edges


def _count_ops(roots: list[Tensor]) -> int:
    """How many ops are reachable from ``roots`` (an iterative walk, like the engine's)."""
    seen: set[Function] = set()
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        children = fn.next_functions or ()
        stack.extend(c for c in children if c is not None and not isinstance(c, AccumulateGrad))
    return len(seen)


# --------------------------------------------------------------------------- labels

_NOT_PARAMS = {"inputs", "next_functions", "variable", "is_view"}


def _op_title(fn: object) -> str:
    name = getattr(fn, "name", type(fn).__name__)
    return name[: -len("Backward")] if name.endswith("Backward") and name != "Backward" else name


def _op_params(fn: object, max_len: int = 24, max_count: int = 4) -> str | None:
    """The op's short keyword parameters (``dims=(0,), keepdim=False``), one line per ~28 chars.

    ``Function.apply`` stores keyword arguments as attributes; so does ``forward`` with what it
    keeps for the backward pass (arrays, mostly), which :func:`_format_param` leaves out.
    """
    parts = []
    for key, value in vars(fn).items():
        if key.startswith("_") or key in _NOT_PARAMS or value is None:
            continue
        text = _format_param(value)
        if text is not None and len(text) <= max_len:
            parts.append(f"{key}={text}")
    if not parts:
        return None
    parts = parts[:max_count]
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) + 2 > 28:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    lines.append(line)
    return "\n".join(lines)


def _format_param(value: object, depth: int = 0) -> str | None:
    """A short text for a parameter value, or None if it is not a simple value (e.g. an array)."""
    if isinstance(value, bool | int | str | type(None)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, np.generic) and value.ndim == 0:
        return _format_param(value.item(), depth)
    if isinstance(value, np.dtype):
        return str(value)
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        ends = (value.start, value.stop, value.step)
        parts = ["" if p is None else _format_param(p, depth + 1) for p in ends]
        if None in parts:
            return None
        return ":".join(parts if parts[2] else parts[:2])
    if isinstance(value, tuple | list) and depth < 2 and len(value) <= 8:
        items = [_format_param(v, depth + 1) for v in value]
        if None in items:
            return None
        body = ", ".join(items)  # type: ignore[arg-type]
        return (
            f"({body},)"
            if isinstance(value, tuple) and len(items) == 1
            else (f"({body})" if isinstance(value, tuple) else f"[{body}]")
        )
    if type(value).__name__ == "Device":
        return str(value)
    return None


def _host(data) -> np.ndarray:
    return np.asarray(to_device(data, _CPU))


def _scalar_text(t: Tensor) -> str:
    return _number(_host(t.data).reshape(()).item())


def _number(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)


def _grad_text(grad: Tensor, max_values: int) -> str:
    """Small gradients as their values (``[0.1, -2.]``), larger ones as their norm."""
    data = grad.data
    if data.size <= max_values:
        arr = _host(data)
        if arr.ndim == 0:
            return _number(arr.item())
        text = np.array2string(arr, separator=", ", formatter={"all": _number}, max_line_width=10**6)
        return " ".join(text.split())  # on one line: [[1, 0.5], [-2.25, 3]]
    xp = get_array_module(data)
    norm = float(xp.sqrt((data.astype(xp.float64) ** 2).sum()))
    return f"‖grad‖ = {norm:.4g}"


# --------------------------------------------------------------------------- DOT text


def _dot_string(text: str) -> str:
    """A DOT quoted string; newlines become DOT's centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _labelled_args(edges: Sequence[GraphEdge]) -> set[str]:
    """The ops whose input edges get their argument number: those with two or more arguments."""
    most: dict[str, int] = {}
    count: dict[str, int] = {}
    for e in edges:
        if e.arg is not None:
            most[e.dst] = max(most.get(e.dst, 0), e.arg)
            count[e.dst] = count.get(e.dst, 0) + 1
    return {dst for dst in most if most[dst] > 0 or count[dst] > 1}


def to_dot(nodes: Sequence[GraphNode], edges: Sequence[GraphEdge], direction: Direction = "TB") -> str:
    """Graphviz DOT text for a graph (what :attr:`GraphDrawing.dot` holds)."""
    lines = [
        "digraph tinylearn {",
        f'  graph [rankdir={direction}, nodesep=0.3, ranksep=0.35, fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=10, shape=box, style=filled, penwidth=1.2];',
        '  edge [color="#555555", arrowsize=0.7, fontname="Helvetica", fontsize=8, fontcolor="#777777"];',
    ]
    for n in nodes:
        fill, line = _STYLE[n.kind]
        attrs = [f"label={_dot_string(n.label)}", f'fillcolor="{fill}"', f'color="{line}"']
        if n.kind == "op":
            attrs.append('style="rounded,filled"')
        elif n.kind == "more":
            attrs.append('style="dashed,filled"')
        lines.append(f"  {n.id} [{', '.join(attrs)}];")
    numbered = _labelled_args(edges)
    for e in edges:
        extra = f' [label="{e.arg}"]' if e.arg is not None and e.dst in numbered else ""
        lines.append(f"  {e.src} -> {e.dst}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the drawing


class GraphDrawing:
    """A drawn computational graph: DOT text, plain data, and pictures on demand.

    * ``dot``: Graphviz DOT text (paste it into any Graphviz viewer).
    * ``nodes`` / ``edges``: lists of :class:`GraphNode` / :class:`GraphEdge`.
    * :meth:`save` writes ``.dot``, ``.svg``, ``.png`` or ``.pdf``; :meth:`render` returns the bytes.
    * :meth:`figure` draws it as a matplotlib ``Figure`` (our own layout; no Graphviz needed).
    * In Jupyter the drawing displays itself (``_repr_svg_`` / ``_repr_png_``).

    Example:
        >>> import tinylearn as tl
        >>> a = tl.ones(2, requires_grad=True)
        >>> g = tl.viz.draw_graph(a.exp().sum())
        >>> g
        GraphDrawing(ops=2, tensors=3, edges=4)
        >>> print(g.dot.splitlines()[0])
        digraph tinylearn {
    """

    def __init__(
        self,
        nodes: Sequence[GraphNode],
        edges: Sequence[GraphEdge],
        *,
        direction: Direction = "TB",
        engine: Engine = "auto",
        format: ImageFormat | None = None,
    ) -> None:
        self.nodes: list[GraphNode] = list(nodes)
        self.edges: list[GraphEdge] = list(edges)
        self.direction: Direction = direction
        self.engine: Engine = engine
        self.format: ImageFormat | None = format
        self.dot: str = to_dot(self.nodes, self.edges, direction)
        self._by_id = {n.id: n for n in self.nodes}
        self._cache: dict[tuple[str, str], bytes] = {}

    def __repr__(self) -> str:
        ops = sum(n.kind == "op" for n in self.nodes)
        tensors = sum(n.kind not in ("op", "more") for n in self.nodes)
        return f"GraphDrawing(ops={ops}, tensors={tensors}, edges={len(self.edges)})"

    def node(self, key: str) -> GraphNode:
        """The node with this id (``"op0"``, ``"t3"``) or, failing that, the first with this title."""
        if key in self._by_id:
            return self._by_id[key]
        for n in self.nodes:
            if n.title == key:
                return n
        raise KeyError(f"no node with id or title {key!r}")

    # ---------------------------------------------------------------- rendering
    def renderer(self) -> Literal["dot", "matplotlib"]:
        """Which program :meth:`render` will use: ``"dot"`` if chosen or found, else matplotlib."""
        if self.engine == "dot" or (self.engine == "auto" and shutil.which("dot")):
            return "dot"
        return "matplotlib"

    def render(self, format: ImageFormat = "svg") -> bytes:
        """The picture as bytes: ``"svg"``, ``"png"``, ``"pdf"`` or ``"dot"`` (the DOT text)."""
        if format == "dot":
            return self.dot.encode()
        if format not in ("svg", "png", "pdf"):
            raise ValueError(f"render: format must be 'svg', 'png', 'pdf' or 'dot', got {format!r}")
        how = self.renderer()
        key = (how, format)
        if key not in self._cache:
            data = None
            if how == "dot":
                try:
                    data = _run_dot(self.dot, format)
                except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
                    if self.engine == "dot":
                        raise
                    warnings.warn(f"Graphviz failed ({err}); drawing with matplotlib instead", stacklevel=2)
            if data is None:
                data = _figure_bytes(self.figure(), format)
            self._cache[key] = data
        return self._cache[key]

    def save(self, path: str | os.PathLike[str], format: ImageFormat | None = None) -> Path:
        """Write the drawing to ``path``; the format comes from the suffix unless given.

        The file is written whole or not at all: to a temporary file in the same folder, then
        moved into place (``os.replace``), so a reader never sees half a picture.
        """
        path = Path(path)
        fmt = format or _SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"save: cannot tell the format of {str(path)!r} from its suffix; use .svg, .png, .pdf or "
                ".dot, or pass format="
            )
        data = self.render(fmt)
        _write_atomically(path, data)
        return path

    def figure(self, *, fontsize: float = 9.0, dpi: float = 100.0) -> Figure:
        """The graph as a :class:`matplotlib.figure.Figure`, laid out here (no Graphviz needed).

        It is made with the object API (no pyplot), so it works headless; save it with
        ``fig.savefig(...)`` or show it in a notebook.
        """
        return _draw_figure(self.nodes, self.edges, self.direction, fontsize, dpi)

    # ---------------------------------------------------------------- Jupyter
    # In a notebook a missing matplotlib (and no Graphviz) means "no picture", not a traceback.
    def _repr_svg_(self) -> str | None:
        if self.format not in (None, "svg"):
            return None
        try:
            return self.render("svg").decode()
        except ImportError:
            return None

    def _repr_png_(self) -> bytes | None:
        if self.format not in (None, "png"):
            return None
        try:
            return self.render("png")
        except ImportError:
            return None


def _run_dot(dot_text: str, format: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("Graphviz's `dot` program was not found on PATH")
    command = [exe, f"-T{format}"]
    done = subprocess.run(
        command, input=dot_text.encode(), capture_output=True, timeout=_DOT_TIMEOUT_S, check=False
    )
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"`dot -T{format}` exited with {done.returncode}: {done.stderr.decode().strip()}")
    return done.stdout


def _write_atomically(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- layout (no Graphviz)

_CHAR_W = 0.602  # DejaVu Sans Mono's advance width, in ems
_LINE_H = 1.3  # line height, in ems
_PAD = 0.09  # inches between text and box
_NODE_GAP = 0.3  # inches between neighbours in a layer
_LAYER_GAP = 0.42  # inches between layers
_DUMMY = "~"  # prefix of the invisible bend points of long edges


@dataclass
class _Layout:
    """Where everything goes, in inches: centres and sizes of nodes, and each edge's bend points."""

    pos: dict[str, tuple[float, float]]
    size: dict[str, tuple[float, float]]
    routes: list[list[tuple[float, float]]]  # one per edge: start, bends..., end
    entry: list[float]  # one per edge: where it enters its target, from the centre


def _text_size(label: str, fontsize: float) -> tuple[float, float]:
    lines = label.split("\n")
    em = fontsize / 72
    width = max(len(line) for line in lines) * _CHAR_W * em + 2 * _PAD
    height = len(lines) * _LINE_H * em + 2 * _PAD
    return max(width, 0.45), height


def _layer(ids: list[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering from the outputs: a node sits one layer above its furthest consumer.

    So the outputs (nodes without consumers) are in layer 0 and every input sits right above
    the first op that reads it. Kahn's algorithm on the reversed edges: no recursion.
    """
    preds: dict[str, list[str]] = {i: [] for i in ids}
    waiting = dict.fromkeys(ids, 0)
    for s, d in edges:
        preds[d].append(s)
        waiting[s] += 1
    rank = dict.fromkeys(ids, 0)
    ready = deque(i for i in ids if waiting[i] == 0)
    while ready:
        v = ready.popleft()
        for p in preds[v]:
            rank[p] = max(rank[p], rank[v] + 1)
            waiting[p] -= 1
            if waiting[p] == 0:
                ready.append(p)
    return rank  # nodes on a cycle (none in an autograd graph) simply stay in layer 0


def _crossings(upper: list[str], lower: list[str], down: dict[str, list[tuple[str, float]]]) -> int:
    """Edge crossings between two adjacent layers (edges go from ``upper`` to ``lower``)."""
    where = {v: i for i, v in enumerate(lower)}
    ends = [where[w] for v in upper for w, _ in down[v] if w in where]
    # Crossings are the inversions of the lower ends, listed in upper order (merge-sort count).
    count, width = 0, 1
    arr = ends
    while width < len(arr):
        merged = []
        for lo in range(0, len(arr), 2 * width):
            left, right = arr[lo : lo + width], arr[lo + width : lo + 2 * width]
            i = j = 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:
                    count += len(left) - i
                    merged.append(right[j])
                    j += 1
                else:
                    merged.append(left[i])
                    i += 1
            merged += left[i:] + right[j:]
        arr, width = merged, width * 2
    return count


def _entry_offsets(nodes: Sequence[GraphNode], edges: Sequence[GraphEdge], fontsize: float) -> list[float]:
    """Where each edge enters its target, as an offset from the centre along the layer.

    The inputs of an op with several arguments enter side by side, argument 0 first, so that
    ``a - b`` and ``b - a`` look different.
    """
    arity: dict[str, int] = {}
    for e in edges:
        if e.arg is not None:
            arity[e.dst] = max(arity.get(e.dst, 1), e.arg + 1)
    width = {n.id: _text_size(n.label, fontsize)[0] for n in nodes}
    offsets = []
    for e in edges:
        n = arity.get(e.dst, 1)
        if e.arg is None or n == 1:
            offsets.append(0.0)
        else:
            step = min(0.22, (width[e.dst] - 0.16) / (n - 1))
            offsets.append((e.arg - (n - 1) / 2) * step)
    return offsets


def _layout(
    nodes: Sequence[GraphNode], edges: Sequence[GraphEdge], direction: Direction, fontsize: float
) -> _Layout:
    """A layered (Sugiyama-style) layout: layers, bend points for long edges, order, coordinates."""
    ids = [n.id for n in nodes]
    rank = _layer(ids, [(e.src, e.dst) for e in edges])
    size = {n.id: _text_size(n.label, fontsize) for n in nodes}
    entry = _entry_offsets(nodes, edges, fontsize)

    # 1. Long edges get an invisible bend point in every layer they cross. ``down[a]`` and
    #    ``up[b]`` list the neighbours with the offset at which the edge enters the lower node.
    down: dict[str, list[tuple[str, float]]] = {i: [] for i in ids}  # towards the outputs
    up: dict[str, list[tuple[str, float]]] = {i: [] for i in ids}  # towards the inputs
    chains: list[list[str]] = []
    for k, e in enumerate(edges):
        chain = [e.src]
        for r in range(rank[e.src] - 1, rank[e.dst], -1):
            bend = f"{_DUMMY}{k}.{r}"
            rank[bend] = r
            size[bend] = (0.0, 0.0)
            down[bend], up[bend] = [], []
            chain.append(bend)
        chain.append(e.dst)
        for a, b in itertools.pairwise(chain):
            offset = entry[k] if b == e.dst else 0.0
            down[a].append((b, offset))
            up[b].append((a, offset))
        chains.append(chain)

    # 2. Order within layers: depth-first from the outputs, first argument first, then
    #    barycentre sweeps, keeping the order with the fewest crossings.
    top = max(rank.values(), default=0)
    layers: list[list[str]] = [[] for _ in range(top + 1)]
    seen: set[str] = set()
    for start in (v for v in ids if not down[v]):
        stack = [start]
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            layers[rank[v]].append(v)
            stack.extend(u for u, _ in sorted(up[v], key=lambda uo: -uo[1]))
    for v in rank:  # anything not reached from an output (only on cycles)
        if v not in seen:
            layers[rank[v]].append(v)

    def total_crossings() -> int:
        return sum(_crossings(layers[r + 1], layers[r], down) for r in range(top))

    best, best_layers = total_crossings(), [list(layer) for layer in layers]
    for sweep in range(12):
        if best == 0:
            break
        index: dict[str, float] = {}
        if sweep % 2 == 0:  # from the outputs upwards: inputs over the ops that read them
            rows, near, side = range(1, top + 1), down, 1
        else:  # from the inputs downwards
            rows, near, side = range(top - 1, -1, -1), up, -1
        for r in rows:
            index.update((v, i) for i, v in enumerate(layers[r - side]))
            key = {}
            for i, v in enumerate(layers[r]):
                # An edge entering at an offset pulls its source sideways, a little.
                pulls = [index[w] + side * offset for w, offset in near[v]]
                key[v] = sum(pulls) / len(pulls) if pulls else i
            layers[r].sort(key=key.__getitem__)
        now = total_crossings()
        if now < best:
            best, best_layers = now, [list(layer) for layer in layers]
    layers = best_layers

    # 3. Coordinates along each layer: pull every node towards its neighbours, then push
    #    apart to respect the widths; averaging a left-packed and a right-packed placement keeps
    #    both the order and the gaps.
    along = {v: size[v][0] if direction == "TB" else size[v][1] for v in rank}
    coord: dict[str, float] = {}
    for layer in layers:
        total = sum(along[v] for v in layer) + _NODE_GAP * (len(layer) - 1)
        x = -total / 2
        for v in layer:
            coord[v] = x + along[v] / 2
            x += along[v] + _NODE_GAP
    for sweep in range(20):
        for r in range(top, -1, -1) if sweep % 2 == 0 else range(top + 1):
            layer = layers[r]
            want = []
            for v in layer:
                pulls = [coord[w] + offset for w, offset in down[v]] + [
                    coord[u] - offset for u, offset in up[v]
                ]
                want.append(sum(pulls) / len(pulls) if pulls else coord[v])
            gaps = [
                (along[a] + along[b]) / 2 + (_NODE_GAP if along[a] and along[b] else 0.12)
                for a, b in itertools.pairwise(layer)
            ]
            left = list(want)
            for i in range(1, len(layer)):
                left[i] = max(want[i], left[i - 1] + gaps[i - 1])
            right = list(want)
            for i in range(len(layer) - 2, -1, -1):
                right[i] = min(want[i], right[i + 1] - gaps[i])
            for i, v in enumerate(layer):
                coord[v] = (left[i] + right[i]) / 2

    # 4. Coordinates across layers: outputs at the bottom (TB) or on the right (LR).
    across = {v: size[v][1] if direction == "TB" else size[v][0] for v in rank}
    thickness = [max((across[v] for v in layer), default=0.0) for layer in layers]
    level, c = [], 0.0
    for r in range(top + 1):
        level.append(c + thickness[r] / 2)
        c += thickness[r] + _LAYER_GAP

    def point(v: str, along_offset: float = 0.0, side: int = 0) -> tuple[float, float]:
        """A node's centre, or (side=-1/+1) the middle of its input/output side, in inches."""
        a = coord[v] + along_offset
        if direction == "TB":
            return (a, level[rank[v]] - side * across[v] / 2)
        return (c - level[rank[v]] + side * across[v] / 2, -a)

    # 5. Routes: out of the side of the source facing the data flow, into the target's other side.
    routes = [
        [point(ch[0], side=1), *(point(b) for b in ch[1:-1]), point(ch[-1], entry[k], side=-1)]
        for k, ch in enumerate(chains)
    ]
    return _Layout({v: point(v) for v in ids}, {v: size[v] for v in ids}, routes, entry)


# --------------------------------------------------------------------------- drawing (matplotlib)

_MAX_PIXELS = 30000  # Agg refuses images above 2**16 pixels a side; stay well below


def _draw_figure(
    nodes: Sequence[GraphNode], edges: Sequence[GraphEdge], direction: Direction, fontsize: float, dpi: float
) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MplPath

    lay = _layout(nodes, edges, direction, fontsize)
    margin = 0.2
    xs = [x + s * w / 2 for v, (x, _) in lay.pos.items() for s in (-1, 1) for w in (lay.size[v][0],)]
    ys = [y + s * h / 2 for v, (_, y) in lay.pos.items() for s in (-1, 1) for h in (lay.size[v][1],)]
    x0, x1 = min(xs, default=0) - margin, max(xs, default=1) + margin
    y0, y1 = min(ys, default=0) - margin, max(ys, default=1) + margin
    width, height = x1 - x0, y1 - y0
    dpi = min(dpi, _MAX_PIXELS / max(width, height))
    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()

    em = fontsize / 72
    for n in nodes:
        (x, y), (w, h) = lay.pos[n.id], lay.size[n.id]
        fill, line = _STYLE[n.kind]
        rounding = min(0.08, h / 2 - 0.01) if n.kind == "op" else 0.0
        style = f"round,pad=0,rounding_size={rounding}" if rounding else "square,pad=0"
        ax.add_artist(
            FancyBboxPatch(
                (x - w / 2, y - h / 2),
                w,
                h,
                boxstyle=style,
                facecolor=fill,
                edgecolor=line,
                linewidth=1.1,
                linestyle="--" if n.kind == "more" else "-",
                zorder=2,
            )
        )
        lines = n.label.split("\n")
        top = y + h / 2 - _PAD
        for i, text in enumerate(lines):
            bold = i == 0 and (n.kind == "op" or bool(n.title))
            ax.text(
                x,
                top - (i + 0.5) * _LINE_H * em,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                family="monospace",
                weight="bold" if bold else "normal",
                color="#222222",
                zorder=3,
            )

    numbered = _labelled_args(edges)
    vertical = direction == "TB"
    for k, (e, route) in enumerate(zip(edges, lay.routes, strict=True)):
        verts, codes = [route[0]], [MplPath.MOVETO]
        for (ax_, ay), (bx, by) in itertools.pairwise(route):
            if vertical:
                mid = (ay + by) / 2
                verts += [(ax_, mid), (bx, mid), (bx, by)]
            else:
                mid = (ax_ + bx) / 2
                verts += [(mid, ay), (mid, by), (bx, by)]
            codes += [MplPath.CURVE4] * 3
        ax.add_artist(
            FancyArrowPatch(
                path=MplPath(verts, codes),
                arrowstyle="-|>",
                mutation_scale=9,
                color="#555555",
                linewidth=0.9,
                zorder=1,
            )
        )
        if e.arg is not None and e.dst in numbered:
            # The argument number, just outside the arrowhead: left of it for the first argument.
            ex, ey = route[-1]
            before = lay.entry[k] < 0 or (lay.entry[k] == 0 and e.arg == 0)
            gap = 0.05 if before else -0.05
            if vertical:
                tx, ty, ha, va = ex - gap, ey + 0.1, "right" if before else "left", "center"
            else:
                tx, ty, ha, va = ex - 0.1, ey + gap, "center", "bottom" if before else "top"
            ax.text(
                tx,
                ty,
                str(e.arg),
                fontsize=fontsize * 0.8,
                color="#777777",
                ha=ha,
                va=va,
                family="monospace",
                zorder=3,
            )
    return fig


def _figure_bytes(fig: Figure, format: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=format, dpi=fig.dpi, facecolor="white")
    return buf.getvalue()

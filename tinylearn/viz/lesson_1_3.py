"""The interactive figures of lesson 1.3 (backpropagation): the chain rule, blame flowing backwards
through a graph, every gradient of a two-layer net, the graphs autograd records, and gradients that
fade or blow up with depth.

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure`` (no pyplot, no global
state); :func:`widget` wraps one in ipywidgets controls for a live notebook.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`chain_rule_view`                1.3.1    f(g(x)): the two local slopes and their product
:func:`blame_flow`                     1.3.2    one neuron's graph: values forward, then gradients
                                                backward, node by node (frames);
                                                :func:`blame_flow_animation` animates it
:func:`two_layer_gradients`            1.3.3    each gradient of a two-layer net as the matrices
                                                that make it (heatmaps, shapes, fill in the blank)
:func:`autograd_graph`                 1.3.5    the graph autograd records for an expression
                                                (drawn by :func:`tinylearn.viz.draw_graph`)
:func:`gradient_flow`                  1.3.6    gradient norm per layer vs depth, activation and
                                                weight scale: vanishing and exploding gradients
=====================================  =======  ==================================================

The numbers behind the pictures are plain functions too: :data:`ELEMENTARY` and
:func:`chain_rule_numbers` (1.3.1), :func:`neuron_graph` (1.3.2), :func:`two_layer_setup`,
:func:`two_layer_backward` (NumPy, by hand) and :func:`two_layer_autograd` (tinylearn) (1.3.3),
:func:`expression_graph` (1.3.5) and :func:`gradient_norms` (1.3.6). The gradients come from
tinylearn's autograd wherever a figure claims "this is what autograd computes".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes as _dt
from ..nn import functional as F
from ..tensor import Tensor, tensor
from .graph import GraphDrawing, draw_graph
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACTIVATIONS",
    "CONTROLS",
    "ELEMENTARY",
    "EXPRESSIONS",
    "GRADIENT_TARGETS",
    "Elementary",
    "autograd_graph",
    "blame_flow",
    "blame_flow_animation",
    "chain_rule_numbers",
    "chain_rule_view",
    "expression_graph",
    "gradient_flow",
    "gradient_norms",
    "neuron_graph",
    "two_layer_autograd",
    "two_layer_backward",
    "two_layer_gradients",
    "two_layer_setup",
    "widget",
]

F64 = _dt.float64


def _t(value: Any, grad: bool = False) -> Tensor:
    """A float64 tensor (the lesson computes in float64 so printed digits are exact)."""
    return tensor(np.asarray(value, dtype=np.float64), dtype=F64, requires_grad=grad)


# ------------------------------------------------------------------------------------------------
# 1.3.1 The chain rule
# ------------------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Elementary:
    """One function of one variable, in the three forms the lesson needs.

    Attributes:
        name: the key in :data:`ELEMENTARY` (``"sin"``).
        text: how it is written, with ``{}`` for the argument (``"sin({})"``).
        deriv_text: its derivative, written the same way (``"cos({})"``).
        f: the function on NumPy arrays.
        df: its derivative on NumPy arrays (the formula, by hand).
        op: the same function as tinylearn Tensor ops (so autograd can differentiate it).
    """

    name: str
    text: str
    deriv_text: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    op: Callable[[Tensor], Tensor]

    def write(self, arg: str, derivative: bool = False) -> str:
        """The function (or its derivative) written at ``arg``: ``write("x") == "x²"``, ``"sin(x)"``."""
        text = (self.deriv_text if derivative else self.text).format(arg)
        if len(arg) == 1:  # no brackets around a single letter
            text = text.replace(f"({arg})²", f"{arg}²").replace(f"·({arg})", f"·{arg}")
        return text


ELEMENTARY: dict[str, Elementary] = {
    e.name: e
    for e in [
        Elementary("square", "({})²", "2·({})", lambda x: x * x, lambda x: 2 * x, lambda t: t * t),
        Elementary("sin", "sin({})", "cos({})", np.sin, np.cos, lambda t: t.sin()),
        Elementary("exp", "exp({})", "exp({})", np.exp, np.exp, lambda t: t.exp()),
        Elementary(
            "sigmoid",
            "σ({})",
            "σ({0})(1 − σ({0}))",
            _sigmoid,
            lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
            lambda t: t.sigmoid(),
        ),
        Elementary(
            "tanh", "tanh({})", "1 − tanh²({})", np.tanh, lambda x: 1 - np.tanh(x) ** 2, lambda t: t.tanh()
        ),
        Elementary("affine", "3·{} + 1", "3", lambda x: 3 * x + 1, lambda x: 3 + 0 * x, lambda t: 3 * t + 1),
    ]
}
"""The functions the learner composes in 1.3.1, by name."""


def chain_rule_numbers(outer: str, inner: str, x: float) -> dict[str, float]:
    """Every number of ``d/dx f(g(x)) = f'(g(x))·g'(x)`` at ``x``, for ``f = ELEMENTARY[outer]`` and
    ``g = ELEMENTARY[inner]``.

    Returns ``u = g(x)``, ``y = f(u)``, the local slopes ``dg = g'(x)`` and ``df = f'(u)`` (from the
    formulas), their ``product``, and ``autograd``: the same derivative from tinylearn's backward pass
    through the composed Tensor ops.
    """
    f, g = ELEMENTARY[outer], ELEMENTARY[inner]
    u = float(g.f(np.float64(x)))
    dg, df = float(g.df(np.float64(x))), float(f.df(np.float64(u)))
    xt = _t(x, grad=True)
    out = f.op(g.op(xt))
    out.backward()
    return {
        "x": float(x),
        "u": u,
        "y": float(f.f(np.float64(u))),
        "dg": dg,
        "df": df,
        "product": df * dg,
        "autograd": float(xt.grad.item()),
    }


def _tangent(
    ax: Any, fn: Callable, dfn: Callable, at: float, lo: float, hi: float, color: str, label: str
) -> None:
    xs = np.linspace(lo, hi, 300)
    ys = fn(xs)
    ax.plot(xs, ys, color="black", lw=1.6)
    y0, s = float(fn(np.float64(at))), float(dfn(np.float64(at)))
    half = 0.18 * (hi - lo)
    ts = np.array([at - half, at + half])
    ax.plot(ts, y0 + s * (ts - at), color=color, lw=2.5, label=f"{label} = {s:.3f}")
    ax.plot([at], [y0], "o", color=color, zorder=5)
    finite = ys[np.isfinite(ys)]
    lo_y, hi_y = float(np.min(finite)), float(np.max(finite))
    pad = 0.1 * max(hi_y - lo_y, 1e-3)
    ax.set_ylim(lo_y - pad, hi_y + pad)
    ax.set_xlim(lo, hi)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)


@interactive(section="1.3.1", title="the chain rule on f(g(x)): two local slopes multiply")
def chain_rule_view(outer: str = "sin", inner: str = "square", x: float = 1.0) -> Figure:
    """Three panels: the inner function ``g`` with its slope at ``x``, the outer function ``f`` with
    its slope at ``u = g(x)``, and the composition ``f∘g`` whose slope at ``x`` is their product (and
    what autograd computes)."""
    f, g = ELEMENTARY[outer], ELEMENTARY[inner]
    n = chain_rule_numbers(outer, inner, x)
    fig = new_figure(figsize=(11.0, 4.0), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    _tangent(left, g.f, g.df, x, -2.5, 2.5, "tab:blue", "g'(x)")
    left.set_title(
        f"inner  u = g(x) = {g.write('x')},  g'(x) = {g.write('x', True)}\nat x = {x:.2f}: u = {n['u']:.3f}",
        fontsize=10,
    )
    left.set_xlabel("x")
    u_lo, u_hi = (
        min(n["u"] - 2.5, float(np.min(g.f(np.linspace(-2.5, 2.5, 50))))),
        max(n["u"] + 2.5, float(np.max(g.f(np.linspace(-2.5, 2.5, 50))))),
    )
    u_lo, u_hi = max(u_lo, n["u"] - 6.0), min(u_hi, n["u"] + 6.0)
    _tangent(middle, f.f, f.df, n["u"], u_lo, u_hi, "tab:orange", "f'(u)")
    middle.set_title(
        f"outer  y = f(u) = {f.write('u')},  f'(u) = {f.write('u', True)}\n"
        f"at u = {n['u']:.3f}: y = {n['y']:.3f}",
        fontsize=10,
    )
    middle.set_xlabel("u")

    def comp(v: np.ndarray) -> np.ndarray:
        return f.f(g.f(v))

    def dcomp(v: np.ndarray) -> np.ndarray:
        return f.df(g.f(v)) * g.df(v)

    _tangent(right, comp, dcomp, x, -2.5, 2.5, "tab:red", "f'(g(x))·g'(x)")
    right.set_title(f"composed  y = f(g(x)) = {f.write(g.write('x'))}\nslope = f'(g(x))·g'(x)", fontsize=10)
    right.set_xlabel("x")
    fig.suptitle(
        f"dy/dx = f'(u) · g'(x) = {n['df']:.4f} × {n['dg']:.4f} = {n['product']:.4f}"
        f"      (tinylearn autograd: {n['autograd']:.4f})",
        fontsize=11,
    )
    return fig


# ------------------------------------------------------------------------------------------------
# 1.3.2 Blame flowing backwards through one neuron
# ------------------------------------------------------------------------------------------------

# The graph of L = (σ(w1·x1 + w2·x2 + b) − y)²: name -> (label, formula or "" for a leaf, inputs).
_NODES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "x1": ("x₁", "", ()),
    "w1": ("w₁", "", ()),
    "x2": ("x₂", "", ()),
    "w2": ("w₂", "", ()),
    "b": ("b", "", ()),
    "y": ("y", "", ()),
    "p1": ("p₁", "w₁·x₁", ("w1", "x1")),
    "p2": ("p₂", "w₂·x₂", ("w2", "x2")),
    "z": ("z", "p₁+p₂+b", ("p1", "p2", "b")),
    "a": ("a", "σ(z)", ("z",)),
    "e": ("e", "a − y", ("a", "y")),
    "L": ("L", "e²", ("e",)),
}
_LEAVES = ("x1", "w1", "x2", "w2", "b", "y")
_FORWARD = ("p1", "p2", "z", "a", "e", "L")  # the order the forward pass computes the ops
_BACKWARD = tuple(reversed(_FORWARD))  # the order the backward pass visits them
_POS: dict[str, tuple[float, float]] = {
    "x1": (0.0, 4.2),
    "w1": (0.0, 3.2),
    "x2": (0.0, 2.0),
    "w2": (0.0, 1.0),
    "b": (1.9, 0.1),
    "p1": (1.9, 3.7),
    "p2": (1.9, 1.5),
    "z": (3.7, 2.0),
    "a": (5.4, 2.0),
    "y": (5.4, -0.2),
    "e": (7.1, 2.0),
    "L": (8.8, 2.0),
}
BLAME_FRAMES = 2 + 2 * len(_FORWARD)  # leaves, 6 ops forward, the seed dL/dL = 1, 6 ops backward


def neuron_graph(
    x1: float = 1.5, w1: float = 0.8, x2: float = -0.5, w2: float = -1.2, b: float = 0.3, y: float = 0.0
) -> dict[str, dict[str, Any]]:
    """The graph of one neuron's squared error ``L = (σ(w1·x1 + w2·x2 + b) − y)²``, evaluated.

    Returns ``{node: {"value", "grad", "local"}}`` for the 12 nodes of the figure: ``value`` from the
    forward pass and ``grad`` = ∂L/∂node, both computed by tinylearn (``retain_grad`` keeps the
    gradients of the intermediate nodes), and ``local`` = ``{input: ∂node/∂input}``, the local
    derivatives written out by hand. The chain rule says ``grad[input] = Σ grad[node]·local[input]``
    over the nodes that read ``input``.
    """
    t = {name: _t(v, grad=True) for name, v in zip(_LEAVES, (x1, w1, x2, w2, b, y), strict=True)}
    t["p1"] = t["w1"] * t["x1"]
    t["p2"] = t["w2"] * t["x2"]
    t["z"] = t["p1"] + t["p2"] + t["b"]
    t["a"] = t["z"].sigmoid()
    t["e"] = t["a"] - t["y"]
    t["L"] = t["e"] * t["e"]
    for name in _FORWARD:
        t[name].retain_grad()
    t["L"].backward()
    v = {name: float(x.item()) for name, x in t.items()}
    local = {
        "p1": {"w1": v["x1"], "x1": v["w1"]},
        "p2": {"w2": v["x2"], "x2": v["w2"]},
        "z": {"p1": 1.0, "p2": 1.0, "b": 1.0},
        "a": {"z": v["a"] * (1 - v["a"])},
        "e": {"a": 1.0, "y": -1.0},
        "L": {"e": 2 * v["e"]},
    }
    return {
        name: {"value": v[name], "grad": float(x.grad.item()), "local": local.get(name, {})}
        for name, x in t.items()
    }


def _frame_state(frame: int) -> tuple[set[str], set[str], str | None, str]:
    """At ``frame``: which nodes show their value, which show their gradient, which op is being
    processed (its edges highlighted) and the phase ("forward"/"seed"/"backward")."""
    n = len(_FORWARD)
    frame = int(np.clip(frame, 0, BLAME_FRAMES - 1))
    if frame <= n:
        shown = set(_LEAVES) | set(_FORWARD[:frame])
        return shown, set(), (_FORWARD[frame - 1] if frame else None), "forward"
    shown = set(_NODES)
    if frame == n + 1:
        return shown, {"L"}, None, "seed"
    k = frame - n - 2  # index into the backward order
    graded = {"L"}
    for op in _BACKWARD[: k + 1]:
        graded |= set(_NODES[op][2])
    return shown, graded, _BACKWARD[k], "backward"


def _describe(frame: int, g: dict[str, dict[str, Any]]) -> str:
    _, _, op, phase = _frame_state(frame)
    label = {k: v[0] for k, v in _NODES.items()}
    if phase == "forward" and op is None:
        leaves = ", ".join(f"{label[k]} = {g[k]['value']:.2f}" for k in _LEAVES)
        return f"Forward pass, step 0: the inputs and parameters are set: {leaves}"
    if phase == "forward":
        ins = _NODES[op][2]
        vals = " , ".join(f"{label[i]} = {g[i]['value']:.3f}" for i in ins)
        return (
            f"Forward, step {_FORWARD.index(op) + 1}/{len(_FORWARD)}: {label[op]} = {_NODES[op][1]} "
            f"with {vals}  →  {label[op]} = {g[op]['value']:.4f}"
        )
    if phase == "seed":
        return "Backward pass starts at the loss: ∂L/∂L = 1 (nudging L by ε changes L by ε)"
    parts = []
    for i, d in g[op]["local"].items():
        parts.append(
            f"∂L/∂{label[i]} = ∂L/∂{label[op]} · ∂{label[op]}/∂{label[i]} = "
            f"{g[op]['grad']:.4f} × {d:.4f} = {g[op]['grad'] * d:.4f}"
        )
    step = f"{_BACKWARD.index(op) + 1}/{len(_BACKWARD)}"
    head = f"Backward, step {step}: {label[op]} = {_NODES[op][1]} sends blame to its inputs\n"
    return head + "\n".join(parts)


def _draw_blame(fig: Figure, frame: int, g: dict[str, dict[str, Any]]) -> None:
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    shown, graded, op, phase = _frame_state(frame)
    ax = fig.add_axes((0.0, 0.24, 1.0, 0.7))  # fixed positions: no layout engine to run per frame
    text = fig.add_axes((0.01, 0.0, 0.98, 0.22))
    ax.set_xlim(-0.8, 9.6)
    ax.set_ylim(-0.9, 4.9)
    ax.set_axis_off()
    text.set_axis_off()
    w, h = 1.25, 0.72
    for dst, (_, _, ins) in _NODES.items():
        for src in ins:
            (x0, y0), (x1, y1) = _POS[src], _POS[dst]
            active = dst == op
            backward_now = active and phase == "backward"
            color = "tab:red" if backward_now else ("tab:blue" if active else "#9a9a9a")
            start, end = (
                ((x1 - w / 2, y1), (x0 + w / 2, y0)) if backward_now else ((x0 + w / 2, y0), (x1 - w / 2, y1))
            )
            ax.add_patch(
                FancyArrowPatch(
                    start,
                    end,
                    arrowstyle="-|>",
                    mutation_scale=14,
                    color=color,
                    lw=2.4 if active else 1.2,
                    zorder=1,
                )
            )
            if backward_now:
                mx, my = (x0 + x1) / 2, (y0 + y1) / 2
                ax.text(
                    mx,
                    my + 0.18,
                    f"×{g[dst]['local'][src]:.3g}",
                    color="tab:red",
                    fontsize=9,
                    ha="center",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
                    zorder=4,
                )
    for name, (label, formula, ins) in _NODES.items():
        x, y = _POS[name]
        leaf = not ins
        fill = "#d3e6fb" if leaf else "#fde2b8"
        if name == "y" or name.startswith("x"):
            fill = "#ececec"
        edge = (
            "tab:red"
            if (name in graded and phase == "backward" and op is not None and name in _NODES[op][2])
            else "#555555"
        )
        ax.add_patch(
            FancyBboxPatch(
                (x - w / 2, y - h / 2),
                w,
                h,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                facecolor=fill,
                edgecolor=edge,
                lw=2.0 if edge == "tab:red" else 1.0,
                zorder=2,
            )
        )
        head = label if leaf else f"{label} = {formula}"
        ax.text(x, y + 0.2, head, ha="center", va="center", fontsize=9, weight="bold", zorder=3)
        if name in shown:
            ax.text(x, y, f"{g[name]['value']:.3f}", ha="center", va="center", fontsize=9, zorder=3)
        if name in graded:
            ax.text(
                x,
                y - 0.22,
                f"∂L/∂{label} = {g[name]['grad']:.3f}",
                ha="center",
                va="center",
                fontsize=8,
                color="tab:red",
                zorder=3,
            )
    phase_text = {
        "forward": "forward pass: values flow right",
        "seed": "backward pass: blame flows left",
        "backward": "backward pass: blame flows left",
    }[phase]
    ax.set_title(
        f"frame {int(np.clip(frame, 0, BLAME_FRAMES - 1))}/{BLAME_FRAMES - 1}: {phase_text}", fontsize=11
    )
    text.text(
        0.0,
        1.0,
        _describe(frame, g),
        va="top",
        ha="left",
        fontsize=9.5,
        family="monospace",
        transform=text.transAxes,
    )


@interactive(section="1.3.2", title="blame flowing backwards through a neuron's graph (animated)")
def blame_flow(frame: int = 0, x1: float = 1.5, w1: float = 0.8, y: float = 0.0) -> Figure:
    """Frame ``frame`` of the forward then backward pass through ``L = (σ(w1·x1 + w2·x2 + b) − y)²``.

    Frames 0–6 fill in the values op by op (left to right); frame 7 seeds ∂L/∂L = 1; frames 8–13 run
    each op's backward (right to left), multiplying the blame that reached it by its local derivatives
    (the red numbers on the edges). :func:`blame_flow_animation` plays all the frames.
    """
    fig = new_figure(figsize=(10.0, 5.4))
    _draw_blame(fig, frame, neuron_graph(x1=x1, w1=w1, y=y))
    return fig


def blame_flow_animation(
    x1: float = 1.5, w1: float = 0.8, y: float = 0.0, frames: Any = None, interval: int = 900
) -> Any:
    """The animation of :func:`blame_flow`: a ``matplotlib.animation.FuncAnimation`` over ``frames``
    (default: all :data:`BLAME_FRAMES` of them; pass fewer, e.g. ``range(0, 14, 2)``, for a short one).
    Show it in a notebook with :func:`tinylearn.viz.animation_html`."""
    from matplotlib.animation import FuncAnimation

    g = neuron_graph(x1=x1, w1=w1, y=y)
    fig = new_figure(figsize=(10.0, 5.4))
    order = list(range(BLAME_FRAMES)) if frames is None else [int(f) for f in frames]

    def draw(i: int) -> tuple[Any, ...]:
        fig.clear()
        _draw_blame(fig, order[i], g)
        return ()

    draw(0)
    return FuncAnimation(fig, draw, frames=len(order), interval=interval, blit=False)


# ------------------------------------------------------------------------------------------------
# 1.3.3 Every derivative of a two-layer network
# ------------------------------------------------------------------------------------------------


def two_layer_setup(
    batch: int = 4, n_in: int = 3, n_hidden: int = 5, n_out: int = 2, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Random data and parameters of a two-layer net: ``X (batch, n_in)``, ``Y (batch, n_out)``,
    ``W1 (n_in, n_hidden)``, ``b1 (n_hidden,)``, ``W2 (n_hidden, n_out)``, ``b2 (n_out,)`` (float64)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, n_in))
    Y = rng.normal(size=(batch, n_out))
    W1 = rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in)
    b1 = 0.1 * rng.normal(size=n_hidden)
    W2 = rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden)
    b2 = 0.1 * rng.normal(size=n_out)
    return X, Y, W1, b1, W2, b2


def two_layer_backward(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> dict[str, Any]:
    """Forward and backward of ``Ŷ = tanh(X W1 + b1) W2 + b2`` with ``L = mean((Ŷ − Y)²)``, by hand in
    NumPy. Returns every intermediate (``Z1, A1, Yhat, L``) and every gradient (``dYhat, dW2, db2,
    dA1, dZ1, dW1, db1``), each with the shape of what it is the gradient of."""
    Z1 = X @ W1 + b1  # (batch, hidden)
    A1 = np.tanh(Z1)
    Yhat = A1 @ W2 + b2  # (batch, out)
    L = float(np.mean((Yhat - Y) ** 2))
    dYhat = 2.0 * (Yhat - Y) / Yhat.size  # ∂L/∂Ŷ: the mean divides by batch·out
    dW2 = A1.T @ dYhat  # ∂L/∂W2 = A1ᵀ δ2
    db2 = dYhat.sum(axis=0)  # b2 was added to every row: sum over the rows
    dA1 = dYhat @ W2.T  # ∂L/∂A1 = δ2 W2ᵀ
    dZ1 = dA1 * (1.0 - A1**2)  # tanh'(Z1) = 1 − tanh²(Z1), elementwise
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return {
        "Z1": Z1, "A1": A1, "Yhat": Yhat, "L": L,
        "dYhat": dYhat, "dW2": dW2, "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1,
    }  # fmt: skip


def two_layer_autograd(
    X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The gradients ``(dW1, db1, dW2, db2)`` of the same net and loss, from tinylearn's autograd:
    the forward pass in Tensor ops, ``F.mse_loss``, ``loss.backward()``, then each parameter's
    ``.grad``."""
    params = [_t(p, grad=True) for p in (W1, b1, W2, b2)]
    w1, c1, w2, c2 = params
    yhat = (_t(X) @ w1 + c1).tanh() @ w2 + c2
    F.mse_loss(yhat, _t(Y)).backward()
    return tuple(p.grad.numpy().copy() for p in params)  # type: ignore[return-value]


# target -> (formula, [(factor label, what it is)], the symbols between the panels, the result's key in
# the cache, what it is the gradient of)
GRADIENT_TARGETS: dict[str, tuple[str, list[tuple[str, str]], list[str], str, str]] = {
    "dL/dŶ": ("∂L/∂Ŷ = 2(Ŷ − Y) / N, N = batch·out", [("Ŷ", "Yhat"), ("Y", "Y")], ["−", "×2/N\n="], "dYhat",
              "Ŷ"),
    "dL/dW2": ("∂L/∂W2 = A1ᵀ @ δ2", [("A1ᵀ", "A1.T"), ("δ2 = ∂L/∂Ŷ", "dYhat")], ["@", "="], "dW2", "W2"),
    "dL/db2": ("∂L/∂b2 = Σ_rows δ2", [("δ2 = ∂L/∂Ŷ", "dYhat")], ["Σ rows\n="], "db2", "b2"),
    "dL/dA1": ("∂L/∂A1 = δ2 @ W2ᵀ", [("δ2 = ∂L/∂Ŷ", "dYhat"), ("W2ᵀ", "W2.T")], ["@", "="], "dA1", "A1"),
    "dL/dZ1": ("∂L/∂Z1 = ∂L/∂A1 ⊙ (1 − A1²)", [("∂L/∂A1", "dA1"), ("tanh'(Z1) = 1 − A1²", "1-A1^2")],
               ["⊙", "="], "dZ1", "Z1"),
    "dL/dW1": ("∂L/∂W1 = Xᵀ @ δ1", [("Xᵀ", "X.T"), ("δ1 = ∂L/∂Z1", "dZ1")], ["@", "="], "dW1", "W1"),
    "dL/db1": ("∂L/∂b1 = Σ_rows δ1", [("δ1 = ∂L/∂Z1", "dZ1")], ["Σ rows\n="], "db1", "b1"),
}  # fmt: skip
"""The gradients of :func:`two_layer_gradients`: each as its formula and the matrices that make it."""


def _lookup(key: str, cache: dict[str, Any], data: dict[str, np.ndarray]) -> np.ndarray:
    if key == "1-A1^2":
        return 1.0 - cache["A1"] ** 2
    if key.endswith(".T"):
        return _lookup(key[:-2], cache, data).T
    return np.asarray(cache[key] if key in cache else data[key])


def _heatmap(ax: Any, m: np.ndarray, title: str, hidden: bool = False) -> None:
    m2 = m.reshape(1, -1) if m.ndim == 1 else m
    shape = ", ".join(str(s) for s in m.shape) + ("," if m.ndim == 1 else "")
    if hidden:
        ax.imshow(np.zeros_like(m2), cmap="Greys", vmin=0, vmax=1, aspect="equal")
        ax.text(
            (m2.shape[1] - 1) / 2,
            (m2.shape[0] - 1) / 2,
            "?",
            ha="center",
            va="center",
            fontsize=28,
            color="tab:red",
        )
    else:
        lim = max(float(np.max(np.abs(m2))), 1e-12)
        ax.imshow(m2, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="equal")
        if m2.size <= 48:
            for (i, j), v in np.ndenumerate(m2):
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if abs(v) > 0.6 * lim else "black",
                )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{title}\nshape ({shape})", fontsize=9)


@interactive(
    section="1.3.3", title="every gradient of a two-layer net: shapes and values (fill in the blank)"
)
def two_layer_gradients(
    target: str = "dL/dW1",
    batch: int = 4,
    n_in: int = 3,
    n_hidden: int = 5,
    n_out: int = 2,
    reveal: bool = True,
    seed: int = 0,
) -> Figure:
    """The gradient ``target`` of ``L = mean((tanh(X W1 + b1) W2 + b2 − Y)²)`` as the matrices that
    make it: each factor as a heatmap with its shape, then the result (a red "?" of the right shape
    when ``reveal`` is off: work it out first), checked against tinylearn's autograd in the title."""
    formula, factors, symbols, key, of = GRADIENT_TARGETS[target]
    X, Y, W1, b1, W2, b2 = two_layer_setup(batch, n_in, n_hidden, n_out, seed)
    data = {"X": X, "Y": Y, "W1": W1, "b1": b1, "W2": W2, "b2": b2}
    cache = two_layer_backward(X, Y, W1, b1, W2, b2)
    result = cache[key]
    dW1, db1, dW2, db2 = two_layer_autograd(X, Y, W1, b1, W2, b2)
    auto = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}.get(key)
    mats = [_lookup(k, cache, data) for _, k in factors] + [result]
    titles = [label for label, _ in factors] + [
        f"∂L/∂{of}" + ("" if reveal else " = ?") + f"\n(same shape as {of})"
    ]
    widths = [max(m.shape[-1], 2) + 1.5 for m in mats]
    ratios = [w for pair in zip(widths, [1.0] * len(widths), strict=True) for w in pair][:-1]
    fig = new_figure(figsize=(1.5 + 0.55 * sum(ratios), 4.2), layout="constrained")
    axes = fig.subplots(1, len(ratios), width_ratios=ratios)
    for i, (m, title) in enumerate(zip(mats, titles, strict=True)):
        last = i == len(mats) - 1
        _heatmap(axes[2 * i], m, title, hidden=last and not reveal)
        if not last:
            sym = axes[2 * i + 1]
            sym.set_axis_off()
            sym.text(
                0.5,
                0.5,
                symbols[i],
                ha="center",
                va="center",
                fontsize=15,
                weight="bold",
                transform=sym.transAxes,
            )
    check = (
        f"autograd agrees: max |difference| = {float(np.max(np.abs(auto - result))):.1e}"
        if auto is not None and reveal
        else ("work out the shape first, then switch reveal on" if not reveal else "")
    )
    fig.suptitle(
        f"{formula}\nX: {batch}×{n_in}, hidden {n_hidden}, out {n_out}; L = {cache['L']:.4f}.  {check}",
        fontsize=10.5,
    )
    return fig


# ------------------------------------------------------------------------------------------------
# 1.3.5 The graph autograd records
# ------------------------------------------------------------------------------------------------


def _fmt(t: Tensor) -> str:
    a = t.detach().numpy()
    if a.size == 1:
        return f"{a.item():.4g}"
    if a.size <= 4:
        return "[" + ", ".join(f"{v:.3g}" for v in a.ravel()) + "]"
    return ""


def _expr_scalar_line() -> tuple[Tensor, list[tuple[str, Tensor]]]:
    a, b, c = _t(2.0, True), _t(-3.0, True), _t(10.0, True)
    ab = a * b
    out = ab + c
    return out, [("a", a), ("b", b), ("c", c), ("a*b", ab), ("out", out)]


def _expr_neuron() -> tuple[Tensor, list[tuple[str, Tensor]]]:
    w, x, b = _t(0.5, True), _t(2.0), _t(-0.25, True)
    wx = w * x
    z = wx + b
    out = z.tanh()
    return out, [("w", w), ("x", x), ("b", b), ("w*x", wx), ("z", z), ("out", out)]


def _expr_reuse() -> tuple[Tensor, list[tuple[str, Tensor]]]:
    a, b = _t(3.0, True), _t(4.0, True)
    ab = a * b
    out = ab + a
    return out, [("a", a), ("b", b), ("a*b", ab), ("out", out)]


def _expr_sum_squares() -> tuple[Tensor, list[tuple[str, Tensor]]]:
    x = _t([1.0, -2.0, 3.0], True)
    sq = x * x
    out = sq.sum()
    return out, [("x", x), ("x*x", sq), ("out", out)]


def _expr_mse() -> tuple[Tensor, list[tuple[str, Tensor]]]:
    w, b = _t(0.5, True), _t(0.0, True)
    x, y = _t([1.0, 2.0, 3.0]), _t([3.0, 5.0, 7.0])
    pred = w * x + b
    r = y - pred
    sq = r * r
    out = sq.mean()
    return out, [("w", w), ("b", b), ("x", x), ("y", y), ("ŷ", pred), ("r", r), ("r²", sq), ("out", out)]


def _expr_layer() -> tuple[Tensor, list[tuple[str, Tensor]]]:
    W = _t([[0.2, -0.4, 0.1], [0.5, 0.3, -0.2]], True)
    x = _t([[1.0], [2.0], [-1.0]])
    b = _t([[0.1], [-0.1]], True)
    z = W @ x + b
    a = z.sigmoid()
    out = a.sum()
    return out, [("W", W), ("x", x), ("b", b), ("z", z), ("σ(z)", a), ("out", out)]


EXPRESSIONS: dict[str, Callable[[], tuple[Tensor, list[tuple[str, Tensor]]]]] = {
    "a*b + c": _expr_scalar_line,
    "tanh(w*x + b)": _expr_neuron,
    "a*b + a": _expr_reuse,
    "(x*x).sum()": _expr_sum_squares,
    "((y - (w*x + b))**2).mean()": _expr_mse,
    "sigmoid(W @ x + b).sum()": _expr_layer,
}
"""The expressions of :func:`autograd_graph`: each builds its tensors and returns the result and the
``(name, tensor)`` pairs to label."""


def expression_graph(
    expression: str = "tanh(w*x + b)", show_values: bool = True, show_grads: bool = False
) -> GraphDrawing:
    """Build ``expression`` (a key of :data:`EXPRESSIONS`) with tinylearn and draw the graph autograd
    recorded, with :func:`tinylearn.viz.draw_graph` (its matplotlib layout: no Graphviz needed).

    With ``show_values`` every named tensor's label carries its value (for up to 4 elements); with
    ``show_grads`` the graph is first run backward (``retain_graph=True`` so it can still be drawn,
    ``retain_grad`` on the intermediates) and every tensor shows its ``.grad``.
    """
    out, named = EXPRESSIONS[expression]()
    if show_grads:
        for _, t in named:
            if t.grad_fn is not None:
                t.retain_grad()
        out.backward(retain_graph=True)
    names = {}
    for name, t in named:
        value = _fmt(t) if show_values else ""
        names[t] = f"{name} = {value}" if value else name
    return draw_graph(out, names=names, show_grads=show_grads, engine="matplotlib")


@interactive(section="1.3.5", title="the graph autograd builds for an expression you pick (values, grads)")
def autograd_graph(
    expression: str = "tanh(w*x + b)", show_values: bool = True, show_grads: bool = False
) -> Figure:
    """The computational graph of ``expression`` as tinylearn records it: orange ops, blue parameters,
    grey data, white intermediates, the green result; toggles add the values and the gradients."""
    return expression_graph(expression, show_values, show_grads).figure(fontsize=9.0)


# ------------------------------------------------------------------------------------------------
# 1.3.6 Vanishing and exploding gradients
# ------------------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(),
}


def gradient_norms(
    depth: int = 20,
    activation: str = "sigmoid",
    weight_scale: float = 1.0,
    width: int = 32,
    batch: int = 64,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Gradient and activation sizes per layer of a deep plain MLP, from tinylearn's autograd.

    The net is ``h_l = act(h_{l-1} W_l)`` for ``l = 1..depth`` (no biases), with ``W_l`` drawn from
    ``N(0, weight_scale² / width)`` and ``h_0`` standard normal data; the loss is the MSE of a linear
    read-out ``h_depth v`` against random targets. Returns ``grad_norm`` (‖∂L/∂W_l‖, Frobenius),
    ``delta_norm`` (‖∂L/∂h_l‖) and ``act_std`` (the standard deviation of ``h_l``), one entry per layer.
    """
    rng = np.random.default_rng(seed)
    act = ACTIVATIONS[activation]
    weights = [_t(rng.normal(0.0, weight_scale / np.sqrt(width), (width, width)), True) for _ in range(depth)]
    readout = _t(rng.normal(0.0, 1.0 / np.sqrt(width), (width, 1)))
    target = _t(rng.normal(size=(batch, 1)))
    h = _t(rng.normal(size=(batch, width)))
    hs = []
    for W in weights:
        h = act(h @ W)
        h.retain_grad()
        hs.append(h)
    F.mse_loss(h @ readout, target).backward()
    return {
        "grad_norm": np.array([float(np.linalg.norm(W.grad.numpy())) for W in weights]),
        "delta_norm": np.array([float(np.linalg.norm(x.grad.numpy())) for x in hs]),
        "act_std": np.array([float(x.detach().numpy().std()) for x in hs]),
    }


def _log_axis(ax: Any) -> None:
    """A log-scale y axis with a few decades labelled as plain text (1e-6: no mathtext to typeset, which
    is most of the drawing time of a log axis) and no minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=7))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"1e{round(np.log10(v)):d}" if v > 0 else ""))


@interactive(section="1.3.6", title="gradient norm per layer: depth, activation and weight scale")
def gradient_flow(
    depth: int = 20, activation: str = "sigmoid", weight_scale: float = 1.0, width: int = 32
) -> Figure:
    """Left: the gradient reaching each layer's output, ‖∂L/∂h_l‖ (bars: what the backward pass carries
    down), and each weight gradient ‖∂L/∂W_l‖ (dots), on a log scale. Right: the spread of the
    activations per layer (the forward signal). Layer 1 is next to the input, where backward ends."""
    from matplotlib.ticker import MaxNLocator

    r = gradient_norms(depth, activation, weight_scale, width)
    layers = np.arange(1, depth + 1)
    delta = np.maximum(r["delta_norm"], 1e-300)
    grad_w = np.maximum(r["grad_norm"], 1e-300)
    fig = new_figure(figsize=(10.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    color = {"sigmoid": "tab:purple", "tanh": "tab:green", "relu": "tab:orange"}[activation]
    left.bar(layers, delta, color=color, alpha=0.75, label="‖∂L/∂h_l‖  (blame reaching layer l)")
    left.plot(layers, grad_w, "o", color="black", markersize=3, label="‖∂L/∂W_l‖  (the weights' gradient)")
    _log_axis(left)
    both = np.concatenate([delta, grad_w])
    left.set_ylim(min(float(both.min()) / 10, 1e-3), max(float(both.max()) * 10, 1e3))
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("layer l  (1 = input side; backward runs from right to left)")
    left.set_ylabel("gradient norm (log scale)")
    left.grid(alpha=0.3, which="major", axis="y")
    left.legend(loc="lower right", fontsize=8)
    ratio = delta[0] / delta[-1]
    left.set_title(
        f"{activation}, weight scale {weight_scale:g}: ‖∂L/∂h_1‖ / ‖∂L/∂h_{depth}‖ = {ratio:.2e}", fontsize=10
    )
    right.plot(layers, np.maximum(r["act_std"], 1e-300), "o-", color=color, markersize=3)
    _log_axis(right)
    lo, hi = float(r["act_std"].min()), float(r["act_std"].max())
    right.set_ylim(min(lo / 3, 1e-2), max(hi * 3, 10.0))
    right.set_xlabel("layer l")
    right.set_ylabel("std of the activations h_l (log scale)")
    right.grid(alpha=0.3, which="major")
    right.set_title("the forward signal", fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

CONTROLS: dict[str, dict[str, Any]] = {
    "chain_rule_view": {"outer": list(ELEMENTARY), "inner": list(ELEMENTARY), "x": (-2.0, 2.0, 0.05)},
    "blame_flow": {
        "frame": (0, BLAME_FRAMES - 1, 1),
        "x1": (-3.0, 3.0, 0.1),
        "w1": (-3.0, 3.0, 0.1),
        "y": (-1.0, 2.0, 0.1),
    },
    "two_layer_gradients": {
        "target": list(GRADIENT_TARGETS),
        "batch": (1, 8, 1),
        "n_in": (1, 6, 1),
        "n_hidden": (1, 8, 1),
        "n_out": (1, 4, 1),
        "reveal": bool,
    },
    "autograd_graph": {"expression": list(EXPRESSIONS), "show_values": bool, "show_grads": bool},
    "gradient_flow": {
        "depth": (2, 60, 1),
        "activation": ["sigmoid", "tanh", "relu"],
        "weight_scale": (0.1, 4.0, 0.05),
        "width": (4, 128, 4),
    },
}
"""Live controls for the interactive figures (see :mod:`tinylearn.viz.widgets` for the specs)."""

"""The interactive figures of lesson 1.2 (beyond straight lines): activations, hidden layers, forward passes.

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure`` (no pyplot, no global
state); :func:`widget` wraps any of them in ipywidgets controls. The values and derivatives of the
activations are tinylearn's own: :func:`activation_and_derivative` runs the library's functions forward
and asks autograd for the derivative (the ``backward`` of the ``Sigmoid``, ``Tanh`` and ``Relu``
Functions, or the chain rule through the ops that compose ``leaky_relu``, ``gelu`` and ``silu``).

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`linear_boundary`                1.2.1    a line you turn and shift over XOR / circles / moons
                                                / blobs, its accuracy and the best line's
:func:`sigmoid_explorer`               1.2.3    σ and σ' with an input marker; the saturated tails
:func:`tanh_explorer`                  1.2.3    tanh and tanh', optionally beside the sigmoid
:func:`relu_explorer`                  1.2.3    the hinge max(0, x) and its step derivative
:func:`leaky_relu_explorer`            1.2.3    leaky ReLU with a slope slider
:func:`gelu_explorer`                  1.2.3    GELU (exact or tanh approximation) against ReLU
:func:`silu_explorer`                  1.2.3    SiLU against ReLU and GELU
:func:`activation_comparison`          1.2.3    all six on one plot (and their derivatives), toggles
:func:`stacking_layers`                1.2.4    the decision boundary of an MLP trained with
                                                tinylearn, for a chosen width and depth (cached)
:func:`forward_pass`                   1.2.5    a tiny network evaluated stage by stage (frames)
=====================================  =======  ==================================================

The numbers behind the pictures: :func:`lesson_dataset`, :func:`best_linear_boundary`,
:func:`activation_and_derivative`, :func:`train_classifier` and :func:`trained_network` (cached),
:func:`hinge_network` and :func:`sawtooth_network` (hand-built ReLU networks), :func:`two_unit_xor_net`
(and its picture :func:`xor_hidden_space`), :func:`corner_network` and :func:`forward_trace`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..data import toy
from ..models.mlp import MLP
from ..nn import functional as F
from ..tensor import Tensor, tensor
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACTIVATIONS",
    "CONTROLS",
    "TrainedNetwork",
    "activation_and_derivative",
    "activation_comparison",
    "best_linear_boundary",
    "corner_network",
    "forward_pass",
    "forward_trace",
    "gelu_explorer",
    "hinge_network",
    "leaky_relu_explorer",
    "lesson_dataset",
    "linear_boundary",
    "relu_explorer",
    "sawtooth_network",
    "sigmoid_explorer",
    "silu_explorer",
    "stacking_layers",
    "tanh_explorer",
    "train_classifier",
    "trained_network",
    "two_unit_xor_net",
    "widget",
    "xor_hidden_space",
]

CLASS_COLORS = ("tab:blue", "tab:red")  # class 0, class 1
DATASETS = ("xor", "circles", "moons", "blobs", "spirals")

# ------------------------------------------------------------------------------------------------
# Data and the best straight line (1.2.1)
# ------------------------------------------------------------------------------------------------


def lesson_dataset(name: str = "xor", n_samples: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A two-class toy set of :mod:`tinylearn.data.toy`, centred on the origin: ``X`` (N, 2) float64 and
    ``y`` (N,) int64 in {0, 1}.

    ``xor``: four clusters at (±1, ±1) (``make_xor``); ``circles``: a ring around a disc
    (``make_circles``); ``moons``: two interleaved half circles (``make_moons``); ``blobs``: two
    Gaussian clusters, the one set here a line can separate (``make_blobs``); ``spirals``: two spiral
    arms (``make_spirals`` with two classes).
    """
    if name == "xor":
        X, y = toy.make_xor(n_samples, noise=0.3, seed=seed)
    elif name == "circles":
        X, y = toy.make_circles(n_samples, noise=0.08, factor=0.5, seed=seed)
    elif name == "moons":
        X, y = toy.make_moons(n_samples, noise=0.1, seed=seed)
    elif name == "blobs":
        X, y = toy.make_blobs(
            n_samples, centers=np.array([[-0.8, -0.6], [0.8, 0.6]]), cluster_std=0.4, seed=seed
        )
    elif name == "spirals":
        X, y = toy.make_spirals(n_samples, n_classes=2, noise=0.15, seed=seed)
        X = 1.6 * X
    else:
        raise ValueError(f"lesson_dataset: unknown data set {name!r}; choose one of {DATASETS}")
    X = X.astype(np.float64)
    return X - X.mean(axis=0), y.astype(np.int64)


def _line_accuracy(X: np.ndarray, y: np.ndarray, angle: float, offset: float) -> float:
    """Accuracy of the rule "class 1 where n·x > offset", n = (cos angle, sin angle), angle in degrees."""
    a = np.deg2rad(angle)
    pred = X @ np.array([np.cos(a), np.sin(a)]) > offset
    return float(np.mean(pred == (y == 1)))


def best_linear_boundary(X: np.ndarray, y: np.ndarray, n_angles: int = 720) -> tuple[float, float, float]:
    """The straight line with the highest accuracy: returns ``(angle, offset, accuracy)``, the rule being
    "class 1 where n·x > offset" with n = (cos angle, sin angle), angle in degrees.

    A search, not a fit: for each of ``n_angles`` directions the points are projected onto n and sorted,
    and every threshold between two neighbours is scored at once with cumulative sums (the points
    below it predicted class 0, those above class 1). Directions cover the full circle, so both
    orientations of every line are tried.
    """
    angles = np.linspace(0.0, 360.0, n_angles, endpoint=False)
    rad = np.deg2rad(angles)
    proj = X @ np.stack([np.cos(rad), np.sin(rad)])  # (N, A): the position of each point along n
    order = np.argsort(proj, axis=0)
    ones = (y == 1)[order]  # labels in sorted order, per direction
    n = len(y)
    # with the k lowest points called class 0 (k = 0..N): correct = zeros among them + ones above
    zeros_below = np.vstack([np.zeros((1, len(angles))), np.cumsum(~ones, axis=0)])
    ones_above = ones.sum(axis=0) - np.vstack([np.zeros((1, len(angles))), np.cumsum(ones, axis=0)])
    correct = zeros_below + ones_above  # (N + 1, A)
    k, j = np.unravel_index(int(np.argmax(correct)), correct.shape)
    sorted_proj = np.take_along_axis(proj, order, axis=0)[:, j]
    lo = sorted_proj[k - 1] if k > 0 else sorted_proj[0] - 1.0
    hi = sorted_proj[k] if k < n else sorted_proj[-1] + 1.0
    return float(angles[j]), float((lo + hi) / 2), float(correct[k, j] / n)


def _window(X: np.ndarray, margin: float = 0.4) -> tuple[float, float, float, float]:
    """A square plotting window around the points."""
    half = float(np.max(np.abs(X))) + margin
    return -half, half, -half, half


def _scatter_classes(ax: Any, X: np.ndarray, y: np.ndarray, s: float = 14) -> None:
    for k in (0, 1):
        ax.scatter(
            *X[y == k].T,
            s=s,
            color=CLASS_COLORS[k],
            edgecolors="white",
            linewidths=0.4,
            label=f"class {k}",
            zorder=3,
        )


def _draw_line(ax: Any, angle: float, offset: float, half: float, **kwargs: Any) -> None:
    a = np.deg2rad(angle)
    n, t = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    ends = np.stack([offset * n - 3 * half * t, offset * n + 3 * half * t])
    ax.plot(ends[:, 0], ends[:, 1], **kwargs)


@interactive(
    section="1.2.1", title="turn a straight line over XOR, circles, moons: its accuracy and the best"
)
def linear_boundary(
    dataset: str = "xor",
    angle: float = 30.0,
    offset: float = 0.0,
    show_best: bool = True,
    n_samples: int = 200,
) -> Figure:
    """The points of ``dataset`` and the straight boundary "class 1 where n·x > offset" with
    n = (cos angle, sin angle): the shaded side is called class 1. With ``show_best`` the most accurate
    line of all (:func:`best_linear_boundary`) is drawn dashed."""
    X, y = lesson_dataset(dataset, n_samples)
    x0, x1, y0, y1 = _window(X)
    fig = new_figure(figsize=(5.8, 5.2), layout="constrained")
    ax = fig.add_subplot()
    a = np.deg2rad(angle)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    side = (gx * np.cos(a) + gy * np.sin(a) > offset).astype(float)
    ax.contourf(gx, gy, side, levels=[-0.5, 0.5, 1.5], colors=[CLASS_COLORS[0], CLASS_COLORS[1]], alpha=0.12)
    _scatter_classes(ax, X, y)
    mine = _line_accuracy(X, y, angle, offset)
    _draw_line(ax, angle, offset, x1, color="black", lw=2, label=f"your line: {mine:.1%} correct")
    base = offset * np.array([np.cos(a), np.sin(a)])
    ax.annotate(
        "",
        xy=base + 0.5 * np.array([np.cos(a), np.sin(a)]),
        xytext=base,
        arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.5},
    )
    title = f"{dataset}: your line {mine:.1%}"
    if show_best:
        b_angle, b_offset, b_acc = best_linear_boundary(X, y)
        _draw_line(
            ax,
            b_angle,
            b_offset,
            x1,
            color="tab:green",
            lw=2,
            ls="--",
            label=f"best possible line: {b_acc:.1%}",
        )
        title += f", best line {b_acc:.1%}"
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_title(title)
    return fig


# ------------------------------------------------------------------------------------------------
# Activations (1.2.3)
# ------------------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, str] = {
    "sigmoid": "σ(x) = 1/(1+e⁻ˣ)",
    "tanh": "tanh(x)",
    "relu": "ReLU(x) = max(0, x)",
    "leaky_relu": "LeakyReLU(x) = max(αx, x)",
    "gelu": "GELU(x) = x·Φ(x)",
    "silu": "SiLU(x) = x·σ(x)",
}
COLORS = {
    "sigmoid": "tab:blue",
    "tanh": "tab:orange",
    "relu": "tab:green",
    "leaky_relu": "tab:olive",
    "gelu": "tab:purple",
    "silu": "tab:red",
}


def _activation(
    name: str, negative_slope: float = 0.01, approximate: str = "none"
) -> Callable[[Tensor], Tensor]:
    """The library function behind ``name`` (``tinylearn.nn.functional``)."""
    table: dict[str, Callable[[Tensor], Tensor]] = {
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, negative_slope),
        "gelu": lambda t: F.gelu(t, approximate=approximate),
        "silu": F.silu,
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(table)}")
    return table[name]


def activation_and_derivative(
    name: str, x: Any, negative_slope: float = 0.01, approximate: str = "none"
) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` and ``f'(x)`` of the activation ``name`` as tinylearn computes them (float64 arrays of
    ``x``'s shape).

    The forward value is ``tinylearn.nn.functional.<name>``; the derivative is what autograd hands back
    for an upstream gradient of ones: the ``backward`` of the ``Sigmoid``/``Tanh``/``Relu`` Functions,
    or the chain rule through the ops that make up ``leaky_relu``, ``gelu`` and ``silu``.
    """
    t = tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out = _activation(name, negative_slope, approximate)(t)
    out.sum().backward()  # d(sum f(xᵢ))/dxᵢ = f'(xᵢ): each input only touches its own output
    return out.detach().numpy(), t.grad.numpy()


def _activation_axes(
    ax: Any,
    name: str,
    x: float,
    show_derivative: bool,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    label: str,
    dlabel: str,
    **kw: Any,
) -> tuple[float, float]:
    """Draw f (and f', the tangent at ``x``) of ``name`` with the input marker; returns f(x), f'(x)."""
    xs = np.linspace(*xlim, 401)
    f, df = activation_and_derivative(name, xs, **kw)
    (fx,), (dfx,) = activation_and_derivative(name, [x], **kw)
    color = COLORS[name]
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(0, color="black", lw=0.6)
    ax.plot(xs, f, color=color, lw=2.4, label=label)
    if show_derivative:
        ax.plot(xs, df, color=color, lw=1.6, ls="--", label=dlabel)
        span = 0.2 * (xlim[1] - xlim[0])
        tx = np.array([x - span, x + span])
        ax.plot(tx, fx + dfx * (tx - x), color="black", lw=1.1, alpha=0.8, label="tangent at x: slope f'(x)")
        ax.plot([x], [dfx], "s", color=color, ms=7, zorder=5, markeredgecolor="black")
    ax.axvline(x, color="gray", lw=0.8, ls=":")
    ax.plot([x], [fx], "o", color=color, ms=9, zorder=5, markeredgecolor="black")
    ax.text(
        0.98,
        0.04,
        f"x = {x:+.2f}\nf(x) = {fx:+.4f}\nf'(x) = {dfx:+.4f}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        family="monospace",
        fontsize=10,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9},
    )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)
    return float(fx), float(dfx)


def _one_axes(width: float = 7.0) -> tuple[Figure, Any]:
    fig = new_figure(figsize=(width, 4.3), layout="constrained")
    return fig, fig.add_subplot()


@interactive(section="1.2.3", title="sigmoid: move the input, see σ(x), σ'(x) and the flat tails")
def sigmoid_explorer(x: float = 2.0, show_derivative: bool = True) -> Figure:
    """σ(x) = 1/(1 + e⁻ˣ) and σ'(x) = σ(x)(1 − σ(x)); the grey bands are where σ'(x) < 0.01 (a unit
    there passes back almost no gradient)."""
    fig, ax = _one_axes()
    xs = np.linspace(-8, 8, 401)
    _, d = activation_and_derivative("sigmoid", xs)
    edge = float(np.min(np.abs(xs[d < 0.01])))
    ax.axvspan(-8, -edge, color="gray", alpha=0.15, label=f"σ'(x) < 0.01 (|x| > {edge:.1f})")
    ax.axvspan(edge, 8, color="gray", alpha=0.15)
    _activation_axes(
        ax,
        "sigmoid",
        x,
        show_derivative,
        (-8, 8),
        (-0.15, 1.15),
        "σ(x) = 1/(1+e⁻ˣ)",
        "σ'(x) = σ(x)(1−σ(x)), at most 0.25",
    )
    ax.axhline(1, color="black", lw=0.5, ls=":")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("sigmoid: range (0, 1), flat at both ends")
    return fig


@interactive(section="1.2.3", title="tanh: f and f', side by side with the sigmoid")
def tanh_explorer(x: float = 1.0, show_derivative: bool = True, compare_sigmoid: bool = True) -> Figure:
    """tanh(x) and tanh'(x) = 1 − tanh²(x); with ``compare_sigmoid`` the sigmoid and its derivative in
    grey: tanh is a sigmoid stretched to (−1, 1), centred on 0, with a slope of 1 (not 0.25) at 0."""
    fig, ax = _one_axes()
    if compare_sigmoid:
        xs = np.linspace(-6, 6, 401)
        s, ds = activation_and_derivative("sigmoid", xs)
        ax.plot(xs, s, color="gray", lw=1.5, label="σ(x), for comparison")
        if show_derivative:
            ax.plot(xs, ds, color="gray", lw=1.2, ls="--", label="σ'(x)")
    _activation_axes(
        ax,
        "tanh",
        x,
        show_derivative,
        (-6, 6),
        (-1.25, 1.25),
        "tanh(x) = (eˣ−e⁻ˣ)/(eˣ+e⁻ˣ)",
        "tanh'(x) = 1 − tanh²(x), at most 1",
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("tanh: range (−1, 1), zero-centred")
    return fig


@interactive(section="1.2.3", title="ReLU: the hinge and its step-shaped derivative")
def relu_explorer(x: float = 1.0, show_derivative: bool = True) -> Figure:
    """max(0, x): a hinge at 0. Its derivative is 0 for x < 0 and 1 for x > 0; at the kink itself the
    library (like PyTorch) uses 0."""
    fig, ax = _one_axes()
    _activation_axes(
        ax,
        "relu",
        x,
        show_derivative,
        (-4, 4),
        (-1.2, 4.2),
        "ReLU(x) = max(0, x)",
        "ReLU'(x) = 1 if x > 0 else 0",
    )
    ax.annotate("the hinge", xy=(0, 0), xytext=(-2.6, 1.6), arrowprops={"arrowstyle": "->"})
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("ReLU: zero for negatives, identity for positives")
    return fig


@interactive(section="1.2.3", title="leaky ReLU: slide the negative slope α")
def leaky_relu_explorer(x: float = -2.0, negative_slope: float = 0.1, show_derivative: bool = True) -> Figure:
    """max(αx, x) for 0 ≤ α < 1: a ReLU whose negative side keeps a slope α (PyTorch's default α is 0.01),
    so a unit with negative input still passes back α times the gradient. ReLU in grey."""
    fig, ax = _one_axes()
    xs = np.linspace(-4, 4, 401)
    ax.plot(xs, np.maximum(xs, 0), color="gray", lw=1.2, label="ReLU, for comparison")
    _activation_axes(
        ax,
        "leaky_relu",
        x,
        show_derivative,
        (-4, 4),
        (-1.6, 4.2),
        f"LeakyReLU(x) = max({negative_slope:g}x, x)",
        f"derivative: 1 or α = {negative_slope:g}",
        negative_slope=negative_slope,
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"leaky ReLU with α = {negative_slope:g}")
    return fig


@interactive(section="1.2.3", title="GELU: exact or tanh approximation, against ReLU")
def gelu_explorer(
    x: float = -0.75, show_derivative: bool = True, approximate: str = "none", compare_relu: bool = True
) -> Figure:
    """x·Φ(x), Φ the standard normal CDF (``approximate="none"``, the library's default, via erf) or
    its tanh approximation (``"tanh"``, GPT-2's). A smooth ReLU with a small dip below zero."""
    fig, ax = _one_axes()
    xs = np.linspace(-4, 4, 401)
    if compare_relu:
        ax.plot(xs, np.maximum(xs, 0), color="gray", lw=1.2, label="ReLU, for comparison")
    kind = "exact, erf" if approximate == "none" else "tanh approximation"
    _activation_axes(
        ax,
        "gelu",
        x,
        show_derivative,
        (-4, 4),
        (-1.2, 4.2),
        f"GELU(x) = x·Φ(x)  ({kind})",
        "GELU'(x) = Φ(x) + x·φ(x)",
        approximate=approximate,
    )
    exact, _ = activation_and_derivative("gelu", xs)
    approx, _ = activation_and_derivative("gelu", xs, approximate="tanh")
    ax.text(
        0.02,
        0.60,
        f"max |exact − tanh approx.|\non [−4, 4]: {np.max(np.abs(exact - approx)):.1e}",
        transform=ax.transAxes,
        fontsize=8,
        va="top",
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("GELU: x weighted by the probability that a standard normal is below x")
    return fig


@interactive(section="1.2.3", title="SiLU (swish): x gated by its own sigmoid, against ReLU and GELU")
def silu_explorer(
    x: float = -1.28, show_derivative: bool = True, compare_relu: bool = False, compare_gelu: bool = True
) -> Figure:
    """x·σ(x): the input scaled by a soft on/off switch computed from itself. Its derivative is
    σ(x)(1 + x(1 − σ(x))); the minimum, about −0.28, sits near x = −1.28."""
    fig, ax = _one_axes()
    xs = np.linspace(-5, 4, 451)
    if compare_relu:
        ax.plot(xs, np.maximum(xs, 0), color="gray", lw=1.2, label="ReLU")
    if compare_gelu:
        g, _ = activation_and_derivative("gelu", xs)
        ax.plot(xs, g, color=COLORS["gelu"], lw=1.2, alpha=0.7, label="GELU")
    _activation_axes(
        ax,
        "silu",
        x,
        show_derivative,
        (-5, 4),
        (-1.2, 4.2),
        "SiLU(x) = x·σ(x)",
        "SiLU'(x) = σ(x)(1 + x(1−σ(x)))",
    )
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("SiLU / swish: a self-gated unit")
    return fig


@interactive(section="1.2.3", title="all activations on one plot, each with its toggle (and derivatives)")
def activation_comparison(
    sigmoid: bool = True,
    tanh: bool = True,
    relu: bool = True,
    leaky_relu: bool = False,
    gelu: bool = True,
    silu: bool = True,
    derivatives: bool = True,
) -> Figure:
    """The chosen activations on one plot (left) and, with ``derivatives``, their derivatives (right),
    all computed by tinylearn (leaky ReLU with α = 0.1 so that its slope is visible)."""
    chosen = {
        "sigmoid": sigmoid,
        "tanh": tanh,
        "relu": relu,
        "leaky_relu": leaky_relu,
        "gelu": gelu,
        "silu": silu,
    }
    fig = new_figure(figsize=(10.0 if derivatives else 6.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 2) if derivatives else [fig.add_subplot()]
    xs = np.linspace(-4, 4, 401)
    for ax in axes:
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(0, color="black", lw=0.6)
        ax.grid(alpha=0.3)
        ax.set_xlim(-4, 4)
        ax.set_xlabel("x")
    for name, on in chosen.items():
        if not on:
            continue
        f, df = activation_and_derivative(name, xs, negative_slope=0.1)
        axes[0].plot(xs, f, color=COLORS[name], lw=2, label=name)
        if derivatives:
            axes[1].plot(xs, df, color=COLORS[name], lw=2, label=name)
    axes[0].set_ylim(-1.5, 4)
    axes[0].set_title("f(x)")
    if derivatives:
        axes[1].set_ylim(-0.3, 1.3)
        axes[1].set_title("f'(x): how much gradient passes through")
    shown = [n for n, on in chosen.items() if on]
    if shown:
        axes[0].legend(loc="upper left", fontsize=8)
    else:
        axes[0].text(0, 1, "(tick an activation)", ha="center")
    return fig


# ------------------------------------------------------------------------------------------------
# Stacking layers (1.2.2, 1.2.4)
# ------------------------------------------------------------------------------------------------


def two_unit_xor_net() -> nn.Sequential:
    """XOR solved by hand with two ReLU units: h₁ = ReLU(x₁ − x₂), h₂ = ReLU(x₂ − x₁) ("how far x₁
    exceeds x₂" and the other way round), then the logit 2h₁ + 2h₂ − 2 (class 1 when positive)."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with no_grad():
        net[0].weight.copy_(tensor([[1.0, -1.0], [-1.0, 1.0]]))
        net[0].bias.copy_(tensor([0.0, 0.0]))
        net[2].weight.copy_(tensor([[2.0, 2.0]]))
        net[2].bias.copy_(tensor([-2.0]))
    return net


def xor_hidden_space(n_samples: int = 200) -> Figure:
    """The XOR points in the input plane (left) and after the hidden layer of :func:`two_unit_xor_net`
    (right). In the hidden plane one straight line, h₁ + h₂ = 1, separates the classes; pulled back to
    the input plane it becomes the two lines |x₁ − x₂| = 1."""
    X, y = lesson_dataset("xor", n_samples)
    hidden = forward_trace(two_unit_xor_net(), X)[2][1]  # after Linear and ReLU
    fig = new_figure(figsize=(9.5, 4.3), layout="constrained")
    left, right = fig.subplots(1, 2)
    _scatter_classes(left, X, y, s=10)
    t = np.array([-3.0, 3.0])
    for shift in (-1.0, 1.0):
        left.plot(
            t,
            t + shift,
            color="black",
            lw=1.5,
            label="the net's boundary |x₁ − x₂| = 1" if shift < 0 else None,
        )
    left.set(
        xlim=(-2.4, 2.4),
        ylim=(-2.4, 2.4),
        aspect="equal",
        xlabel="x₁",
        ylabel="x₂",
        title="input space: no single line works",
    )
    left.legend(loc="upper left", fontsize=8)
    _scatter_classes(right, hidden, y, s=10)
    right.plot([-0.5, 1.5], [1.5, -0.5], color="black", lw=1.5, label="h₁ + h₂ = 1")
    right.set(
        xlim=(-0.3, 4.0),
        ylim=(-0.3, 4.0),
        aspect="equal",
        xlabel="h₁ = ReLU(x₁ − x₂)",
        ylabel="h₂ = ReLU(x₂ − x₁)",
        title="hidden space: one line does",
    )
    right.legend(loc="upper right", fontsize=8)
    return fig


def corner_network() -> nn.Sequential:
    """A 2 → 4 → 1 network for XOR, weights set by hand: hidden unit c = ReLU(c·x − 1) fires near the
    corner c ∈ {(1, 1), (−1, −1), (1, −1), (−1, 1)}; the output σ(4(h₃ + h₄) − 4(h₁ + h₂)) is the
    probability of class 1 (the two corners where exactly one coordinate is negative)."""
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    with no_grad():
        net[0].weight.copy_(tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]))
        net[0].bias.copy_(tensor([-1.0, -1.0, -1.0, -1.0]))
        net[2].weight.copy_(tensor([[-4.0, -4.0, 4.0, 4.0]]))
        net[2].bias.copy_(tensor([0.0]))
    return net


def forward_trace(model: nn.Sequential, x: Any) -> list[tuple[str, np.ndarray]]:
    """Run ``model`` (a ``Sequential``) on ``x`` one child at a time; returns ``(name, value)`` for the
    input and after every layer: ``[("input", x), ("0: Linear", ...), ("1: ReLU", ...), ...]``."""
    value = tensor(np.asarray(x, dtype=np.float32))
    trace = [("input", value.numpy())]
    with no_grad():
        for i, layer in enumerate(model):
            value = layer(value)
            trace.append((f"{i}: {type(layer).__name__}", value.numpy()))
    return trace


def hinge_network(fn: Callable[[np.ndarray], np.ndarray], units: int, lo: float, hi: float) -> nn.Sequential:
    """A ``Linear(1, units) → ReLU → Linear(units, 1)`` network, weights set by hand, that draws the
    straight segments joining ``fn`` at ``units + 1`` evenly spaced points of [lo, hi].

    Hidden unit i is the hinge ReLU(x − tᵢ) at the knot tᵢ; its output weight is the change of slope
    there, and the output bias is fn(lo). Between knots the sum is a straight line: any such broken
    line is one hidden layer.
    """
    knots = np.linspace(lo, hi, units + 1)
    values = fn(knots)
    slopes = np.diff(values) / np.diff(knots)  # the slope of each of the `units` segments
    net = nn.Sequential(nn.Linear(1, units), nn.ReLU(), nn.Linear(units, 1))
    with no_grad():
        net[0].weight.copy_(tensor(np.ones((units, 1), np.float32)))
        net[0].bias.copy_(tensor(-knots[:-1].astype(np.float32)))  # ReLU(x - t_i)
        net[2].weight.copy_(tensor(np.diff(slopes, prepend=0.0)[None, :].astype(np.float32)))
        net[2].bias.copy_(tensor(np.array([values[0]], np.float32)))
    return net


def sawtooth_network(depth: int) -> nn.Sequential:
    """``depth`` copies of the tent map t(x) = 2·ReLU(x) − 4·ReLU(x − ½) (it folds [0, 1] onto itself),
    each a ``Linear(1, 2) → ReLU → Linear(2, 1)`` block: 2·depth hidden units, 2^depth straight pieces."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        first, second = nn.Linear(1, 2), nn.Linear(2, 1)
        with no_grad():
            first.weight.copy_(tensor([[1.0], [1.0]]))
            first.bias.copy_(tensor([0.0, -0.5]))
            second.weight.copy_(tensor([[2.0, -4.0]]))
            second.bias.copy_(tensor([0.0]))
        layers += [first, nn.ReLU(), second]
    return nn.Sequential(*layers)


def train_classifier(
    model: nn.Module, X: np.ndarray, y: np.ndarray, steps: int, lr: float = 0.03
) -> list[float]:
    """Full-batch Adam on the binary cross-entropy of the logits ``model(X)`` (N, 1) against the labels
    ``y`` in {0, 1}; returns the loss of every step. (The loop of lesson 1.1, with the gradient from
    autograd, lesson 1.3, and Adam, lesson 1.4.)"""
    inputs = tensor(np.asarray(X, dtype=np.float32))
    targets = tensor(np.asarray(y, dtype=np.float32)).reshape(-1, 1)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)  # forward and loss
        loss.backward()  # backward: every parameter's .grad
        optimizer.step()  # update
        losses.append(loss.item())
    return losses


class TrainedNetwork(NamedTuple):
    """What :func:`trained_network` keeps of one training run (read-only arrays)."""

    accuracy: float  # on the training points
    losses: np.ndarray  # (steps,)
    grid: np.ndarray  # (G, G) probability of class 1 over the plotting window
    extent: tuple[float, float, float, float]
    first_weight: np.ndarray  # (width, 2): the first layer's lines w·x + b = 0
    first_bias: np.ndarray  # (width,)
    n_params: int
    description: str


def _frozen(a: Any) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a


def trained_network(
    dataset: str = "circles",
    width: int = 4,
    depth: int = 1,
    activation: str = "relu",
    steps: int = 300,
    seed: int = 0,
    n_samples: int = 200,
    grid_size: int = 90,
) -> TrainedNetwork:
    """Train ``MLP(2, [width] * depth, 1, activation)`` on ``lesson_dataset(dataset)`` with
    :func:`train_classifier` (seeded), and keep what the figure needs. Cached: each setting is
    trained once per session (however the arguments are passed), so a widget revisiting it redraws
    at once."""
    return _trained_network(
        str(dataset),
        int(width),
        int(depth),
        str(activation),
        int(steps),
        int(seed),
        int(n_samples),
        int(grid_size),
    )


@lru_cache(maxsize=256)
def _trained_network(
    dataset: str,
    width: int,
    depth: int,
    activation: str,
    steps: int,
    seed: int,
    n_samples: int,
    grid_size: int,
) -> TrainedNetwork:
    from .. import random as tl_random

    X, y = lesson_dataset(dataset, n_samples)
    tl_random.manual_seed(seed)
    model = MLP(2, [width] * depth, 1, activation=activation)
    losses = train_classifier(model, X, y, steps)
    x0, x1, y0, y1 = _window(X)
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid_size), np.linspace(y0, y1, grid_size))
    with no_grad():
        points = tensor(np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32))
        prob = model(points).sigmoid().numpy().reshape(gx.shape)
        acc = float(np.mean((model(tensor(X.astype(np.float32))).numpy()[:, 0] > 0) == (y == 1)))
    return TrainedNetwork(
        accuracy=acc,
        losses=_frozen(losses),
        grid=_frozen(prob),
        extent=(x0, x1, y0, y1),
        first_weight=_frozen(model[0].weight.detach().numpy()),
        first_bias=_frozen(model[0].bias.detach().numpy()),
        n_params=sum(p.numel() for p in model.parameters()),
        description=" → ".join(["2", *[str(width)] * depth, "1"]),
    )


@interactive(section="1.2.4", title="stack layers: width and depth bend the decision boundary (trained live)")
def stacking_layers(
    dataset: str = "circles",
    width: int = 4,
    depth: int = 1,
    activation: str = "relu",
    show_units: bool = True,
    steps: int = 300,
    seed: int = 0,
) -> Figure:
    """An MLP with ``depth`` hidden layers of ``width`` units, trained with tinylearn on ``dataset``
    (:func:`trained_network`, cached): its decision boundary and class-1 probability (left), its
    training loss (right). ``show_units`` draws the line w·x + b = 0 of every unit of the first hidden
    layer: with one ReLU layer these lines cut the plane into regions where the network is linear, so the
    boundary is straight inside each region and bends only where it crosses a line. ``seed`` picks the
    random starting weights (some starts train worse than others)."""
    X, y = lesson_dataset(dataset)
    run = trained_network(dataset, width, depth, activation, steps, seed)
    x0, x1, y0, y1 = run.extent
    fig = new_figure(figsize=(10.0, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.15, 1.0])
    gx, gy = np.meshgrid(np.linspace(x0, x1, run.grid.shape[1]), np.linspace(y0, y1, run.grid.shape[0]))
    left.contourf(gx, gy, run.grid, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
    if run.grid.min() < 0.5 < run.grid.max():
        left.contour(gx, gy, run.grid, levels=[0.5], colors="black", linewidths=2)
    _scatter_classes(left, X, y, s=12)
    if show_units:
        for k, ((w1, w2), b) in enumerate(zip(run.first_weight, run.first_bias, strict=True)):
            a = np.degrees(np.arctan2(w2, w1))
            norm = float(np.hypot(w1, w2)) or 1.0
            _draw_line(
                left,
                a,
                -b / norm,
                x1,
                color="black",
                lw=0.8,
                ls=":",
                label="first-layer units w·x + b = 0: bends happen here" if k == 0 else None,
            )
    left.set_xlim(x0, x1)
    left.set_ylim(y0, y1)
    left.set_aspect("equal")
    left.legend(loc="upper left", fontsize=7, framealpha=0.9)
    left.set_title(
        f"{run.description} ({activation}), {run.n_params} parameters: {run.accuracy:.1%} correct",
        fontsize=10,
    )
    right.semilogy(np.arange(1, len(run.losses) + 1), run.losses, color="tab:red")
    right.set_xlabel("training step (full-batch Adam)")
    right.set_ylabel("binary cross-entropy (log scale)")
    right.set_ylim(1e-3, 1.5)
    right.grid(alpha=0.3)
    right.set_title(f"final loss {run.losses[-1]:.3g}")
    return fig


# ------------------------------------------------------------------------------------------------
# The forward pass (1.2.5)
# ------------------------------------------------------------------------------------------------

STAGES = ("x", "z¹ = W¹x + b¹", "h¹ = ReLU(z¹)", "z² = W²h¹ + b²", "ŷ = σ(z²)")


def _fmt(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(a) + 0.0:+.2f}" for a in np.ravel(v)) + "]"  # + 0.0: no "-0.00"


@interactive(section="1.2.5", title="a forward pass, one stage at a time: the values flowing layer by layer")
def forward_pass(frame: int = 4, x1: float = 1.5, x2: float = 0.4) -> Figure:
    """The 2 → 4 → 1 network of :func:`corner_network` on the input (x1, x2), evaluated up to stage
    ``frame`` (0: the input, 1: the first Linear, 2: ReLU, 3: the second Linear, 4: the sigmoid).
    Nodes are coloured by their value, edges by their weight (red positive, blue negative); the text
    shows the step's arithmetic; the small map shows where the input lies."""
    net = corner_network()
    trace = forward_trace(net, [[x1, x2]])
    values = [v[0] for _, v in trace]  # x, z1, h1, z2, y_hat
    frame = int(np.clip(frame, 0, len(values) - 1))
    W1, b1 = net[0].weight.detach().numpy(), net[0].bias.detach().numpy()
    W2, b2 = net[2].weight.detach().numpy(), net[2].bias.detach().numpy()

    fig = new_figure(figsize=(11.0, 5.2), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.7, 1.0], height_ratios=[1.0, 1.0])
    ax = fig.add_subplot(grid[:, 0])
    xs = np.arange(len(values)) * 1.6
    ys = [np.linspace(1, -1, len(v)) * (0.45 * (len(v) - 1)) for v in values]
    from matplotlib import colormaps

    cmap = colormaps["coolwarm"]
    weights = {1: W1, 3: W2}  # stage -> weight matrix of the edges that reach it
    for s in range(1, len(values)):
        done = s <= frame
        if s in weights:
            W = weights[s]
            for i in range(W.shape[0]):
                for j in range(W.shape[1]):
                    w = float(W[i, j])
                    ax.plot(
                        [xs[s - 1], xs[s]],
                        [ys[s - 1][j], ys[s][i]],
                        color="tab:red" if w > 0 else "tab:blue",
                        lw=0.6 + 0.5 * abs(w),
                        alpha=0.75 if done else 0.12,
                        zorder=1,
                    )
        else:  # an activation: one edge per unit
            for i in range(len(values[s])):
                ax.plot(
                    [xs[s - 1], xs[s]],
                    [ys[s - 1][i], ys[s][i]],
                    color="black",
                    lw=1,
                    ls="--",
                    alpha=0.6 if done else 0.12,
                    zorder=1,
                )
    for s, v in enumerate(values):
        for i, val in enumerate(v):
            known = s <= frame
            level = (
                float(val) if s == len(values) - 1 else 0.5 + 0.5 * np.tanh(float(val) / 2)
            )  # ŷ is in (0, 1)
            color = cmap(level) if known else (0.93, 0.93, 0.93)
            edge = "black" if s == frame else "gray"
            ax.scatter(
                [xs[s]],
                [ys[s][i]],
                s=900,
                color=color,
                edgecolors=edge,
                linewidths=2 if s == frame else 1,
                zorder=3,
            )
            ax.text(
                xs[s],
                ys[s][i],
                f"{float(val) + 0.0:.2f}" if known else "?",
                ha="center",
                va="center",
                fontsize=9,
                zorder=4,
            )
        ax.text(
            xs[s], 2.05, STAGES[s], ha="center", fontsize=9, fontweight="bold" if s == frame else "normal"
        )
    ax.set_xlim(-0.8, xs[-1] + 0.8)
    ax.set_ylim(-2.0, 2.4)
    ax.axis("off")
    ax.set_title(f"stage {frame} of {len(values) - 1}: {STAGES[frame]}")

    text = fig.add_subplot(grid[1, 1])
    text.axis("off")
    if frame == 0:
        lines = ["the input, a point of the plane:", f"x = {_fmt(values[0])}"]
    elif frame == 1:
        lines = ["z¹ = W¹x + b¹   (W¹ is 4×2: out × in)"]
        lines += [
            f"z¹{'₁₂₃₄'[i]} = {W1[i, 0]:+.0f}·{x1:+.2f} {W1[i, 1]:+.0f}·{x2:+.2f} {b1[i]:+.0f}"
            f" = {values[1][i]:+.2f}"
            for i in range(4)
        ]
    elif frame == 2:
        lines = [
            "h¹ = ReLU(z¹) = max(0, z¹), unit by unit:",
            f"z¹ = {_fmt(values[1])}",
            f"h¹ = {_fmt(values[2])}",
            f"{int(np.sum(values[2] > 0))} of 4 corner detectors fire",
        ]
    elif frame == 3:
        terms = " ".join(f"{W2[0, j]:+.0f}·{values[2][j]:.2f}" for j in range(4))
        lines = ["z² = W²h¹ + b²   (W² is 1×4)", f"z² = {terms}", f"     {b2[0]:+.0f} = {values[3][0]:+.3f}"]
    else:
        lines = [
            "ŷ = σ(z²) = 1 / (1 + e^(−z²))",
            f"ŷ = σ({values[3][0]:+.3f}) = {values[4][0]:.3f}",
            f"P(class 1) = {values[4][0]:.1%} → class {int(values[4][0] > 0.5)}",
            f"(truth: class {int(x1 * x2 < 0)}: x₁·x₂ {'<' if x1 * x2 < 0 else '≥'} 0)",
        ]
    for i, line in enumerate(lines):
        text.text(
            0.0, 0.95 - 0.17 * i, line, family="monospace", fontsize=9, transform=text.transAxes, va="top"
        )

    where = fig.add_subplot(grid[0, 1])
    X, y = lesson_dataset("xor")
    g = np.linspace(-2.4, 2.4, 121)
    gx, gy = np.meshgrid(g, g)
    with no_grad():
        prob = net(tensor(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32))).numpy().reshape(gx.shape)
    where.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.4)
    _scatter_classes(where, X, y, s=5)
    where.plot([x1], [x2], "*", color="gold", ms=16, markeredgecolor="black", zorder=5)
    where.set_xlim(-2.4, 2.4)
    where.set_ylim(-2.4, 2.4)
    where.set_aspect("equal")
    where.set_title("the input on the XOR data", fontsize=9)
    where.tick_params(labelsize=7)
    return fig


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

CONTROLS: dict[str, dict[str, Any]] = {
    "linear_boundary": {
        "dataset": ["xor", "circles", "moons", "blobs"],
        "angle": (-180.0, 180.0, 1.0),
        "offset": (-2.0, 2.0, 0.05),
        "show_best": bool,
    },
    "sigmoid_explorer": {"x": (-8.0, 8.0, 0.05), "show_derivative": bool},
    "tanh_explorer": {"x": (-6.0, 6.0, 0.05), "show_derivative": bool, "compare_sigmoid": bool},
    "relu_explorer": {"x": (-4.0, 4.0, 0.05), "show_derivative": bool},
    "leaky_relu_explorer": {
        "x": (-4.0, 4.0, 0.05),
        "negative_slope": (0.0, 0.5, 0.01),
        "show_derivative": bool,
    },
    "gelu_explorer": {
        "x": (-4.0, 4.0, 0.05),
        "show_derivative": bool,
        "approximate": ["none", "tanh"],
        "compare_relu": bool,
    },
    "silu_explorer": {
        "x": (-5.0, 4.0, 0.05),
        "show_derivative": bool,
        "compare_relu": bool,
        "compare_gelu": bool,
    },
    "activation_comparison": {
        name: bool for name in ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu", "derivatives")
    },
    "stacking_layers": {
        "dataset": ["circles", "xor", "moons", "spirals"],
        "width": (1, 16, 1),
        "depth": (1, 4, 1),
        "activation": ["relu", "tanh", "gelu", "silu", "leaky_relu", "sigmoid"],
        "show_units": bool,
        "steps": (100, 1000, 100),
        "seed": (0, 9, 1),
    },
    "forward_pass": {"frame": (0, 4, 1), "x1": (-2.0, 2.0, 0.05), "x2": (-2.0, 2.0, 0.05)},
}

"""The interactive figures of lesson 1.1 (the learning problem): fitting a line by gradient descent.

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure`` (no pyplot, no global
state): call it with other parameters and you get the picture of that state. :func:`widget` wraps any
of them in ipywidgets controls (sliders, a play button) for a live notebook; ipywidgets is imported
only there, so the static figures work without it.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`draggable_line`                 1.1.2    data points and a line you move (slope, intercept)
:func:`residuals_view`                 1.1.3    the residuals as vertical bars and squares, the MSE
:func:`loss_surface`                   1.1.3    the MSE over (slope, intercept) as a 3-D surface
:func:`update_rule_breakdown`          1.1.4    one step θ − α∇L, each term drawn and printed
:func:`ball_rolling`                   1.1.4    gradient descent as a ball on the surface (frames);
                                                :func:`ball_rolling_animation` animates it
:func:`learning_rate_explorer`         1.1.5    paths and loss curves for a chosen learning rate
=====================================  =======  ==================================================

The numbers behind the pictures are plain NumPy functions too: :func:`lesson_data` (the points),
:func:`mse` and :func:`mse_grad` (the loss and its gradient, the lesson's exercise answers),
:func:`loss_grid` and :func:`gradient_descent`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.toy import make_line
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CONTROLS",
    "ball_rolling",
    "ball_rolling_animation",
    "draggable_line",
    "gradient_descent",
    "learning_rate_explorer",
    "lesson_data",
    "loss_grid",
    "loss_surface",
    "mse",
    "mse_grad",
    "residuals_view",
    "update_rule_breakdown",
    "widget",
]

# The window of parameter space every figure shows: slope w on x, intercept b on y.
W_RANGE = (-2.0, 6.0)
B_RANGE = (-3.0, 5.0)
START = (-1.5, 4.0)  # where gradient descent starts: far from the answer on purpose


# ------------------------------------------------------------------------------------------------
# The numbers
# ------------------------------------------------------------------------------------------------


def lesson_data(n_samples: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The lesson's points: ``y = 2x + 1`` plus noise of std 1, ``x`` in [-3, 3], as 1-D float64 arrays."""
    X, y = make_line(n_samples, slope=2.0, intercept=1.0, noise=1.0, seed=seed)
    return X[:, 0].astype(np.float64), y[:, 0].astype(np.float64)


def mse(w: float, b: float, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of the line ``ŷ = w x + b``: ``(1/n) Σ (yᵢ − ŷᵢ)²``."""
    residual = y - (w * x + b)
    return float(np.mean(residual**2))


def mse_grad(w: float, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The gradient of :func:`mse` with respect to ``(w, b)``.

    ``∂L/∂w = −(2/n) Σ (yᵢ − ŷᵢ) xᵢ`` and ``∂L/∂b = −(2/n) Σ (yᵢ − ŷᵢ)``.
    """
    residual = y - (w * x + b)
    return float(-2.0 * np.mean(residual * x)), float(-2.0 * np.mean(residual))


def loss_grid(
    x: np.ndarray,
    y: np.ndarray,
    w_range: tuple[float, float] = W_RANGE,
    b_range: tuple[float, float] = B_RANGE,
    n: int = 60,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The MSE on an ``n × n`` grid of (w, b): returns ``W, B, L`` as from :func:`numpy.meshgrid`."""
    W, B = np.meshgrid(np.linspace(*w_range, n), np.linspace(*b_range, n))
    pred = W[..., None] * x + B[..., None]  # (n, n, samples)
    return W, B, np.mean((y - pred) ** 2, axis=-1)


def gradient_descent(
    x: np.ndarray,
    y: np.ndarray,
    lr: float,
    steps: int,
    start: tuple[float, float] = START,
) -> np.ndarray:
    """Run ``steps`` steps of ``θ ← θ − lr ∇L`` from ``start``; return the rows ``(w, b, loss)``,
    ``steps + 1`` of them (the start included). A run that blows up stops growing at 1e6."""
    w, b = start
    rows = [(w, b, mse(w, b, x, y))]
    for _ in range(steps):
        gw, gb = mse_grad(w, b, x, y)
        w, b = w - lr * gw, b - lr * gb
        w, b = float(np.clip(w, -1e6, 1e6)), float(np.clip(b, -1e6, 1e6))
        rows.append((w, b, mse(w, b, x, y)))
    return np.array(rows)


# ------------------------------------------------------------------------------------------------
# The figures
# ------------------------------------------------------------------------------------------------


def _scatter(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    ax.scatter(x, y, s=18, color="tab:blue", zorder=3, label="data")
    ax.set_xlim(-3.3, 3.3)
    ax.set_ylim(-8.0, 10.0)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)


def _line(ax: Any, w: float, b: float, **kwargs: Any) -> None:
    xs = np.array([-3.3, 3.3])
    ax.plot(xs, w * xs + b, **{"color": "tab:red", "lw": 2, **kwargs})


@interactive(section="1.1.2", title="drag a line onto the points (slope and intercept)")
def draggable_line(slope: float = 0.5, intercept: float = 0.0, n_samples: int = 30) -> Figure:
    """The points and the line ``y = slope·x + intercept``; the widget moves the line."""
    x, y = lesson_data(n_samples)
    fig = new_figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    _scatter(ax, x, y)
    _line(ax, slope, intercept, label=f"ŷ = {slope:.2f}·x + {intercept:+.2f}")
    ax.legend(loc="upper left")
    ax.set_title(f"slope {slope:.2f}, intercept {intercept:.2f}  (MSE {mse(slope, intercept, x, y):.2f})")
    return fig


@interactive(section="1.1.3", title="residuals and the MSE as the line moves")
def residuals_view(slope: float = 0.5, intercept: float = 0.0, n_samples: int = 30) -> Figure:
    """Each residual ``yᵢ − ŷᵢ`` as a vertical bar (left) and the squared residuals (right)."""
    x, y = lesson_data(n_samples)
    pred = slope * x + intercept
    residual = y - pred
    fig = new_figure(figsize=(9.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.3, 1.0])
    _scatter(left, x, y)
    _line(left, slope, intercept)
    left.vlines(x, pred, y, color="tab:orange", lw=1.5, label="residual yᵢ − ŷᵢ")
    left.legend(loc="upper left")
    left.set_title(f"ŷ = {slope:.2f}·x + {intercept:+.2f}")
    order = np.argsort(x)
    right.bar(np.arange(len(x)), residual[order] ** 2, color="tab:orange")
    right.axhline(
        np.mean(residual**2), color="black", ls="--", label=f"mean = MSE = {np.mean(residual**2):.2f}"
    )
    right.set_xlabel("point (sorted by x)")
    right.set_ylabel("squared residual")
    right.set_ylim(0, max(40.0, float(np.max(residual**2)) * 1.05))
    right.legend(loc="upper right")
    return fig


@interactive(section="1.1.3", title="the loss surface over slope and intercept (3-D)")
def loss_surface(
    slope: float = 0.5, intercept: float = 0.0, elev: float = 30.0, azim: float = -60.0, n_samples: int = 30
) -> Figure:
    """The MSE as a surface over (slope, intercept), the current line's point marked; rotate it with
    ``elev`` and ``azim``."""
    x, y = lesson_data(n_samples)
    W, B, L = loss_grid(x, y, n=40)
    fig = new_figure(figsize=(6.0, 4.8), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(W, B, L, cmap="viridis", alpha=0.75, linewidth=0, antialiased=True)
    ax.contour(W, B, L, levels=15, cmap="viridis", offset=0.0, linewidths=0.8)
    here = mse(slope, intercept, x, y)
    ax.scatter([slope], [intercept], [here], color="red", s=50, depthshade=False)
    ax.plot([slope, slope], [intercept, intercept], [0.0, here], color="red", lw=1)
    ax.set_xlabel("slope w")
    ax.set_ylabel("intercept b")
    ax.set_zlabel("MSE")
    ax.view_init(elev=elev, azim=azim)
    ax.set_title(f"L({slope:.2f}, {intercept:.2f}) = {here:.2f}")
    return fig


def _contours(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    W, B, L = loss_grid(x, y, n=80)
    ax.contour(W, B, L, levels=np.geomspace(max(L.min(), 0.5), L.max(), 14), cmap="viridis", linewidths=0.9)
    ax.set_xlim(*W_RANGE)
    ax.set_ylim(*B_RANGE)
    ax.set_xlabel("slope w")
    ax.set_ylabel("intercept b")


@interactive(section="1.1.4", title="the update rule θ − α∇L, term by term")
def update_rule_breakdown(
    slope: float = -1.0, intercept: float = 3.0, lr: float = 0.1, n_samples: int = 30
) -> Figure:
    """One gradient step from (slope, intercept) on the loss contours: the gradient ∇L (uphill), the
    step −α∇L (downhill) and the new point, with every number of ``θ_new = θ_old − α ∇L`` printed."""
    x, y = lesson_data(n_samples)
    gw, gb = mse_grad(slope, intercept, x, y)
    new = (slope - lr * gw, intercept - lr * gb)
    fig = new_figure(figsize=(9.0, 4.2), layout="constrained")
    ax, text = fig.subplots(1, 2, width_ratios=[1.2, 1.0])
    _contours(ax, x, y)
    scale = 1.0 / max(float(np.hypot(gw, gb)), 1e-12)  # the gradient's direction, one unit long
    ax.annotate(
        "",
        xy=(slope + scale * gw, intercept + scale * gb),
        xytext=(slope, intercept),
        arrowprops={"arrowstyle": "->", "color": "tab:gray", "lw": 1.5, "ls": "--"},
    )
    ax.annotate(
        "", xy=new, xytext=(slope, intercept), arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 2}
    )
    ax.plot([slope], [intercept], "o", color="black", label="θ_old")
    ax.plot([new[0]], [new[1]], "o", color="tab:red", label="θ_new")
    ax.plot([], [], "--", color="tab:gray", label="direction of ∇L (uphill)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(f"one step with α = {lr:g}")
    text.axis("off")
    lines = [
        r"$\theta_{new} = \theta_{old} - \alpha\,\nabla L$",
        "",
        rf"$\theta_{{old}} = ({slope:.3f},\ {intercept:.3f})$",
        rf"$\nabla L = ({gw:.3f},\ {gb:.3f})$",
        rf"$\alpha = {lr:g}$",
        rf"$-\alpha\nabla L = ({-lr * gw:.3f},\ {-lr * gb:.3f})$",
        rf"$\theta_{{new}} = ({new[0]:.3f},\ {new[1]:.3f})$",
        "",
        rf"$L(\theta_{{old}}) = {mse(slope, intercept, x, y):.3f}$",
        rf"$L(\theta_{{new}}) = {mse(*new, x, y):.3f}$",
    ]
    for i, line in enumerate(lines):
        text.text(0.0, 0.95 - i * 0.095, line, fontsize=12, transform=text.transAxes, va="top")
    return fig


def _ball_axes(fig: Figure, x: np.ndarray, y: np.ndarray) -> Any:
    W, B, L = loss_grid(x, y, n=30)
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(W, B, L, cmap="viridis", alpha=0.55, linewidth=0)
    ax.set_xlabel("slope w")
    ax.set_ylabel("intercept b")
    ax.set_zlabel("MSE")
    ax.view_init(elev=35, azim=-50)
    return ax


@interactive(section="1.1.4", title="a ball rolling down the loss surface (animated)")
def ball_rolling(frame: int = 0, lr: float = 0.05, steps: int = 40, n_samples: int = 30) -> Figure:
    """Frame ``frame`` of gradient descent drawn as a ball on the 3-D loss surface, with the trail it
    left; :func:`ball_rolling_animation` plays all the frames."""
    x, y = lesson_data(n_samples)
    path = gradient_descent(x, y, lr, steps)
    frame = int(np.clip(frame, 0, steps))
    fig = new_figure(figsize=(6.0, 4.8), layout="constrained")
    ax = _ball_axes(fig, x, y)
    trail = path[: frame + 1]
    ax.plot(trail[:, 0], trail[:, 1], trail[:, 2], color="tab:red", lw=1.5)
    ax.scatter([trail[-1, 0]], [trail[-1, 1]], [trail[-1, 2]], color="tab:red", s=60, depthshade=False)
    ax.set_title(f"step {frame}: w = {trail[-1, 0]:.2f}, b = {trail[-1, 1]:.2f}, L = {trail[-1, 2]:.2f}")
    return fig


def ball_rolling_animation(
    lr: float = 0.05, steps: int = 40, n_samples: int = 30, interval: int = 120
) -> Any:
    """The animation of :func:`ball_rolling`: a ``matplotlib.animation.FuncAnimation`` with one frame
    per step (show it in a notebook with :func:`tinylearn.viz.animation_html`)."""
    from matplotlib.animation import FuncAnimation

    x, y = lesson_data(n_samples)
    path = gradient_descent(x, y, lr, steps)
    fig = new_figure(figsize=(6.0, 4.8), layout="constrained")
    ax = _ball_axes(fig, x, y)
    (trail,) = ax.plot([], [], [], color="tab:red", lw=1.5)
    (ball,) = ax.plot([], [], [], "o", color="tab:red", markersize=9)

    def draw(i: int) -> tuple[Any, ...]:
        trail.set_data_3d(path[: i + 1, 0], path[: i + 1, 1], path[: i + 1, 2])
        ball.set_data_3d(path[i : i + 1, 0], path[i : i + 1, 1], path[i : i + 1, 2])
        ax.set_title(f"step {i}: w = {path[i, 0]:.2f}, b = {path[i, 1]:.2f}, L = {path[i, 2]:.2f}")
        return trail, ball

    return FuncAnimation(fig, draw, frames=len(path), interval=interval, blit=False)


@interactive(section="1.1.5", title="learning-rate slider: convergence, oscillation, divergence")
def learning_rate_explorer(lr: float = 0.05, steps: int = 40, n_samples: int = 30) -> Figure:
    """Gradient descent with learning rate ``lr``: its path on the loss contours (left) and the loss per
    step on a log scale (right)."""
    x, y = lesson_data(n_samples)
    path = gradient_descent(x, y, lr, steps)
    fig = new_figure(figsize=(9.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    _contours(left, x, y)
    left.plot(path[:, 0], path[:, 1], ".-", color="tab:red", lw=1, markersize=4)
    left.plot([path[0, 0]], [path[0, 1]], "o", color="black")
    left.set_title(f"α = {lr:g}: path of (w, b)")
    right.semilogy(np.arange(len(path)), np.maximum(path[:, 2], 1e-12), color="tab:red")
    right.set_xlabel("step")
    right.set_ylabel("MSE (log scale)")
    right.set_ylim(0.5, 1e4)
    right.grid(alpha=0.3, which="both")
    right.set_title(f"final loss {path[-1, 2]:.3g}")
    return fig


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

# name -> (min, max, step) for each parameter the widget exposes; the value starts at the default.
CONTROLS: dict[str, dict[str, tuple[float, float, float]]] = {
    "draggable_line": {"slope": (-2.0, 6.0, 0.05), "intercept": (-3.0, 5.0, 0.05)},
    "residuals_view": {"slope": (-2.0, 6.0, 0.05), "intercept": (-3.0, 5.0, 0.05)},
    "loss_surface": {
        "slope": (-2.0, 6.0, 0.1),
        "intercept": (-3.0, 5.0, 0.1),
        "elev": (0.0, 90.0, 5.0),
        "azim": (-180.0, 180.0, 5.0),
    },
    "update_rule_breakdown": {
        "slope": (-2.0, 6.0, 0.1),
        "intercept": (-3.0, 5.0, 0.1),
        "lr": (0.0, 0.4, 0.01),
    },
    "ball_rolling": {"frame": (0, 40, 1), "lr": (0.005, 0.3, 0.005)},
    "learning_rate_explorer": {"lr": (0.001, 0.4, 0.001), "steps": (5, 200, 5)},
}

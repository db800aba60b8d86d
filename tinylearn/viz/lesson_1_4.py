"""The interactive figures of lesson 1.4 (optimizers): the update rules of :mod:`tinylearn.optim` at work.

Every path drawn here is computed by the library's own optimizers moving a float64 tensor, exactly as
they move a network's weights (``zero_grad``, ``loss.backward()``, ``step``); nothing is re-implemented
for the pictures. Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure``
(no pyplot, no global state, seeded randomness); :func:`widget` wraps one in live controls.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`sgd_minibatch`                  1.4.1    full-batch gradient descent against mini-batch SGD
                                                on a regression loss (learning rate, batch size)
:func:`momentum_valley`                1.4.2    SGD with and without momentum in a narrow valley,
                                                the next step split into its two parts (frames);
                                                :func:`momentum_valley_animation` animates it
:func:`adam_terms`                     1.4.6    Adam's moments m, v, their bias corrections and
                                                the resulting step, over a stream of gradients
:func:`optimizer_race`                 1.4.8    seven optimizers racing on Rosenbrock, Beale or a
                                                saddle (frames); :func:`optimizer_race_animation`
=====================================  =======  ==================================================

The numbers behind them: :func:`regression_data` and :func:`sgd_path` (1.4.1), the surfaces
:func:`valley` and :func:`saddle` (next to :mod:`tinylearn.viz.race`'s Rosenbrock and Beale),
:func:`momentum_path` (1.4.2), :func:`adam_trace` (1.4.6), :func:`race_paths` (1.4.8).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import optim
from ..data.toy import make_line
from ..tensor import Tensor, tensor
from .race import SURFACES, Surface, plot_race, racers, run_optimizer
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..optim.optimizer import Optimizer

__all__ = [
    "CONTROLS",
    "OPTIMIZERS",
    "RACE_SURFACES",
    "SADDLE",
    "VALLEY",
    "adam_terms",
    "adam_trace",
    "lesson_racers",
    "minibatch_gradients",
    "momentum_path",
    "momentum_valley",
    "momentum_valley_animation",
    "optimizer_race",
    "optimizer_race_animation",
    "race_paths",
    "regression_data",
    "regression_loss",
    "saddle",
    "sgd_minibatch",
    "sgd_path",
    "valley",
    "valley_grad",
    "widget",
]


# ------------------------------------------------------------------------------------------------
# 1.4.1 Mini-batch SGD on a regression loss
# ------------------------------------------------------------------------------------------------

N_POINTS = 64  # the regression data set of 1.4.1
SGD_START = (-1.0, -2.0)  # (w, b) where the 1.4.1 runs start
SGD_WINDOW = ((-1.5, 3.5), (-2.5, 3.0))  # (w range, b range) drawn


def regression_data(n: int = N_POINTS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on ``y = 2x + 1`` plus noise of std 1, ``x`` uniform in [−1, 3], as float64 1-D arrays.

    ``x`` is not centred, so the loss over (w, b) is a tilted, stretched bowl: curvature ≈ 5.7 along
    its steep axis and ≈ 0.9 along its flat one."""
    X, y = make_line(n, slope=2.0, intercept=1.0, noise=1.0, x_range=(-1.0, 3.0), seed=seed)
    return X[:, 0].astype(np.float64), y[:, 0].astype(np.float64)


def regression_loss(w: Any, b: Any, x: np.ndarray, y: np.ndarray) -> Any:
    """The MSE ``mean((y − (w x + b))²)``; ``w``, ``b`` scalars, NumPy grids (broadcast) or tensors."""
    if isinstance(w, Tensor):
        xt, yt = tensor(x, dtype=w.dtype), tensor(y, dtype=w.dtype)
        return ((yt - (w * xt + b)) ** 2).mean()
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.mean((y - (w[..., None] * x + b[..., None])) ** 2, axis=-1)


def sgd_path(
    lr: float,
    batch_size: int,
    steps: int,
    seed: int = 0,
    start: tuple[float, float] = SGD_START,
    n: int = N_POINTS,
) -> np.ndarray:
    """``steps`` steps of ``tinylearn.optim.SGD(lr=lr)`` on θ = (w, b), each on the MSE of a fresh random
    mini-batch of ``batch_size`` points (drawn without replacement; ``batch_size >= n`` is full-batch
    gradient descent). Returns the path, shape ``(steps + 1, 2)``, start included."""
    x, y = regression_data(n)
    batch_size = int(min(max(batch_size, 1), n))
    rng = np.random.default_rng(seed)
    theta = tensor(start, dtype=np.float64, requires_grad=True)
    opt = optim.SGD([theta], lr=lr)
    path = np.empty((steps + 1, 2))
    path[0] = start
    for i in range(1, steps + 1):
        idx = np.arange(n) if batch_size == n else rng.choice(n, batch_size, replace=False)
        opt.zero_grad()
        regression_loss(theta[0], theta[1], x[idx], y[idx]).backward()
        opt.step()
        path[i] = np.clip(theta.detach().numpy(), -1e6, 1e6)
    return path


def minibatch_gradients(
    theta: tuple[float, float], batch_size: int, count: int, seed: int, n: int = N_POINTS
) -> np.ndarray:
    """``count`` mini-batch gradients of the MSE at ``theta`` (autograd), shape ``(count, 2)``."""
    x, y = regression_data(n)
    rng = np.random.default_rng(seed + 1000)
    out = np.empty((count, 2))
    for k in range(count):
        idx = rng.choice(n, min(batch_size, n), replace=False)
        point = tensor(theta, dtype=np.float64, requires_grad=True)
        regression_loss(point[0], point[1], x[idx], y[idx]).backward()
        out[k] = point.grad.numpy()
    return out


def _regression_contours(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    (w0, w1), (b0, b1) = SGD_WINDOW
    W, B = np.meshgrid(np.linspace(w0, w1, 90), np.linspace(b0, b1, 90))
    L = regression_loss(W, B, x, y)
    ax.contour(W, B, L, levels=np.geomspace(L.min() + 0.05, L.max(), 14), cmap="viridis", linewidths=0.8)
    ax.set_xlim(w0, w1)
    ax.set_ylim(b0, b1)
    ax.set_xlabel("slope w")
    ax.set_ylabel("intercept b")


@interactive(section="1.4.1", title="mini-batch SGD against full-batch descent (learning rate, batch size)")
def sgd_minibatch(lr: float = 0.1, batch_size: int = 4, steps: int = 60, seed: int = 0) -> Figure:
    """Left: the loss contours, the full-batch gradient-descent path (black), the mini-batch SGD path
    (red) and, at the start, the steps ``−α g_B`` that 25 different mini-batches would take (the fan)
    around the full-batch step. Right: the loss on the whole data set along both paths."""
    x, y = regression_data()
    full = sgd_path(lr, N_POINTS, steps)
    noisy = sgd_path(lr, batch_size, steps, seed=seed)
    fig = new_figure(figsize=(10.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.15, 1.0])
    _regression_contours(left, x, y)
    fan = -lr * minibatch_gradients(SGD_START, batch_size, 25, seed)
    for dw, db in fan:
        left.plot(
            [SGD_START[0], SGD_START[0] + dw],
            [SGD_START[1], SGD_START[1] + db],
            color="tab:orange",
            lw=0.8,
            alpha=0.6,
        )
    left.plot([], [], color="tab:orange", lw=0.8, label=f"first step of 25 batches of {batch_size}")
    left.plot(
        full[:, 0], full[:, 1], ".-", color="black", lw=1.2, ms=3, label="full batch (gradient descent)"
    )
    left.plot(noisy[:, 0], noisy[:, 1], ".-", color="tab:red", lw=1.0, ms=3, label=f"SGD, batch {batch_size}")
    (w_ls, b_ls), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
    left.plot([w_ls], [b_ls], "*", color="black", ms=12)
    left.legend(loc="lower right", fontsize=7)
    left.set_title(f"α = {lr:g}, {steps} steps")
    steps_axis = np.arange(steps + 1)
    right.semilogy(
        steps_axis, regression_loss(full[:, 0], full[:, 1], x, y), color="black", label="full batch"
    )
    right.semilogy(
        steps_axis,
        regression_loss(noisy[:, 0], noisy[:, 1], x, y),
        color="tab:red",
        label=f"batch {batch_size}",
    )
    right.axhline(float(regression_loss(w_ls, b_ls, x, y)), color="grey", ls=":", label="best possible")
    right.set_ylim(0.5, 200.0)
    right.set_xlabel("step")
    right.set_ylabel("loss on all 64 points")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=8)
    right.set_title(
        f"final loss: full {regression_loss(*full[-1], x, y):.3f}, "
        f"SGD {regression_loss(*noisy[-1], x, y):.3f}"
    )
    return fig


# ------------------------------------------------------------------------------------------------
# 1.4.2 Momentum in a narrow valley
# ------------------------------------------------------------------------------------------------

VALLEY_CURVATURES = (0.04, 2.0)  # (flat, steep): the condition number is 50


def valley(x: Any, y: Any) -> Any:
    """The narrow valley ``½(0.04 x² + 2 y²)``: curvature 0.04 along x, 2 along y (condition number 50);
    minimum 0 at the origin. Works on tensors and arrays."""
    flat, steep = VALLEY_CURVATURES
    return 0.5 * (flat * x**2 + steep * y**2)


def valley_grad(x: float, y: float) -> np.ndarray:
    """The gradient of :func:`valley`, ``(0.04 x, 2 y)``."""
    flat, steep = VALLEY_CURVATURES
    return np.array([flat * x, steep * y])


VALLEY = Surface("Valley", valley, (-9.0, 1.5), (0.0, 0.0), (-10.0, 2.0), (-2.2, 2.2))


def momentum_path(beta: float, lr: float, steps: int, nesterov: bool = False) -> np.ndarray:
    """The path ``(steps + 1, 2)`` of ``tinylearn.optim.SGD(lr, momentum=beta, nesterov=...)`` on
    :func:`valley` from its start (``beta = 0`` is plain gradient descent)."""

    def make(params: list[Tensor]) -> Optimizer:
        return optim.SGD(params, lr=lr, momentum=beta, nesterov=nesterov and beta > 0)

    return run_optimizer(make, VALLEY, steps)


def _valley_axes(ax: Any) -> None:
    xs, ys = np.meshgrid(np.linspace(*VALLEY.xlim, 200), np.linspace(*VALLEY.ylim, 120))
    zs = valley(xs, ys)
    ax.contour(xs, ys, zs, levels=np.geomspace(0.01, zs.max(), 14), cmap="viridis", linewidths=0.8)
    ax.plot(*VALLEY.minimum, "*", color="black", ms=12)
    ax.set_xlim(*VALLEY.xlim)
    ax.set_ylim(*VALLEY.ylim)
    ax.set_xlabel("x (flat direction)")
    ax.set_ylabel("y (steep direction)")


def _momentum_parts(path: np.ndarray, beta: float, lr: float, i: int) -> tuple[np.ndarray, np.ndarray]:
    """The next step from ``path[i]`` split as the library takes it, ``−α(βv + g)``: the coasting part
    ``−αβv = β·(last step)`` and the gradient part ``−α∇f(θ)``. They add up to ``path[i+1] − path[i]``."""
    last = path[i] - path[i - 1] if i > 0 else np.zeros(2)
    return beta * last, -lr * valley_grad(*path[i])


@interactive(section="1.4.2", title="momentum in a narrow valley: with and without (β slider, animated)")
def momentum_valley(
    frame: int = 30, beta: float = 0.9, lr: float = 0.1, steps: int = 60, show_velocity: bool = True
) -> Figure:
    """Plain gradient descent (black) and SGD with momentum β (red) in :func:`valley`, both with learning
    rate ``lr``, drawn up to step ``frame``. With ``show_velocity``, the momentum run's next step is drawn
    split in two: the coasting part ``β × last step`` (blue) and the new gradient step ``−α∇f`` (orange).
    Right: the loss per step on a log scale."""
    frame = int(np.clip(frame, 0, steps))
    plain = momentum_path(0.0, lr, steps)
    heavy = momentum_path(beta, lr, steps)
    fig = new_figure(figsize=(10.5, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1.0])
    _valley_axes(left)
    left.plot(
        plain[: frame + 1, 0],
        plain[: frame + 1, 1],
        ".-",
        color="black",
        lw=1,
        ms=3,
        label="gradient descent (β = 0)",
    )
    left.plot(
        heavy[: frame + 1, 0],
        heavy[: frame + 1, 1],
        ".-",
        color="tab:red",
        lw=1.2,
        ms=3,
        label=f"momentum β = {beta:g}",
    )
    if show_velocity and frame < steps:
        here = heavy[frame]
        coast, push = _momentum_parts(heavy, beta, lr, frame)
        arrow = {"arrowstyle": "->", "lw": 2}
        left.annotate("", xy=here + coast, xytext=here, arrowprops={**arrow, "color": "tab:blue"})
        left.annotate(
            "", xy=here + coast + push, xytext=here + coast, arrowprops={**arrow, "color": "tab:orange"}
        )
        left.plot([], [], color="tab:blue", lw=2, label="coasting: β × last step")
        left.plot([], [], color="tab:orange", lw=2, label="gradient: −α∇f")
    left.legend(loc="lower right", fontsize=7)
    left.set_title(f"step {frame} of {steps}, α = {lr:g}")
    f_plain, f_heavy = valley(plain[:, 0], plain[:, 1]), valley(heavy[:, 0], heavy[:, 1])
    right.semilogy(f_plain, color="black", alpha=0.35)
    right.semilogy(f_heavy, color="tab:red", alpha=0.35)
    right.semilogy(np.arange(frame + 1), f_plain[: frame + 1], color="black", label="β = 0")
    right.semilogy(np.arange(frame + 1), f_heavy[: frame + 1], color="tab:red", label=f"β = {beta:g}")
    right.axvline(frame, color="grey", lw=0.8)
    right.set_ylim(1e-6, 1e3)
    right.set_xlabel("step")
    right.set_ylabel("f (log scale)")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=8)
    right.set_title(f"f at step {frame}: {f_plain[frame]:.2e} vs {f_heavy[frame]:.2e}")
    return fig


def momentum_valley_animation(
    beta: float = 0.9,
    lr: float = 0.1,
    steps: int = 60,
    frames: int | None = None,
    interval: int = 120,
    show_velocity: bool = True,
) -> Any:
    """The animation of :func:`momentum_valley`: a ``matplotlib.animation.FuncAnimation`` with one frame per
    step, or ``frames`` frames spread evenly over the steps (show it with
    :func:`tinylearn.viz.animation_html`)."""
    from matplotlib.animation import FuncAnimation

    plain = momentum_path(0.0, lr, steps)
    heavy = momentum_path(beta, lr, steps)
    fig = new_figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    _valley_axes(ax)
    (line_plain,) = ax.plot([], [], ".-", color="black", lw=1, ms=3, label="gradient descent (β = 0)")
    (line_heavy,) = ax.plot([], [], ".-", color="tab:red", lw=1.2, ms=3, label=f"momentum β = {beta:g}")
    (coast_line,) = ax.plot([], [], color="tab:blue", lw=2.5, label="coasting: β × last step")
    (push_line,) = ax.plot([], [], color="tab:orange", lw=2.5, label="gradient: −α∇f")
    ax.legend(loc="lower right", fontsize=7)
    at = np.arange(steps + 1) if frames is None else np.unique(np.linspace(0, steps, max(frames, 2)).round())

    def draw(k: int) -> tuple[Any, ...]:
        i = int(at[k])
        line_plain.set_data(plain[: i + 1, 0], plain[: i + 1, 1])
        line_heavy.set_data(heavy[: i + 1, 0], heavy[: i + 1, 1])
        if show_velocity and i < steps:
            coast, push = _momentum_parts(heavy, beta, lr, i)
            a, b, c = heavy[i], heavy[i] + coast, heavy[i] + coast + push
            coast_line.set_data([a[0], b[0]], [a[1], b[1]])
            push_line.set_data([b[0], c[0]], [b[1], c[1]])
        else:  # the last frame has no next step
            coast_line.set_data([], [])
            push_line.set_data([], [])
        ax.set_title(
            f"step {i}: f = {valley(*plain[i]):.2e} (β = 0) vs {valley(*heavy[i]):.2e} (β = {beta:g})"
        )
        return line_plain, line_heavy, coast_line, push_line

    return FuncAnimation(fig, draw, frames=len(at), interval=interval, blit=False)


# ------------------------------------------------------------------------------------------------
# 1.4.6 Adam, term by term
# ------------------------------------------------------------------------------------------------


def adam_trace(
    beta1: float = 0.9,
    beta2: float = 0.999,
    noise: float = 1.0,
    steps: int = 100,
    mean: float = 1.0,
    seed: int = 0,
    lr: float = 1e-3,
    eps: float = 1e-8,
) -> dict[str, np.ndarray]:
    """Feed ``tinylearn.optim.Adam`` a stream of scalar gradients ``g_t = mean + noise·ξ_t`` (ξ standard
    normal, seeded) and record, for t = 1 … steps, what it keeps and does.

    Returns arrays of length ``steps``: ``t``, ``g``; ``m`` and ``v`` (the state ``exp_avg``,
    ``exp_avg_sq`` after step t); ``m_hat = m/(1 − β₁ᵗ)``, ``v_hat = v/(1 − β₂ᵗ)``; ``step``: how far the
    parameter moved, in units of α (``(θ_{t−1} − θ_t)/α``, which equals ``m̂/(√v̂ + ε)``); and ``raw``, the
    step Adam would take without bias correction, ``m/(√v + ε)``."""
    g = mean + noise * np.random.default_rng(seed).standard_normal(steps)
    p = tensor([0.0], dtype=np.float64, requires_grad=True)
    opt = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    out = {key: np.empty(steps) for key in ("m", "v", "step")}
    for i in range(steps):
        before = float(p.detach().numpy()[0])
        p.grad = tensor([g[i]], dtype=np.float64)
        opt.step()
        state = opt.state[p]
        out["m"][i] = state["exp_avg"].numpy()[0]
        out["v"][i] = state["exp_avg_sq"].numpy()[0]
        out["step"][i] = (before - float(p.detach().numpy()[0])) / lr
    t = np.arange(1, steps + 1)
    out["m_hat"] = out["m"] / (1 - beta1**t)
    out["v_hat"] = out["v"] / (1 - beta2**t)
    out["raw"] = out["m"] / (np.sqrt(out["v"]) + eps)
    return {"t": t, "g": g, **out}


@interactive(
    section="1.4.6", title="Adam term by term: moments, bias correction and the step (β₁, β₂ sliders)"
)
def adam_terms(beta1: float = 0.9, beta2: float = 0.999, noise: float = 1.0, steps: int = 100) -> Figure:
    """Three panels over the steps t of :func:`adam_trace` (gradients of mean 1 plus noise): the gradients
    and the first moment m with its correction m̂; the RMS √v and its correction √v̂ against the true RMS
    √(1 + noise²); the step in units of α, with and without bias correction."""
    tr = adam_trace(beta1, beta2, noise, steps)
    t = tr["t"]
    fig = new_figure(figsize=(12.0, 3.8), layout="constrained")
    first, second, step = fig.subplots(1, 3)
    first.plot(t, tr["g"], ".", color="grey", ms=3, label="gradient g_t")
    first.plot(t, tr["m"], color="tab:blue", ls="--", label="m (raw, starts at 0)")
    first.plot(t, tr["m_hat"], color="tab:blue", label="m̂ = m / (1 − β₁ᵗ)")
    first.axhline(1.0, color="black", lw=0.8, ls=":", label="true mean 1")
    first.set_title(f"first moment m, β₁ = {beta1:g}\n(memory ≈ {1 / max(1 - beta1, 1e-9):.0f} steps)")
    first.set_ylim(-2.5 * max(noise, 0.4), 1 + 2.5 * max(noise, 0.4))
    second.plot(t, np.sqrt(tr["v"]), color="tab:green", ls="--", label="√v (raw)")
    second.plot(t, np.sqrt(tr["v_hat"]), color="tab:green", label="√v̂ = √(v / (1 − β₂ᵗ))")
    second.axhline(np.sqrt(1 + noise**2), color="black", lw=0.8, ls=":", label="true RMS √(1 + noise²)")
    second.set_title(f"second moment v, β₂ = {beta2:g}\n(memory ≈ {1 / max(1 - beta2, 1e-9):.0f} steps)")
    second.set_ylim(0, 1.6 * np.sqrt(1 + noise**2))
    step.plot(t, tr["raw"], color="tab:red", ls="--", label="m / (√v + ε): no correction")
    step.plot(t, tr["step"], color="tab:red", label="m̂ / (√v̂ + ε): Adam's step")
    step.axhline(1 / np.sqrt(1 + noise**2), color="black", lw=0.8, ls=":", label="mean / RMS")
    step.set_title("the step, in units of α\n(how far θ moved / α)")
    step.set_ylim(-1.5, float(np.clip(1.15 * np.max(np.abs(tr["raw"])), 3.5, 40.0)))
    for ax in (first, second, step):
        ax.set_xlabel("step t")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.4.8 The race
# ------------------------------------------------------------------------------------------------


def saddle(x: Any, y: Any) -> Any:
    """``x² + (y² − 1)²/4``: a saddle point at the origin (f = 0.25, a maximum along y) between two minima
    f = 0 at (0, ±1). Along y = 0 the gradient has no y part at all: only a nudge off the ridge escapes."""
    return x**2 + (y**2 - 1) ** 2 / 4


SADDLE = Surface("Saddle", saddle, (-1.8, 1e-3), (0.0, 1.0), (-2.0, 2.0), (-1.6, 1.6))
RACE_SURFACES: dict[str, Surface] = {
    "rosenbrock": SURFACES["rosenbrock"],
    "beale": SURFACES["beale"],
    "saddle": SADDLE,
}
OPTIMIZERS = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")
COLORS = dict(
    zip(
        OPTIMIZERS,
        ("black", "tab:blue", "tab:cyan", "tab:olive", "tab:green", "tab:red", "tab:purple"),
        strict=True,
    )
)

# The saddle's learning rates (race.py tunes Rosenbrock's and Beale's): each rule makes progress
# without overshooting the minima at (0, ±1).
SADDLE_LEARNING_RATES = {
    "SGD": 0.05,
    "Momentum": 0.01,
    "Nesterov": 0.01,
    "AdaGrad": 0.3,
    "RMSprop": 0.02,
    "Adam": 0.03,
    "AdamW": 0.03,
}


def lesson_racers(
    surface: str, names: Sequence[str] = OPTIMIZERS
) -> dict[str, Callable[[list[Tensor]], Any]]:
    """Optimizer factories for the race on ``surface`` (a key of :data:`RACE_SURFACES`): those of
    :func:`tinylearn.viz.race.racers` for Rosenbrock and Beale, the same seven with
    :data:`SADDLE_LEARNING_RATES` for the saddle."""
    if surface in SURFACES:
        return racers(surface, list(names))
    if surface != "saddle":
        raise ValueError(f"unknown surface {surface!r}; choose from {list(RACE_SURFACES)}")
    lr = SADDLE_LEARNING_RATES
    factories: dict[str, Callable[[list[Tensor]], Any]] = {
        "SGD": lambda p: optim.SGD(p, lr=lr["SGD"]),
        "Momentum": lambda p: optim.SGD(p, lr=lr["Momentum"], momentum=0.9),
        "Nesterov": lambda p: optim.SGD(p, lr=lr["Nesterov"], momentum=0.9, nesterov=True),
        "AdaGrad": lambda p: optim.Adagrad(p, lr=lr["AdaGrad"]),
        "RMSprop": lambda p: optim.RMSprop(p, lr=lr["RMSprop"]),
        "Adam": lambda p: optim.Adam(p, lr=lr["Adam"]),
        "AdamW": lambda p: optim.AdamW(p, lr=lr["AdamW"], weight_decay=0.01),
    }
    unknown = set(names) - set(factories)
    if unknown:
        raise ValueError(f"unknown optimizer(s) {sorted(unknown)}; choose from {list(factories)}")
    return {name: factories[name] for name in names}


@functools.lru_cache(maxsize=16)
def _race_cached(surface: str, steps: int) -> tuple[tuple[str, np.ndarray], ...]:
    paths = []
    for name, make in lesson_racers(surface).items():
        path = run_optimizer(make, RACE_SURFACES[surface], steps)
        path.setflags(write=False)
        paths.append((name, path))
    return tuple(paths)


def race_paths(surface: str, steps: int) -> dict[str, np.ndarray]:
    """``{optimizer: path}`` for the seven optimizers on ``surface``, each path ``(steps + 1, 2)``, computed
    with :func:`tinylearn.viz.race.run_optimizer` (cached: the race widget scrubs through frames of one
    computation; the arrays are read-only)."""
    if surface not in RACE_SURFACES:
        raise ValueError(f"unknown surface {surface!r}; choose from {list(RACE_SURFACES)}")
    return dict(_race_cached(surface, int(steps)))


def _losses(surface: Surface, path: np.ndarray) -> np.ndarray:
    return np.maximum(surface.fn(path[:, 0], path[:, 1]), 1e-12)


@interactive(section="1.4.8", title="optimizer race on Rosenbrock, Beale or a saddle (toggles, animated)")
def optimizer_race(
    surface: str = "beale",
    frame: int = 300,
    steps: int = 300,
    sgd: bool = True,
    momentum: bool = True,
    nesterov: bool = False,
    adagrad: bool = True,
    rmsprop: bool = True,
    adam: bool = True,
    adamw: bool = False,
) -> Figure:
    """The chosen optimizers of :func:`race_paths` on ``surface``, drawn up to step ``frame``
    (contours by :func:`tinylearn.viz.race.plot_race`), and each one's loss per step (log scale)."""
    chosen = [
        n
        for n, on in zip(OPTIMIZERS, (sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw), strict=True)
        if on
    ]
    frame = int(np.clip(frame, 0, steps))
    surf = RACE_SURFACES[surface]
    paths = race_paths(surface, steps)
    fig = new_figure(figsize=(11.0, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
    plot_race({}, surf, ax=left, title=f"{surf.name}: step {frame} of {steps}")
    for name in chosen:
        p = paths[name][: frame + 1]
        left.plot(p[:, 0], p[:, 1], color=COLORS[name], lw=1.4, label=name)
        left.plot(p[-1, 0], p[-1, 1], "o", color=COLORS[name], ms=5)
        f = _losses(surf, paths[name])
        right.semilogy(
            np.arange(frame + 1), f[: frame + 1], color=COLORS[name], label=f"{name}: {f[frame]:.1e}"
        )
    left.legend(fontsize=7, loc="upper right")
    right.axvline(frame, color="grey", lw=0.8)
    right.set_xlim(0, steps)
    if chosen:  # down to a little below the best loss reached, at most 1e-10
        lowest = min(float(_losses(surf, paths[n][: steps + 1]).min()) for n in chosen)
        right.set_ylim(bottom=max(lowest / 3, 1e-10))
    right.set_xlabel("step")
    right.set_ylabel("f (log scale)")
    right.grid(alpha=0.3, which="both")
    if chosen:
        right.legend(fontsize=7, loc="lower left")
    right.set_title("loss along each path")
    return fig


def optimizer_race_animation(
    surface: str = "saddle",
    steps: int = 300,
    names: Sequence[str] = ("SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"),
    frames: int = 30,
    interval: int = 150,
) -> Any:
    """The race of :func:`optimizer_race` as a ``FuncAnimation``: ``frames`` frames evenly spread over the
    ``steps`` steps, each optimizer a line that grows and a dot at its head."""
    from matplotlib.animation import FuncAnimation

    surf = RACE_SURFACES[surface]
    paths = race_paths(surface, steps)
    fig = new_figure(figsize=(6.4, 5.0), layout="constrained")
    ax = fig.add_subplot()
    plot_race({}, surf, ax=ax)
    lines = {n: ax.plot([], [], color=COLORS[n], lw=1.4, label=n)[0] for n in names}
    heads = {n: ax.plot([], [], "o", color=COLORS[n], ms=5)[0] for n in names}
    ax.legend(fontsize=7, loc="upper right")
    at = np.unique(np.linspace(0, steps, max(frames, 2)).round().astype(int))

    def draw(k: int) -> tuple[Any, ...]:
        i = at[k]
        for n in names:
            lines[n].set_data(paths[n][: i + 1, 0], paths[n][: i + 1, 1])
            heads[n].set_data(paths[n][i : i + 1, 0], paths[n][i : i + 1, 1])
        ax.set_title(f"{surf.name}: step {i} of {steps}")
        return (*lines.values(), *heads.values())

    return FuncAnimation(fig, draw, frames=len(at), interval=interval, blit=False)


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

# name -> {parameter: spec}: (min, max, step) sliders, bool checkboxes, [choices] lists.
CONTROLS: dict[str, dict[str, Any]] = {
    "sgd_minibatch": {
        "lr": (0.01, 0.34, 0.01),
        "batch_size": (1, 64, 1),
        "steps": (10, 200, 10),
        "seed": (0, 9, 1),
    },
    "momentum_valley": {
        "frame": (0, 60, 1),
        "beta": (0.0, 0.99, 0.01),
        "lr": (0.05, 0.95, 0.05),
        "show_velocity": bool,
    },
    "adam_terms": {
        "beta1": (0.0, 0.99, 0.01),
        "beta2": (0.9, 0.9999, 0.0001),
        "noise": (0.0, 5.0, 0.1),
        "steps": (20, 500, 20),
    },
    "optimizer_race": {
        "surface": list(RACE_SURFACES),
        "frame": (0, 1000, 10),
        "steps": (100, 1000, 100),
        "sgd": bool,
        "momentum": bool,
        "nesterov": bool,
        "adagrad": bool,
        "rmsprop": bool,
        "adam": bool,
        "adamw": bool,
    },
}

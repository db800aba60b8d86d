"""The optimizer race (curriculum 1.4.8): optimizers from :mod:`tinylearn.optim` on 2-D test surfaces.

A point ``θ = (x, y)`` is a tensor; each optimizer moves it downhill on a surface ``f(x, y)`` for a
number of steps, exactly as it moves a network's weights, and the path it takes is recorded. Drawn on
the surface's contour plot, the paths show what the update rules do: plain SGD crawls along a narrow
valley, momentum overshoots and swings, the adaptive methods rescale each coordinate.

    surface = SURFACES["rosenbrock"]
    paths = race(racers("rosenbrock", ["SGD", "Adam"]), surface, steps=500)
    # or any factories: race({"Adam": lambda params: optim.Adam(params, lr=0.02)}, surface)
    plot_race(paths, surface).savefig("race.png")

The surfaces:

* Rosenbrock: f = (1 − x)² + 100 (y − x²)², a curved, narrow, flat-bottomed valley; minimum 0 at (1, 1).
* Beale: f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)², flat plateaus and steep walls;
  minimum 0 at (3, 0.5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Tensor, tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..optim.optimizer import Optimizer

__all__ = ["SURFACES", "Surface", "beale", "plot_race", "race", "racers", "rosenbrock", "run_optimizer"]


def rosenbrock(x: Any, y: Any, a: float = 1.0, b: float = 100.0) -> Any:
    """(a − x)² + b (y − x²)², on tensors or NumPy arrays; minimum 0 at (a, a²)."""
    return (a - x) ** 2 + b * (y - x**2) ** 2


def beale(x: Any, y: Any) -> Any:
    """(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; minimum 0 at (3, 0.5)."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


@dataclass(frozen=True)
class Surface:
    """A 2-D test function with where to start, where its minimum is, and the window to draw."""

    name: str
    fn: Callable[[Any, Any], Any]
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]


SURFACES: dict[str, Surface] = {
    "rosenbrock": Surface("Rosenbrock", rosenbrock, (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0)),
    "beale": Surface("Beale", beale, (1.0, 1.5), (3.0, 0.5), (-0.5, 4.0), (-1.5, 2.0)),
}


# Learning rates tuned by hand, per surface, so that each optimizer makes progress without diverging
# (the gradients of Beale are ~10x smaller near the start than Rosenbrock's). Change them and watch:
# each update rule has its own stable range, which is the point of lesson 1.4.8.
_LEARNING_RATES: dict[str, dict[str, float]] = {
    "rosenbrock": {"SGD": 1e-3, "Momentum": 2e-4, "Nesterov": 2e-4, "AdaGrad": 0.5, "RMSprop": 0.01,
                   "Adam": 0.05, "AdamW": 0.05},
    "beale": {"SGD": 1e-2, "Momentum": 2e-3, "Nesterov": 2e-3, "AdaGrad": 0.5, "RMSprop": 0.01,
              "Adam": 0.05, "AdamW": 0.05},
}  # fmt: skip


def racers(
    surface: str, names: Sequence[str] | None = None
) -> dict[str, Callable[[list[Tensor]], Optimizer]]:
    """Optimizer factories for the race on ``surface`` (a key of :data:`SURFACES`): SGD, Momentum (SGD
    with momentum 0.9), Nesterov, AdaGrad, RMSprop, Adam and AdamW (weight decay 0.01), with learning
    rates that suit the surface; ``names`` picks some of them."""
    from .. import optim

    lr = _LEARNING_RATES[surface]
    factories: dict[str, Callable[[list[Tensor]], Optimizer]] = {
        "SGD": lambda p: optim.SGD(p, lr=lr["SGD"]),
        "Momentum": lambda p: optim.SGD(p, lr=lr["Momentum"], momentum=0.9),
        "Nesterov": lambda p: optim.SGD(p, lr=lr["Nesterov"], momentum=0.9, nesterov=True),
        "AdaGrad": lambda p: optim.Adagrad(p, lr=lr["AdaGrad"]),
        "RMSprop": lambda p: optim.RMSprop(p, lr=lr["RMSprop"]),
        "Adam": lambda p: optim.Adam(p, lr=lr["Adam"]),
        "AdamW": lambda p: optim.AdamW(p, lr=lr["AdamW"], weight_decay=0.01),
    }
    if names is None:
        return factories
    unknown = set(names) - set(factories)
    if unknown:
        raise ValueError(f"racers: unknown optimizer(s) {sorted(unknown)}; choose from {list(factories)}")
    return {name: factories[name] for name in names}


def run_optimizer(
    make_optimizer: Callable[[list[Tensor]], Optimizer], surface: Surface, steps: int
) -> np.ndarray:
    """The path ``(steps + 1, 2)`` of the point θ that ``make_optimizer([θ])`` moves on ``surface``.

    θ is a float64 tensor starting at ``surface.start``; each step is ``zero_grad``, ``f(θ)``,
    ``backward``, ``step``, as in any training loop. A path that leaves the finite numbers stops there
    (the rest of the rows repeat its last finite point; the caller sees it did not converge).
    """
    theta = tensor(surface.start, dtype=np.float64, requires_grad=True)
    optimizer = make_optimizer([theta])
    path = np.empty((steps + 1, 2))
    path[0] = surface.start
    for i in range(1, steps + 1):
        optimizer.zero_grad()
        loss = surface.fn(theta[0], theta[1])
        loss.backward()
        optimizer.step()
        point = theta.detach().numpy()
        if not np.isfinite(point).all() or np.abs(point).max() > 1e6:  # diverged
            path[i:] = path[i - 1]
            break
        path[i] = point
    return path


def race(
    optimizers: dict[str, Callable[[list[Tensor]], Optimizer]], surface: Surface, steps: int = 500
) -> dict[str, np.ndarray]:
    """``{name: path}`` for each optimizer factory (see :func:`run_optimizer`), all from the same start."""
    return {name: run_optimizer(make, surface, steps) for name, make in optimizers.items()}


def plot_race(
    paths: dict[str, np.ndarray], surface: Surface, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """The paths drawn over the contours of ``surface`` (log-spaced levels), start and minimum marked.

    Draws into ``ax`` when given (and returns its figure), else into a new ``Figure``.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6.4, 5.2), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    xs, ys = np.meshgrid(np.linspace(*surface.xlim, 300), np.linspace(*surface.ylim, 300))
    zs = surface.fn(xs, ys)
    levels = np.logspace(np.log10(max(zs.min(), 1e-3)), np.log10(zs.max()), 30)
    ax.contourf(xs, ys, zs, levels=levels, norm=LogNorm(), cmap="Blues_r", alpha=0.35)
    ax.contour(xs, ys, zs, levels=levels, colors="grey", linewidths=0.3, alpha=0.6)
    for name, path in paths.items():
        f_end = float(surface.fn(path[-1, 0], path[-1, 1]))
        ax.plot(path[:, 0], path[:, 1], linewidth=1.4, label=f"{name} (f = {f_end:.1e})")
        ax.plot(path[-1, 0], path[-1, 1], "o", markersize=4, color=ax.lines[-1].get_color())
    ax.plot(*surface.start, "ks", markersize=6, label="start")
    ax.plot(*surface.minimum, "r*", markersize=12, label="minimum")
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    steps = max(len(p) for p in paths.values()) - 1 if paths else 0
    ax.set_title(title or f"{surface.name}: {steps} steps")
    ax.legend(fontsize="x-small", loc="best")
    return fig

"""The optimizer race (curriculum 1.4.8): seven update rules from ``tinylearn.optim`` on two classic surfaces.

What it shows: SGD, SGD with momentum, Nesterov momentum, AdaGrad, RMSprop, Adam and AdamW, each
moving one point θ = (x, y) downhill from the same start, exactly as they move a network's weights
(``zero_grad``, ``f(θ).backward()``, ``step``). On the Rosenbrock valley, f = (1 − x)² + 100 (y − x²)²,
plain SGD crawls along the flat valley floor while the adaptive methods rescale the steep and the flat
direction alike; on Beale's function, flat plateaus and steep walls, momentum swings wide before it
settles. AdamW's decoupled weight decay pulls the point towards the origin as well, so it stops a
little short of the minimum: a regulariser is not free on a problem that does not need one. The paths
are drawn on the contour plots (log-spaced levels) into ``--out/optimizer_race.png``, and a table
gives each optimizer's final loss and distance to the minimum.

The learning rates, per surface, are in :func:`tinylearn.viz.race.racers`; change them and watch each
rule's stable range (lesson 1.4.8's "learning-rate sensitivity").

How to run::

    python examples/optimizer_race.py                   # 1000 steps, figure in race-output/
    python examples/optimizer_race.py --steps 3000 --out figures

Measured (2026-11-25, the 2-core x86_64 reference machine, NumPy 2.4.6): ``--steps 1000`` takes about
11 s; Adam ends closest to Rosenbrock's minimum (f ≈ 3e-4) and SGD furthest (f ≈ 2.8, still in the
valley), while on Beale every optimizer but AdamW reaches f < 1e-4.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinylearn.viz.race import SURFACES, plot_race, race, racers

OPTIMIZERS = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")


def run(
    steps: int = 1000, out: str | Path = "race-output", surfaces: Sequence[str] = ("rosenbrock", "beale")
) -> dict:
    """Race every optimizer on each surface; save the figure; return ``{surface: {optimizer: path}}``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.2 * len(surfaces), 5.2), layout="constrained")
    axes = fig.subplots(1, len(surfaces), squeeze=False)[0]
    results = {}
    for ax, key in zip(axes, surfaces, strict=True):
        surface = SURFACES[key]
        start = time.perf_counter()
        paths = race(racers(key, OPTIMIZERS), surface, steps)
        results[key] = paths
        print(f"{surface.name} from {surface.start}, minimum at {surface.minimum}, {steps} steps "
              f"({time.perf_counter() - start:.1f} s):")  # fmt: skip
        for name, path in paths.items():
            x, y = path[-1]
            distance = np.hypot(x - surface.minimum[0], y - surface.minimum[1])
            f_end = surface.fn(x, y)
            print(f"  {name:9s} ends at ({x:+.4f}, {y:+.4f})   f = {f_end:.2e}   distance {distance:.4f}")
        plot_race(paths, surface, ax=ax)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "optimizer_race.png", dpi=100)
    print(f"figure written to {out / 'optimizer_race.png'}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps per racer (default 1000)")
    parser.add_argument("--out", default="race-output", help="folder for the figure")
    args = parser.parse_args(argv)
    run(args.steps, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

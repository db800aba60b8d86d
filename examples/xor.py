"""XOR (curriculum 1.2.1): a linear model cannot learn it, a network with one hidden layer can.

What it shows: four clusters of points at (±1, ±1); class 1 where exactly one coordinate is negative.
No straight line puts both class-1 clusters on one side and both class-0 clusters on the other: the
best a line can do is three clusters out of four, and logistic regression (``nn.Linear(2, 1)`` +
``BCEWithLogitsLoss``) does worse still, since for the cross-entropy the best line is hardly a line
at all: it ends up predicting about 0.5 everywhere. Adding one hidden layer with a nonlinearity
(``Linear(2, 8) → ReLU → Linear(8, 1)``) bends the decision boundary and solves it. Both are trained
with the same loss, optimizer (Adam) and number of steps; the figure (``--out/xor.png``) shows their
decision boundaries over the data.

How to run::

    python examples/xor.py                      # 400 points, 1000 full-batch steps
    python examples/xor.py --hidden 2 --steps 3000   # two hidden units are enough

Measured (2026-11-25, the 2-core x86_64 reference machine, NumPy 2.4.6): with the defaults the linear
model ends at 50.0% training accuracy and the MLP at 100.0%, in about 5 s with the figure. With two
hidden units the MLP reaches 98.0% in 3000 steps; with three, this seed leaves it at 75.0% (a ReLU
unit that "died": it outputs 0 for every point, so it gets no gradient and never recovers).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import tinylearn as tl
from tinylearn import nn, optim


def train(model: nn.Module, X: tl.Tensor, y: tl.Tensor, steps: int, lr: float) -> float:
    """Full-batch Adam on the binary cross-entropy of the logits; returns the final accuracy."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
    with tl.no_grad():
        return ((model(X) > 0).float() == y).float().mean().item()


def plot(path: Path, X: np.ndarray, y: np.ndarray, models: dict[str, tuple[nn.Module, float]]) -> None:
    from matplotlib.figure import Figure

    xs, ys = np.meshgrid(np.linspace(-2.2, 2.2, 200), np.linspace(-2.2, 2.2, 200))
    grid = tl.tensor(np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32))
    fig = Figure(figsize=(10, 4.6), layout="constrained")
    for ax, (name, (model, acc)) in zip(fig.subplots(1, len(models)), models.items(), strict=True):
        with tl.no_grad():
            prob = model(grid).sigmoid().numpy().reshape(xs.shape)
        ax.contourf(xs, ys, prob, levels=20, cmap="RdBu_r", alpha=0.6, vmin=0, vmax=1)
        ax.contour(xs, ys, prob, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=12, vmin=0, vmax=1)
        ax.set(title=f"{name}: accuracy {acc:.1%}", xlabel="x₁", ylabel="x₂", aspect="equal")
    fig.suptitle("XOR: the linear model's boundary is a line; the hidden layer bends it")
    fig.savefig(path, dpi=100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="number of points")
    parser.add_argument("--hidden", type=int, default=8, help="hidden units of the MLP")
    parser.add_argument("--steps", type=int, default=1000, help="full-batch training steps")
    parser.add_argument("--lr", type=float, default=0.05, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="xor-output", help="folder for the figure")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    X_np, y_np = tl.data.make_xor(args.n, noise=0.3, seed=args.seed)
    X, y = tl.tensor(X_np.astype(np.float32)), tl.tensor(y_np.astype(np.float32)).reshape(-1, 1)
    tl.manual_seed(args.seed)
    linear = nn.Linear(2, 1)
    mlp = nn.Sequential(nn.Linear(2, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 1))
    acc_linear = train(linear, X, y, args.steps, args.lr)
    acc_mlp = train(mlp, X, y, args.steps, args.lr)
    print(f"XOR, {args.n} points, {args.steps} steps of Adam (lr {args.lr}):")
    print(f"  linear model  Linear(2, 1)                        accuracy {acc_linear:.1%}")
    print(
        f"  2-layer MLP   Linear(2, {args.hidden}) → ReLU → Linear({args.hidden}, 1)   accuracy {acc_mlp:.1%}"
    )
    print(f"the linear model {'cannot' if acc_linear < 0.8 else 'CAN (unexpected)'} learn XOR; "
          f"the MLP {'does' if acc_mlp > 0.95 else 'does NOT (try more --steps)'}")  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(out / "xor.png", X_np, y_np, {"linear model": (linear, acc_linear), "2-layer MLP": (mlp, acc_mlp)})
    print(f"figure written to {out / 'xor.png'} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

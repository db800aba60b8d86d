"""Linear regression three ways (curriculum 1.1): gradient descent by hand, the closed form, and tinylearn.

What it shows: fitting ŷ = w·x + b to noisy points of the line y = 2x + 1 by minimising the mean
squared error L = (1/n) Σ (ŷᵢ − yᵢ)².

1. Pure NumPy gradient descent, with the gradients derived by hand:
   ∂L/∂w = (2/n) Σ (ŷᵢ − yᵢ) xᵢ,  ∂L/∂b = (2/n) Σ (ŷᵢ − yᵢ),  then w ← w − α ∂L/∂w, b ← b − α ∂L/∂b.
2. The closed form (least squares): with the design matrix A = [x, 1], the minimiser solves the normal
   equations AᵀA θ = Aᵀy (computed with ``np.linalg.lstsq``, which avoids forming AᵀA).
3. The same model in tinylearn: ``nn.Linear(1, 1)``, ``nn.MSELoss``, ``loss.backward()`` for the
   gradients (autograd instead of the hand derivation) and ``optim.SGD`` for the update.

The three parameter sets are printed and checked to agree (to 1e-3): gradient descent converges to the
least-squares solution, and autograd computes exactly the gradients derived by hand. The figure
(``--out/linear_regression.png``) shows the data with the fitted lines, and both loss curves.

How to run::

    python examples/linear_regression.py                    # 200 points, 500 steps of lr 0.1
    python examples/linear_regression.py --steps 10         # stop early: not converged yet

Measured (2026-11-25, the 2-core x86_64 reference machine, NumPy 2.4.6): with the defaults all three
give w = 1.978915, b = 0.960305 (the noise moves them off 2 and 1), in about 1.5 s with the figure;
after 50 steps they agree to 1e-4 already, after 10 not yet (w = 1.9876, b = 0.8745).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import tinylearn as tl
from tinylearn import nn, optim


def numpy_gradient_descent(x: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple[float, float, list]:
    """Fit ŷ = w x + b by gradient descent with hand-derived gradients; return w, b and the losses."""
    w, b = 0.0, 0.0
    losses = []
    for _ in range(steps):
        residual = w * x + b - y  # ŷ - y
        losses.append(float(np.mean(residual**2)))
        grad_w = 2 * np.mean(residual * x)
        grad_b = 2 * np.mean(residual)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b, losses


def closed_form(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The least-squares solution of [x, 1] θ ≈ y."""
    design = np.stack([x, np.ones_like(x)], axis=1)
    (w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(w), float(b)


def tinylearn_sgd(x: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple[float, float, list]:
    """The same fit with nn.Linear, MSELoss, autograd and optim.SGD (full batch, from w = b = 0)."""
    model = nn.Linear(1, 1).double()  # float64, to compare with NumPy closely
    nn.init.zeros_(model.weight)  # start where the NumPy version starts
    nn.init.zeros_(model.bias)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    inputs, targets = tl.tensor(x).reshape(-1, 1), tl.tensor(y).reshape(-1, 1)  # float64, as x and y
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()  # autograd: the same ∂L/∂w, ∂L/∂b as derived by hand above
        optimizer.step()
        losses.append(loss.item())
    return model.weight.item(), model.bias.item(), losses


def plot(
    path: Path, x: np.ndarray, y: np.ndarray, fits: dict[str, tuple[float, float]], curves: dict
) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_fit, ax_loss = fig.subplots(1, 2)
    ax_fit.scatter(x, y, s=8, alpha=0.5, color="grey", label="data")
    line = np.linspace(x.min(), x.max(), 2)
    for (name, (w, b)), style in zip(fits.items(), ["-", "--", ":"], strict=True):
        ax_fit.plot(line, w * line + b, style, linewidth=2, label=f"{name}: w={w:.3f}, b={b:.3f}")
    ax_fit.set(xlabel="x", ylabel="y", title="Fitted lines")
    ax_fit.legend(fontsize="small")
    for (name, losses), (style, width) in zip(curves.items(), [("-", 4), ("--", 1.5)], strict=True):
        ax_loss.plot(np.arange(1, len(losses) + 1), losses, style, linewidth=width, label=name)
    ax_loss.set(xlabel="step", ylabel="MSE", yscale="log", title="Loss during gradient descent")
    ax_loss.legend(fontsize="small")
    fig.savefig(path, dpi=100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="number of points")
    parser.add_argument("--steps", type=int, default=500, help="gradient-descent steps")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="linear-regression-output", help="folder for the figure")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    X, Y = tl.data.make_line(args.n, slope=2.0, intercept=1.0, noise=0.5, seed=args.seed)
    x, y = X[:, 0].astype(np.float64), Y[:, 0].astype(np.float64)
    w_gd, b_gd, losses_gd = numpy_gradient_descent(x, y, args.lr, args.steps)
    w_ls, b_ls = closed_form(x, y)
    w_tl, b_tl, losses_tl = tinylearn_sgd(x, y, args.lr, args.steps)
    fits = {
        "NumPy gradient descent": (w_gd, b_gd),
        "closed form": (w_ls, b_ls),
        "tinylearn SGD": (w_tl, b_tl),
    }
    print(f"{args.n} points of y = 2x + 1 + noise; {args.steps} steps of learning rate {args.lr}")
    for name, (w, b) in fits.items():
        print(f"  {name:24s} w = {w:.6f}   b = {b:.6f}")
    agree = all(np.allclose(fit, (w_ls, b_ls), atol=1e-3) for fit in fits.values())
    same_steps = np.allclose(losses_gd, losses_tl, rtol=1e-9)
    print(f"all three agree to 1e-3: {agree}")
    print(f"tinylearn's losses match the hand-derived gradient descent step for step: {same_steps}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(out / "linear_regression.png", x, y, fits, {"NumPy": losses_gd, "tinylearn": losses_tl})
    print(f"figure written to {out / 'linear_regression.png'} ({time.perf_counter() - start:.1f} s)")
    return 0 if same_steps else 1  # a mismatch there would be a bug in tinylearn


if __name__ == "__main__":
    raise SystemExit(main())

"""The interactive figures of lesson 1.5 (regularization and generalization).

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure`` (no pyplot, seeded
randomness; the figures that need tinylearn's global random generator save and restore its state,
so drawing one changes nothing outside it). :func:`widget` wraps any of them in live controls.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`overfitting_explorer`           1.5.1    a polynomial fit of chosen degree to a chosen
                                                number of points; training and validation error
                                                against the degree
:func:`l2_explorer`                    1.5.2    the L2 strength λ: the fit, the weights, the
                                                error against λ, and the loss contours with the
                                                circle the penalty confines the weights to
:func:`l1_explorer`                    1.5.3    the L1 strength λ: the diamond, weights reaching
                                                exactly 0 along the L1 path, L2's path beside it
:func:`dropout_mask`                   1.5.4    one forward pass's dropout mask on a small network
                                                and the inverted-dropout scaling (frames: passes);
                                                :func:`dropout_animation` animates it
:func:`batchnorm_histograms`           1.5.5    a batch of pre-activations before and after
                                                ``nn.BatchNorm1d``, in training or evaluation mode
:func:`norm_axes`                      1.5.6    which entries of an (N, C) tensor share a mean and
                                                variance in BatchNorm and in LayerNorm
:func:`early_stopping_explorer`        1.5.7    a real training run's curves, where
                                                ``EarlyStopping`` stops and which epoch it restores
=====================================  =======  ==================================================

The numbers behind them are plain functions too: :func:`poly_data`, :func:`poly_features`,
:func:`ridge_fit` and :func:`poly_errors` (polynomial regression with an L2 penalty, in closed
form); :func:`two_feature_data`, :func:`sparse_data`, :func:`ridge_path`, :func:`soft_threshold` and
:func:`lasso_path` (L1 by proximal gradient descent); :func:`dropout_masks` (the masks
``tinylearn.nn.functional.dropout`` draws); :func:`moons_data`, :func:`moons_model`,
:func:`train_moons` and :func:`overfit_run` (a small network trained by :func:`tinylearn.training.fit`
until it overfits) and :func:`replay_early_stopping` (the library's
:class:`~tinylearn.training.EarlyStopping` replayed on a recorded curve). Two static figures:
:func:`moons_boundary` (decision regions of trained networks) and :func:`augmentation_gallery` (the
augmentations of 1.5.8, a subsection without an interactive).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.toy import make_moons, make_polynomial
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..training import History

__all__ = [
    "CONTROLS",
    "augmentation_gallery",
    "batchnorm_histograms",
    "dropout_animation",
    "dropout_mask",
    "dropout_masks",
    "early_stopping_explorer",
    "l1_explorer",
    "l2_explorer",
    "lasso_path",
    "moons_boundary",
    "moons_data",
    "moons_model",
    "norm_axes",
    "norm_batch",
    "overfit_run",
    "overfitting_explorer",
    "poly_data",
    "poly_errors",
    "poly_features",
    "preactivations",
    "replay_early_stopping",
    "ridge_fit",
    "ridge_path",
    "seeded",
    "soft_threshold",
    "sparse_data",
    "train_moons",
    "two_feature_data",
    "widget",
]

POLY_COEFFICIENTS = (1.0, -1.0, 0.0, 0.5)  # the truth of 1.5.1-1.5.2: y = 1 - x + x³/2 on [-2, 2]
POLY_NOISE = 0.3
MAX_DEGREE = 15
TRAIN_COLOR, VAL_COLOR = "tab:blue", "tab:orange"


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block under ``tl.manual_seed(seed)`` and put tinylearn's (and NumPy's legacy) global
    random state back afterwards, so that a figure drawing random masks leaves no trace."""
    from ..random import get_rng_state, manual_seed, set_rng_state

    state, legacy = get_rng_state(), np.random.get_state()
    manual_seed(seed)
    try:
        yield
    finally:
        set_rng_state(state)
        np.random.set_state(legacy)


# ------------------------------------------------------------------------------------------------
# 1.5.1-1.5.2: polynomial regression, with and without an L2 penalty
# ------------------------------------------------------------------------------------------------


def poly_data(n_train: int = 15) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x_train, y_train, x_val, y_val`` (1-D float64) from ``y = 1 − x + x³/2`` plus noise 0.3.

    The training points are the first ``n_train`` of one fixed sequence of 100 (so a larger training
    set contains the smaller ones); the 200 validation points come from another seed.
    """
    if not 1 <= n_train <= 100:
        raise ValueError(f"poly_data: n_train must be in 1..100, got {n_train}")
    X, y = make_polynomial(100, POLY_COEFFICIENTS, POLY_NOISE, seed=1)
    Xv, yv = make_polynomial(200, POLY_COEFFICIENTS, POLY_NOISE, seed=2)
    x, y, xv, yv = (a[:, 0].astype(np.float64) for a in (X, y, Xv, yv))
    return x[:n_train], y[:n_train], xv, yv


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """The features ``P₁(x/2), …, P_degree(x/2)`` (Legendre polynomials, x in [-2, 2] mapped to
    [-1, 1]): any polynomial of that degree is ``b + Σ wₖ Pₖ``, and these features overlap far less
    than ``x, x², x³, …`` do, so the weights stay comparable in size. Shape ``(len(x), degree)``."""
    return np.polynomial.legendre.legvander(np.asarray(x, dtype=np.float64) / 2.0, degree)[:, 1:]


def ridge_fit(features: np.ndarray, y: np.ndarray, lam: float = 0.0) -> tuple[np.ndarray, float]:
    """The ``(w, b)`` minimising ``(1/n) Σ (yᵢ − wᵀφᵢ − b)² + λ‖w‖²`` (the bias is not penalised).

    Closed form: center the data, then solve ``(ΦᵀΦ/n + λI) w = Φᵀy/n`` as the least-squares problem
    ``[Φ/√n; √λ I] w ≈ [y/√n; 0]`` (which gives the smallest-norm solution when λ = 0 and there are
    fewer points than weights).
    """
    n, d = features.shape
    mu_x, mu_y = features.mean(axis=0), float(np.mean(y))
    A = np.vstack([(features - mu_x) / np.sqrt(n), np.sqrt(lam) * np.eye(d)])
    rhs = np.concatenate([(y - mu_y) / np.sqrt(n), np.zeros(d)])
    w = np.linalg.lstsq(A, rhs, rcond=None)[0]
    return w, mu_y - float(mu_x @ w)


def poly_errors(degree: int, n_train: int, lam: float = 0.0) -> tuple[float, float]:
    """Training and validation MSE of the degree-``degree`` polynomial fitted by :func:`ridge_fit`."""
    x, y, xv, yv = poly_data(n_train)
    if degree == 0:
        b = float(np.mean(y))
        return float(np.mean((y - b) ** 2)), float(np.mean((yv - b) ** 2))
    w, b = ridge_fit(poly_features(x, degree), y, lam)
    train = np.mean((y - poly_features(x, degree) @ w - b) ** 2)
    val = np.mean((yv - poly_features(xv, degree) @ w - b) ** 2)
    return float(train), float(val)


def _poly_curve(degree: int, w: np.ndarray | None, b: float, xs: np.ndarray) -> np.ndarray:
    return b + (poly_features(xs, degree) @ w if degree else 0.0)


def _poly_axes(ax: Any, x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray) -> None:
    ax.scatter(xv, yv, s=6, color=VAL_COLOR, alpha=0.35, label="validation")
    ax.scatter(x, y, s=22, color=TRAIN_COLOR, zorder=3, label="training")
    xs = np.linspace(-2, 2, 300)
    ax.plot(xs, np.polynomial.polynomial.polyval(xs, POLY_COEFFICIENTS), color="gray", ls=":", label="truth")
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-3.0, 5.0)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


@interactive(section="1.5.1", title="model capacity and training-set size: training vs validation error")
def overfitting_explorer(degree: int = 9, n_train: int = 15) -> Figure:
    """A degree-``degree`` polynomial least-squares fit to ``n_train`` noisy points (left) and the
    training and validation error of every degree 0-15 on those points (right, log scale)."""
    x, y, xv, yv = poly_data(n_train)
    degrees = np.arange(MAX_DEGREE + 1)
    errors = np.array([poly_errors(int(d), n_train) for d in degrees])
    fig = new_figure(figsize=(10.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    _poly_axes(left, x, y, xv, yv)
    w, b = ridge_fit(poly_features(x, degree), y) if degree else (None, float(np.mean(y)))
    xs = np.linspace(-2, 2, 400)
    left.plot(xs, _poly_curve(degree, w, b, xs), color="tab:red", lw=2, label=f"degree {degree} fit")
    left.legend(loc="upper left", fontsize=8)
    train, val = errors[degree]
    left.set_title(
        f"{n_train} points, degree {degree}: train MSE {train:.3g}, validation MSE {val:.3g}", fontsize=10
    )
    right.semilogy(degrees, np.maximum(errors[:, 0], 1e-6), "o-", color=TRAIN_COLOR, label="training")
    right.semilogy(degrees, errors[:, 1], "o-", color=VAL_COLOR, label="validation")
    right.axhline(POLY_NOISE**2, color="gray", ls=":", label=f"noise level σ² = {POLY_NOISE**2:.2f}")
    right.axvline(degree, color="tab:red", lw=1)
    best = int(np.argmin(errors[:, 1]))
    right.plot([best], [errors[best, 1]], "*", color="black", markersize=12, label=f"best degree: {best}")
    right.set_ylim(1e-3, 1e3)
    right.set_xlabel("degree (capacity)")
    right.set_ylabel("MSE (log scale)")
    right.grid(alpha=0.3)
    right.minorticks_off()
    right.legend(loc="upper left", fontsize=8)
    right.set_title("error against capacity")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.5.2-1.5.3: the two-weight picture and the paths of the weights
# ------------------------------------------------------------------------------------------------


def two_feature_data(n_samples: int = 60, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A regression on two correlated features (std 0.35, correlation ≈ 0.6), ``y ≈ 1.5·x₁ + 0.4·x₂``
    plus noise: small enough that the loss over the two weights can be drawn as contours."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n_samples, 2))
    X = 0.35 * np.column_stack([z[:, 0], 0.6 * z[:, 0] + 0.8 * z[:, 1]])
    y = X @ np.array([1.5, 0.4]) + rng.normal(0.0, 0.175, n_samples)
    return X, y


def sparse_data(n_samples: int = 50, seed: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X, y, w_true``: ten features of which only three matter (``w_true = (3, −2, 0, 0, 1.5, 0,
    …)``), plus noise of std 1: the setting where an L1 penalty should find the useful features."""
    rng = np.random.default_rng(seed)
    w_true = np.array([3.0, -2.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0])
    X = rng.normal(size=(n_samples, len(w_true)))
    return X, X @ w_true + rng.normal(0.0, 1.0, n_samples), w_true


def ridge_path(X: np.ndarray, y: np.ndarray, lambdas: Sequence[float]) -> np.ndarray:
    """``(len(lambdas), d)``: the weights of :func:`ridge_fit` (L2 penalty λ‖w‖²) for each λ."""
    return np.array([ridge_fit(X, y, float(lam))[0] for lam in lambdas])


def soft_threshold(w: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """``sign(w)·max(|w| − t, 0)``: the proximal step of ``t·‖w‖₁``. It moves every weight ``t``
    towards 0 and sets to exactly 0 every weight that would have crossed it."""
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def lasso_path(X: np.ndarray, y: np.ndarray, lambdas: Sequence[float], steps: int = 1000) -> np.ndarray:
    """``(len(lambdas), d)``: the weights minimising ``(1/n) Σ (yᵢ − wᵀxᵢ − b)² + λ‖w‖₁`` for each λ.

    Proximal gradient descent (ISTA), all λ at once: a gradient step on the squared error with step
    size ``η = 1/(largest curvature)``, then :func:`soft_threshold` by ``ηλ``. The intercept is handled
    by centering (it is not penalised).
    """
    Xc, yc = X - X.mean(axis=0), y - np.mean(y)
    n = len(y)
    lam = np.asarray(lambdas, dtype=np.float64)[:, None]
    eta = 1.0 / (2.0 * np.linalg.eigvalsh(Xc.T @ Xc / n).max())
    W = np.zeros((len(lam), X.shape[1]))
    for _ in range(steps):
        grad = -(2.0 / n) * (yc[None, :] - W @ Xc.T) @ Xc  # ∂/∂w of the mean squared error, per row
        W = soft_threshold(W - eta * grad, eta * lam)
    return W


@functools.lru_cache(maxsize=4)
def _paths(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """λ grid and the weight paths of the sparse problem (``kind`` = "l1" or "l2"), cached."""
    X, y, _ = sparse_data()
    lambdas = np.logspace(-3, 1, 81)
    return lambdas, lasso_path(X, y, lambdas) if kind == "l1" else ridge_path(X, y, lambdas)


def _two_weight_loss(X: np.ndarray, y: np.ndarray, W1: Any, W2: Any) -> np.ndarray:
    """The data loss ``(1/n)‖y − Xw − b‖²`` (the best b for each w) at the weights ``(W1, W2)``."""
    Xc, yc = X - X.mean(axis=0), y - np.mean(y)
    W1, W2 = np.asarray(W1, dtype=np.float64), np.asarray(W2, dtype=np.float64)
    return np.mean((yc - W1[..., None] * Xc[:, 0] - W2[..., None] * Xc[:, 1]) ** 2, axis=-1)


def _contours(ax: Any, X: np.ndarray, y: np.ndarray, through: Sequence[tuple[np.ndarray, str]] = ()) -> None:
    """The data loss over (w₁, w₂) as contours, the unpenalised optimum marked, and for each
    ``(w, color)`` of ``through`` the contour passing through ``w``, drawn in that color."""
    W1, W2 = np.meshgrid(np.linspace(-0.8, 2.4, 120), np.linspace(-1.0, 1.4, 100))
    L = _two_weight_loss(X, y, W1, W2)
    ols = np.linalg.lstsq(X - X.mean(axis=0), y - np.mean(y), rcond=None)[0]
    ax.contour(W1, W2, L, levels=np.quantile(L, np.linspace(0.01, 0.9, 12)), cmap="viridis", linewidths=0.6)
    for w, color in through:
        level = float(_two_weight_loss(X, y, w[0], w[1]))
        if level > L.min():
            ax.contour(W1, W2, L, levels=[level], colors=[color], linewidths=1.2, linestyles="-.")
    ax.plot(*ols, "k+", markersize=10, label="no penalty")
    ax.axhline(0, color="gray", lw=0.6)
    ax.axvline(0, color="gray", lw=0.6)
    ax.set_xlim(-0.8, 2.4)
    ax.set_ylim(-1.0, 1.4)
    ax.set_aspect("equal")
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")


@interactive(section="1.5.2", title="L2 strength λ: the fit, the weights and the circle constraint")
def l2_explorer(log_lambda: float = -1.5, degree: int = 12, n_train: int = 15) -> Figure:
    """An L2 penalty ``λ‖w‖²`` with ``λ = 10**log_lambda``: the degree-``degree`` polynomial fitted to
    ``n_train`` points (top left, the unpenalised fit dashed), the size of each weight (top right),
    training and validation error against λ (bottom left), and the two-weight problem's loss
    contours with the circle ``‖w‖ ≤ r`` on which the penalised solution sits (bottom right)."""
    lam = 10.0**log_lambda
    x, y, xv, yv = poly_data(n_train)
    phi = poly_features(x, degree)
    w, b = ridge_fit(phi, y, lam)
    w0, b0 = ridge_fit(phi, y, 0.0)
    fig = new_figure(figsize=(10.0, 7.6), layout="constrained")
    (fit_ax, w_ax), (err_ax, geo_ax) = fig.subplots(2, 2)

    _poly_axes(fit_ax, x, y, xv, yv)
    xs = np.linspace(-2, 2, 400)
    fit_ax.plot(xs, _poly_curve(degree, w0, b0, xs), color="tab:red", lw=1, ls="--", alpha=0.6, label="λ = 0")
    fit_ax.plot(xs, _poly_curve(degree, w, b, xs), color="tab:red", lw=2, label=f"λ = {lam:.2g}")
    fit_ax.legend(loc="upper left", fontsize=8)
    train, val = poly_errors(degree, n_train, lam)
    fit_ax.set_title(f"degree {degree}, λ = {lam:.2g}: train {train:.3f}, validation {val:.3f}")

    k = np.arange(1, degree + 1)
    w_ax.bar(k - 0.2, np.abs(w0), width=0.4, color="lightgray", edgecolor="gray", label="λ = 0")
    w_ax.bar(k + 0.2, np.abs(w), width=0.4, color="tab:red", label=f"λ = {lam:.2g}")
    w_ax.set_yscale("log")
    w_ax.set_ylim(1e-4, 1e3)
    w_ax.minorticks_off()
    w_ax.set_xticks(k)
    w_ax.set_xlabel("weight k (of Legendre feature Pₖ)")
    w_ax.set_ylabel("|wₖ| (log scale)")
    w_ax.legend(loc="upper right", fontsize=8)
    w_ax.set_title(f"‖w‖² = {np.sum(w**2):.3g}   (λ = 0: {np.sum(w0**2):.3g})")

    grid = np.logspace(-6, 1, 36)
    errs = np.array([poly_errors(degree, n_train, float(g)) for g in grid])
    err_ax.loglog(grid, errs[:, 0], color=TRAIN_COLOR, label="training")
    err_ax.loglog(grid, errs[:, 1], color=VAL_COLOR, label="validation")
    err_ax.axvline(lam, color="tab:red", lw=1)
    err_ax.axhline(POLY_NOISE**2, color="gray", ls=":", label="noise level")
    err_ax.set_xlabel("λ")
    err_ax.set_ylabel("MSE")
    err_ax.grid(alpha=0.3)
    err_ax.minorticks_off()
    err_ax.legend(fontsize=8)
    err_ax.set_title(f"best λ on validation: {grid[int(np.argmin(errs[:, 1]))]:.2g}")

    X2, y2 = two_feature_data()
    w2 = ridge_path(X2, y2, [lam])[0]
    _contours(geo_ax, X2, y2, through=[(w2, "tab:red")])
    path = ridge_path(X2, y2, np.logspace(-4, 2, 80))
    geo_ax.plot(path[:, 0], path[:, 1], color="tab:red", lw=1, alpha=0.5, label="solutions as λ grows")
    r = float(np.hypot(*w2))
    t = np.linspace(0, 2 * np.pi, 200)
    geo_ax.plot(r * np.cos(t), r * np.sin(t), color="tab:red", lw=1.5, label=f"‖w‖ = {r:.2f}")
    geo_ax.fill(r * np.cos(t), r * np.sin(t), color="tab:red", alpha=0.08)
    geo_ax.plot(*w2, "o", color="tab:red", label=f"λ = {lam:.2g}: w = ({w2[0]:.2f}, {w2[1]:.2f})")
    geo_ax.legend(loc="lower right", fontsize=7)
    geo_ax.set_title("two weights: loss contours and the L2 ball")
    return fig


@interactive(section="1.5.3", title="L1 strength λ: the diamond, weights reaching exactly zero, L2 beside it")
def l1_explorer(log_lambda: float = -0.5) -> Figure:
    """An L1 penalty ``λ‖w‖₁`` against an L2 penalty ``λ‖w‖²`` at the same ``λ = 10**log_lambda``:
    the two-weight problem with the diamond and the circle (top left), the ten weights of a problem
    where three features matter (top right), and how every weight moves as λ grows, under L1
    (bottom left: they reach 0 one after another) and under L2 (bottom right: they only shrink)."""
    lam = 10.0**log_lambda
    fig = new_figure(figsize=(10.0, 7.6), layout="constrained")
    (geo_ax, bar_ax), (l1_ax, l2_ax) = fig.subplots(2, 2)

    X2, y2 = two_feature_data()
    w_l1 = lasso_path(X2, y2, [lam])[0]
    w_l2 = ridge_path(X2, y2, [lam])[0]
    _contours(geo_ax, X2, y2, through=[(w_l1, "tab:purple"), (w_l2, "tab:red")])
    s = float(np.sum(np.abs(w_l1)))
    geo_ax.fill([s, 0, -s, 0], [0, s, 0, -s], color="tab:purple", alpha=0.12)
    geo_ax.plot([s, 0, -s, 0, s], [0, s, 0, -s, 0], color="tab:purple", lw=1.5, label=f"‖w‖₁ = {s:.2f}")
    t = np.linspace(0, 2 * np.pi, 200)
    r = float(np.hypot(*w_l2))
    geo_ax.plot(r * np.cos(t), r * np.sin(t), color="tab:red", lw=1, ls="--", label=f"‖w‖₂ = {r:.2f}")
    geo_ax.plot(*w_l1, "o", color="tab:purple", label=f"L1: ({w_l1[0]:.2f}, {w_l1[1]:.2f})")
    geo_ax.plot(*w_l2, "s", color="tab:red", markersize=5, label=f"L2: ({w_l2[0]:.2f}, {w_l2[1]:.2f})")
    geo_ax.legend(loc="lower right", fontsize=7)
    zeros = int(np.sum(w_l1 == 0.0))
    where = {
        0: "on an edge: both weights nonzero",
        1: "on a corner: one weight is exactly 0",
        2: "at the origin",
    }[zeros]
    geo_ax.set_title(f"λ = {lam:.2g}: the L1 solution sits {where}", fontsize=10)

    X, y, w_true = sparse_data()
    lambdas, p1 = _paths("l1")
    _, p2 = _paths("l2")
    a = lasso_path(X, y, [lam])[0]
    b = ridge_path(X, y, [lam])[0]
    k = np.arange(1, len(w_true) + 1)
    bar_ax.bar(k - 0.2, a, width=0.4, color="tab:purple", label="L1")
    bar_ax.bar(k + 0.2, b, width=0.4, color="tab:red", label="L2")
    bar_ax.plot(k, w_true, "k_", markersize=14, mew=2, label="true weight")
    bar_ax.axhline(0, color="gray", lw=0.6)
    bar_ax.set_xticks(k)
    bar_ax.set_ylim(-2.6, 3.4)
    bar_ax.set_xlabel("feature")
    bar_ax.legend(loc="upper right", fontsize=8)
    bar_ax.set_title(
        f"exact zeros: L1 {int(np.sum(a == 0.0))} of {len(a)}, L2 {int(np.sum(b == 0.0))} of {len(b)}"
    )
    for ax, path, name, color in ((l1_ax, p1, "L1", "tab:purple"), (l2_ax, p2, "L2", "tab:red")):
        for j in range(path.shape[1]):
            useful = w_true[j] != 0
            ax.semilogx(lambdas, path[:, j], color=color if useful else "gray", lw=1.6 if useful else 0.9)
        ax.axvline(lam, color="black", lw=1)
        ax.axhline(0, color="gray", lw=0.6)
        ax.minorticks_off()
        ax.set_ylim(-2.6, 3.4)
        ax.set_xlabel("λ")
        ax.set_ylabel("weight")
        ax.set_title(f"{name} path (colored: the 3 useful features)")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.5.4: dropout
# ------------------------------------------------------------------------------------------------

NET_LAYERS = (4, 8, 8, 2)  # the network drawn in 1.5.4: dropout on the two hidden layers
HIDDEN = np.array([0.9, 0.3, 1.4, 0.6, 1.1, 0.2, 0.8, 1.2])  # activations of the first hidden layer


def dropout_masks(p: float, passes: int, seed: int = 0) -> np.ndarray:
    """``(passes, 2, 8)``: what ``tinylearn.nn.functional.dropout(ones, p)`` returns on the two hidden
    layers of the 1.5.4 network in ``passes`` forward passes (pass ``i`` under seed ``seed + i``):
    ``0`` for a dropped unit, ``1/(1 − p)`` for a kept one. The global random state is restored."""
    from ..nn import functional as F
    from ..tensor import ones

    out = np.empty((passes, 2, NET_LAYERS[1]))
    for i in range(passes):
        with seeded(seed + i):
            out[i] = F.dropout(ones(2, NET_LAYERS[1]), p, training=True).numpy()
    return out


def _draw_dropout(fig: Figure, p: float, frame: int) -> None:
    from matplotlib.collections import LineCollection

    masks = dropout_masks(p, frame + 1)
    kept = masks[frame] > 0
    scale = 1.0 / (1.0 - p) if p < 1 else float("inf")
    net, bars = fig.subplots(1, 2, width_ratios=[1.0, 1.25])
    xs = np.arange(len(NET_LAYERS))
    pos = [np.linspace(-1, 1, n) * (n / 8) for n in NET_LAYERS]
    alive = [np.ones(NET_LAYERS[0], bool), kept[0], kept[1], np.ones(NET_LAYERS[-1], bool)]
    edges: dict[bool, list[list[tuple[float, float]]]] = {True: [], False: []}
    for layer in range(len(NET_LAYERS) - 1):
        for i, yi in enumerate(pos[layer]):
            for j, yj in enumerate(pos[layer + 1]):
                on = bool(alive[layer][i] and alive[layer + 1][j])
                edges[on].append([(xs[layer], yi), (xs[layer + 1], yj)])
    net.add_collection(LineCollection(edges[False], colors="0.9", linewidths=0.4))
    net.add_collection(LineCollection(edges[True], colors="tab:blue", linewidths=0.7))
    for layer, ys in enumerate(pos):
        on = alive[layer]
        net.scatter(np.full(on.sum(), xs[layer]), ys[on], s=160, color="tab:blue", zorder=3, edgecolor="k")
        net.scatter(np.full((~on).sum(), xs[layer]), ys[~on], s=160, color="white", zorder=3, edgecolor="0.6")
        net.scatter(np.full((~on).sum(), xs[layer]), ys[~on], s=90, marker="x", color="tab:red", zorder=4)
    net.set_xticks(xs, ["input", "hidden 1", "hidden 2", "output"])
    net.set_yticks([])
    net.set_xlim(-0.4, 3.4)
    net.set_ylim(-1.25, 1.25)
    for side in ("top", "right", "left"):
        net.spines[side].set_visible(False)
    net.set_title(f"pass {frame}: kept {int(kept.sum())} of {kept.size} hidden units (p = {p:.2f})")

    k = np.arange(1, len(HIDDEN) + 1)
    this = HIDDEN * masks[frame, 0]
    mean = HIDDEN * masks[:, 0].mean(axis=0)
    bars.bar(k, HIDDEN, width=0.8, color="none", edgecolor="gray", ls="--", label="h (no dropout)")
    bars.bar(k, this, width=0.5, color="tab:blue", alpha=0.8, label=f"this pass: h·mask·{scale:.2f}")
    bars.plot(k, mean, "D", color="black", markersize=6, label=f"mean over {frame + 1} passes")
    bars.set_xticks(k)
    bars.set_xlabel("unit of hidden layer 1")
    bars.set_ylabel("activation")
    bars.set_ylim(0, max(3.0, float(np.max(this)) * 1.1) if np.isfinite(scale) else 3.0)
    bars.legend(loc="upper right", fontsize=8)
    bars.set_title(f"inverted dropout: survivors × 1/(1 − p) = {scale:.2f}")


@interactive(section="1.5.4", title="dropout masks on a small network, pass by pass (animated)")
def dropout_mask(p: float = 0.5, frame: int = 0) -> Figure:
    """Forward pass ``frame`` with dropout rate ``p`` on the two hidden layers of a 4-8-8-2 network:
    the units the mask dropped (crossed) and their edges gone (left); the first hidden layer's
    activations, this pass's scaled survivors, and the mean over passes 0..frame, which approaches
    the activations without dropout (right). The masks are ``F.dropout``'s own."""
    fig = new_figure(figsize=(10.0, 4.0), layout="constrained")
    _draw_dropout(fig, p, int(frame))
    return fig


def dropout_animation(p: float = 0.5, frames: int = 20, interval: int = 400) -> Any:
    """:func:`dropout_mask` for passes ``0..frames-1`` as a ``matplotlib.animation.FuncAnimation``
    (show it in a notebook with :func:`tinylearn.viz.animation_html`)."""
    from matplotlib.animation import FuncAnimation

    fig = new_figure(figsize=(10.0, 4.0), layout="constrained")

    def draw(i: int) -> tuple[Any, ...]:
        fig.clear()
        _draw_dropout(fig, p, i)
        return ()

    return FuncAnimation(fig, draw, frames=frames, interval=interval, blit=False)


# ------------------------------------------------------------------------------------------------
# 1.5.5-1.5.6: normalization layers
# ------------------------------------------------------------------------------------------------

FEATURE_COLORS = ("tab:blue", "tab:orange", "tab:green")


def preactivations(n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 3)`` pre-activations of three units with very different scales: N(4, 2²), N(−2, 0.5²)
    and a skewed one, 0.5 + 1.5·Exponential(1) (mean 2, std 1.5)."""
    return np.column_stack(
        [rng.normal(4.0, 2.0, n), rng.normal(-2.0, 0.5, n), 0.5 + 1.5 * rng.exponential(1.0, n)]
    ).astype(np.float32)


@interactive(section="1.5.5", title="batch norm: pre-activation histograms before/after, train vs eval")
def batchnorm_histograms(
    batch_size: int = 64, train: bool = True, warmup_batches: int = 20, seed: int = 0
) -> Figure:
    """A batch of ``batch_size`` pre-activations of three units, before (left) and after (right) an
    ``nn.BatchNorm1d(3)`` that has first seen ``warmup_batches`` training batches of the same size.
    ``train=True`` normalises with this batch's mean and variance; ``train=False`` (``model.eval()``)
    with the running averages. The table prints both."""
    from ..autograd import no_grad
    from ..nn import BatchNorm1d
    from ..tensor import tensor

    rng = np.random.default_rng(seed)
    bn = BatchNorm1d(3)
    with no_grad():
        for _ in range(warmup_batches):
            bn(tensor(preactivations(batch_size, rng)))
        x = preactivations(batch_size, rng)
        running_mean, running_var = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
        bn.train(train)
        out = bn(tensor(x)).numpy()
    fig = new_figure(figsize=(10.0, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[3.0, 1.2])
    before, after = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    table = fig.add_subplot(grid[1, :])
    bins_in, bins_out = np.linspace(-4, 12, 49), np.linspace(-5, 5, 41)
    for c, color in enumerate(FEATURE_COLORS):
        before.hist(x[:, c], bins=bins_in, color=color, alpha=0.5, histtype="stepfilled", label=f"unit {c}")
        after.hist(out[:, c], bins=bins_out, color=color, alpha=0.5, histtype="stepfilled", label=f"unit {c}")
    before.set_title(f"before: a batch of {batch_size} pre-activations")
    mode = "training mode: batch statistics" if train else "eval mode: running statistics"
    after.set_title(f"after BatchNorm1d ({mode})")
    for ax in (before, after):
        ax.set_xlabel("value")
        ax.set_ylabel("count")
        ax.legend(fontsize=8)
    table.axis("off")
    out_mean = np.where(np.abs(out.mean(axis=0)) < 5e-4, 0.0, out.mean(axis=0))  # no "-0.000"
    rows = [
        "unit        batch μ_B   batch σ_B   running μ   running σ   output mean   output std",
        *(
            f"{c:>4}   {x[:, c].mean():10.3f}  {x[:, c].std():10.3f}  {running_mean[c]:10.3f}  "
            f"{np.sqrt(running_var[c]):10.3f}  {out_mean[c]:12.3f}  {out[:, c].std():11.3f}"
            for c in range(3)
        ),
        f"running statistics after {warmup_batches} training batches (momentum 0.1); the population is "
        "μ = (4, −2, 2), σ = (2, 0.5, 1.5)",
    ]
    table.text(0.0, 1.0, "\n".join(rows), family="monospace", fontsize=9, va="top", transform=table.transAxes)
    return fig


NORM_FEATURES = 8


def norm_batch(batch_size: int, seed: int) -> np.ndarray:
    """``(batch_size, 8)``: per-feature offsets (shared by every sample) and per-sample scales, so
    that both kinds of normalization have something to remove. Sample 0 is the same for every seed."""
    offsets = np.linspace(-3.0, 3.0, NORM_FEATURES)
    first = np.random.default_rng(100).normal(size=NORM_FEATURES)
    rng = np.random.default_rng(seed)
    z = np.vstack([first, rng.normal(size=(batch_size - 1, NORM_FEATURES))])
    scale = np.concatenate([[1.0], rng.uniform(0.3, 3.0, batch_size - 1)])[:, None]
    return (offsets + scale * z).astype(np.float32)


def _normalize(kind: str, x: np.ndarray) -> np.ndarray:
    from ..autograd import no_grad
    from ..nn import BatchNorm1d, LayerNorm
    from ..tensor import tensor

    layer = BatchNorm1d(x.shape[1]) if kind == "BatchNorm" else LayerNorm(x.shape[1])
    with no_grad():
        return layer(tensor(x)).numpy()


@interactive(section="1.5.6", title="BatchNorm vs LayerNorm: which axis of an (N, C) tensor is normalized")
def norm_axes(kind: str = "BatchNorm", batch_size: int = 6) -> Figure:
    """An ``(N, C)`` batch as a heatmap (left) with the entries that share one mean and variance
    outlined: a column (one feature over the batch) for ``BatchNorm``, a row (one sample over its
    features) for ``LayerNorm``; the normalized tensor (middle); and sample 0 normalized inside this
    batch and inside a different batch (right): identical for LayerNorm, not for BatchNorm."""
    from matplotlib.patches import Rectangle

    if kind not in ("BatchNorm", "LayerNorm"):
        raise ValueError(f"norm_axes: kind must be 'BatchNorm' or 'LayerNorm', got {kind!r}")
    x = norm_batch(batch_size, seed=0)
    y = _normalize(kind, x)
    other = _normalize(kind, norm_batch(batch_size, seed=1))[0]
    fig = new_figure(figsize=(11.0, 3.9), layout="constrained")
    left, mid, right = fig.subplots(1, 3, width_ratios=[1.0, 1.0, 1.1])
    for ax, data, title in ((left, x, "input x"), (mid, y, f"{kind}(x)")):
        im = ax.imshow(data, cmap="coolwarm", vmin=-5, vmax=5, aspect="auto")
        ax.set_xticks(range(NORM_FEATURES))
        ax.set_yticks(range(batch_size))
        ax.set_xlabel("feature c")
        ax.set_ylabel("sample n")
        ax.set_title(title)
    fig.colorbar(im, ax=mid, shrink=0.8)
    n_groups = NORM_FEATURES if kind == "BatchNorm" else batch_size
    for g in range(n_groups):
        if kind == "BatchNorm":
            box = Rectangle((g - 0.45, -0.45), 0.9, batch_size - 0.1)
        else:
            box = Rectangle((-0.45, g - 0.45), NORM_FEATURES - 0.1, 0.9)
        box.set(fill=False, edgecolor="black", lw=2.5 if g == 0 else 0.8, ls="-" if g == 0 else ":")
        left.add_patch(box)
    group = (
        "column (a feature, over the batch)" if kind == "BatchNorm" else "row (a sample, over its features)"
    )
    left.set_title(f"x: one mean/variance per\n{group}", fontsize=9)
    k = np.arange(NORM_FEATURES)
    right.bar(k - 0.2, y[0], width=0.4, color="tab:blue", label="in this batch")
    right.bar(k + 0.2, other, width=0.4, color="tab:orange", label="in another batch")
    right.axhline(0, color="gray", lw=0.6)
    right.set_ylim(-3.5, 3.5)
    right.set_xlabel("feature c")
    right.legend(fontsize=8, loc="upper left")
    right.set_title(f"sample 0's output: max difference {np.max(np.abs(y[0] - other)):.3f}")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.5.7: early stopping on a real run
# ------------------------------------------------------------------------------------------------

RUN_EPOCHS = 80


def moons_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``X, y, X_val, y_val``: 40 training and 600 validation points of two noisy moons (noise 0.35),
    few and noisy enough for a 4,482-parameter network to memorise the training set."""
    X, y = make_moons(40, noise=0.35, seed=1)
    Xv, yv = make_moons(600, noise=0.35, seed=2)
    return X, y, Xv, yv


def _moons_loaders(batch_size: int = 20) -> tuple[Any, Any]:
    from ..data import DataLoader, TensorDataset
    from ..tensor import tensor

    X, y, Xv, yv = moons_data()
    train = DataLoader(TensorDataset(tensor(X), tensor(y)), batch_size=batch_size, shuffle=True)
    return train, DataLoader(TensorDataset(tensor(Xv), tensor(yv)), batch_size=600)


def moons_model(dropout: float = 0.0) -> Any:
    """The network of the runs: 2 → 64 → 64 → 2 with ReLU, and ``nn.Dropout(dropout)`` after each
    hidden layer when ``dropout > 0``. Initialised from tinylearn's global generator."""
    from .. import nn

    def block(n_in: int) -> list[Any]:
        return [nn.Linear(n_in, 64), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])

    return nn.Sequential(*block(2), *block(64), nn.Linear(64, 2))


def train_moons(
    epochs: int = RUN_EPOCHS, dropout: float = 0.0, weight_decay: float = 0.0, early_stopping: Any = None
) -> tuple[Any, History]:
    """Train :func:`moons_model` on 40 noisy two-moons points (600 more for validation) with Adam
    (lr 0.01, ``weight_decay`` = the L2 term λθ added to the gradient, batches of 20) through
    :func:`tinylearn.training.fit`, under ``tl.manual_seed(0)`` (the global random state is put back
    afterwards). Returns ``(model, history)``."""
    from .. import nn, optim
    from ..training import fit

    with seeded(0):
        model = moons_model(dropout)
        opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=weight_decay)
        train, val = _moons_loaders()
        history = fit(
            model,
            opt,
            nn.CrossEntropyLoss(),
            train,
            val,
            epochs=epochs,
            early_stopping=early_stopping,
            progress=False,
            verbose=False,
        )
    return model, history


@functools.lru_cache(maxsize=8)
def overfit_run(
    epochs: int = RUN_EPOCHS, dropout: float = 0.0, weight_decay: float = 0.0
) -> tuple[Any, History]:
    """``(model, history)`` of :func:`train_moons` without early stopping (cached: computed once per
    setting, so treat both as read-only)."""
    return train_moons(epochs, dropout, weight_decay)


def moons_boundary(models: dict[str, Any]) -> Figure:
    """One panel per ``{title: model}``: the region each model assigns to class 1 (shaded), its
    decision boundary, and the 40 training points it was fitted to."""
    from ..autograd import no_grad
    from ..tensor import tensor

    X, y, _, _ = moons_data()
    g1, g2 = np.meshgrid(np.linspace(-1.8, 2.8, 160), np.linspace(-1.4, 1.9, 120))
    grid = tensor(np.column_stack([g1.ravel(), g2.ravel()]).astype(np.float32))
    fig = new_figure(figsize=(4.6 * len(models), 3.6), layout="constrained")
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, (title, model) in zip(axes, models.items(), strict=True):
        was_training = model.training
        model.eval()
        with no_grad():
            logits = model(grid).numpy()
        model.train(was_training)
        p1 = np.exp(logits[:, 1] - np.logaddexp(logits[:, 0], logits[:, 1])).reshape(g1.shape)
        ax.contourf(g1, g2, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
        ax.contour(g1, g2, p1, levels=[0.5], colors="black", linewidths=1.2)
        for label, color in ((0, "tab:blue"), (1, "tab:red")):
            ax.scatter(*X[y == label].T, s=22, color=color, edgecolor="black", lw=0.5)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def replay_early_stopping(
    values: Sequence[float], patience: int, min_delta: float = 0.0, mode: str = "min"
) -> tuple[int | None, int]:
    """Feed a recorded metric, epoch by epoch, to the library's :class:`~tinylearn.training.EarlyStopping`
    (with a stand-in model); return ``(stop_epoch, best_epoch)``, 1-based, ``stop_epoch`` None when it
    never stops. Training that stopped there would have restored the weights of ``best_epoch``."""
    from ..nn import Identity
    from ..training import EarlyStopping

    stopper = EarlyStopping(patience=patience, min_delta=min_delta, mode=mode, restore_best=False)
    stand_in = Identity()
    for epoch, value in enumerate(values, start=1):
        if stopper.step(value, stand_in):
            return epoch, stopper.best_epoch
    return None, stopper.best_epoch


@interactive(section="1.5.7", title="early stopping on a real run: patience, stop epoch, restored checkpoint")
def early_stopping_explorer(patience: int = 5, min_delta: float = 0.0) -> Figure:
    """The training and validation loss of a real :func:`overfit_run` (80 epochs, no stopping), and
    what ``EarlyStopping(patience, min_delta)`` does with that validation curve: the epoch it stops
    (red), the epochs of patience it waited (shaded) and the best epoch whose weights it restores
    (star). Accuracy on the right."""
    history = overfit_run()[1]
    val, train = np.array(history["val_loss"]), np.array(history["train_loss"])
    epochs = np.arange(1, len(val) + 1)
    stop, best = replay_early_stopping(val, patience, min_delta)
    fig = new_figure(figsize=(10.0, 4.0), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2, width_ratios=[1.6, 1.0])
    loss_ax.plot(epochs, train, color=TRAIN_COLOR, label="training loss")
    loss_ax.plot(epochs, val, color=VAL_COLOR, label="validation loss")
    last = stop if stop is not None else len(val)
    loss_ax.axvspan(best, last, color="tab:red", alpha=0.1, label=f"{last - best} epochs without improvement")
    if stop is not None:
        loss_ax.axvline(stop, color="tab:red", lw=1.5, label=f"stops after epoch {stop}")
    loss_ax.plot([best], [val[best - 1]], "*", color="black", markersize=14, label=f"restores epoch {best}")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy")
    loss_ax.set_ylim(0, max(1.0, float(val.max()) * 1.05))
    loss_ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=8, loc="upper center")
    saved = len(val) - last
    loss_ax.set_title(
        f"patience {patience}: keeps val loss {val[best - 1]:.3f} (last epoch {val[-1]:.3f}), "
        f"{saved} epochs saved",
        fontsize=10,
    )
    acc_ax.plot(epochs, history["train_acc"], color=TRAIN_COLOR, label="training")
    acc_ax.plot(epochs, history["val_acc"], color=VAL_COLOR, label="validation")
    acc_ax.axvline(best, color="black", lw=1, ls="--")
    acc_ax.set_ylim(0.5, 1.01)
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy")
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=8, loc="lower right")
    acc_ax.set_title(f"val accuracy at epoch {best}: {history['val_acc'][best - 1]:.1%}", fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------------
# 1.5.8: augmentation (a static figure)
# ------------------------------------------------------------------------------------------------


def augmentation_gallery(images: np.ndarray, seed: int = 0, columns: int = 8) -> Figure:
    """``columns`` digits (``(N, 28, 28)`` uint8) in one row, then the same digits through each
    augmentation of :mod:`tinylearn.data.transforms`, one transform per row; every random transform
    draws from its own ``Generator`` seeded with ``seed``."""
    from ..data import transforms as T
    from ..random import Generator

    def gen(offset: int) -> Generator:
        return Generator().manual_seed(seed + offset)

    batch = np.asarray(images[:columns], dtype=np.float32)[:, None] / 255.0  # (N, 1, 28, 28) in [0, 1]
    rows = [
        ("original", lambda b: b),
        ("RandomRotation(20)", T.RandomRotation(20, interpolation="bilinear", generator=gen(1))),
        ("RandomCrop(28, padding=3)", T.RandomCrop(28, padding=3, generator=gen(2))),
        ("ColorJitter(brightness=0.6,\n contrast=0.6)", T.ColorJitter(0.6, 0.6, generator=gen(3))),
        (
            "Compose(rotation, crop, jitter)",
            T.Compose(
                [
                    T.RandomRotation(20, interpolation="bilinear", generator=gen(4)),
                    T.RandomCrop(28, padding=3, generator=gen(5)),
                    T.ColorJitter(0.6, 0.6, generator=gen(6)),
                ]
            ),
        ),
        ("RandomHorizontalFlip(p=1)\n(breaks the label!)", T.RandomHorizontalFlip(p=1.0)),
    ]
    fig = new_figure(figsize=(1.1 * columns + 2.0, 1.15 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), columns, squeeze=False)
    for r, (name, transform) in enumerate(rows):
        out = np.asarray(transform(batch))
        for c in range(columns):
            ax = axes[r, c]
            ax.imshow(out[c, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return fig


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

# name -> {parameter: (min, max, step) | bool | [choices]}; each value starts at the default.
CONTROLS: dict[str, dict[str, Any]] = {
    "overfitting_explorer": {"degree": (0, MAX_DEGREE, 1), "n_train": (5, 100, 1)},
    "l2_explorer": {"log_lambda": (-6.0, 1.0, 0.25), "degree": (1, MAX_DEGREE, 1), "n_train": (5, 100, 1)},
    "l1_explorer": {"log_lambda": (-3.0, 1.0, 0.1)},
    "dropout_mask": {"p": (0.0, 0.9, 0.05), "frame": (0, 40, 1)},
    "batchnorm_histograms": {
        "batch_size": (2, 256, 1),
        "train": bool,
        "warmup_batches": (0, 100, 1),
        "seed": (0, 20, 1),
    },
    "norm_axes": {"kind": ["BatchNorm", "LayerNorm"], "batch_size": (2, 10, 1)},
    "early_stopping_explorer": {"patience": (1, 30, 1), "min_delta": (0.0, 0.05, 0.005)},
}

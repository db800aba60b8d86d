"""Small synthetic data sets, generated from a seed, for lessons, tests and the tour.

Every generator takes ``n_samples``, a noise level and a ``seed`` (the same seed gives the same
arrays), and returns NumPy arrays ``X`` (float32, one row per sample) and ``y`` — or, with
``as_dataset=True``, a :class:`~tinylearn.data.TensorDataset` of the two.

- regression: :func:`make_line`, :func:`make_polynomial` (``y`` of shape ``(N, 1)``, float32,
  the shape a ``Linear(..., 1)`` layer outputs); :func:`make_swiss_roll` (``y`` = position along
  the roll).
- classification (``y`` int64 class indices, samples in random order): :func:`make_xor`,
  :func:`make_moons`, :func:`make_circles`, :func:`make_spirals`, :func:`make_blobs`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .dataset import TensorDataset

__all__ = [
    "make_blobs",
    "make_circles",
    "make_line",
    "make_moons",
    "make_polynomial",
    "make_spirals",
    "make_swiss_roll",
    "make_xor",
]

Arrays = tuple[np.ndarray, np.ndarray]


def _finish(X: np.ndarray, y: np.ndarray, as_dataset: bool) -> Arrays | TensorDataset:
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y)
    return TensorDataset(X, y) if as_dataset else (X, y)


def _check(n_samples: int, name: str, minimum: int = 1) -> None:
    if not isinstance(n_samples, int | np.integer) or n_samples < minimum:
        raise ValueError(f"{name}: n_samples must be an integer of at least {minimum}, got {n_samples!r}")


def _labelled(
    parts: Sequence[np.ndarray], rng: np.random.Generator, as_dataset: bool
) -> Arrays | TensorDataset:
    """Stack the points of each class (class k = ``parts[k]``), then shuffle points and labels together."""
    X = np.concatenate(parts)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(parts)])
    order = rng.permutation(len(X))
    return _finish(X[order], y[order], as_dataset)


def _split_counts(n: int, k: int) -> list[int]:
    """``n`` samples over ``k`` classes, as evenly as possible (the first ones get the extra)."""
    return [n // k + (i < n % k) for i in range(k)]


def make_line(
    n_samples: int = 100,
    slope: float = 2.0,
    intercept: float = 1.0,
    noise: float = 0.5,
    *,
    x_range: tuple[float, float] = (-3.0, 3.0),
    seed: int = 0,
    as_dataset: bool = False,
) -> Arrays | TensorDataset:
    """Points on the line ``y = slope * x + intercept`` plus Gaussian noise of std ``noise``.

    ``x`` is uniform in ``x_range``. Returns ``X`` ``(N, 1)`` and ``y`` ``(N, 1)``, both float32.
    """
    return make_polynomial(
        n_samples, (intercept, slope), noise, x_range=x_range, seed=seed, as_dataset=as_dataset
    )


def make_polynomial(
    n_samples: int = 100,
    coefficients: Sequence[float] = (1.0, -1.0, 0.0, 0.5),
    noise: float = 0.3,
    *,
    x_range: tuple[float, float] = (-2.0, 2.0),
    seed: int = 0,
    as_dataset: bool = False,
) -> Arrays | TensorDataset:
    """Points on ``y = c0 + c1 x + c2 x² + ...`` (``coefficients`` lowest degree first) plus noise.

    ``x`` is uniform in ``x_range``. Returns ``X`` ``(N, 1)`` and ``y`` ``(N, 1)``, both float32: the
    classic setting for under- and over-fitting with polynomial features.
    """
    _check(n_samples, "make_polynomial")
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_range[0], x_range[1], (n_samples, 1))
    y = np.polynomial.polynomial.polyval(x, np.asarray(coefficients, dtype=np.float64))
    y = y + rng.normal(0.0, noise, y.shape)
    return _finish(x, y.astype(np.float32), as_dataset)


def make_xor(
    n_samples: int = 200, noise: float = 0.3, seed: int = 0, *, as_dataset: bool = False
) -> Arrays | TensorDataset:
    """Four Gaussian clusters at ``(±1, ±1)``; class 1 where exactly one coordinate is negative.

    No straight line separates the classes: the smallest problem that needs a hidden layer.
    """
    _check(n_samples, "make_xor", 4)
    rng = np.random.default_rng(seed)
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=np.float64)  # class 0, 0, 1, 1
    counts = _split_counts(n_samples, 4)
    clusters = [c + rng.normal(0.0, noise, (n, 2)) for c, n in zip(corners, counts, strict=True)]
    return _labelled([np.concatenate(clusters[:2]), np.concatenate(clusters[2:])], rng, as_dataset)


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: int = 0, *, as_dataset: bool = False
) -> Arrays | TensorDataset:
    """Two interleaving half circles in 2-D: a data set no straight line can separate.

    Returns ``X`` of shape ``(n_samples, 2)`` (float32) and labels ``y`` of shape
    ``(n_samples,)`` (int64, 0 or 1). Half the points lie on the upper moon
    ``(cos t, sin t)``, half on the lower one ``(1 - cos t, 0.5 - sin t)``, ``t ∈ [0, π]``,
    plus Gaussian noise of standard deviation ``noise``.
    """
    if n_samples < 2:
        raise ValueError(f"make_moons: n_samples must be at least 2, got {n_samples}")
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_samples - n_upper)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (n_samples, 2))
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_samples - n_upper, np.int64)])
    order = rng.permutation(n_samples)
    return _finish(X[order], y[order], as_dataset)


def make_circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0, *, as_dataset: bool = False
) -> Arrays | TensorDataset:
    """A circle of radius 1 (class 0) around a circle of radius ``factor`` (class 1), plus noise."""
    _check(n_samples, "make_circles", 2)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must lie in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    parts = []
    for radius, n in zip((1.0, factor), _split_counts(n_samples, 2), strict=True):
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        parts.append(radius * np.stack([np.cos(t), np.sin(t)], axis=1) + rng.normal(0.0, noise, (n, 2)))
    return _labelled(parts, rng, as_dataset)


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0, *, as_dataset: bool = False
) -> Arrays | TensorDataset:
    """``n_classes`` interleaved spiral arms (the CS231n toy problem).

    Arm ``k`` runs from the origin (radius 0) to radius 1 while its angle turns through 4 radians,
    starting at ``4k``; ``noise`` is the std of Gaussian noise added to the angle.
    """
    _check(n_samples, "make_spirals", n_classes)
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate(_split_counts(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), n) + rng.normal(0.0, noise, n)
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    return _labelled(parts, rng, as_dataset)


def make_blobs(
    n_samples: int = 300,
    centers: int | np.ndarray = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    *,
    center_box: tuple[float, float] = (-10.0, 10.0),
    seed: int = 0,
    as_dataset: bool = False,
) -> Arrays | TensorDataset:
    """Isotropic Gaussian clusters: ``centers`` random centers in ``center_box`` (or the given
    ``(k, n_features)`` array), each with ``cluster_std``; the label is the cluster."""
    rng = np.random.default_rng(seed)
    if isinstance(centers, int | np.integer):
        centers = rng.uniform(center_box[0], center_box[1], (int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    _check(n_samples, "make_blobs", len(centers))
    counts = _split_counts(n_samples, len(centers))
    parts = [c + rng.normal(0.0, cluster_std, (n, len(c))) for c, n in zip(centers, counts, strict=True)]
    return _labelled(parts, rng, as_dataset)


def make_swiss_roll(
    n_samples: int = 1000, noise: float = 0.0, dims: int = 3, seed: int = 0, *, as_dataset: bool = False
) -> Arrays | TensorDataset:
    """Points on a rolled-up sheet: ``(t cos t, h, t sin t)`` with ``t = 1.5π (1 + 2u)``, ``h`` in [0, 21].

    ``dims=2`` gives the flat spiral ``(t cos t, t sin t)`` (a common density for diffusion
    demos). Returns ``X`` ``(N, dims)`` and ``y = t`` ``(N,)``, float32, the position along the roll.
    """
    _check(n_samples, "make_swiss_roll")
    if dims not in (2, 3):
        raise ValueError(f"make_swiss_roll: dims must be 2 or 3, got {dims}")
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(0, 1, n_samples))
    height = 21 * rng.uniform(0, 1, n_samples)
    cols = [t * np.cos(t), height, t * np.sin(t)] if dims == 3 else [t * np.cos(t), t * np.sin(t)]
    X = np.stack(cols, axis=1) + rng.normal(0.0, noise, (n_samples, dims))
    return _finish(X, t.astype(np.float32), as_dataset)

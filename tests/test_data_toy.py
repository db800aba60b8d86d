"""Toy data: shapes, dtypes, labels, exact geometry without noise, seeding, the Dataset option."""

import numpy as np
import pytest

from tinylearn.data import TensorDataset, toy

CLASSIFIERS = {
    "xor": (lambda **kw: toy.make_xor(101, **kw), 2, 2),
    "moons": (lambda **kw: toy.make_moons(101, **kw), 2, 2),
    "circles": (lambda **kw: toy.make_circles(101, **kw), 2, 2),
    "spirals": (lambda **kw: toy.make_spirals(101, n_classes=4, **kw), 2, 4),
    "blobs": (lambda **kw: toy.make_blobs(101, centers=5, n_features=3, **kw), 3, 5),
}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_sets(name):
    make, dims, classes = CLASSIFIERS[name]
    X, y = make(seed=0)
    assert X.shape == (101, dims) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1, "balanced classes"
    assert not np.all(np.diff(y) >= 0), "samples come shuffled"
    X2, y2 = make(seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(seed=1)
    assert not np.array_equal(X, X3)
    ds = make(seed=0, as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 101
    assert np.array_equal(ds.tensors[0].numpy(), X) and np.array_equal(ds.tensors[1].numpy(), y)


def test_make_moons_is_unchanged():
    """The tour relies on the original make_moons: same arrays for the same arguments."""
    rng = np.random.default_rng(0)
    n_upper = 200 // 2
    t = np.linspace(0, np.pi, n_upper)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, 0.1, (200, 2))
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_upper, np.int64)])
    order = rng.permutation(200)
    X_new, y_new = toy.make_moons(200, 0.1, 0)
    assert np.array_equal(X_new, X[order].astype(np.float32)) and np.array_equal(y_new, y[order])
    with pytest.raises(ValueError, match="at least 2"):
        toy.make_moons(1)


def test_regression_sets_without_noise_are_exact():
    X, y = toy.make_line(50, slope=3.0, intercept=-1.0, noise=0.0, seed=2)
    assert X.shape == y.shape == (50, 1) and y.dtype == np.float32
    np.testing.assert_allclose(y, 3 * X - 1, rtol=1e-5, atol=1e-5)
    assert X.min() >= -3 and X.max() <= 3
    X, y = toy.make_polynomial(40, coefficients=(1.0, 0.0, -2.0), noise=0.0, x_range=(0, 1))
    np.testing.assert_allclose(y, 1 - 2 * X**2, rtol=1e-5, atol=1e-5)
    noisy = toy.make_line(2000, noise=0.5, seed=0)
    assert abs(np.std(noisy[1] - (2 * noisy[0] + 1)) - 0.5) < 0.05


def test_geometry_of_circles_xor_and_blobs():
    X, y = toy.make_circles(200, noise=0.0, factor=0.3)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, rtol=1e-6)
    X, y = toy.make_xor(400, noise=0.1)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))
    centers = np.array([[0.0, 0.0], [10.0, 10.0]])
    X, y = toy.make_blobs(100, centers=centers, cluster_std=0.01)
    np.testing.assert_allclose(X, centers[y], atol=0.1)


def test_spirals_and_swiss_roll():
    X, _ = toy.make_spirals(300, n_classes=3, noise=0.0)
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-6
    X, t = toy.make_swiss_roll(500, seed=0)
    assert X.shape == (500, 3) and t.shape == (500,)
    np.testing.assert_allclose(X[:, 0], t * np.cos(t), rtol=1e-4, atol=1e-4)
    X2, _ = toy.make_swiss_roll(500, dims=2)
    assert X2.shape == (500, 2)
    with pytest.raises(ValueError, match="dims"):
        toy.make_swiss_roll(10, dims=4)

"""The real data sets in ../shared/data (read in place, never copied), when that folder exists."""

from pathlib import Path

import numpy as np
import pytest

import tinylearn as tl
from tinylearn.data import CIFAR10, MNIST, DataLoader, TinyShakespeare

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def need(*parts):
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} does not exist")
    return SHARED


def test_mnist_shapes_and_first_labels():
    root = need("mnist", "train-images-idx3-ubyte.gz")
    train = MNIST(root=root, download=False)
    test = MNIST(root=root, train=False, download=False)
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert test.data.shape == (10000, 28, 28)
    assert train.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(train.targets).tolist()[:2] == [5923, 6742]
    x, y = next(
        iter(DataLoader(train, batch_size=256, shuffle=True, generator=tl.Generator().manual_seed(0)))
    )
    assert x.shape == (256, 28, 28) and y.dtype == tl.int64


def test_verify_the_shared_folder():
    root = need("mnist")
    checks = [c for c in tl.data.verify(root) if c.path is not None]
    assert checks and all(c.status == "ok" for c in checks), [str(c) for c in checks]


def test_tiny_shakespeare_length():
    root = need("tinyshakespeare", "input.txt")
    train = TinyShakespeare(root=root, download=False)
    val = TinyShakespeare(root=root, train=False, download=False)
    assert len(train.text) + len(val.text) == 1_115_394
    assert train.vocab_size == 65 and train.text.startswith("First Citizen:")


def test_cifar10_npz_shapes():
    root = need("cifar10", "cifar10_test_jpeg.npz")
    test = CIFAR10(root=root, train=False, download=False)
    assert test.data.shape == (10000, 32, 32, 3) and np.bincount(test.targets).tolist() == [1000] * 10
    assert test.source.startswith("jpeg")
    exact = CIFAR10(root=root, train=True, download=False, source="exact")
    assert exact.data.shape == (4000, 32, 32, 3)
    jpeg = CIFAR10(root=root, train=True, download=False)
    assert jpeg.data.shape == (10000, 32, 32, 3)
    assert np.array_equal(jpeg.targets[:4000], exact.targets), "same official order"

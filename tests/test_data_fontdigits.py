"""FontDigits: the offline MNIST-shaped data set of typeset digits."""

import numpy as np
import pytest

import tinylearn as tl
from tinylearn.data import DataLoader, FontDigits
from tinylearn.data import transforms as T


@pytest.fixture(scope="module")
def small():
    return FontDigits(n_samples=2000, seed=0), FontDigits(train=False, n_samples=500, seed=0)


def test_shapes_and_classes(small):
    train, test = small
    assert train.data.shape == (2000, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.shape == (2000,) and train.targets.dtype == np.int64
    assert np.bincount(train.targets).tolist() == [200] * 10
    assert set(test.targets.tolist()) == set(range(10))
    assert train.data.max() == 255 and np.median(train.data) < 40, "bright ink on a dark background"
    assert len(train.classes) == 10 and "FontDigits" in repr(train)


def test_deterministic_for_a_seed(small):
    train, test = small
    again = FontDigits(n_samples=2000, seed=0)
    assert np.array_equal(train.data, again.data) and np.array_equal(train.targets, again.targets)
    assert not np.array_equal(FontDigits(n_samples=2000, seed=1).data, train.data)
    assert not np.array_equal(test.data, train.data[:500]), "train and test come from different streams"


def test_distortion_off_gives_clean_centred_glyphs():
    clean = FontDigits(n_samples=50, noise=0.0, distortion=0.0)
    ys, xs = np.mgrid[0:28, 0:28]
    mass = clean.data.astype(float).sum(axis=(1, 2))
    cy = (clean.data * ys).sum(axis=(1, 2)) / mass
    cx = (clean.data * xs).sum(axis=(1, 2)) / mass
    assert np.allclose(cy, 13.5, atol=0.6) and np.allclose(cx, 13.5, atol=0.6)
    assert clean.data[:, :3].max() == 0, "the 20x20 box leaves the border empty"


def test_nearest_centroid_is_well_above_chance(small):
    train, test = small
    X, y = train.as_tensors(flatten=True)
    Xt, yt = test.as_tensors(flatten=True)
    X, y, Xt, yt = X.numpy(), y.numpy(), Xt.numpy(), yt.numpy()
    centroids = np.stack([X[y == k].mean(axis=0) for k in range(10)])
    predicted = ((Xt[:, None, :] - centroids[None]) ** 2).sum(axis=-1).argmin(axis=1)
    accuracy = (predicted == yt).mean()
    assert accuracy > 0.45, f"nearest-centroid accuracy {accuracy:.2f} (chance is 0.10)"


def test_works_with_loader_and_transforms():
    train = FontDigits(n_samples=64, transform=T.Compose([T.ToTensor(), T.Normalize(0.1, 0.3)]))
    x, y = next(iter(DataLoader(train, batch_size=32, shuffle=True, generator=tl.Generator().manual_seed(0))))
    assert x.shape == (32, 1, 28, 28) and x.dtype == tl.float32 and y.shape == (32,)


def test_colour_digits_are_dark_ink_of_random_colours_on_light_random_paper() -> None:
    grey = FontDigits(train=False, n_samples=200)
    ds = FontDigits(train=False, n_samples=200, colour=True)
    assert ds.data.shape == (200, 28, 28, 3) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.targets, grey.targets)  # the same digits, coloured
    pixels = ds.data.reshape(200, -1, 3).astype(float)
    paper, ink = pixels.max(1), pixels.min(1)  # (200, 3): the background and the full-ink colour
    assert paper.min() >= 0.55 * 255 - 1 and ink.max() <= 0.45 * 255 + 1
    assert paper.std(0).min() > 20 and ink.std(0).min() > 20  # the colours change from image to image
    darkness = 255 - ds.data.astype(float).mean(-1)  # ink where the grey image has ink
    assert np.corrcoef(darkness.ravel(), grey.data.ravel())[0, 1] > 0.9
    np.testing.assert_array_equal(FontDigits(train=False, n_samples=200, colour=True).data, ds.data)  # seeded
    assert "random colours" in repr(ds)


def test_colourize_rejects_what_is_not_a_grey_uint8_batch() -> None:
    from tinylearn.data.fontdigits import colourize

    with pytest.raises(ValueError, match=r"colourize: expected uint8 images \(N, H, W\), got float32"):
        colourize(np.zeros((2, 28, 28), np.float32), np.random.default_rng(0))

"""Image transforms: exact geometry, numbers, batch mode = sample mode, NumPy and Tensor inputs."""

import colorsys

import numpy as np
import pytest

import tinylearn as tl
from tinylearn.data import transforms as T


def images(n=4, c=3, h=5, w=7, seed=0, dtype=np.float32):
    x = np.random.default_rng(seed).uniform(0, 1, (n, c, h, w))
    return (x * 255).round().astype(np.uint8) if dtype == np.uint8 else x.astype(dtype)


def gen(seed=0):
    return tl.Generator().manual_seed(seed)


# ------------------------------------------------------------------------- conversion and normalisation


def test_to_tensor_layouts_and_scale():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = T.ToTensor()(hwc)
    assert isinstance(out, tl.Tensor) and out.dtype == tl.float32 and out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert T.ToTensor()(np.zeros((4, 5), np.uint8)).shape == (1, 4, 5)
    assert T.ToTensor()(np.zeros((8, 4, 5, 3), np.uint8)).shape == (8, 3, 4, 5)
    chw = tl.tensor(np.full((3, 2, 2), 255, np.uint8))
    out = T.ToTensor()(chw)  # a Tensor is channels first already
    assert out.shape == (3, 2, 2) and out.numpy().max() == 1.0
    floats = np.full((2, 2, 3), 0.5, np.float32)
    assert T.ToTensor()(floats).numpy().max() == 0.5


def test_normalize_numbers():
    x = np.array([[[1.0, 0.5]], [[0.0, 2.0]]], dtype=np.float32)  # (C=2, H=1, W=2)
    out = T.Normalize((0.5, 0.25), (0.5, 2.0))(x)
    np.testing.assert_allclose(out, [[[1.0, 0.0]], [[-0.125, 0.875]]])
    assert out.dtype == np.float32
    batch = np.stack([x, 2 * x])
    np.testing.assert_allclose(T.Normalize(1.0, 2.0)(batch), (batch - 1) / 2)
    t = T.Normalize((0.5, 0.25), (0.5, 2.0))(tl.tensor(x))
    assert isinstance(t, tl.Tensor) and np.allclose(t.numpy(), out)
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize(0.5, 0.5)(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize(0.5, 0.0)
    with pytest.raises(ValueError, match="3 channels"):
        T.Normalize((0.1, 0.2), (1, 1))(np.zeros((3, 2, 2), np.float32))


def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)])
    out = pipeline(np.full((2, 2), 255, np.uint8))
    assert out.shape == (1, 2, 2) and np.allclose(out.numpy(), 1.0)
    assert pipeline.supports_batch
    assert not T.Compose([T.ToTensor(), T.Lambda(lambda x: x)]).supports_batch
    assert "Normalize" in repr(pipeline)


# ------------------------------------------------------------------------- flips and crops


def test_flips_are_exact():
    x = images()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x), x[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    out = T.RandomHorizontalFlip(p=0.5, generator=gen(0))(x)
    flipped = [np.array_equal(o, xi[..., ::-1]) for o, xi in zip(out, x, strict=True)]
    assert all(f or np.array_equal(o, xi) for f, o, xi in zip(flipped, out, x, strict=True))


def test_flip_probability():
    x = np.arange(2, dtype=np.float32).reshape(1, 1, 1, 2).repeat(2000, axis=0)
    out = T.RandomHorizontalFlip(p=0.3, generator=gen(1))(x)
    assert 0.25 < (out[:, 0, 0, 0] == 1).mean() < 0.35


def test_crop_with_padding_shape_and_content():
    x = images(n=6, c=2, h=4, w=5, dtype=np.uint8)
    out = T.RandomCrop((4, 5), padding=2, generator=gen(0))(x)
    assert out.shape == (6, 2, 4, 5) and out.dtype == np.uint8
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for o, p in zip(out, padded, strict=True):  # each crop is some window of the padded image
        windows = np.lib.stride_tricks.sliding_window_view(p, (4, 5), axis=(1, 2))
        assert any(np.array_equal(o, windows[:, i, j]) for i in range(5) for j in range(5))
    # cropping the whole padded image gives it back, whatever the random numbers: (left, top, right, bottom)
    whole = T.RandomCrop((4 + 2 + 4, 5 + 1 + 3), padding=(1, 2, 3, 4), fill=7)(x)
    np.testing.assert_array_equal(whole, np.pad(x, ((0, 0), (0, 0), (2, 4), (1, 3)), constant_values=7))
    edge = T.RandomCrop((6, 7), padding=(1, 1), padding_mode="edge")(x)
    np.testing.assert_array_equal(edge, np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge"))


def test_crop_offsets_cover_every_position():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4).repeat(500, axis=0)
    out = T.RandomCrop(2, generator=gen(3))(x)
    corners = set(out[:, 0, 0, 0].tolist())
    assert corners == {float(4 * i + j) for i in range(3) for j in range(3)}


def test_crop_pad_if_needed_and_errors():
    x = images(n=1, c=1, h=3, w=3)
    assert T.RandomCrop(5, pad_if_needed=True)(x).shape == (1, 1, 5, 5)
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(5)(x)
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(2, padding_mode="wrap")


# ------------------------------------------------------------------------- rotation and warps


@pytest.mark.parametrize("size", [4, 5])
def test_rotation_by_90_nearest_equals_rot90(size):
    x = images(n=3, c=2, h=size, w=size)
    out = T.RandomRotation((90, 90), interpolation="nearest")(x)
    np.testing.assert_array_equal(out, np.rot90(x, k=1, axes=(-2, -1)))
    out = T.RandomRotation((-90, -90), interpolation="bilinear")(x)
    np.testing.assert_allclose(out, np.rot90(x, k=-1, axes=(-2, -1)), atol=1e-6)


def test_rotation_by_180_and_0_on_a_rectangle():
    x = images(n=2, c=3, h=4, w=7, dtype=np.uint8)
    np.testing.assert_array_equal(T.RandomRotation((180, 180))(x), x[..., ::-1, ::-1])
    np.testing.assert_array_equal(T.RandomRotation(0, interpolation="bilinear")(x), x)


def test_rotation_fills_corners_and_keeps_size():
    x = np.ones((1, 1, 9, 9), np.float32)
    out = T.RandomRotation((45, 45), interpolation="bilinear", fill=0.0)(x)
    assert out.shape == x.shape and out[0, 0, 0, 0] == 0.0 and out[0, 0, 4, 4] == 1.0


def test_warp_affine_identity_and_shift():
    x = images(n=2, c=3, h=5, w=6)
    identity = np.tile(np.array([[1.0, 0, 0], [0, 1, 0]]), (2, 1, 1))
    for mode in ("nearest", "bilinear"):
        np.testing.assert_array_equal(T.warp_affine(x, identity, interpolation=mode), x)
    shift = identity.copy()
    shift[:, 0, 2] = 1.0  # output (x, y) reads input (x + 1, y): content moves left by one
    out = T.warp_affine(x, shift, fill=-1.0)
    np.testing.assert_array_equal(out[..., :-1], x[..., 1:])
    assert np.all(out[..., -1] == -1.0)
    half = identity.copy()
    half[:, 0, 2] = 0.5
    np.testing.assert_allclose(T.warp_affine(x, half)[..., :-1], (x[..., :-1] + x[..., 1:]) / 2, rtol=1e-6)


# ------------------------------------------------------------------------- color


def test_color_space_round_trip_matches_colorsys():
    x = images(n=2, c=3, h=3, w=4, seed=5).astype(np.float64)
    hsv = T.rgb_to_hsv(x)
    expected = np.array(
        [[colorsys.rgb_to_hsv(*x[n, :, i, j]) for j in range(4)] for n in range(2) for i in range(3)]
    )
    np.testing.assert_allclose(hsv.transpose(0, 2, 3, 1).reshape(-1, 3), expected.reshape(-1, 3), atol=1e-12)
    np.testing.assert_allclose(T.hsv_to_rgb(hsv), x, atol=1e-12)


def test_color_jitter_factors():
    x = images(n=3, c=3, h=4, w=4, seed=2) * 0.5
    np.testing.assert_allclose(T.ColorJitter(brightness=(1.5, 1.5))(x), x * 1.5, rtol=1e-6)
    gray = T.ColorJitter(saturation=(0.0, 0.0))(x)
    np.testing.assert_allclose(gray, np.repeat(T.rgb_to_grayscale(x), 3, axis=1), rtol=1e-5)
    flat = T.ColorJitter(contrast=(0.0, 0.0))(x)
    np.testing.assert_allclose(
        flat, np.broadcast_to(T.rgb_to_grayscale(x).mean(axis=(1, 2, 3), keepdims=True), x.shape), rtol=1e-5
    )
    half_turn = T.ColorJitter(hue=(0.5, 0.5))
    np.testing.assert_allclose(half_turn(half_turn(x)), x, atol=1e-5)
    np.testing.assert_allclose(T.ColorJitter()(x), x)  # nothing to jitter: unchanged


def test_color_jitter_integer_and_grayscale_images():
    x = images(n=2, c=3, h=4, w=4, dtype=np.uint8)
    out = T.ColorJitter(0.4, 0.4, 0.4, 0.1, generator=gen(0))(x)
    assert out.dtype == np.uint8 and out.shape == x.shape
    gray = images(n=2, c=1, h=4, w=4)
    out = T.ColorJitter(saturation=0.5, hue=0.2)(gray)  # no color to change
    np.testing.assert_array_equal(out, gray)
    with pytest.raises(ValueError, match="hue"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(brightness=-1)


# ------------------------------------------------------------------------- batch mode = sample mode


RANDOM_TRANSFORMS = {
    "hflip": lambda g: T.RandomHorizontalFlip(0.5, generator=g),
    "crop": lambda g: T.RandomCrop(5, padding=2, padding_mode="reflect", generator=g),
    "rotation-nearest": lambda g: T.RandomRotation(30, generator=g),
    "rotation-bilinear": lambda g: T.RandomRotation((-20, 40), interpolation="bilinear", generator=g),
    "jitter": lambda g: T.ColorJitter(0.5, 0.5, 0.5, 0.2, generator=g),
}


@pytest.mark.parametrize("name", RANDOM_TRANSFORMS)
def test_batch_mode_equals_sample_mode(name):
    x = images(n=8, c=3, h=6, w=6, seed=4)
    batch_out = RANDOM_TRANSFORMS[name](gen(11))(x)
    per_sample = RANDOM_TRANSFORMS[name](gen(11))
    sample_out = np.stack([per_sample(xi) for xi in x])
    np.testing.assert_allclose(batch_out, sample_out, rtol=1e-6, atol=1e-7)
    again = RANDOM_TRANSFORMS[name](gen(11))(x)
    np.testing.assert_array_equal(batch_out, again)  # seeded: reproducible
    assert len({o.tobytes() for o in batch_out}) > 1 or name == "hflip"  # parameters differ per image


@pytest.mark.parametrize("name", RANDOM_TRANSFORMS)
def test_tensor_in_tensor_out(name):
    x = images(n=2, c=3, h=6, w=6)
    out = RANDOM_TRANSFORMS[name](gen(0))(tl.tensor(x))
    assert isinstance(out, tl.Tensor) and out.dtype == tl.float32
    np.testing.assert_allclose(out.numpy(), RANDOM_TRANSFORMS[name](gen(0))(x), rtol=1e-6)


def test_global_generator_seeds_transforms():
    x = images(n=5, c=3, h=6, w=6)
    tl.manual_seed(0)
    a = T.RandomRotation(45)(x)
    tl.manual_seed(0)
    np.testing.assert_array_equal(T.RandomRotation(45)(x), a)


def test_two_dimensional_image_and_bad_shapes():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x), x[:, ::-1])
    with pytest.raises(ValueError, match=r"got shape \(5,\)"):
        T.RandomHorizontalFlip()(np.zeros(5))

"""Image transforms for data augmentation, as ``torchvision.transforms``, written in NumPy.

Every transform here takes one image ``(C, H, W)`` (or ``(H, W)``) or a batch ``(N, C, H, W)``,
as a NumPy array or a Tensor, and returns the same kind of object (:class:`ToTensor` always
returns a Tensor). Random transforms draw their parameters per image from a
:class:`tinylearn.Generator` (``generator=``, else the global one, so ``tl.manual_seed`` fixes
them). A batch draws its N rows of parameters in one call, in the order the single images would
draw them, so one random transform applied to a batch gives exactly the images it gives applied
to each image in turn from the same generator state.

    augment = Compose([ToTensor(), RandomCrop(32, padding=4), RandomHorizontalFlip(),
                       Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from ..random import Generator, default_generator
from ..tensor import Tensor, as_tensor

__all__ = [
    "ColorJitter",
    "Compose",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "ToTensor",
    "Transform",
    "hsv_to_rgb",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "rotation_matrix",
    "warp_affine",
]

Image = np.ndarray | Tensor


class Transform:
    """Base class. Subclasses implement :meth:`apply` on a NumPy batch ``(N, C, H, W)``.

    ``n_random`` is the number of uniform [0, 1) numbers each image draws; :meth:`apply`
    receives them as an ``(N, n_random)`` array and turns them into its parameters.
    """

    n_random: ClassVar[int] = 0
    supports_batch: bool = True  # False for transforms that only understand single samples
    generator: Generator | None = None

    def __call__(self, img: Image) -> Image:
        arr, wrap = _unwrap(img)
        if arr.ndim not in (2, 3, 4):
            raise ValueError(
                f"{type(self).__name__}: expected an image (C, H, W) or (H, W), or a batch (N, C, H, W), "
                f"got shape {arr.shape}"
            )
        batch = arr.reshape((1,) * (4 - arr.ndim) + arr.shape)
        u = None
        if self.n_random:
            u = (self.generator or default_generator).uniform(0.0, 1.0, (batch.shape[0], self.n_random))
        out = self.apply(batch, u)
        return wrap(out if arr.ndim == 4 else out.reshape(out.shape[4 - arr.ndim :]))

    def apply(self, batch: np.ndarray, u: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None and k != "generator")
        return f"{type(self).__name__}({args})"


def _unwrap(img: Image) -> tuple[np.ndarray, Callable[[np.ndarray], Image]]:
    """A NumPy view of ``img`` and a function that gives a result back the same type (and device)."""
    if isinstance(img, Tensor):
        device = img.device
        return img.detach().numpy(), lambda a: as_tensor(np.ascontiguousarray(a), device=device)
    return np.asarray(img), lambda a: a


class Compose:
    """Apply transforms one after the other: ``Compose([ToTensor(), Normalize(m, s)])(img)``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    @property
    def supports_batch(self) -> bool:
        return all(getattr(t, "supports_batch", False) for t in self.transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class Lambda:
    """Wrap a function as a transform. Say ``batched=True`` if it also works on whole batches."""

    def __init__(self, fn: Callable[[Any], Any], batched: bool = False) -> None:
        self.fn, self.supports_batch = fn, batched

    def __call__(self, img: Any) -> Any:
        return self.fn(img)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', self.fn)!r})"


class ToTensor:
    """Image(s) to a float32 Tensor, channels first, integer pixels scaled to [0, 1].

    NumPy arrays follow torchvision's convention of channels last: ``(H, W)``, ``(H, W, C)`` or a
    batch ``(N, H, W, C)`` become ``(1, H, W)``, ``(C, H, W)`` or ``(N, C, H, W)`` (add the channel
    axis of a grayscale batch first: ``x[..., None]``). A Tensor is taken as channels first already.
    Integer images are divided by their dtype's maximum (255 for uint8); float images are kept.
    """

    supports_batch = True

    def __call__(self, img: Image) -> Tensor:
        channels_last = not isinstance(img, Tensor)
        arr, _ = _unwrap(img)
        if arr.ndim == 2:
            arr = arr[None]
        elif channels_last and arr.ndim in (3, 4):
            arr = np.moveaxis(arr, -1, -3)
        elif arr.ndim not in (3, 4):
            raise ValueError(f"ToTensor: expected an image or a batch of images, got shape {arr.shape}")
        if arr.dtype.kind in "ui":
            arr = arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max)
        elif arr.dtype.kind == "b":
            arr = arr.astype(np.float32)
        device = img.device if isinstance(img, Tensor) else None
        return as_tensor(np.ascontiguousarray(arr), device=device)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` for every channel ``c`` of a float image."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = tuple(np.atleast_1d(np.asarray(mean, dtype=np.float64)).tolist())
        self.std = tuple(np.atleast_1d(np.asarray(std, dtype=np.float64)).tolist())
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to float, leading to division "
                f"by zero (std={self.std})"
            )

    def apply(self, batch: np.ndarray, u: np.ndarray | None) -> np.ndarray:
        if batch.dtype.kind != "f":
            raise TypeError(
                f"Normalize: expected a float image, got {batch.dtype}; convert it with ToTensor() first"
            )
        c = batch.shape[1]
        if len(self.mean) not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means and stds for an image with {c} channels")
        mean = np.asarray(self.mean, dtype=batch.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=batch.dtype).reshape(-1, 1, 1)
        return (batch - mean) / std


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``."""

    n_random = 1
    _axis = -1

    def __init__(self, p: float = 0.5, generator: Generator | None = None) -> None:
        self.p, self.generator = p, generator

    def apply(self, batch: np.ndarray, u: np.ndarray | None) -> np.ndarray:
        flip = u[:, 0] < self.p
        out = batch.copy()
        out[flip] = np.flip(batch[flip], axis=self._axis)
        return out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image upside down with probability ``p``."""

    _axis = -2


def _pair(size: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(size, int | np.integer):
        return int(size), int(size)
    if len(size) != 2:
        raise ValueError(f"{name}: expected an int or a pair (h, w), got {size!r}")
    return int(size[0]), int(size[1])


class RandomCrop(Transform):
    """Cut a random ``size`` window out of each image, after padding its borders.

    Args:
        size: ``(h, w)`` of the crop, or one int for a square.
        padding: added around the image first: one int for all borders, ``(left/right, top/bottom)``
            or ``(left, top, right, bottom)``.
        pad_if_needed: pad images smaller than ``size`` (by the missing amount on both sides).
        fill: the value of constant padding.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"`` (as ``np.pad``).
    """

    n_random = 2

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
        *,
        generator: Generator | None = None,
    ) -> None:
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                f"RandomCrop: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}"
            )
        self.size = _pair(size, "RandomCrop")
        self.padding = padding
        self.pad_if_needed, self.fill, self.padding_mode, self.generator = (
            pad_if_needed,
            fill,
            padding_mode,
            generator,
        )

    def _pad(self, batch: np.ndarray, left: int, top: int, right: int, bottom: int) -> np.ndarray:
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return np.pad(batch, widths, mode="constant", constant_values=self.fill)
        return np.pad(batch, widths, mode=self.padding_mode)

    def apply(self, batch: np.ndarray, u: np.ndarray | None) -> np.ndarray:
        th, tw = self.size
        if self.padding is not None:
            p = [self.padding] * 4 if isinstance(self.padding, int) else list(self.padding)
            if len(p) == 2:
                p = p * 2
            if len(p) != 4:
                raise ValueError(
                    f"RandomCrop: padding must be an int or have 2 or 4 values, got {self.padding!r}"
                )
            batch = self._pad(batch, *p)
        if self.pad_if_needed:
            dh, dw = max(th - batch.shape[2], 0), max(tw - batch.shape[3], 0)
            batch = self._pad(batch, dw, dh, dw, dh)
        h, w = batch.shape[2:]
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: crop size {(th, tw)} is larger than the (padded) image size {(h, w)}"
            )
        top = np.minimum((u[:, 0] * (h - th + 1)).astype(np.int64), h - th)
        left = np.minimum((u[:, 1] * (w - tw + 1)).astype(np.int64), w - tw)
        windows = np.lib.stride_tricks.sliding_window_view(
            batch, (th, tw), axis=(2, 3)
        )  # (N, C, i, j, th, tw)
        return np.ascontiguousarray(windows[np.arange(len(batch)), :, top, left])


def rotation_matrix(angles_deg: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """``(N, 2, 3)`` matrices that map output pixels ``(x, y, 1)`` to the source pixels of an image
    rotated counter-clockwise (as displayed, rows going down) by ``angles_deg`` about ``center``
    ``(x, y)``."""
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    cos, sin = np.cos(theta), np.sin(theta)
    cx, cy = center
    return np.stack(
        [
            np.stack([cos, -sin, cx - cos * cx + sin * cy], axis=-1),
            np.stack([sin, cos, cy - sin * cx - cos * cy], axis=-1),
        ],
        axis=-2,
    )


def warp_affine(
    images: np.ndarray,
    matrices: np.ndarray,
    size: tuple[int, int] | None = None,
    interpolation: str = "bilinear",
    fill: float | Sequence[float] = 0.0,
) -> np.ndarray:
    """Resample each image of ``(N, C, H, W)`` through its own affine map, all at once.

    ``matrices`` ``(N, 2, 3)`` maps each output pixel ``(x, y, 1)`` (column, row) to the point of
    the input it is read from. ``"nearest"`` takes the closest pixel, ``"bilinear"`` blends the
    four around it; points outside the input read ``fill``. Returns ``(N, C, *size)`` (default:
    the input size) in the input's dtype (integers rounded).
    """
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"warp_affine: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    n, c, h, w = images.shape
    ho, wo = size or (h, w)
    m = np.asarray(matrices, dtype=np.float64).reshape(n, 2, 3)
    ys, xs = np.mgrid[0:ho, 0:wo].astype(np.float64)
    sx = m[:, 0, 0, None, None] * xs + m[:, 0, 1, None, None] * ys + m[:, 0, 2, None, None]
    sy = m[:, 1, 0, None, None] * xs + m[:, 1, 1, None, None] * ys + m[:, 1, 2, None, None]
    flat = images.transpose(0, 2, 3, 1).reshape(n * h * w, c)
    base = (np.arange(n) * (h * w))[:, None, None]
    fill_value = np.asarray(fill, dtype=np.float32).reshape(-1)

    def read(iy: np.ndarray, ix: np.ndarray) -> np.ndarray:  # (N, Ho, Wo) ints -> (N, Ho, Wo, C)
        inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
        values = flat[base + np.clip(iy, 0, h - 1) * w + np.clip(ix, 0, w - 1)].astype(np.float32)
        return np.where(inside[..., None], values, fill_value)

    if interpolation == "nearest":
        out = read(np.floor(sy + 0.5).astype(np.int64), np.floor(sx + 0.5).astype(np.int64))
    else:
        x0, y0 = np.floor(sx), np.floor(sy)
        wx, wy = (sx - x0).astype(np.float32)[..., None], (sy - y0).astype(np.float32)[..., None]
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        top = read(y0, x0) * (1 - wx) + read(y0, x0 + 1) * wx
        bottom = read(y0 + 1, x0) * (1 - wx) + read(y0 + 1, x0 + 1) * wx
        out = top * (1 - wy) + bottom * wy
    out = out.transpose(0, 3, 1, 2)
    if images.dtype.kind in "ui":
        info = np.iinfo(images.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return np.ascontiguousarray(out.astype(images.dtype, copy=False))


class RandomRotation(Transform):
    """Rotate each image counter-clockwise by a random angle in ``degrees`` (``(-d, d)`` for a number).

    ``interpolation`` is ``"nearest"`` (the default, as torchvision) or ``"bilinear"``; ``center``
    is ``(x, y)`` in pixel indices (default: the middle of the image); corners that come from
    outside the image get ``fill``. The output keeps the input size.
    """

    n_random = 1

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: str = "nearest",
        center: tuple[float, float] | None = None,
        fill: float | Sequence[float] = 0,
        *,
        generator: Generator | None = None,
    ) -> None:
        if isinstance(degrees, int | float):
            if degrees < 0:
                raise ValueError(
                    f"RandomRotation: a single degrees value must be non-negative, got {degrees}"
                )
            degrees = (-degrees, degrees)
        if len(degrees) != 2:
            raise ValueError(f"RandomRotation: degrees should be a number or a pair, got {degrees!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"RandomRotation: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}"
            )
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation, self.center, self.fill, self.generator = interpolation, center, fill, generator

    def apply(self, batch: np.ndarray, u: np.ndarray | None) -> np.ndarray:
        lo, hi = self.degrees
        angles = lo + u[:, 0] * (hi - lo)
        h, w = batch.shape[2:]
        center = self.center if self.center is not None else ((w - 1) / 2, (h - 1) / 2)
        return warp_affine(
            batch, rotation_matrix(angles, center), interpolation=self.interpolation, fill=self.fill
        )


# ------------------------------------------------------------------------- color


def rgb_to_grayscale(x: np.ndarray) -> np.ndarray:
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` of ``(..., 3, H, W)``, keeping a channel axis of 1."""
    return (0.2989 * x[..., 0, :, :] + 0.587 * x[..., 1, :, :] + 0.114 * x[..., 2, :, :])[..., None, :, :]


def rgb_to_hsv(x: np.ndarray) -> np.ndarray:
    """``(..., 3, H, W)`` RGB in [0, 1] to hue, saturation, value, each in [0, 1]."""
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    maxc, minc = x.max(axis=-3), x.min(axis=-3)
    delta = maxc - minc
    safe = np.where(delta > 0, delta, 1)
    rc, gc, bc = (maxc - r) / safe, (maxc - g) / safe, (maxc - b) / safe
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2 + rc - bc, 4 + gc - rc))
    h = np.where(delta > 0, (h / 6) % 1.0, 0)
    s = np.where(maxc > 0, delta / np.where(maxc > 0, maxc, 1), 0)
    return np.stack([h, s, maxc], axis=-3).astype(x.dtype, copy=False)


def hsv_to_rgb(x: np.ndarray) -> np.ndarray:
    """The inverse of :func:`rgb_to_hsv`."""
    h, s, v = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    i = np.floor(h * 6)
    f = h * 6 - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    sector = [(i % 6) == k for k in range(6)]
    r = np.select(sector, [v, q, p, p, t, v])
    g = np.select(sector, [t, v, v, q, p, p])
    b = np.select(sector, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-3).astype(x.dtype, copy=False)


def _blend(a: np.ndarray, b: np.ndarray | float, factor: np.ndarray) -> np.ndarray:
    f = factor.reshape(-1, 1, 1, 1).astype(a.dtype)
    return np.clip(f * a + (1 - f) * b, 0, 1)


def _brightness(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    return _blend(x, 0.0, f)


def _contrast(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    gray = rgb_to_grayscale(x) if x.shape[1] == 3 else x
    return _blend(x, gray.mean(axis=(1, 2, 3), keepdims=True), f)


def _saturation(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    return x if x.shape[1] == 1 else _blend(x, rgb_to_grayscale(x), f)


def _hue(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    if x.shape[1] == 1:
        return x
    hsv = rgb_to_hsv(x)
    hsv[:, 0] = (hsv[:, 0] + f.reshape(-1, 1, 1).astype(x.dtype)) % 1.0
    return hsv_to_rgb(hsv)


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order per image.

    Each of ``brightness``, ``contrast`` and ``saturation`` is a number ``b`` (factor drawn from
    ``[max(0, 1 - b), 1 + b]``) or a pair ``(lo, hi)``; ``hue`` is ``h <= 0.5`` (shift drawn from
    ``[-h, h]`` turns of the color wheel) or a pair. Brightness scales the pixels, contrast blends
    with the mean gray level, saturation with the gray image (as torchvision). Float images are
    taken to lie in [0, 1]; integer images are scaled by their maximum and rounded back.
    """

    n_random = 8  # four factors, then four numbers whose ranks give the order

    def __init__(
        self,
        brightness: float | Sequence[float] = 0,
        contrast: float | Sequence[float] = 0,
        saturation: float | Sequence[float] = 0,
        hue: float | Sequence[float] = 0,
        *,
        generator: Generator | None = None,
    ) -> None:
        self.brightness = _jitter_range(brightness, "brightness", 1.0, (0.0, float("inf")))
        self.contrast = _jitter_range(contrast, "contrast", 1.0, (0.0, float("inf")))
        self.saturation = _jitter_range(saturation, "saturation", 1.0, (0.0, float("inf")))
        self.hue = _jitter_range(hue, "hue", 0.0, (-0.5, 0.5))
        self.generator = generator

    def apply(self, batch: np.ndarray, u: np.ndarray | None) -> np.ndarray:
        ops = [
            (self.brightness, _brightness),
            (self.contrast, _contrast),
            (self.saturation, _saturation),
            (self.hue, _hue),
        ]
        if batch.shape[1] not in (1, 3) and any(r is not None for r, _ in ops[1:]):
            raise ValueError(
                f"ColorJitter: contrast, saturation and hue need 1 or 3 channels, got {batch.shape[1]}"
            )
        integer = batch.dtype.kind in "ui"
        scale = float(np.iinfo(batch.dtype).max) if integer else 1.0
        x = batch.astype(np.float32) / np.float32(scale) if integer else batch.copy()
        order = np.argsort(u[:, 4:], axis=1)
        for step in range(4):
            for k, (rng, fn) in enumerate(ops):
                chosen = order[:, step] == k
                if rng is None or not chosen.any():
                    continue
                factors = rng[0] + u[chosen, k] * (rng[1] - rng[0])
                x[chosen] = fn(x[chosen], factors)
        return np.rint(x * scale).astype(batch.dtype) if integer else x


def _jitter_range(
    value: float | Sequence[float], name: str, center: float, bounds: tuple[float, float]
) -> tuple[float, float] | None:
    """torchvision's rule: a number ``v`` means ``[center - v, center + v]`` (clipped at the lower
    bound for factors), a pair is taken as is; None when it changes nothing."""
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(
                f"ColorJitter: if {name} is a single number, it must be non negative, got {value}"
            )
        lo, hi = center - value, center + value
        if center == 1.0:
            lo = max(lo, 0.0)
    else:
        if len(value) != 2:
            raise ValueError(f"ColorJitter: {name} should be a number or a pair, got {value!r}")
        lo, hi = float(value[0]), float(value[1])
    if not bounds[0] <= lo <= hi <= bounds[1]:
        raise ValueError(f"ColorJitter: {name} values should be between {bounds}, got {(lo, hi)}")
    return None if lo == hi == center else (float(lo), float(hi))

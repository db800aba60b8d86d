"""FontDigits: an offline, MNIST-shaped data set of *typeset* digits with random distortions.

Not handwriting, and not MNIST: the digits 0-9 are drawn from the fonts that ship with
matplotlib (DejaVu Sans/Serif/Mono, STIX, Computer Modern, in regular, bold and italic
variants, with three stroke widths), each glyph rendered once, anti-aliased by Agg, fitted into
a 20×20 box and centred by its centre of mass in a 28×28 canvas, as MNIST's digits are. Every
sample then gets its own random affine distortion (rotation, scale, aspect, shear, translation)
through one vectorised bilinear resampling (:func:`~tinylearn.data.transforms.warp_affine`), a
random ink level and Gaussian pixel noise. It needs no download, a seed fixes it, and 10,000
images take well under a second once the glyphs are cached.

    train, test = FontDigits(train=True), FontDigits(train=False)
    train.data.shape, train.targets[:5]      # (10000, 28, 28) uint8, int64 labels
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .mnist import MNIST
from .transforms import warp_affine
from .vision import ImageDataset

__all__ = ["FontDigits", "colourize"]

SIZE, BOX = 28, 20  # canvas and the box the glyph is fitted into, as MNIST
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
    "cmb10.ttf",
)
STROKES = (0.0, 0.9, 1.8)  # extra outline width in pixels: thin, medium and heavy pens


@functools.lru_cache(maxsize=1)
def glyph_templates() -> tuple[np.ndarray, np.ndarray]:
    """Every digit of every font and stroke width, rendered once: ``(T, 28, 28)`` float32 in [0, 1]
    (ink = 1), centred by centre of mass, and the digit of each template ``(T,)``."""
    import matplotlib
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    fonts = [
        f
        for f in (Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name for name in FONT_FILES)
        if f.is_file()
    ]
    if not fonts:
        raise RuntimeError("FontDigits: none of matplotlib's bundled fonts were found")
    templates, digits = [], []
    for font in fonts:
        prop = FontProperties(fname=str(font))
        for digit in range(10):
            path = TextPath((0, 0), str(digit), size=100, prop=prop)
            box = path.get_extents()
            for stroke in STROKES:
                scale = (BOX - stroke) / max(box.width, box.height)
                to_canvas = (
                    Affine2D()
                    .translate(-(box.x0 + box.x1) / 2, -(box.y0 + box.y1) / 2)
                    .scale(scale)
                    .translate(SIZE / 2, SIZE / 2)
                )
                renderer = RendererAgg(SIZE, SIZE, 72)  # 72 dpi: one point is one pixel
                gc = renderer.new_gc()
                gc.set_linewidth(stroke)
                gc.set_foreground((1, 1, 1, 1 if stroke else 0), isRGBA=True)
                renderer.draw_path(gc, path, to_canvas, (1, 1, 1, 1))
                templates.append(np.asarray(renderer.buffer_rgba())[..., 3] / np.float32(255))
                digits.append(digit)
    images = np.stack(templates).astype(np.float32)
    # Centre each glyph by its centre of mass (MNIST's rule): resample it shifted.
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    mass = images.sum(axis=(1, 2))
    centre_of_mass = (
        np.stack([(images * xs).sum(axis=(1, 2)), (images * ys).sum(axis=(1, 2))], 1) / mass[:, None]
    )
    shift = centre_of_mass - (SIZE - 1) / 2
    matrices = np.zeros((len(images), 2, 3))
    matrices[:, 0, 0] = matrices[:, 1, 1] = 1
    matrices[:, :, 2] = shift
    centred = warp_affine(images[:, None], matrices)[:, 0]
    return centred, np.asarray(digits, dtype=np.int64)


def _distortions(rng: np.random.Generator, n: int, strength: float) -> np.ndarray:
    """``(n, 2, 3)`` maps from output pixels to template pixels for random rotations (±15°),
    scales (0.8-1.15), aspect changes (±10%), shears (±0.3) and translations (±2 px), all scaled
    by ``strength``; each acts about the canvas centre."""
    angle = np.deg2rad(rng.uniform(-15, 15, n) * strength)
    scale = 1 + rng.uniform(-0.2, 0.15, n) * strength
    aspect = 1 + rng.uniform(-0.1, 0.1, n) * strength
    shear = rng.uniform(-0.3, 0.3, n) * strength
    shift = rng.uniform(-2, 2, (n, 2)) * strength
    cos, sin = np.cos(angle), np.sin(angle)
    # forward map (template -> output): rotation @ shear @ diag(scale * aspect, scale / aspect)
    sx, sy = scale * aspect, scale / aspect
    forward = np.empty((n, 2, 2))
    forward[:, 0, 0], forward[:, 0, 1] = cos * sx, (cos * shear - sin) * sy
    forward[:, 1, 0], forward[:, 1, 1] = sin * sx, (sin * shear + cos) * sy
    inverse = np.linalg.inv(forward)
    centre = np.full(2, (SIZE - 1) / 2)
    offset = centre - np.einsum("nij,nj->ni", inverse, centre + shift)
    return np.concatenate([inverse, offset[:, :, None]], axis=2)


def render_font_digits(
    n_samples: int, seed: int | Sequence[int] = 0, noise: float = 0.05, distortion: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` distorted digit images ``(N, 28, 28)`` uint8 and their labels ``(N,)`` int64.

    The labels are balanced (each digit ``n_samples / 10`` times, ±1) and shuffled; ``noise`` is the
    std of the Gaussian pixel noise (on the [0, 1] scale), ``distortion`` scales every random
    deformation (0 gives upright, centred glyphs).
    """
    templates, template_digits = glyph_templates()
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n_samples) % 10).astype(np.int64)
    table = np.stack([np.flatnonzero(template_digits == d) for d in range(10)])  # (10, fonts * strokes)
    pick = table[labels, (rng.uniform(0, 1, n_samples) * table.shape[1]).astype(np.int64)]
    matrices = _distortions(rng, n_samples, distortion)
    ink = rng.uniform(0.75, 1.0, (n_samples, 1, 1))
    images = np.empty((n_samples, SIZE, SIZE), dtype=np.uint8)
    for start in range(0, n_samples, 4096):  # in chunks, to bound the temporary arrays
        part = slice(start, start + 4096)
        warped = warp_affine(templates[pick[part], None], matrices[part])[:, 0] * ink[part]
        warped += rng.normal(0.0, noise, warped.shape).astype(np.float32)
        images[part] = np.clip(np.rint(warped * 255), 0, 255).astype(np.uint8)
    return images, labels


class FontDigits(ImageDataset):
    """Typeset digits 0-9 from matplotlib's fonts, randomly distorted, 28×28 grayscale, seeded.

    An MNIST-shaped data set that needs no download (it is *not* MNIST: the shapes are font
    glyphs, not handwriting). ``data`` is ``(N, 28, 28)`` uint8 (ink bright on black, as MNIST),
    ``targets`` ``(N,)`` int64.

    Args:
        train: the training set or the test set; the two are drawn from different random streams
            of the same ``seed``, so they share no sample.
        n_samples: the number of images (default 10,000 for training, 2,000 for testing).
        seed: fixes every image.
        transform, target_transform: applied to each image / label by ``ds[i]``.
        noise: std of the Gaussian pixel noise on the [0, 1] scale.
        distortion: scales the random affine deformations (0: none).
        colour: colour images ``(N, 28, 28, 3)`` instead, a small offline stand-in for CIFAR-10's
            channels (see :func:`colourize`): each image gets its own dark ink colour on its own light
            paper, so colour tells nothing about the digit.
    """

    classes: ClassVar[list[str]] = MNIST.classes  # the same ten labels

    def __init__(
        self,
        train: bool = True,
        n_samples: int | None = None,
        seed: int = 0,
        *,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        noise: float = 0.05,
        distortion: float = 1.0,
        colour: bool = False,
    ) -> None:
        n_samples = (10_000 if train else 2_000) if n_samples is None else n_samples
        if n_samples < 1:
            raise ValueError(f"FontDigits: n_samples must be positive, got {n_samples}")
        self.train, self.seed = train, seed
        self.colour = colour
        images, labels = render_font_digits(n_samples, [seed, 0 if train else 1], noise, distortion)
        if colour:
            images = colourize(images, np.random.default_rng([seed, 0 if train else 1, 2]))
        super().__init__(images, labels, transform, target_transform)

    def extra_repr(self) -> str:
        split = "Train" if self.train else "Test"
        kind = "in random colours" if self.colour else "from matplotlib's fonts"
        return f"Split: {split}\nSeed: {self.seed}\nTypeset digits {kind}"


def colourize(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grayscale digits ``(N, H, W)`` uint8 (ink bright on black) → colour ``(N, H, W, 3)`` uint8.

    Each image gets its own dark ink colour (every channel uniform in [0, 0.45]) on its own light
    paper (every channel uniform in [0.55, 1]); each image's strongest ink becomes the full ink
    colour. The colours vary from image to image and carry no information about the label, as in
    photographs, while the ink stays darker than the paper in every channel.
    """
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"colourize: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    ink = images.astype(np.float32)[..., None]  # (N, H, W, 1)
    ink /= np.maximum(ink.max(axis=(1, 2, 3), keepdims=True), 1.0)  # 1 = full ink
    fg = rng.uniform(0.0, 0.45, (len(ink), 1, 1, 3)).astype(np.float32)
    bg = rng.uniform(0.55, 1.0, (len(ink), 1, 1, 3)).astype(np.float32)
    return np.rint(255 * (ink * fg + (1 - ink) * bg)).astype(np.uint8)

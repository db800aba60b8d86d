"""MNIST and Fashion-MNIST, read from their official gzip-compressed IDX files.

The IDX format (big-endian) is a 4-byte magic number ``0x00 0x00 <type> <ndim>`` (type ``0x08`` =
unsigned bytes), then ``ndim`` sizes as uint32, then the values in row-major order. Image files
are ``(N, 28, 28)`` (magic ``0x00000803``), label files ``(N,)`` (magic ``0x00000801``).

    train = MNIST(train=True)           # 60,000 images, looked for in <root>/mnist/
    train.data.shape, train.targets[:5]  # (60000, 28, 28) uint8, int64 labels
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .files import CorruptFileError, fetch, resource
from .vision import ImageDataset

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """The array in an IDX file (gzip-compressed or not), after checking its header and size.

    ``ndim``, if given, is the number of dimensions the file must have. Raises
    :class:`~tinylearn.data.CorruptFileError` naming the file when the magic number, the header or
    the amount of data is wrong (a truncated download, for instance).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise CorruptFileError(
                f"{path}: broken gzip data ({exc}); the file is damaged or truncated"
            ) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise CorruptFileError(
            f"{path}: not an IDX file (bad magic number 0x{raw[:4].hex() or 'empty'}; expected "
            "0x0000TTDD with type TT in 08,09,0b,0c,0d,0e and DD dimensions)"
        )
    dtype, dims = _IDX_TYPES[raw[2]], raw[3]
    if ndim is not None and dims != ndim:
        raise CorruptFileError(
            f"{path}: bad magic number 0x{raw[:4].hex()}: {dims} dimensions, expected {ndim}"
        )
    header = 4 + 4 * dims
    if len(raw) < header:
        raise CorruptFileError(f"{path}: truncated IDX header ({len(raw)} bytes, expected at least {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        state = "truncated" if len(raw) - header < expected else "has trailing bytes"
        raise CorruptFileError(
            f"{path}: {state}: the header promises {shape} values of {dtype.name} "
            f"({expected:,} bytes) but {len(raw) - header:,} bytes follow it"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(ImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28 grayscale.

    Args:
        root: the data root (default ``$TINYLEARN_DATA``, else ``~/.cache/tinylearn``); the files
            are looked for in ``<root>/mnist/``, ``<root>/MNIST/raw/`` and ``<root>/``.
        train: the training set (True) or the test set.
        download: fetch missing or damaged files from the mirrors (checked against their MD5).
        transform, target_transform: applied to each image / label by ``ds[i]``.
        progress: show a progress bar while downloading.
    """

    name: ClassVar[str] = "mnist"
    classes: ClassVar[list[str]] = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        *,
        download: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        progress: bool = True,
    ) -> None:
        self.train = train
        split = "train" if train else "t10k"
        names = [f"{split}-images-idx3-ubyte.gz", f"{split}-labels-idx1-ubyte.gz"]
        paths = fetch(resource(self.name), names, root, download=download, progress=progress)
        image_file, label_file = paths[names[0]], paths[names[1]]
        images, labels = read_idx(image_file, ndim=3), read_idx(label_file, ndim=1)
        if len(images) != len(labels):
            raise CorruptFileError(
                f"{image_file} holds {len(images)} images but {label_file} holds {len(labels)}"
            )
        if images.dtype != np.uint8 or labels.dtype != np.uint8 or (labels.size and labels.max() >= 10):
            raise CorruptFileError(f"{image_file}, {label_file}: expected uint8 images and labels 0-9")
        super().__init__(images, labels.astype(np.int64), transform, target_transform)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, with pictures of ten kinds of clothing.

    The files are looked for in ``<root>/fashion-mnist/`` (and ``<root>/FashionMNIST/raw/``).
    """

    name: ClassVar[str] = "fashion-mnist"
    classes: ClassVar[list[str]] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]

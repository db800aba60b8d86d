"""CIFAR-10: 60,000 32×32 color images in ten classes, from the official *binary* version.

The official ``cifar-10-binary.tar.gz`` holds ``cifar-10-batches-bin/data_batch_1.bin`` ...
``data_batch_5.bin`` (training, 10,000 images each) and ``test_batch.bin``. Each is a run of
3,073-byte records: one label byte (0-9), then 3,072 pixel bytes, the 1,024 red values of the
32×32 image row by row, then green, then blue. No pickle is involved. The loader reads the
batches straight from the tarball (or from a folder ``cifar-10-batches-bin/`` where they were
extracted) and keeps the images channels last, ``(N, 32, 32, 3)``, as torchvision does.

Where the official archive can't be had, the repacked ``.npz`` files of ``shared/data/cifar10``
are accepted too (``source="jpeg"``: JPEG-decoded, lossy pixels; ``source="exact"``: bit-exact
official pixels of a subset). ``ds.source`` says what was loaded.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .files import CorruptFileError, DataNotFoundError, data_root, fetch, locate, resource
from .vision import ImageDataset

__all__ = ["CIFAR10", "read_cifar_binary"]

TARBALL = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
RECORD = 1 + 3 * 32 * 32
# (file, key prefix, description) of the repacked files for each split, in order of preference
_NPZ = {
    "jpeg": {
        True: (
            "cifar10_train_jpeg_10k.npz",
            "",
            "the first 10,000 of 50,000 training images, JPEG-decoded (lossy)",
        ),
        False: ("cifar10_test_jpeg.npz", "", "the 10,000 test images, JPEG-decoded (lossy)"),
    },
    "exact": {
        True: ("cifar10_exact_subset.npz", "train_", "training images 0-3999, bit-exact"),
        False: ("cifar10_exact_subset.npz", "test_", "test images 0-999, bit-exact"),
    },
}


def read_cifar_binary(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 32, 32, 3)`` uint8 and labels ``(N,)`` int64 from CIFAR-10 binary records."""
    if not raw or len(raw) % RECORD:
        raise CorruptFileError(
            f"{name}: {len(raw):,} bytes is not a whole number of {RECORD}-byte records "
            "(1 label byte + 3,072 pixel bytes); the file is truncated or not CIFAR-10 binary"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise CorruptFileError(f"{name}: label byte {labels.max()} found, CIFAR-10 labels are 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(ImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test images, 32×32 RGB (uint8, channels last).

    Args:
        root: the data root (default ``$TINYLEARN_DATA``, else ``~/.cache/tinylearn``). The archive
            ``cifar-10-binary.tar.gz`` (or an extracted ``cifar-10-batches-bin/``) is looked for in
            ``<root>/cifar10/`` and ``<root>/``.
        train: the training set (True) or the test set.
        download: fetch the official archive (MD5-checked) when it is missing or damaged.
        transform, target_transform: applied to each image / label by ``ds[i]``.
        progress: show a progress bar while downloading.
        source: ``"binary"`` (the official archive), ``"jpeg"`` or ``"exact"`` (repacked ``.npz``
            files), or ``"auto"``: the archive if it is on disk, else a repacked file that is on disk
            (jpeg, then exact), else download the archive.
    """

    name: ClassVar[str] = "cifar10"
    classes: ClassVar[list[str]] = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
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
        source: str = "auto",
    ) -> None:
        if source not in ("auto", "binary", "jpeg", "exact"):
            raise ValueError(f"CIFAR10: source must be 'auto', 'binary', 'jpeg' or 'exact', got {source!r}")
        self.train = train
        res, base = resource(self.name), data_root(root)
        batches = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        if source == "auto":
            on_disk = self._extracted(base, batches) or locate(res, TARBALL, base)
            npz = next((s for s in ("jpeg", "exact") if locate(res, _NPZ[s][train][0], base)), None)
            source = "binary" if on_disk or npz is None else npz
        if source == "binary":
            try:
                images, labels = self._read_binary(base, batches, download, progress)
            except DataNotFoundError as exc:
                alternatives = ", ".join(sorted({_NPZ[s][train][0] for s in _NPZ}))
                raise DataNotFoundError(
                    f"{exc}\nAlternatively put the repacked {alternatives} there (source='jpeg' or 'exact')."
                ) from None
            self.source = f"binary: the official {'training' if train else 'test'} batches"
        else:
            filename, prefix, description = _NPZ[source][train]
            path = locate(res, filename, base)
            if path is None:
                raise DataNotFoundError(
                    f"CIFAR10(source={source!r}): {filename} ({description}) is not in "
                    f"{base / res.folder}/; it is not downloadable: copy it there from a "
                    "folder laid out as shared/data/cifar10 (see its README.md)"
                )
            images, labels = _read_npz(path, prefix)  # checked for shape and labels: no published checksum
            self.source = f"{source}: {filename}, {description}"
        super().__init__(images, labels, transform, target_transform)

    @staticmethod
    def _extracted(base: Path, batches: list[str]) -> Path | None:
        """A folder ``cifar-10-batches-bin`` holding all the wanted batches, or None."""
        for folder in (base / "cifar10" / FOLDER, base / FOLDER):
            if all((folder / b).is_file() for b in batches):
                return folder
        return None

    def _read_binary(
        self, base: Path, batches: list[str], download: bool, progress: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        folder = self._extracted(base, batches)
        if folder is not None:
            raw = {b: (folder / b).read_bytes() for b in batches}
            where = folder
        else:
            where = fetch(resource(self.name), [TARBALL], base, download=download, progress=progress)[TARBALL]
            raw = _read_tar_members(where, [f"{FOLDER}/{b}" for b in batches])
            raw = {b: raw[f"{FOLDER}/{b}"] for b in batches}
        parts = [read_cifar_binary(raw[b], f"{where}: {b}") for b in batches]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}\nSource: {self.source}"


def _read_tar_members(path: Path, members: list[str]) -> dict[str, bytes]:
    """The bytes of ``members`` of a .tar.gz, read in one pass (nothing is extracted to disk)."""
    import tarfile

    wanted, found = set(members), {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                if info.name in wanted and info.isfile():
                    found[info.name] = tar.extractfile(info).read()
                    if len(found) == len(wanted):
                        break
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise CorruptFileError(
            f"{path}: unreadable archive ({exc}); the file is damaged or truncated"
        ) from exc
    missing = sorted(wanted - set(found))
    if missing:
        raise CorruptFileError(
            f"{path}: the archive lacks {', '.join(missing)}; is it the CIFAR-10 binary version?"
        )
    return found


def _read_npz(path: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of a repacked CIFAR-10 ``.npz`` (keys ``[prefix]images``, ``[prefix]labels``)."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as npz:
            images, labels = npz[prefix + "images"], npz[prefix + "labels"]
    except KeyError as exc:
        raise CorruptFileError(
            f"{path}: no array {exc} in this .npz; is it a repacked CIFAR-10 file?"
        ) from exc
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CorruptFileError(f"{path}: unreadable .npz ({exc}); the file is damaged or truncated") from exc
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3) or len(images) != len(labels):
        raise CorruptFileError(
            f"{path}: expected uint8 images (N, 32, 32, 3) and N labels, got {images.dtype} "
            f"{images.shape} and {labels.shape}"
        )
    if labels.size and not 0 <= labels.min() <= labels.max() <= 9:
        raise CorruptFileError(f"{path}: labels outside 0-9")
    return images, labels.astype(np.int64)

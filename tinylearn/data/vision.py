"""The base of the image data sets: images and labels held as whole NumPy arrays.

``data`` is ``uint8`` ``(N, H, W)`` (grayscale) or ``(N, H, W, C)`` (color, channels last, as
torchvision keeps them), ``targets`` is ``int64`` ``(N,)``. ``ds[i]`` is ``(image, label)`` with
``transform`` applied to the image (without one: the ``uint8`` NumPy image) and
``target_transform`` to the label (without one: a Python int). For whole-data-set training,
:meth:`ImageDataset.as_tensors` gives everything as two Tensors in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..tensor import Tensor, as_tensor
from .dataset import Dataset, _check_index

__all__ = ["ImageDataset"]


class ImageDataset(Dataset):
    """Images ``data`` and labels ``targets`` with optional transforms; subclasses fill them in."""

    classes: ClassVar[list[str]] = []

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        if data.dtype != np.uint8 or data.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__}: expected uint8 images (N, H, W) or (N, H, W, C), "
                f"got {data.dtype} {data.shape}"
            )
        if len(data) != len(targets):
            raise ValueError(f"{type(self).__name__}: {len(data)} images but {len(targets)} labels")
        self.data = data
        self.targets = np.asarray(targets, dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = _check_index(index, len(self), type(self).__name__)
        image, label = self.data[i], int(self.targets[i])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def _batch(self, indices: np.ndarray) -> list[Tensor] | None:
        """Images and labels at ``indices`` as two Tensors: the transform (when it can take a whole
        batch, as the ones in :mod:`tinylearn.data.transforms` can) runs once on ``(B, H, W, C)``."""
        if self.target_transform is not None or not getattr(self.transform, "supports_batch", True):
            return None
        images = self.data[indices]
        if self.transform is not None:
            images = self.transform(images if images.ndim == 4 else images[..., None])
        return [as_tensor(images), as_tensor(self.targets[indices])]

    def as_tensors(self, flatten: bool = False) -> tuple[Tensor, Tensor]:
        """All images as float32 in [0, 1], ``(N, C, H, W)`` (or ``(N, C*H*W)`` with ``flatten``), and
        all labels (int64), ignoring the transforms: the fast way to train on a whole data set."""
        x = self.data if self.data.ndim == 4 else self.data[..., None]
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255)
        return as_tensor(x.reshape(len(x), -1) if flatten else x), as_tensor(self.targets)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Image shape: {self.data.shape[1:]} uint8",
        ]
        lines += [f"    {line}" for line in self.extra_repr().splitlines() if line]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        return "\n".join(lines)

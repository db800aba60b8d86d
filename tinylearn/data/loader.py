"""``DataLoader``: iterate over a dataset in mini-batches, as ``torch.utils.data.DataLoader``.

Each epoch the loader takes the indices ``0..N-1`` (a fresh permutation when ``shuffle=True``,
drawn from ``generator`` or the global generator, so a seed fixes the order of every epoch),
cuts them into batches of ``batch_size`` and turns each batch of samples into tensors with
``collate_fn`` (default: :func:`default_collate`).

Fast path: with the default collate, datasets that can index a whole batch at once
(:class:`~tinylearn.data.TensorDataset`, the image datasets, and subsets of them) are fancy-indexed
once per batch instead of being read and stacked sample by sample. The result is the same.
"""

from __future__ import annotations

import copy
import math
from collections import abc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..random import Generator, default_generator
from ..tensor import Tensor, as_tensor, tensor
from .dataset import Dataset

__all__ = ["DataLoader", "default_collate"]


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure (PyTorch's rules).

    - Tensors and NumPy arrays of the same shape -> one Tensor with a new first dimension.
    - Python ints -> int64 Tensor, floats -> float64 Tensor, bools -> bool Tensor; NumPy scalars
      keep their dtype.
    - Mappings -> a mapping of collated values; tuples -> a list of collated fields (as PyTorch
      does), named tuples and lists keep their type; strings stay a list.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            from .. import stack

            return stack(batch)
        shapes = {t.shape for t in batch}
        if len(shapes) > 1:
            raise RuntimeError(
                f"default_collate: samples must have equal shapes to be stacked, got {sorted(shapes)}"
            )
        return Tensor._make(get_array_module(elem.data).stack([t.data for t in batch]))  # no graph: one copy
    if isinstance(elem, np.ndarray | np.generic) and elem.dtype.kind not in "USO":
        shapes = {np.shape(a) for a in batch}
        if len(shapes) > 1:
            raise RuntimeError(
                f"default_collate: arrays must have equal shapes to be stacked, got {sorted(shapes)}"
            )
        return as_tensor(np.stack(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, int):
        return tensor(batch, dtype=np.int64)
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, abc.Mapping):
        if any(set(d) != set(elem) for d in batch):
            raise RuntimeError("default_collate: every dict in a batch must have the same keys")
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch, strict=True)]
        return type(elem)(fields) if isinstance(elem, list) else fields
    raise TypeError(
        f"default_collate: samples must be tensors, NumPy arrays, numbers, dicts or lists; found {type(elem)}"
    )


class DataLoader:
    """Mini-batches of ``dataset``: ``for x, y in DataLoader(ds, batch_size=64, shuffle=True): ...``.

    Args:
        dataset: any :class:`~tinylearn.data.Dataset` (``len`` and integer indexing).
        batch_size: samples per batch.
        shuffle: draw a new random order at the start of every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        generator: the :class:`tinylearn.Generator` for shuffling (default: the global one).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        *,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size should be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return (self.generator or default_generator).permutation(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        for b in range(len(self)):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            batch = self.dataset._batch(indices) if self.collate_fn is None else None
            if batch is None:
                batch = (self.collate_fn or default_collate)([self.dataset[int(i)] for i in indices])
            yield batch

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )

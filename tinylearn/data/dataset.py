"""Datasets: anything with ``len(ds)`` and ``ds[i]``, as in ``torch.utils.data``.

A :class:`Dataset` maps an index to one sample. :class:`TensorDataset` wraps tensors that share
their first dimension; :class:`Subset` and :func:`random_split` pick parts of a dataset;
:class:`ConcatDataset` (also ``a + b``) joins datasets end to end.

Datasets that can produce a whole mini-batch at once (by fancy-indexing their arrays instead of
collating samples one by one) implement ``_batch(indices)``; :class:`~tinylearn.data.DataLoader`
uses it when no custom ``collate_fn`` is given. It returns ``None`` when it cannot.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..random import Generator, default_generator
from ..tensor import Tensor, as_tensor

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """The base class: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def _batch(self, indices: np.ndarray) -> Any | None:
        """The collated batch at ``indices`` in one step, or None if this dataset can't."""
        return None


def _check_index(index: int, n: int, name: str) -> int:
    """A Python int in [0, n), with negative indices counted from the end."""
    if isinstance(index, Tensor):
        index = index.item()
    if not isinstance(index, int | np.integer):
        raise TypeError(f"{name} indices must be integers, got {type(index).__name__}")
    i = int(index) + n if index < 0 else int(index)
    if not 0 <= i < n:
        raise IndexError(f"{name}: index {index} is out of range for a dataset of length {n}")
    return i


class TensorDataset(Dataset):
    """Samples are slices of tensors along their first dimension: ``ds[i] = (t[i] for t in tensors)``.

    NumPy arrays are accepted and wrapped without a copy. All tensors must have the same first
    dimension, e.g. inputs ``(N, D)`` and labels ``(N,)``.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(as_tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            raise ValueError("TensorDataset: 0-d tensors have no first dimension to index")
        if len({t.shape[0] for t in self.tensors}) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
            raise ValueError(
                f"TensorDataset: all tensors must have the same first dimension, got shapes {shapes}"
            )

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        i = _check_index(index, len(self), "TensorDataset")
        return tuple(t[i] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _batch(self, indices: np.ndarray) -> list[Tensor]:
        return [t[indices] for t in self.tensors]  # one gather per tensor, on the tensor's device

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self._positions = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.indices = self._positions.tolist()

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[_check_index(index, len(self), "Subset")]]

    def __len__(self) -> int:
        return len(self.indices)

    def _batch(self, indices: np.ndarray) -> Any | None:
        return self.dataset._batch(self._positions[indices])

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {type(self.dataset).__name__} ({len(self.dataset)}))"


class ConcatDataset(Dataset):
    """Datasets joined end to end: indices ``0..len(a)-1`` come from ``a``, the next from ``b``, ..."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        i = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, i)
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][i - offset]


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` holds either sizes that add up to ``len(dataset)`` or fractions that add up to 1
    (``[0.8, 0.1, 0.1]``); as in PyTorch, fractions are floored and the leftover samples go one
    each to the subsets in turn. The permutation comes from ``generator`` (default: the global
    generator, so ``tl.manual_seed`` makes it reproducible).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= frac <= 1 for frac in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0; this results in an empty dataset.",
                    stacklevel=2,
                )
    else:
        if any(not float(x).is_integer() or x < 0 for x in lengths):
            raise ValueError(
                f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                f"got {lengths}"
            )
        sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(
            f"random_split: the lengths {sizes} add up to {sum(sizes)}, but the dataset has {n} samples"
        )
    order = (generator or default_generator).permutation(n)
    ends = np.cumsum(sizes)
    return [Subset(dataset, order[end - size : end]) for size, end in zip(sizes, ends, strict=True)]

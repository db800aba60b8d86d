"""Data: datasets, loaders, transforms, toy data and real data sets, as ``torch.utils.data`` and torchvision.

- :mod:`~tinylearn.data.dataset`: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
  ``random_split``
- :mod:`~tinylearn.data.loader`: ``DataLoader``, ``default_collate``
- :mod:`~tinylearn.data.transforms`: ``Compose``, ``ToTensor``, ``Normalize``, random augmentations
- :mod:`~tinylearn.data.toy`: seeded 2-D and regression toy data (lines, XOR, moons, spirals, ...)
- real data in their official formats: ``MNIST``, ``FashionMNIST``, ``CIFAR10``, ``TinyShakespeare``,
  found under ``root=`` / ``$TINYLEARN_DATA`` / ``~/.cache/tinylearn`` or downloaded and checked
  (:mod:`~tinylearn.data.files`: ``download``, ``verify``)
- ``FontDigits``: an offline MNIST-shaped data set of typeset digits, generated from a seed
"""

from . import transforms
from .cifar import CIFAR10
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .files import CorruptFileError, DataNotFoundError, FileCheck, data_root, download, verify
from .fontdigits import FontDigits
from .loader import DataLoader, default_collate
from .mnist import MNIST, FashionMNIST, read_idx
from .text import TinyShakespeare
from .toy import (
    make_blobs,
    make_circles,
    make_line,
    make_moons,
    make_polynomial,
    make_spirals,
    make_swiss_roll,
    make_xor,
)
from .vision import ImageDataset

__all__ = [
    "CIFAR10",
    "MNIST",
    "ConcatDataset",
    "CorruptFileError",
    "DataLoader",
    "DataNotFoundError",
    "Dataset",
    "FashionMNIST",
    "FileCheck",
    "FontDigits",
    "ImageDataset",
    "Subset",
    "TensorDataset",
    "TinyShakespeare",
    "data_root",
    "default_collate",
    "download",
    "make_blobs",
    "make_circles",
    "make_line",
    "make_moons",
    "make_polynomial",
    "make_spirals",
    "make_swiss_roll",
    "make_xor",
    "random_split",
    "read_idx",
    "transforms",
    "verify",
]

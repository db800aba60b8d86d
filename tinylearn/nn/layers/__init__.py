"""The layers of :mod:`tinylearn.nn`, one family per file (losses live in ``nn/losses.py``)."""

from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .normalization import BatchNorm1d, LayerNorm

__all__ = [
    "GELU",
    "BatchNorm1d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]  # fmt: skip

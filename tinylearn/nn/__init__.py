"""Neural-network building blocks, with PyTorch's names: ``Module`` and ``Parameter``, the
containers, the layers, the losses, :mod:`~tinylearn.nn.functional` (``F``) and
:mod:`~tinylearn.nn.init`.

    from tinylearn import nn
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""

from . import functional, init, regularization, utils  # noqa: F401  (tinylearn.nn.utils)
from .containers import ModuleDict, ModuleList, Sequential
from .layers import (
    GELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, count_parameters
from .parameter import Parameter
from .regularization import l1_penalty, l2_penalty

__all__ = [
    "GELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "count_parameters",
    "functional",
    "init",
    "l1_penalty",
    "l2_penalty",
    "regularization",
]  # fmt: skip

"""``tinylearn.nn.functional`` (import it as ``F``): the functions PyTorch keeps in
``torch.nn.functional``, so that ``F.softmax(x, dim=-1)`` or ``F.pad(x, (1, 1))`` translate as they are."""

from ..ops import log_softmax, pad, relu, sigmoid, softmax, tanh

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "pad"]

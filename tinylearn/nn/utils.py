"""``tinylearn.nn.utils``: gradient clipping (defined in :mod:`tinylearn.optim.clip`) and
parameter penalties, where PyTorch keeps them."""

from ..optim.clip import clip_grad_norm_, clip_grad_value_
from .module import count_parameters
from .regularization import l1_penalty, l2_penalty

__all__ = ["clip_grad_norm_", "clip_grad_value_", "count_parameters", "l1_penalty", "l2_penalty"]

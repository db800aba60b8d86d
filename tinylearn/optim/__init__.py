"""Optimizers (curriculum 1.4), learning-rate schedules (1.7.2) and gradient clipping (1.7.3).

    opt = tinylearn.optim.AdamW(model.parameters(), lr=1e-3)
    sched = tinylearn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)

Mixed-precision loss scaling (``GradScaler``) lives in :mod:`tinylearn.amp`, beside ``autocast``.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]

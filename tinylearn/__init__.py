"""tinylearn: a small deep-learning framework to learn from, with PyTorch's names.

import tinylearn as tl
x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x).sum()
y.backward()
x.grad            # tensor([2., 4., 6.])
"""

from . import _allocator, autograd, backend, dtypes, random

_allocator.tune_malloc()
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device, cuda_is_available
from .backend import device as device
from .dtypes import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .tensor import (
    Tensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .ops import (
    abs, add, all, allclose, amax, amin, any, argmax, argmin, broadcast_tensors, broadcast_to, cat, chunk,
    clamp, clone, cos, cumsum, div, einsum, eq, equal, erf, exp, expand, expm1, flatten, flip, gather, ge,
    gt, index_select, isfinite, isinf, isnan, le, log, log1p, log_softmax, logical_and, logical_not,
    logical_or, logsumexp, lt, masked_fill, matmul, max, maximum, mean, min, minimum, movedim, mul, narrow,
    ne, neg, permute, pow, prod, relu, repeat, reshape, roll, rsqrt, scatter_add, sigmoid, sign, sin,
    softmax, split, sqrt, square, squeeze, stack, std, sub, sum, tanh, transpose, tril, triu, unbind,
    unflatten, unsqueeze, var, where,
)  # fmt: skip
from .gradcheck import GradcheckError, dodge_kinks, gradcheck, gradgradcheck
from . import amp, data, models, nn, optim, viz
from .amp import autocast, get_autocast_dtype, is_autocast_enabled
from . import io
from .io import load, load_checkpoint, save, save_checkpoint
from . import training

clip = clamp
true_divide = div
concat = concatenate = cat
__version__ = "0.1.0"

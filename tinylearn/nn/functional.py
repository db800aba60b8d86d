"""``tinylearn.nn.functional`` (import it as ``F``): the functions PyTorch keeps in
``torch.nn.functional``, so that ``F.softmax(x, dim=-1)`` or ``F.pad(x, (1, 1))`` translate as they are.

Everything here is composed from the engine's differentiable ops, so first and second
derivatives come from their rules (and ``gradcheck``/``gradgradcheck`` confirm them). The
modules in :mod:`tinylearn.nn` (``nn.ReLU``, ``nn.Linear``, ``nn.BatchNorm1d``, ...) hold the
parameters and call these functions; the losses live in :mod:`tinylearn.nn.losses` and are
re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..autograd import no_grad
from ..ops import erf, exp, log1p, log_softmax, pad, relu, sigmoid, softmax, tanh, where
from ..ops.conv import conv1d, conv2d, conv_transpose2d, fold, unfold
from ..ops.linalg import linear as _linear
from ..ops.norm import batch_norm as _fused_batch_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, interpolate, max_pool2d
from ..tensor import Tensor, arange, rand
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "fold",
    "gelu",
    "group_norm",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
    "unfold",
]  # fmt: skip

# --------------------------------------------------------------------------- activations


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope``·x otherwise (the slope is the derivative at 0, as PyTorch).

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    return where(input > 0, input, input * negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: x·Φ(x), with Φ the standard normal CDF.

    ``"none"``: Φ(x) = ½(1 + erf(x/√2)). ``"tanh"``: Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))),
    the approximation of Hendrycks & Gimpel used by GPT-2.
    """
    if approximate == "none":
        return 0.5 * input * (1 + erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        return 0.5 * input * (1 + tanh(math.sqrt(2 / math.pi) * (input + 0.044715 * input * input * input)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (also called swish). ``inplace`` is accepted for compatibility; the result is new."""
    return input * sigmoid(input)


def _log1p_exp(z: Tensor) -> Tensor:
    """log(1 + eᶻ) for any z without overflow: z + log(1 + e⁻ᶻ) for z > 0, log(1 + eᶻ) otherwise.

    Each branch only ever exponentiates a number ≤ 0, and both are smooth where they are picked
    (at z = 0 the derivative is σ(0) = ½, as it should be).
    """
    return where(z > 0, z + log1p(exp(-z.clamp(min=0))), log1p(exp(z.clamp(max=0))))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β)·log(1 + e^(βx)), a smooth ReLU; where βx > ``threshold`` it returns x itself (as PyTorch)."""
    z = input * beta
    return where(z > threshold, input, _log1p_exp(z) / beta)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −log(1 + e⁻ˣ), exact and finite at any x (log(sigmoid(x)) is −inf for x ≲ −104)."""
    return -_log1p_exp(-input)


# --------------------------------------------------------------------------- layers


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b. ``input`` (*, in_features), ``weight`` (out_features, in_features),
    ``bias`` (out_features,) → (*, out_features). One graph node (:class:`tinylearn.ops.linalg.Linear`)
    whose backward computes the three gradients directly."""
    return _linear(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1/(1 − p),
    so the expected value is unchanged and evaluation needs no rescaling. The identity when
    ``training`` is False. Draws from tinylearn's default generator (``tl.manual_seed`` makes it
    reproducible). ``inplace`` is accepted for compatibility; the result is always new.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = rand(input.shape, device=input.device) >= p
    return input * (keep.to(input.dtype) * (1.0 / (1.0 - p)))


def _channel_shape(input: Tensor) -> tuple[int, ...]:
    """(1, C, 1, ...): the shape that broadcasts a per-channel vector over (N, C, *)."""
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over every dimension but the channels (dim 1) of ``input`` (N, C, *):

        y = (x − μ) / √(σ² + eps) · weight + bias

    In training, μ and σ² are the batch's mean and (biased) variance per channel, and the
    running statistics, when given, are updated in place:
    ``running = (1 − momentum)·running + momentum·batch`` (with the *unbiased* variance
    σ²·n/(n − 1), n = N·L values per channel). Otherwise μ and σ² are the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.numel() != channels:
            raise RuntimeError(
                f"batch_norm: {name} should contain {channels} elements (one per channel of the input "
                f"of shape {tuple(input.shape)}), not {t.numel()}"
            )
    if training and input.numel() // channels <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}"
        )
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
    return _fused_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` dimensions:

    y = (x − mean) / √(var + eps) · weight + bias     (biased variance; weight and bias
                                                      have shape ``normalized_shape``)
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape) :]) != shape:
        raise RuntimeError(
            f"layer_norm: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}"
        )
    dims = tuple(range(-len(shape), 0))
    centered = input - input.mean(dims, keepdim=True)
    out = centered * ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation (Wu & He, 2018) of ``input`` (N, C, *): the C channels are split into
    ``num_groups`` groups and each sample's group is normalised over its channels and positions,

        y = (x − mean) / √(var + eps) · weight + bias      (biased variance; weight, bias (C,))

    independent of the batch, so it behaves the same for any batch size and in evaluation.
    ``num_groups=1`` normalises like layer norm over (C, *); ``num_groups=C`` like instance norm.
    """
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, *), got {list(input.shape)}")
    n, c = input.shape[:2]
    if not isinstance(num_groups, int) or num_groups < 1 or c % num_groups:
        raise RuntimeError(
            f"group_norm: expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {list(input.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise RuntimeError(
                f"group_norm: expected {name} to be a vector of size equal to the number of channels in "
                f"input ({c}), but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}"
            )
    groups = input.reshape(n, num_groups, -1)
    centered = groups - groups.mean(-1, keepdim=True)
    out = (centered * ((centered * centered).mean(-1, keepdim=True) + eps).rsqrt()).reshape(input.shape)
    shape = _channel_shape(input)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalisation (Ulyanov et al., 2016) of ``input`` (N, C, *): every sample's every
    channel is normalised over its own positions, y = (x − mean) / √(var + eps) · weight + bias.

    With ``use_input_stats`` (the default) the statistics are the instance's; the running
    statistics, when given, move toward their average over the batch:
    ``running = (1 − momentum)·running + momentum·mean_n(stat)`` (the variance unbiased).
    Otherwise the running statistics normalise every instance (evaluation).
    """
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm: expected an input of shape (N, C, *spatial), got {list(input.shape)}"
        )
    n, c = input.shape[:2]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.numel() != c:
            raise RuntimeError(
                f"instance_norm: {name} should contain {c} elements (one per channel of the input of shape "
                f"{list(input.shape)}), not {t.numel()}"
            )
    shape = _channel_shape(input)
    if use_input_stats:
        dims = tuple(range(2, input.ndim))
        count = input.numel() // (n * c)
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 spatial element when training, got input size {list(input.shape)}"
            )
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        with no_grad():
            if running_mean is not None:
                running_mean.copy_(running_mean * (1 - momentum) + mean.reshape(n, c).mean(0) * momentum)
            if running_var is not None:
                unbiased = var.reshape(n, c).mean(0) * (count / (count - 1))
                running_var.copy_(running_var * (1 - momentum) + unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: expected running_mean and running_var when use_input_stats=False"
            )
        centered = input - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, D) by integer ``input`` of any shape → (*, D).

    The gradient of a row is the sum over every position that looked it up; the row at
    ``padding_idx`` takes part in the forward pass but receives no gradient.
    """
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be an integer tensor (int64), got "
            f"{getattr(input, 'dtype', type(input).__name__)}"
        )
    rows = weight.shape[0]
    if input.numel():
        lo, hi = int(input.data.min()), int(input.data.max())
        if lo < 0 or hi >= rows:
            raise IndexError(
                f"embedding: index {hi if hi >= rows else lo} is out of range for an embedding of {rows} "
                f"rows (valid indices are 0..{rows - 1})"
            )
    out = weight[input]
    if padding_idx is None:
        return out
    if padding_idx < 0:
        padding_idx += rows
    return where((input == padding_idx).unsqueeze(-1), out.detach(), out)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (*) → int64 one-hot vectors (*, num_classes); ``-1`` infers max + 1."""
    if tensor.dtype.kind not in "iu":
        raise RuntimeError(
            f"one_hot is only applicable to index tensors of integer dtype, got {tensor.dtype}"
        )
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("one_hot: can not infer the number of classes from an empty tensor")
        num_classes = int(tensor.data.max()) + 1
    if tensor.numel() and int(tensor.data.min()) < 0:
        raise RuntimeError("one_hot: class values must be non-negative")
    if tensor.numel() and int(tensor.data.max()) >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes ({num_classes})")
    return (tensor.unsqueeze(-1) == arange(num_classes, device=tensor.device)).long()

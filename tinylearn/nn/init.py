"""Weight initialisation (``tinylearn.nn.init``), with PyTorch's names and formulas.

Why it matters: with n inputs of variance 1 and weights of variance σ², a unit's output has
variance n·σ². Pick σ² = 1/n and the signal keeps its scale layer after layer; pick it too large
or too small and activations (and gradients) explode or vanish with depth.

* **Xavier/Glorot** (for tanh/sigmoid nets) balances forward and backward passes:
  σ = gain·√(2 / (fan_in + fan_out)); uniform on ±σ√3.
* **Kaiming/He** (for ReLU nets) makes up for ReLU zeroing half the signal:
  σ = gain / √fan, gain = √2 for ReLU (``calculate_gain``); uniform on ±σ√3.
* **Orthogonal**: a (scaled) orthogonal matrix preserves every vector's norm exactly.

For a weight of shape (out, in, *k) — a Linear's (out, in) or a convolution's (out, in, kh, kw) —
fan_in = in·∏k and fan_out = out·∏k. Every function fills the tensor in place without
recording a graph, draws from tinylearn's default generator (``tl.manual_seed``) or the given
``generator``, and returns the tensor.
"""



from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import no_grad
from ..random import Generator, default_generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]  # fmt: skip


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale a weight's standard deviation for ``nonlinearity``:

    linear, conv*, sigmoid: 1 · tanh: 5/3 · relu: √2 · leaky_relu: √(2 / (1 + slope²)) with
    slope = ``param`` (default 0.01) · selu: 3/4.
    """
    if nonlinearity in (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    ):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (in·∏k, out·∏k) for a weight of shape (out, in, *k)."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(shape {tuple(tensor.shape)})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    return fan_in if mode.lower() == "fan_in" else fan_out


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write host ``values`` into ``tensor`` (cast to its dtype, moved to its device), in place."""
    with no_grad():
        return tensor.copy_(Tensor(values))


# --------------------------------------------------------------------------- plain distributions


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill with samples of N(mean, std²)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill with samples of N(mean, std²) conditioned on [a, b] (absolute bounds, as PyTorch).

    Rejection sampling: draw normals and keep those inside [a, b] until there are enough. The
    probability q of landing inside (from the normal CDF) sets how many to draw per round.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")

    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((x - mean) / (std * math.sqrt(2))))

    inside = cdf(b) - cdf(a)
    if inside < 1e-6:
        raise ValueError(
            f"trunc_normal_: [a, b] = [{a}, {b}] holds only a fraction {inside:.2g} of N({mean}, {std}²); "
            "choose bounds closer to the mean"
        )
    rng = (generator or default_generator).numpy_rng
    needed, kept = tensor.numel(), []
    while needed > 0:
        draws = rng.normal(mean, std, int(needed / inside * 1.1) + 16)
        draws = draws[(draws >= a) & (draws <= b)][:needed]
        kept.append(draws)
        needed -= draws.size
    return _fill(tensor, np.concatenate(kept).reshape(tensor.shape) if kept else np.zeros(tensor.shape))


# --------------------------------------------------------------------------- scaled for the layer


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """U(−bound, bound) with bound = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """U(−bound, bound) with bound = √3·gain/√fan (He et al., 2015); ``a`` is the negative slope
    of a leaky ReLU, ``mode`` picks fan_in (preserves the forward signal) or fan_out (the
    backward one). ``a=√5`` gives PyTorch's default for Linear: bound = 1/√fan_in."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """N(0, std²) with std = gain/√fan; for ReLU (``nonlinearity="relu"``) std = √(2/fan_in)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), on the tensor viewed as
    (rows, rest): the Q of the QR decomposition of a Gaussian matrix, with column signs fixed
    by R's diagonal so that Q is uniformly distributed."""
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = (generator or default_generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))

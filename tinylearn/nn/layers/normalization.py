"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm`` and
``InstanceNorm2d`` normalise activations to zero mean and unit variance, then scale and shift them
by learned ``weight`` (γ) and ``bias`` (β). They differ in what they average over: the batch (and
positions) per channel; each sample's features; each sample's channel groups; each sample's
channel."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ... import dtypes as _dt
from ...autograd import no_grad
from ...tensor import Tensor, empty, ones, tensor, zeros
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "LayerNorm"]


class _NormBase(Module):
    """The state of the batch and instance norms, as in PyTorch: parameters ``weight`` (ones) and
    ``bias`` (zeros) of shape (C,) when ``affine``; buffers ``running_mean`` (zeros),
    ``running_var`` (ones) and the int64 counter ``num_batches_tracked`` when
    ``track_running_stats``."""

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float | None,
        affine: bool,
        track_running_stats: bool,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, device=device, dtype=dtype))
            self.bias = Parameter(empty(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Batch normalisation (Ioffe & Szegedy, 2015) per channel C of (N, C, *) inputs.

    Training: normalise with the batch's mean and variance over N (and the positions), and update
    the running statistics ``running = (1 − momentum)·running + momentum·batch`` (the variance
    unbiased); ``momentum=None`` takes the cumulative average over all batches seen
    (factor 1/``num_batches_tracked``). Evaluation: normalise with the running statistics.
    Without ``track_running_stats`` there are none and batch statistics are always used.
    """

    _input_dims: tuple[int, ...]
    _expected: str

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if input.ndim not in self._input_dims:
            raise ValueError(f"{name}: expected {self._expected}, got {input.ndim}D input")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}({self.num_features}): input of shape {tuple(input.shape)} has {input.shape[1]} "
                f"channels in dim 1, expected {self.num_features}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C (see :class:`_BatchNorm`
    for training and evaluation, :class:`_NormBase` for the state)."""

    _input_dims = (2, 3)
    _expected = "2D or 3D input (N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel C, over N, H and W (see
    :class:`_BatchNorm` for training and evaluation, :class:`_NormBase` for the state)."""

    _input_dims = (4,)
    _expected = "4D input (N, C, H, W)"


class InstanceNorm2d(_NormBase):
    """Instance normalisation (Ulyanov et al., 2016) of (N, C, H, W) or unbatched (C, H, W): each
    image's each channel is normalised over its H·W positions, in training and evaluation alike
    unless ``track_running_stats`` (then evaluation uses running statistics, as batch norm does).
    PyTorch's defaults: ``affine=False``, ``track_running_stats=False``.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"InstanceNorm2d: expected 3D or 4D input (C, H, W) or (N, C, H, W), got {input.ndim}D input"
            )
        unbatched = input.ndim == 3
        x = input.unsqueeze(0) if unbatched else input
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(
                    f"InstanceNorm2d({self.num_features}): expected input's size at dim={input.ndim - 3} to "
                    f"match num_features ({self.num_features}), but got: {x.shape[1]}"
                )
            warnings.warn(
                f"InstanceNorm2d({self.num_features}) got an input with {x.shape[1]} channels; without "
                "affine parameters or running statistics num_features is not used",
                stacklevel=2,
            )
        out = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class GroupNorm(Module):
    """Group normalisation (Wu & He, 2018): the ``num_channels`` channels are split into
    ``num_groups`` groups and each sample's group is normalised over its channels and positions;
    independent of the batch size, the same in training and evaluation.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape (num_channels,) when ``affine``.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(ones(num_channels, device=device, dtype=dtype))
            self.bias = Parameter(zeros(num_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected an input "
                f"(N, {self.num_channels}, *), got shape {tuple(input.shape)}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class LayerNorm(Module):
    """Layer normalisation (Ba et al., 2016): each sample is normalised over its last dimensions
    ``normalized_shape`` (the features), the same in training and evaluation.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape`` when
    ``elementwise_affine`` (``bias=False`` drops the bias).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(shape, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(shape, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

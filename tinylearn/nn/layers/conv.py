"""``Conv1d``, ``Conv2d`` and ``ConvTranspose2d``: learned filters slid over a signal or an image.

State, as in PyTorch: ``weight`` of shape (out_channels, in_channels/groups, *kernel_size) —
(in_channels, out_channels/groups, *kernel_size) for the transposed convolution — and ``bias``
(out_channels,). Both start as U(−1/√fan_in, 1/√fan_in), fan_in = weight.shape[1]·∏kernel_size:
PyTorch's ``kaiming_uniform_(weight, a=√5)``, the same rule as ``Linear``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ...ops.conv import conv_output_size, pair
from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "conv_output_size"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolutions share: argument checks, parameters, initialisation and repr."""

    _dims: int
    _transposed: bool = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: int | Sequence[int] | str,
        dilation: int | Sequence[int],
        groups: int,
        bias: bool,
        padding_mode: str,
        output_padding: int | Sequence[int] = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._dims
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        self.kernel_size = pair(kernel_size, "kernel_size", name, n)
        self.stride = pair(stride, "stride", name, n)
        self.dilation = pair(dilation, "dilation", name, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}, should be one of 'same' or 'valid'"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding: tuple[int, ...] | str = padding
        else:
            self.padding = pair(padding, "padding", name, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, but got {padding_mode!r}"
            )
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"Only 'zeros' padding mode is supported for {name}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.padding_mode = padding_mode
        self.output_padding = pair(output_padding, "output_padding", name, n)
        self.transposed = self._transposed
        shape = (
            (in_channels, out_channels // groups)
            if self._transposed
            else (out_channels, in_channels // groups)
        )
        self.weight = Parameter(empty(*shape, *self.kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _explicit_padding(self) -> tuple[int, ...]:
        """The padding as F.pad wants it (last dimension first, (before, after) each), for the
        non-zero padding modes; "same" puts an odd remainder after, as PyTorch."""
        if self.padding == "valid":
            return (0,) * (2 * self._dims)
        out: list[int] = []
        for i in reversed(range(self._dims)):
            if self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                out += [total // 2, total - total // 2]
            else:
                out += [self.padding[i], self.padding[i]]
        return tuple(out)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or any(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d and Conv2d: the same arguments and forward, with ``_function`` (F.conv1d or F.conv2d)."""

    _function: Any

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            device=device, dtype=dtype,
        )  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:
        conv = type(self)._function
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._explicit_padding(), mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_Conv):
    """2-d convolution over (N, C_in, H, W) (or unbatched (C_in, H, W)) → (N, C_out, Ho, Wo),
    Ho = ⌊(H + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (:func:`conv_output_size`).

    ``padding``: an int, a pair, ``"valid"`` or ``"same"``; ``padding_mode``: ``"zeros"``,
    ``"reflect"``, ``"replicate"`` or ``"circular"``. ``groups`` splits the channels into
    independent convolutions (``groups=in_channels``: one filter set per channel, "depthwise").
    """

    _dims = 2
    _function = staticmethod(F.conv2d)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) (or unbatched (C_in, L)) → (N, C_out, Lo), with the
    arguments of :class:`Conv2d` for one dimension."""

    _dims = 1
    _function = staticmethod(F.conv1d)


class ConvTranspose2d(_ConvNd):
    """The transposed convolution (the gradient of :class:`Conv2d` with respect to its input),
    an upsampling layer: (N, C_in, H, W) → (N, C_out, Ho, Wo) with
    Ho = (H − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1.

    ``forward(input, output_size)`` picks the ``output_padding`` that gives ``output_size``
    (a strided convolution maps several input sizes to one output size).
    """

    _dims = 2
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r}")
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            output_padding, device=device, dtype=dtype,
        )  # fmt: skip

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        output_size = tuple(output_size)
        if len(output_size) == input.ndim:  # (N, C, H, W) or (C, H, W) given: keep (H, W)
            output_size = output_size[-2:]
        if len(output_size) != 2:
            raise ValueError(
                f"ConvTranspose2d: output_size must have 2 or {input.ndim} elements (got {len(output_size)})"
            )
        smallest = [
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(
                input.shape[-2:], self.stride, self.padding, self.dilation, self.kernel_size, strict=False
            )
        ]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride, strict=True)]
        if any(not lo <= n <= hi for n, lo, hi in zip(output_size, smallest, largest, strict=True)):
            raise ValueError(
                f"ConvTranspose2d: requested an output size of {list(output_size)}, but valid sizes range "
                f"from {smallest} to {largest} (for an input of {list(input.shape[-2:])})"
            )
        return tuple(n - lo for n, lo in zip(output_size, smallest, strict=True))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return F.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )

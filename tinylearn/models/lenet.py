"""``LeNet5``: the convolutional network of LeCun et al. (1998), the first CNN of curriculum 1.8.

Two convolution → activation → pooling stages extract features, fully connected layers classify::

    (N, 1, 28, 28) ─conv1 5×5, pad 2→ (N, 6, 28, 28) ─pool→ (N, 6, 14, 14)
                   ─conv2 5×5→ (N, 16, 10, 10) ─pool→ (N, 16, 5, 5) ─flatten→ (N, 400)
                   ─fc1→ 120 ─fc2→ 84 ─fc3→ 10 logits

The original read 32×32 images; MNIST's 28×28 digits padded by 2 give the same shapes. It used
scaled tanh units and trainable sub-sampling; the defaults here are the modern reading (ReLU, max
pooling), and ``activation="tanh", pool="avg"`` is closer to the original. 61,706 parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor

__all__ = ["LeNet5", "bench_lenet"]


class LeNet5(nn.Module):
    """LeNet-5, configurable: ``conv1 → act → pool → conv2 → act → pool → fc1 → act → … → fc{k}``.

    Args:
        num_classes: outputs of the last layer (logits).
        in_channels: channels of the input images (1 for MNIST).
        channels: output channels of conv1 and conv2 (5×5 kernels, stride 1).
        hidden: widths of the hidden fully connected layers (``fc1`` … ``fc{len(hidden)}``); the last
            layer ``fc{len(hidden) + 1}`` maps to ``num_classes``.
        conv2_padding: zero padding of conv2 (conv1 always pads by 2, keeping 28×28).
        activation: ``"relu"`` or ``"tanh"``.
        pool: ``"max"`` or ``"avg"`` (2×2, stride 2).
        image_size: the input's height and width, to size ``fc1``.

    ``state_dict`` keys: ``conv1.weight``, ``conv1.bias``, ``conv2.*``, ``fc1.*``, ``fc2.*``, …
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        channels: Sequence[int] = (6, 16),
        hidden: Sequence[int] = (120, 84),
        conv2_padding: int = 0,
        activation: str = "relu",
        pool: str = "max",
        image_size: int = 28,
    ) -> None:
        super().__init__()
        if activation not in ("relu", "tanh") or pool not in ("max", "avg"):
            raise ValueError(
                f"LeNet5: activation must be relu or tanh and pool max or avg, got {activation!r}, {pool!r}"
            )
        c1, c2 = channels
        self.conv1 = nn.Conv2d(in_channels, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=conv2_padding)
        self.act = nn.ReLU() if activation == "relu" else nn.Tanh()
        self.pool = nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2)
        side = (image_size // 2 - 4 + 2 * conv2_padding) // 2  # after pool, conv2 and pool again
        if side < 1:
            raise ValueError(f"LeNet5: {image_size}×{image_size} images are too small for this network")
        widths = [c2 * side * side, *hidden, num_classes]
        self.num_fc = len(widths) - 1
        for i in range(self.num_fc):
            self.add_module(f"fc{i + 1}", nn.Linear(widths[i], widths[i + 1]))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images → (N, num_classes) logits."""
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = x.flatten(1)
        for i in range(1, self.num_fc):
            x = self.act(getattr(self, f"fc{i}")(x))
        return getattr(self, f"fc{self.num_fc}")(x)


def bench_lenet(num_classes: int = 10) -> LeNet5:
    """The ``lenet`` workload of the benchmarks (WORKLOADS.md): LeNet-5 widened to 16 and 32 channels,
    conv2 padded by 2 (14×14 kept), one hidden layer of 128; ReLU, max pooling. 215,370 parameters."""
    return LeNet5(num_classes, channels=(16, 32), hidden=(128,), conv2_padding=2)

"""``ResNet``: residual networks (He, Zhang, Ren & Sun, 2016), built from ``BasicBlock`` or ``Bottleneck``.

A residual block learns a correction F(x) to its input instead of a whole new mapping:
``out = ReLU(F(x) + shortcut(x))``. The identity path lets the gradient reach early layers
undiminished, which is what made networks of 50, 100 and more layers trainable.

* :class:`BasicBlock` (ResNet-18/34 and the CIFAR ResNets): F = conv3×3 → BN → ReLU → conv3×3 → BN.
* :class:`Bottleneck` (ResNet-50 and deeper): F = conv1×1 (reduce) → conv3×3 → conv1×1 (expand ×4),
  each followed by BN (and ReLU but the last).

When a block changes the shape (stride 2, more channels) the shortcut must too. The paper's two options:

* **A**: parameter-free, take every second pixel and pad the new channels with zeros
  (:class:`ShortcutA`); what the CIFAR networks of section 4.2 use, and what gives their parameter
  counts: ResNet-20 0.27M, ResNet-32 0.46M, ResNet-56 0.85M.
* **B**: a projection, conv1×1 (with the stride) → BN; what torchvision's ResNets use.

Two stems: ``"imagenet"`` (conv7×7 stride 2 → BN → ReLU → max pool 3×3 stride 2; then 4 stages) and
``"cifar"`` (conv3×3 → BN → ReLU, no pooling; 32×32 images keep their size in the first stage). The
module names and so the ``state_dict`` keys are torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer2.0.downsample.0``, ``fc``, ...), so weights move between the two as NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "ShortcutA",
    "bench_resnet",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet50",
    "resnet56",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3×3 convolution, padding 1, no bias (the BatchNorm after it has one)."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class ShortcutA(nn.Module):
    """Option A shortcut: ``x[:, :, ::stride, ::stride]`` with zero channels added, half before, half after.

    (N, C_in, H, W) → (N, C_out, H/stride, W/stride); no parameters.
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        if out_planes < in_planes:
            raise ValueError(f"ShortcutA: cannot pad {in_planes} channels down to {out_planes}")
        self.in_planes, self.out_planes, self.stride = in_planes, out_planes, stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_planes - self.in_planes
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2)) if extra else x

    def extra_repr(self) -> str:
        return f"{self.in_planes}, {self.out_planes}, stride={self.stride}"


class BasicBlock(nn.Module):
    """out = ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)); conv1 carries the stride.

    (N, inplanes, H, W) → (N, planes, H/stride, W/stride). ``downsample`` is the shortcut's module
    when it is not the identity (``None``: x itself).
    """

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """out = ReLU(bn3(conv3(ReLU(bn2(conv2(ReLU(bn1(conv1(x)))))))) + shortcut(x)).

    conv1 1×1 reduces to ``width = planes · base_width/64 · groups`` channels, conv2 3×3 (with the
    stride, as torchvision's "ResNet v1.5") works at that width, conv3 1×1 expands to
    ``planes · 4``. (N, inplanes, H, W) → (N, 4·planes, H/stride, W/stride).
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """stem → ``layer1`` … ``layer{k}`` → global average pool → ``fc``.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``[2, 2, 2, 2]`` (ResNet-18) or ``[3, 3, 3]`` (ResNet-20).
        num_classes: outputs of ``fc`` (logits).
        widths: ``planes`` of each stage; stage i > 1 starts with a stride-2 block. A stage outputs
            ``planes · block.expansion`` channels.
        stem: ``"imagenet"`` or ``"cifar"`` (see the module docstring).
        stem_channels: output channels of the stem (default ``widths[0]``).
        in_channels: channels of the input images.
        shortcut: ``"A"`` (zero padding, BasicBlock only) or ``"B"`` (projection) where a block changes
            the shape; the identity elsewhere.
        init: ``"kaiming"`` (torchvision's: convolutions ~ N(0, 2/fan_out), BN γ = 1, β = 0) or
            ``"default"`` (every layer's own PyTorch default initialisation).
        zero_init_residual: start each block's last BN with γ = 0, so every block begins as the
            identity (Goyal et al., 2017); often worth a few tenths of a percent.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: Sequence[int],
        num_classes: int = 1000,
        widths: Sequence[int] = (64, 128, 256, 512),
        stem: str = "imagenet",
        stem_channels: int | None = None,
        in_channels: int = 3,
        shortcut: str = "B",
        init: str = "kaiming",
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        if len(layers) != len(widths):
            raise ValueError(f"ResNet: {len(layers)} stages in layers but {len(widths)} widths")
        if (
            stem not in ("imagenet", "cifar")
            or shortcut not in ("A", "B")
            or init not in ("kaiming", "default")
        ):
            raise ValueError(f"ResNet: stem must be imagenet or cifar, shortcut A or B, init kaiming or "
                             f"default; got {stem!r}, {shortcut!r}, {init!r}")  # fmt: skip
        if shortcut == "A" and block is not BasicBlock:
            raise ValueError("ResNet: shortcut option A is defined for BasicBlock networks only")
        self.shortcut = shortcut
        self.inplanes = stem_channels or widths[0]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, 7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = conv3x3(in_channels, self.inplanes)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if stem == "imagenet" else nn.Identity()
        for i, (planes, blocks) in enumerate(zip(widths, layers, strict=True)):
            self.add_module(f"layer{i + 1}", self._make_layer(block, planes, blocks, 1 if i == 0 else 2))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, num_classes)
        if init == "kaiming":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            for m in self.modules():
                last = m.bn3 if isinstance(m, Bottleneck) else m.bn2 if isinstance(m, BasicBlock) else None
                if last is not None:
                    nn.init.zeros_(last.weight)

    def _make_layer(self, block: type[nn.Module], planes: int, blocks: int, stride: int) -> nn.Sequential:
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            if self.shortcut == "A":
                downsample = ShortcutA(self.inplanes, out, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, out, stride), nn.BatchNorm2d(out))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        layers += [block(out, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images → (N, num_classes) logits."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{i}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def _cifar_resnet(depth: int, num_classes: int, shortcut: str, **kwargs) -> ResNet:
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], num_classes, (16, 32, 64), stem="cifar", shortcut=shortcut, **kwargs)


def resnet20(num_classes: int = 10, shortcut: str = "A", **kwargs) -> ResNet:
    """ResNet-20 for CIFAR (He et al. 2016, section 4.2): 3 stages × 3 BasicBlocks, 16/32/64 channels;
    with option A shortcuts 269,722 parameters (the paper's 0.27M)."""
    return _cifar_resnet(20, num_classes, shortcut, **kwargs)


def resnet32(num_classes: int = 10, shortcut: str = "A", **kwargs) -> ResNet:
    """ResNet-32 for CIFAR: 3 × 5 BasicBlocks; option A: 464,154 parameters (0.46M)."""
    return _cifar_resnet(32, num_classes, shortcut, **kwargs)


def resnet56(num_classes: int = 10, shortcut: str = "A", **kwargs) -> ResNet:
    """ResNet-56 for CIFAR: 3 × 9 BasicBlocks; option A: 853,018 parameters (0.85M)."""
    return _cifar_resnet(56, num_classes, shortcut, **kwargs)


def resnet18(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-18, ImageNet layout (torchvision's keys): 11,689,512 parameters with 1000 classes."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, **kwargs)


def resnet34(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-34, ImageNet layout: 21,797,672 parameters with 1000 classes."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, **kwargs)


def resnet50(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-50 (Bottleneck blocks), ImageNet layout: 25,557,032 parameters with 1000 classes."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, **kwargs)


def bench_resnet(num_classes: int = 10) -> ResNet:
    """The ``resnet`` workload of the benchmarks (WORKLOADS.md): a CIFAR stem of 32 channels, two stages
    of two BasicBlocks (32 and 64 channels, the second stage stride 2 with a projection shortcut),
    PyTorch's default initialisation. 170,410 parameters."""
    return ResNet(BasicBlock, [2, 2], num_classes, (32, 64), stem="cifar", shortcut="B", init="default")

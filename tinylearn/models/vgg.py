"""``VGG``: stacks of 3×3 convolutions and 2×2 max pooling (Simonyan & Zisserman, 2015), for CIFAR images.

A VGG network is described by one list: a number is a 3×3 convolution (padding 1, so the size is
kept) with that many output channels, followed by ReLU (and BatchNorm before the ReLU when
``batch_norm``); ``"M"`` is a 2×2 max pooling that halves the height and width. On 32×32 images
the five ``"M"`` of VGG-11/13/16/19 leave 1×1 maps, so the classifier sees one vector per image.
The layout and ``state_dict`` keys follow torchvision's ``VGG``: ``features.<i>.*`` (the layers in
order), ``avgpool`` and ``classifier.<i>.*``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor

__all__ = ["VGG", "VGG_CONFIGS"]

VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg_small": [32, 32, "M", 64, 64, "M", 128, 128, "M"],
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}  # fmt: skip


class VGG(nn.Module):
    """``features`` (the convolutions) → ``avgpool`` (adaptive, to ``pool_size``²) → flatten → ``classifier``.

    Args:
        cfg: a name of :data:`VGG_CONFIGS` (``"vgg_small"``: 6 convolutions, 32-64-128 channels, about
            0.29M parameters; ``"vgg11"`` … ``"vgg19"``) or a list of channel counts and ``"M"``.
        num_classes: outputs of the classifier (logits).
        in_channels: channels of the input images.
        batch_norm: BatchNorm2d between each convolution and its ReLU.
        hidden: widths of hidden fully connected layers in the classifier (each Linear → ReLU →
            Dropout); ``()`` gives a single Linear, as the CIFAR versions usually have.
        dropout: the dropout probability in the classifier's hidden layers.
        pool_size: output size of the adaptive average pooling: 1 averages each map to one number
            (a no-op when the maps are already 1×1); torchvision's ImageNet VGG uses 7.
    """

    def __init__(
        self,
        cfg: str | Sequence[int | str] = "vgg11",
        num_classes: int = 10,
        in_channels: int = 3,
        batch_norm: bool = True,
        hidden: Sequence[int] = (),
        dropout: float = 0.5,
        pool_size: int = 1,
    ) -> None:
        super().__init__()
        if isinstance(cfg, str):
            if cfg not in VGG_CONFIGS:
                raise ValueError(
                    f"VGG: unknown configuration {cfg!r}; use one of {sorted(VGG_CONFIGS)} or a list"
                )
            cfg = VGG_CONFIGS[cfg]
        layers: list[nn.Module] = []
        channels = in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(channels, int(v), 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU())
            channels = int(v)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        head: list[nn.Module] = []
        width = channels * pool_size * pool_size
        for size in hidden:
            head += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        head.append(nn.Linear(width, num_classes))
        self.classifier = nn.Sequential(*head)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images → (N, num_classes) logits."""
        return self.classifier(self.avgpool(self.features(x)).flatten(1))

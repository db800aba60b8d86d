"""Reference models built from :mod:`tinylearn.nn` layers.

- ``MLP``: the multilayer perceptron (curriculum 1.2)
- ``LeNet5``, ``VGG``, ``ResNet`` (from ``BasicBlock`` / ``Bottleneck``): convolutional networks
  (curriculum 1.8), with the CIFAR ResNets ``resnet20/32/56`` of the ResNet paper and the ImageNet
  layouts ``resnet18/34/50``, all with PyTorch's (torchvision's) module names and ``state_dict`` keys
- ``bench_lenet``, ``bench_resnet``: the networks of the ``lenet`` and ``resnet`` benchmark workloads
"""

from .lenet import LeNet5, bench_lenet
from .mlp import MLP
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ShortcutA,
    bench_resnet,
    resnet18,
    resnet20,
    resnet32,
    resnet34,
    resnet50,
    resnet56,
)
from .vgg import VGG, VGG_CONFIGS

__all__ = [
    "MLP",
    "VGG",
    "VGG_CONFIGS",
    "BasicBlock",
    "Bottleneck",
    "LeNet5",
    "ResNet",
    "ShortcutA",
    "bench_lenet",
    "bench_resnet",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet50",
    "resnet56",
]

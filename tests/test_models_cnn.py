"""The convolutional reference models: parameter counts against the papers, torchvision and WORKLOADS.md,
output shapes, PyTorch's state_dict keys, the option-A shortcut and the initialisations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinylearn as tl
from tinylearn import models, nn


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- parameter counts


def test_lenet5_classic_has_61706_parameters() -> None:
    m = models.LeNet5()
    # conv1 6·(1·25) + 6, conv2 16·(6·25) + 16, fc1 400·120 + 120, fc2 120·84 + 84, fc3 84·10 + 10
    parts = {"conv1": 156, "conv2": 2_416, "fc1": 48_120, "fc2": 10_164, "fc3": 850}
    assert {name: n_params(getattr(m, name)) for name in parts} == parts
    assert m.num_parameters() == 61_706


def test_bench_lenet_matches_the_workload_definition() -> None:
    m = models.bench_lenet()
    parts = {"conv1": 416, "conv2": 12_832, "fc1": 200_832, "fc2": 1_290}  # WORKLOADS.md, lenet
    assert {name: n_params(getattr(m, name)) for name in parts} == parts
    assert m.num_parameters() == 215_370
    assert not hasattr(m, "fc3")


def test_bench_resnet_matches_the_workload_definition() -> None:
    m = models.bench_resnet()
    assert m.num_parameters() == 170_410
    assert n_params(m.conv1) == 864 and n_params(m.bn1) == 64
    assert [n_params(b) for b in (*m.layer1, *m.layer2)] == [18_560, 18_560, 57_728, 73_984]
    assert n_params(m.layer2[0].downsample) == 2_048 + 128  # the 1×1 projection and its BN
    assert m.layer1[0].downsample is None and m.layer2[1].downsample is None
    assert n_params(m.fc) == 650
    assert not hasattr(m, "layer3")


@pytest.mark.parametrize(
    ("factory", "exact", "paper"),
    [(models.resnet20, 269_722, 0.27), (models.resnet32, 464_154, 0.46), (models.resnet56, 853_018, 0.85)],
)
def test_cifar_resnets_have_the_papers_parameter_counts(factory, exact, paper) -> None:
    # He et al. 2016, Table 6: 0.27M, 0.46M, 0.85M with option A (parameter-free) shortcuts
    m = factory()
    assert m.num_parameters() == exact
    assert round(m.num_parameters() / 1e6, 2) == paper
    # option B adds two projections, 16→32 and 32→64 (conv 1×1 + BN): 512 + 64 + 2048 + 128
    assert factory(shortcut="B").num_parameters() == exact + 2_752


@pytest.mark.parametrize(
    ("factory", "count"),
    [(models.resnet18, 11_689_512), (models.resnet50, 25_557_032)],
)
def test_imagenet_resnets_have_torchvisions_parameter_counts(factory, count) -> None:
    assert factory().num_parameters() == count


def test_vgg_parameter_counts() -> None:
    # VGG-16 with BatchNorm and one Linear(512, 10) on CIFAR: 14,728,266 (as the usual PyTorch CIFAR VGG)
    assert models.VGG("vgg16").num_parameters() == 14_728_266
    # vgg_small: 6 convs (3·32·9 + 32, 32·32·9 + 32, 32·64·9 + 64, 64·64·9 + 64, 64·128·9 + 128,
    # 128·128·9 + 128), 6 BNs (2·(32+32+64+64+128+128)), fc 128·10 + 10
    convs = 896 + 9_248 + 18_496 + 36_928 + 73_856 + 147_584
    assert models.VGG("vgg_small").num_parameters() == convs + 896 + 1_290
    assert models.VGG("vgg_small", batch_norm=False).num_parameters() == convs + 1_290
    assert models.VGG([8, "M"], in_channels=1, hidden=(16,)).num_parameters() == 80 + 16 + 144 + 170


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("factory", "shape"),
    [
        (models.LeNet5, (3, 1, 28, 28)),
        (models.bench_lenet, (3, 1, 28, 28)),
        (lambda: models.LeNet5(activation="tanh", pool="avg", in_channels=3, image_size=32), (3, 3, 32, 32)),
        (models.bench_resnet, (3, 3, 32, 32)),
        (models.resnet20, (3, 3, 32, 32)),
        (lambda: models.resnet20(shortcut="B"), (3, 3, 32, 32)),
        (lambda: models.VGG("vgg_small"), (3, 3, 32, 32)),
        (lambda: models.ResNet(models.Bottleneck, [1, 1], 10, (8, 16), stem="cifar"), (3, 3, 16, 16)),
        (lambda: models.ResNet(models.BasicBlock, [1, 1], 10, (8, 16)), (3, 3, 40, 40)),  # imagenet stem
    ],
)
def test_forward_gives_logits_and_backward_reaches_every_parameter(factory, shape) -> None:
    tl.manual_seed(0)
    m = factory()
    out = m(tl.randn(*shape))
    assert out.shape == (shape[0], 10)
    assert np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    missing = [name for name, p in m.named_parameters() if p.grad is None]
    assert not missing


def test_stage_shapes_of_resnet20() -> None:
    m = models.resnet20().eval()
    x = tl.randn(2, 3, 32, 32)
    with tl.no_grad():
        h = m.relu(m.bn1(m.conv1(x)))
        shapes = []
        for stage in (m.layer1, m.layer2, m.layer3):
            h = stage(h)
            shapes.append(h.shape)
    assert shapes == [(2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 8, 8)]


def test_bottleneck_expands_by_four_and_strides_in_the_3x3() -> None:
    block = models.Bottleneck(16, 8, stride=2, downsample=nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False),
                                                                       nn.BatchNorm2d(32)))  # fmt: skip
    assert block(tl.randn(2, 16, 8, 8)).shape == (2, 32, 4, 4)
    assert block.conv2.stride in (2, (2, 2)) and block.conv1.stride in (1, (1, 1))
    assert tuple(block.conv3.weight.shape) == (32, 8, 1, 1)


# --------------------------------------------------------------------------- state_dict keys


def test_lenet_state_dict_keys_are_pytorchs() -> None:
    keys = list(models.bench_lenet().state_dict())
    assert keys == [f"{layer}.{p}" for layer in ("conv1", "conv2", "fc1", "fc2") for p in ("weight", "bias")]


def test_resnet_state_dict_keys_are_torchvisions() -> None:
    sd = models.resnet18().state_dict()
    assert len(sd) == 122  # torchvision's resnet18: 20 convs, 20 BNs × 5 entries, fc weight and bias
    for key in ("conv1.weight", "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
                "layer1.1.bn2.bias", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean",
                "layer4.1.conv2.weight", "fc.weight", "fc.bias"):  # fmt: skip
        assert key in sd, key
    assert tuple(sd["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert tuple(sd["conv1.weight"].shape) == (64, 3, 7, 7)
    bench = list(models.bench_resnet().state_dict())
    assert bench[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                         "bn1.num_batches_tracked"]  # fmt: skip
    assert "layer2.0.downsample.0.weight" in bench and bench[-2:] == ["fc.weight", "fc.bias"]


def test_option_a_shortcuts_have_no_state() -> None:
    sd = models.resnet20().state_dict()
    assert not [k for k in sd if "downsample" in k]
    assert isinstance(models.resnet20().layer2[0].downsample, models.ShortcutA)


def test_vgg_state_dict_keys_follow_torchvision() -> None:
    keys = list(models.VGG([8, "M", 16, "M"], hidden=(32,)).state_dict())
    assert keys[:6] == ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                        "features.1.running_mean", "features.1.running_var"]  # fmt: skip
    assert keys[-4:] == [
        "classifier.0.weight",
        "classifier.0.bias",
        "classifier.3.weight",
        "classifier.3.bias",
    ]


def test_state_dict_round_trip_gives_the_same_outputs() -> None:
    tl.manual_seed(0)
    a, b = models.resnet20().eval(), models.resnet20().eval()
    x = tl.randn(2, 3, 32, 32)
    with tl.no_grad():
        assert not np.allclose(a(x).numpy(), b(x).numpy())
        b.load_state_dict(a.state_dict())
        np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


# --------------------------------------------------------------------------- shortcut A, init, errors


def test_shortcut_a_subsamples_and_pads_channels_with_zeros() -> None:
    x = tl.randn(2, 4, 6, 6)
    y = models.ShortcutA(4, 8, stride=2)(x).numpy()
    assert y.shape == (2, 8, 3, 3)
    np.testing.assert_array_equal(y[:, 2:6], x.numpy()[:, :, ::2, ::2])
    assert not y[:, :2].any() and not y[:, 6:].any()
    odd = models.ShortcutA(3, 6, stride=1)(tl.randn(1, 3, 2, 2)).numpy()
    assert odd.shape == (1, 6, 2, 2) and not odd[:, :1].any() and not odd[:, 4:].any()
    with pytest.raises(ValueError, match="cannot pad"):
        models.ShortcutA(8, 4, 1)


def test_kaiming_init_for_resnets_and_pytorch_defaults_for_the_workload() -> None:
    tl.manual_seed(0)
    w = models.resnet56().layer3[5].conv1.weight.detach().numpy()  # (64, 64, 3, 3): fan_out = 64·9
    assert abs(w.std() - math.sqrt(2 / (64 * 9))) < 0.05 * math.sqrt(2 / (64 * 9))
    w = models.bench_resnet().layer2[1].conv1.weight.detach().numpy()  # PyTorch default: U(±1/√fan_in)
    bound = 1 / math.sqrt(64 * 9)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_zero_init_residual_makes_every_block_start_as_the_identity() -> None:
    m = models.resnet20(zero_init_residual=True)
    assert all(
        not b.bn2.weight.detach().numpy().any() for stage in (m.layer1, m.layer2, m.layer3) for b in stage
    )
    block = m.layer1[0].eval()
    x = tl.randn(2, 16, 8, 8).relu()
    with tl.no_grad():
        np.testing.assert_allclose(block(x).numpy(), x.numpy(), atol=1e-6)


def test_bad_configurations_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="option A"):
        models.ResNet(models.Bottleneck, [1], widths=(8,), shortcut="A")
    with pytest.raises(ValueError, match="2 stages"):
        models.ResNet(models.BasicBlock, [1, 1], widths=(8,))
    with pytest.raises(ValueError, match="unknown configuration"):
        models.VGG("vgg99")
    with pytest.raises(ValueError, match="too small"):
        models.LeNet5(image_size=8)
    with pytest.raises(ValueError, match="activation"):
        models.LeNet5(activation="gelu")

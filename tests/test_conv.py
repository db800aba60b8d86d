"""Convolution layers and functions beyond the op catalogue (which checks values, gradients and
second derivatives): PyTorch's state_dict keys, shapes, initialisation and reprs for ``Conv1d``,
``Conv2d`` and ``ConvTranspose2d``; padding modes; ``output_size``; the output-size formula;
error messages; and a convolution that learns."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import nn


def t(*shape, seed=0, dtype=tl.float32, requires_grad=False):
    rng = np.random.default_rng(seed)
    return tl.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


# --------------------------------------------------------------------------- state and repr


@pytest.mark.parametrize(
    ("module", "state", "text"),
    [
        (nn.Conv2d(1, 16, 5, padding=2), {"weight": (16, 1, 5, 5), "bias": (16,)},
         "Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"),
        (nn.Conv2d(4, 6, (3, 1), stride=2, dilation=(2, 1), groups=2, bias=False), {"weight": (6, 2, 3, 1)},
         "Conv2d(4, 6, kernel_size=(3, 1), stride=(2, 2), dilation=(2, 1), groups=2, bias=False)"),
        (nn.Conv2d(3, 3, 3, padding="same", padding_mode="reflect"), {"weight": (3, 3, 3, 3), "bias": (3,)},
         "Conv2d(3, 3, kernel_size=(3, 3), stride=(1, 1), padding=same, padding_mode=reflect)"),
        (nn.Conv1d(3, 8, 3), {"weight": (8, 3, 3), "bias": (8,)},
         "Conv1d(3, 8, kernel_size=(3,), stride=(1,))"),
        (nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1, bias=False), {"weight": (4, 2, 3, 3)},
         "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), bias=False)"),
        (nn.ConvTranspose2d(4, 6, 2, groups=2), {"weight": (4, 3, 2, 2), "bias": (6,)},
         "ConvTranspose2d(4, 6, kernel_size=(2, 2), stride=(1, 1), groups=2)"),
    ],
)  # fmt: skip
def test_state_dict_keys_shapes_and_repr_are_pytorchs(module, state, text) -> None:
    sd = module.state_dict()
    assert list(sd) == list(state)
    assert {k: tuple(v.shape) for k, v in sd.items()} == state
    assert repr(module) == text
    assert all(p.dtype == tl.float32 and p.requires_grad for p in module.parameters())


@pytest.mark.parametrize(
    ("module", "fan_in"),
    [(nn.Conv2d(6, 64, 5), 150), (nn.Conv2d(8, 64, 3, groups=4), 18), (nn.ConvTranspose2d(64, 6, 5), 150),
     (nn.Conv1d(4, 128, 7), 28)],
)  # fmt: skip
def test_default_init_is_kaiming_uniform_with_a_sqrt5(module, fan_in) -> None:
    """U(±1/√fan_in) for weight and bias, fan_in = weight.shape[1]·∏kernel: PyTorch's default."""
    bound = 1 / math.sqrt(fan_in)
    w, b = module.weight.detach().numpy(), module.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound  # it fills the interval ...
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # ... uniformly (std of U(±a) is a/√3)


def test_default_init_is_reproducible_with_manual_seed() -> None:
    tl.manual_seed(3)
    a = nn.Conv2d(2, 3, 3)
    tl.manual_seed(3)
    b = nn.Conv2d(2, 3, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())


def test_load_state_dict_round_trip() -> None:
    a, b = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(2, 3, 3, padding=1)
    b.load_state_dict(a.state_dict())
    x = t(1, 2, 5, 5)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


# --------------------------------------------------------------------------- forward


def test_modules_call_the_functions() -> None:
    x = t(2, 4, 7, 6)
    conv = nn.Conv2d(4, 6, 3, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    np.testing.assert_array_equal(
        conv(x).detach().numpy(), F.conv2d(x, conv.weight, conv.bias, (2, 1), 1, (1, 2), 2).detach().numpy()
    )
    conv1 = nn.Conv1d(4, 2, 3, padding="same")
    x1 = t(2, 4, 9)
    assert conv1(x1).shape == (2, 2, 9)
    np.testing.assert_allclose(
        conv1(x1).detach().numpy(),
        F.conv2d(x1.unsqueeze(2), conv1.weight.unsqueeze(2), conv1.bias, padding=(0, 1))
        .squeeze(2)
        .detach()
        .numpy(),
    )


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_the_input_first(mode) -> None:
    x = t(1, 2, 5, 6)
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    expected = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), conv.weight, conv.bias)
    np.testing.assert_allclose(conv(x).detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert conv(x).shape == (1, 3, 5, 8)


def test_same_padding_keeps_the_size_with_even_kernels_and_dilation() -> None:
    for kernel, dilation in [(4, 1), (2, 3), ((3, 2), (1, 2))]:
        x = t(1, 2, 7, 8)
        assert F.conv2d(
            x,
            t(3, 2, *((kernel,) * 2 if isinstance(kernel, int) else kernel)),
            padding="same",
            dilation=dilation,
        ).shape == (1, 3, 7, 8)
    # an odd total padding puts the extra row and column at the end, as PyTorch
    x, w = t(1, 1, 4, 4), t(1, 1, 2, 2)
    np.testing.assert_allclose(
        F.conv2d(x, w, padding="same").detach().numpy(),
        F.conv2d(F.pad(x, (0, 1, 0, 1)), w).detach().numpy(),
        rtol=1e-6,
    )


def test_unbatched_input() -> None:
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = t(3, 5, 5)
    assert conv(x).shape == (4, 5, 5)
    np.testing.assert_allclose(conv(x).detach().numpy(), conv(x.unsqueeze(0))[0].detach().numpy(), rtol=1e-6)
    assert nn.Conv1d(3, 4, 3)(t(3, 8)).shape == (4, 6)
    assert nn.ConvTranspose2d(3, 4, 2, stride=2)(t(3, 4, 4)).shape == (4, 8, 8)


def test_conv_transpose_output_size_picks_the_output_padding() -> None:
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = t(1, 2, 4, 4)
    assert up(x).shape == (1, 3, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    assert up(x, output_size=[1, 3, 8, 7]).shape == (1, 3, 8, 7)
    np.testing.assert_array_equal(
        up(x, output_size=(8, 8)).detach().numpy(),
        F.conv_transpose2d(x, up.weight, up.bias, 2, 1, output_padding=1).detach().numpy(),
    )
    with pytest.raises(
        ValueError,
        match=r"requested an output size of \[9, 9\], but valid sizes range from \[7, 7\] to \[8, 8\]",
    ):
        up(x, output_size=(9, 9))


def test_conv_transpose_is_the_gradient_of_conv() -> None:
    """conv_transpose2d(g, W) = d/dx ⟨conv2d(x, W), g⟩, for a strided, padded, dilated, grouped conv."""
    x, w = t(2, 4, 9, 8, requires_grad=True), t(6, 2, 3, 2, seed=1)
    y = F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2), groups=2)
    g = t(*y.shape, seed=2)
    (y * g).sum().backward()
    up = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1), dilation=(1, 2), groups=2)
    assert up.shape == x.shape
    np.testing.assert_allclose(up.detach().numpy(), x.grad.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("kernel", "padding"), [((3, 3), (1, 1)), ((5, 3), (2, 0)), ((1, 1), (0, 0)), ((3, 3), (2, 2))]
)
@pytest.mark.parametrize("channels", [(3, 3), (4, 2), (2, 4)])  # (C, O): O ≤ C takes the convolution path
def test_stride_1_input_gradient_as_a_convolution_equals_col2im(monkeypatch, kernel, padding, channels):
    """dx of a stride-1 convolution, computed as a convolution of g with the flipped filters."""
    from tinylearn.ops import conv

    c, o = channels
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, c, 6, 7))
    w = rng.standard_normal((o, c, *kernel))
    g = rng.standard_normal(F.conv2d(tl.tensor(x), tl.tensor(w), padding=padding).shape)
    geo = conv.Geometry(kernel, (1, 1), padding, (1, 1), 1, (6, 7), tuple(g.shape[2:]))
    assert conv._as_convolution(geo, w) == (o <= c)
    results = []
    for flag in (True, False):
        monkeypatch.setattr(conv, "TRANSPOSE_AS_CONVOLUTION", flag)
        xt = tl.tensor(x, requires_grad=True)
        F.conv2d(xt, tl.tensor(w), padding=padding).backward(tl.tensor(g))
        results.append(xt.grad.numpy())
        results.append(F.conv_transpose2d(tl.tensor(g), tl.tensor(w), padding=padding).numpy())
    np.testing.assert_allclose(results[0], results[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[1], results[3], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)  # dx is conv_transpose(g)


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d", "expected"),
    [(28, 5, 1, 2, 1, 28), (32, 3, 2, 1, 1, 16), (7, 3, 2, 0, 1, 3), (10, 3, 1, 0, 2, 6), (5, 5, 1, 0, 1, 1),
     (4, 5, 1, 0, 1, 0), (227, 11, 4, 0, 1, 55), (14, 2, 2, 0, 1, 7)],
)  # fmt: skip
def test_conv_output_size(size, k, s, p, d, expected) -> None:
    """⌊(W − K + 2P)/S⌋ + 1 (with dilation, K → D·(K − 1) + 1), and the real output agrees."""
    assert nn.conv_output_size(size, k, s, p, d) == expected
    if d == 1:
        assert (size - k + 2 * p) // s + 1 == expected or expected == 0
    if expected:
        assert (
            F.conv2d(t(1, 1, size, 3), t(1, 1, k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1)).shape[2]
            == expected
        )


def test_conv_output_size_with_ceil_mode_drops_a_window_starting_in_the_padding() -> None:
    assert nn.conv_output_size(5, 2, 2, ceil_mode=False) == 2
    assert nn.conv_output_size(5, 2, 2, ceil_mode=True) == 3
    assert (
        nn.conv_output_size(4, 2, 2, padding=1, ceil_mode=True) == 3
    )  # not 4: it would start in the padding
    assert F.max_pool2d(t(1, 1, 4, 4), 2, padding=1, ceil_mode=True).shape == (1, 1, 3, 3)


def test_float16_weights_compute_in_float32_and_stay_float16() -> None:
    x, w = t(1, 2, 5, 5), t(3, 2, 3, 3, seed=1)
    y = F.conv2d(x.half(), w.half(), padding=1)
    assert y.dtype == tl.float16
    np.testing.assert_allclose(
        y.float().detach().numpy(), F.conv2d(x, w, padding=1).detach().numpy(), rtol=2e-2, atol=2e-2
    )


def test_weight_gradient_without_input_gradient_and_the_reverse() -> None:
    """The first layer computes no input gradient (its input needs none), and a frozen layer
    passes the input gradient without computing its own."""
    conv = nn.Conv2d(2, 3, 3)
    x = t(2, 2, 5, 5)
    conv(x).sum().backward()
    assert x.grad is None and conv.weight.grad is not None and conv.bias.grad.shape == (3,)
    conv.requires_grad_(False)
    x2 = t(2, 2, 5, 5, requires_grad=True)
    conv(x2).sum().backward()
    assert x2.grad is not None and x2.grad.shape == x2.shape


def test_the_im2col_matrix_is_kept_for_backward_only_up_to_a_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept (no rebuild in backward) when small, rebuilt when larger than KEEP_COLS_BYTES: the
    gradients are the same either way; nothing is kept when no weight gradient is wanted."""
    from tinylearn.ops import conv as conv_ops

    x, w = t(2, 3, 6, 6, requires_grad=True), t(4, 3, 3, 3, seed=1, requires_grad=True)
    grads = []
    for limit, kept in ((conv_ops.KEEP_COLS_BYTES, True), (0, False)):
        monkeypatch.setattr(conv_ops, "KEEP_COLS_BYTES", limit)
        y = F.conv2d(x, w, padding=1)
        assert hasattr(y.grad_fn, "cols") == kept
        grads.append(tl.autograd.grad(y.square().sum(), (x, w)))
    for a, b in zip(*grads, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not hasattr(F.conv2d(x, w.detach()).grad_fn, "cols")


# --------------------------------------------------------------------------- errors


def test_errors_name_the_op_the_shapes_and_the_expectation() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"conv2d: given groups=1, weight of size \[16, 3, 5, 5\].*"
        r"expected input\[2, 1, 28, 28\] to have 3 channels, but got 1",
    ):
        F.conv2d(t(2, 1, 28, 28), t(16, 3, 5, 5))
    with pytest.raises(
        RuntimeError,
        match=r"conv2d: expected 3D \(unbatched\) or 4D \(batched\) input, but got input of size: \[2, 3\]",
    ):
        F.conv2d(t(2, 3), t(1, 3, 1, 1))
    with pytest.raises(RuntimeError, match=r"conv2d: expected a 4-D weight"):
        F.conv2d(t(1, 3, 4, 4), t(3, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv2d: expected bias of shape \(4,\)"):
        F.conv2d(t(1, 3, 4, 4), t(4, 3, 3, 3), t(3))
    with pytest.raises(
        RuntimeError,
        match=r"conv2d: input of size \[1, 1, 3, 3\] with padding \(0, 0\) is smaller than the dilated "
        r"kernel \(5, 5\)",
    ):
        F.conv2d(t(1, 1, 3, 3), t(1, 1, 5, 5))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), padding="full")
    with pytest.raises(RuntimeError, match=r"out_channels \(3\) must be divisible by groups \(2\)"):
        F.conv2d(t(1, 4, 5, 5), t(3, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"conv1d: given groups=1, weight of size \[2, 4, 3\]"):
        F.conv1d(t(1, 3, 9), t(2, 4, 3))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(t(1, 2, 3, 3), t(2, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(
        TypeError, match=r"conv2d: stride must be an int or a tuple of 2 ints, got \(1, 2, 3\)"
    ):
        F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=(1, 2, 3))
    with pytest.raises(RuntimeError, match="expected floating point input"):
        F.conv2d(tl.ones(1, 1, 3, 3, dtype=tl.int64), t(1, 1, 1, 1))


def test_module_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Only 'zeros' padding mode is supported for ConvTranspose2d"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


# --------------------------------------------------------------------------- learning


def test_a_convolution_learns_an_edge_detector() -> None:
    """SGD recovers a vertical-edge filter from its outputs: the loss falls by 1000× and the
    learned weights approach the true ones."""
    tl.manual_seed(0)
    true = tl.tensor([[[[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]]])
    x = t(16, 1, 10, 10, seed=4)
    target = F.conv2d(x, true, padding=1)
    conv = nn.Conv2d(1, 1, 3, padding=1)
    opt = tl.optim.SGD(conv.parameters(), lr=0.05, momentum=0.9)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = F.mse_loss(conv(x), target)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first / 1000
    np.testing.assert_allclose(conv.weight.detach().numpy(), true.detach().numpy(), atol=0.05)

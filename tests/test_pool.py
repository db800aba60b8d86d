"""Pooling and resampling beyond the op catalogue: the layers (no state, PyTorch's reprs),
PyTorch's conventions (ties, NaN, padding divisors, ceil_mode, nearest and bilinear source
pixels) on hand-checked examples, and the error messages."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.nn.functional as F
from tinylearn import nn


def t(*shape, seed=0, requires_grad=False):
    rng = np.random.default_rng(seed)
    return tl.tensor(rng.standard_normal(shape), dtype=tl.float32, requires_grad=requires_grad)


def np_of(x):
    return x.detach().numpy()


@pytest.mark.parametrize(
    ("module", "text"),
    [
        (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (nn.MaxPool2d((3, 2), 1, 1, ceil_mode=True),
         "MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, dilation=1, ceil_mode=True)"),
        (nn.AvgPool2d(3, 1, 1), "AvgPool2d(kernel_size=3, stride=1, padding=1)"),
        (nn.AdaptiveAvgPool2d((1, 1)), "AdaptiveAvgPool2d(output_size=(1, 1))"),
        (nn.AdaptiveAvgPool2d(7), "AdaptiveAvgPool2d(output_size=7)"),
        (nn.Upsample(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
        (nn.Upsample(size=(4, 5), mode="bilinear", align_corners=True),
         "Upsample(size=(4, 5), mode='bilinear')"),
    ],
)  # fmt: skip
def test_layers_have_no_state_and_pytorchs_repr(module, text) -> None:
    assert repr(module) == text
    assert module.state_dict() == {} and list(module.parameters()) == []


def test_layers_call_the_functions() -> None:
    x = t(2, 3, 7, 6)
    np.testing.assert_array_equal(np_of(nn.MaxPool2d(3, 2, 1)(x)), np_of(F.max_pool2d(x, 3, 2, 1)))
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert values.shape == indices.shape == (2, 3, 3, 3) and indices.dtype == tl.int64
    np.testing.assert_array_equal(
        np_of(nn.AvgPool2d(2, count_include_pad=False, padding=1)(x)),
        np_of(F.avg_pool2d(x, 2, padding=1, count_include_pad=False)),
    )
    np.testing.assert_array_equal(
        np_of(nn.AdaptiveAvgPool2d((2, 3))(x)), np_of(F.adaptive_avg_pool2d(x, (2, 3)))
    )
    assert nn.Upsample(scale_factor=(2, 1.5))(x).shape == (2, 3, 14, 9)
    assert nn.Upsample(size=5, mode="bilinear")(x).shape == (2, 3, 5, 5)


# --------------------------------------------------------------------------- max pooling


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie() -> None:
    x = tl.tensor([[[[1.0, 5.0, 5.0, 2.0], [5.0, 0.0, 1.0, 5.0]]]], requires_grad=True)
    y, indices = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(np_of(y), [[[[5.0, 5.0]]]])
    np.testing.assert_array_equal(indices.numpy(), [[[[1, 2]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1, 1, 0], [0, 0, 0, 0]]]])


def test_max_pool_overlapping_windows_add_their_gradients() -> None:
    x = tl.tensor([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # 9 is the maximum of two of the four windows
    assert x.grad.numpy()[0, 0, 0, 1] == 2.0


def test_max_pool_nan_wins_and_padding_is_never_picked() -> None:
    x = tl.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    assert np.isnan(np_of(F.max_pool2d(x, 2))).all()
    _, indices = F.max_pool2d(
        -tl.ones(1, 1, 2, 2) * float("inf"), 2, stride=1, padding=1, return_indices=True
    )
    np.testing.assert_array_equal(indices.numpy(), [[[[0, 0, 1], [0, 0, 1], [2, 2, 3]]]])


def test_max_pool_ceil_mode_and_dilation_shapes_are_pytorchs() -> None:
    x = t(1, 1, 5, 5)
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    assert F.max_pool2d(x, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool2d(x, 3, stride=1, dilation=2).shape == (1, 1, 1, 1)
    assert F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True).shape == (1, 1, 3, 3)


def test_unbatched_pooling() -> None:
    x = t(3, 6, 6)
    y, indices = F.max_pool2d(x, 2, return_indices=True)
    assert y.shape == indices.shape == (3, 3, 3)
    np.testing.assert_array_equal(np_of(y), np_of(F.max_pool2d(x.unsqueeze(0), 2)[0]))
    assert F.avg_pool2d(x, 3).shape == (3, 2, 2)
    assert F.adaptive_avg_pool2d(x, 1).shape == (3, 1, 1)


# --------------------------------------------------------------------------- average pooling


def test_avg_pool_divisors_with_padding_and_ceil_mode() -> None:
    """A 3×3 image of ones, 2×2 windows, stride 2, padding 1: the corner window holds 1 real
    pixel of 4. count_include_pad divides by 4; otherwise by the real pixels."""
    x = tl.ones(1, 1, 3, 3)
    np.testing.assert_allclose(np_of(F.avg_pool2d(x, 2, 2, padding=1)), [[[[0.25, 0.5], [0.5, 1.0]]]])
    np.testing.assert_allclose(
        np_of(F.avg_pool2d(x, 2, 2, padding=1, count_include_pad=False)), np.ones((1, 1, 2, 2))
    )
    # ceil_mode on 4×4 with 3×3 windows at -1, 1, 3: the last one hangs past the padding and
    # counts only up to its edge (2 wide, 1 real pixel); per dim real (2, 3, 1) over (3, 3, 2)
    y = F.avg_pool2d(tl.ones(1, 1, 4, 4), 3, 2, padding=1, ceil_mode=True)
    expected = np.outer([2, 3, 1], [2, 3, 1]) / np.outer([3, 3, 2], [3, 3, 2])
    np.testing.assert_allclose(np_of(y)[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(np_of(F.avg_pool2d(x, 3, divisor_override=2)), [[[[4.5]]]])


def test_avg_pool_gradient_spreads_evenly() -> None:
    x = tl.zeros(1, 1, 4, 4, requires_grad=True)
    F.avg_pool2d(x, 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 1, 4, 4), 0.25))


def test_adaptive_avg_pool_bins_overlap_like_pytorchs() -> None:
    x = tl.tensor(np.arange(5.0).reshape(1, 1, 1, 5))
    # 5 → 3 bins: [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(np_of(F.adaptive_avg_pool2d(x, (1, 3))), [[[[0.5, 2.0, 3.5]]]])
    np.testing.assert_allclose(np_of(F.adaptive_avg_pool2d(x, (None, 1))), [[[[2.0]]]])


# --------------------------------------------------------------------------- interpolate


def test_nearest_picks_floor_of_dst_times_in_over_out() -> None:
    x = tl.tensor(np.arange(4.0).reshape(1, 1, 4))
    np.testing.assert_array_equal(np_of(F.interpolate(x, size=6)), [[[0, 0, 1, 2, 2, 3]]])
    np.testing.assert_array_equal(np_of(F.interpolate(x, scale_factor=2)), [[[0, 0, 1, 1, 2, 2, 3, 3]]])
    np.testing.assert_array_equal(np_of(F.interpolate(x, size=3)), [[[0, 1, 2]]])


def test_nearest_by_an_integer_factor_sums_the_copies_backward() -> None:
    x = tl.ones(1, 2, 2, 3, requires_grad=True)
    F.interpolate(x, scale_factor=(2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 2, 2, 3), 6.0))


def test_bilinear_with_and_without_align_corners() -> None:
    x = tl.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    corners = F.interpolate(x, size=3, mode="bilinear", align_corners=True)
    np.testing.assert_allclose(np_of(corners), [[[[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]]]])
    # align_corners=False: src = (dst + ½)·in/out − ½, clamped at 0: 0, 0.25, 0.75, 1 (×2 → 4)
    halves = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(np_of(halves)[0, 0, 0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(np_of(halves)[0, 0, :, 0], [0.0, 0.5, 1.5, 2.0])


def test_linear_mode_and_unchanged_sizes() -> None:
    x = tl.tensor([[[0.0, 2.0, 4.0]]])
    np.testing.assert_allclose(
        np_of(F.interpolate(x, size=5, mode="linear", align_corners=True)), [[[0, 1, 2, 3, 4]]]
    )
    same = F.interpolate(x, size=3, mode="linear")
    np.testing.assert_array_equal(np_of(same), np_of(x))


# --------------------------------------------------------------------------- errors


def test_pooling_errors() -> None:
    with pytest.raises(
        RuntimeError,
        match="pad should be at most half of effective kernel size, but got pad=2, kernel_size=3",
    ):
        F.max_pool2d(t(1, 1, 5, 5), 3, padding=2)
    with pytest.raises(
        RuntimeError,
        match=r"max_pool2d: given input size \(1, 2, 2\), the calculated output size \(1, 0, 0\) is too "
        r"small",
    ):
        F.max_pool2d(t(1, 1, 2, 2), 3)
    with pytest.raises(
        RuntimeError,
        match=r"max_pool2d: expected 3D \(unbatched\) or 4D \(batched\) input, but got input of size: \[4\]",
    ):
        F.max_pool2d(t(4), 2)
    with pytest.raises(RuntimeError, match=r"kernel_size .* must be greater than zero"):
        F.avg_pool2d(t(1, 1, 4, 4), 0)
    with pytest.raises(RuntimeError, match="avg_pool2d: divisor must be a non-zero int"):
        F.avg_pool2d(t(1, 1, 4, 4), 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="max_pool2d: expected a floating point input, got int64"):
        F.max_pool2d(tl.ones(1, 1, 4, 4, dtype=tl.int64), 2)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size must be an int, None or a pair"):
        F.adaptive_avg_pool2d(t(1, 1, 4, 4), (1, 2, 3))


def test_interpolate_errors() -> None:
    x = t(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(
        NotImplementedError, match="mode must be one of nearest, linear, bilinear, got 'bicubic'"
    ):
        F.interpolate(x, size=2, mode="bicubic")
    with pytest.raises(
        NotImplementedError, match=r"mode 'bilinear' needs a 4-D input, got 3-D input \[1, 1, 4\]"
    ):
        F.interpolate(t(1, 1, 4), size=2, mode="bilinear")
    with pytest.raises(
        ValueError, match=r"size must be a positive int or a tuple of 2 of them .* got \(2, 2, 2\)"
    ):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="makes the input size"):
        F.interpolate(x, scale_factor=0.1)

"""``tinylearn.viz.plot_filters``: a convolution's filters as one panel each."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl


def test_one_panel_per_filter_from_a_conv_weight_and_saved(tmp_path) -> None:
    conv = tl.nn.Conv2d(1, 6, 5)
    fig = tl.viz.plot_filters(conv.weight, tmp_path / "filters.png", "six filters")
    assert len(fig.axes) == 6 and fig._suptitle.get_text() == "six filters"
    image = fig.axes[2].images[0]
    np.testing.assert_allclose(image.get_array(), conv.weight.detach().numpy()[2, 0])
    low, high = image.get_clim()
    assert low == -high == -np.abs(conv.weight.detach().numpy()[2]).max()  # symmetric: white is 0
    assert (tmp_path / "filters.png").read_bytes()[:4] == b"\x89PNG"


def test_a_single_filter_and_an_all_zero_one() -> None:
    fig = tl.viz.plot_filters(np.zeros((1, 3, 3)))
    assert len(fig.axes) == 1 and "1 learned 3x3 filters" in fig._suptitle.get_text()


@pytest.mark.parametrize("shape", [(6, 3, 5, 5), (5, 5), (0, 3, 3)])
def test_other_shapes_are_refused_with_the_shape_named(shape) -> None:
    with pytest.raises(ValueError, match=r"plot_filters: expected filters of shape \(K, kh, kw\)"):
        tl.viz.plot_filters(np.zeros(shape))

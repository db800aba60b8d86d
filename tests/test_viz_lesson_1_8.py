"""The interactive figures of lesson 1.8 (tinylearn.viz.lesson_1_8), driven headlessly.

Each ``update`` is called at its default and at other parameters; the rendered pixels must differ
(the figure follows its controls). The numbers behind the figures are checked against the library and
against direct NumPy computations.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

import tinylearn as tl
from tinylearn import nn
from tinylearn.viz import lesson_1_8 as v
from tinylearn.viz import registry


def pixels(fig) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


CASES = [
    (v.kernel_slide, {"frame": 10}, {"frame": 400, "kernel": "blur"}),
    (v.output_size_explorer, {}, {"stride": 2, "padding": 2, "dilation": 2}),
    (v.channel_conv_step, {}, {"step": 5}),
    (v.pooling_view, {}, {"mode": "avg", "kernel": 3, "stride": 1}),
    (v.gradient_flow, {"depth": 4}, {"depth": 8}),
]


@pytest.mark.parametrize(("update", "base", "changed"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_update_draws_a_figure_that_follows_its_parameters(update, base, changed):
    from matplotlib.figure import Figure

    first = update(**base)
    assert isinstance(first, Figure)
    a, b = pixels(first), pixels(update(**changed))
    again = pixels(update(**base))
    assert a.shape == b.shape
    assert np.array_equal(a, again), "the same parameters must draw the same figure (pure update)"
    assert not np.array_equal(a, b), "changing the parameters must change the figure"


def test_every_figure_is_registered_for_its_subsection():
    specs = {s.func.__name__: s.section for s in registry.registered() if s.name.startswith(v.__name__)}
    assert specs == {
        "kernel_slide": "1.8.1",
        "output_size_explorer": "1.8.2",
        "channel_conv_step": "1.8.3",
        "pooling_view": "1.8.3",
        "gradient_flow": "1.8.5",
    }
    assert set(v.CONTROLS) == set(specs)
    assert v.CONTROLS["kernel_slide"]["kernel"] == list(v.KERNELS)


def test_feature_map_is_the_cross_correlation_formula():
    img = v.digit(3)
    assert img.shape == (28, 28) and img.min() >= 0.0 and img.max() <= 1.0
    for name, k in v.KERNELS.items():
        out = v.feature_map(img, k)
        windows = np.lib.stride_tricks.sliding_window_view(img, (3, 3))
        assert np.allclose(out, np.einsum("ijmn,mn->ij", windows, k), atol=1e-5), name
    assert np.allclose(v.feature_map(img, v.KERNELS["identity"]), img[1:-1, 1:-1])
    assert v.feature_map(img, v.KERNELS["blur"], padding=1).shape == (28, 28)


def test_output_size_explorer_agrees_with_conv2d():
    for size, k, s, p, d in [(7, 3, 1, 0, 1), (9, 3, 2, 1, 2), (8, 3, 2, 0, 1), (12, 5, 3, 2, 1)]:
        want = nn.conv_output_size(size, k, s, p, d)
        assert v._conv_shape(size, k, s, p, d) == (want, want)
    assert "no window fits" in v._conv_shape(3, 5, 1, 0, 1)
    v.output_size_explorer(size=3, kernel=5)  # draws the empty case without failing


def test_channel_example_sums_over_channels_plus_bias():
    x, w, b = v.channel_example(0)
    y = tl.nn.functional.conv2d(tl.tensor(x[None]), tl.tensor(w[None]), tl.tensor(np.array([b], np.float32)))
    assert y.shape == (1, 1, 3, 3)
    by_hand = sum(np.sum(x[c, 1:4, 2:5] * w[c]) for c in range(3)) + b
    assert y.numpy()[0, 0, 1, 2] == pytest.approx(by_hand)


def test_gradient_flow_numbers_vanish_without_shortcuts_only():
    plain, res = v.layer_gradient_norms(20, False), v.layer_gradient_norms(20, True)
    assert plain.shape == res.shape == (21,)
    assert np.all(plain > 0) and np.all(res > 0)
    assert plain[0] / plain[-1] < 1e-4  # the plain network's first layer barely gets a gradient
    assert 0.1 < res[0] / res[-1] < 10  # the highway keeps it of the same size
    assert np.array_equal(v.layer_gradient_norms(20, True), res)  # deterministic


def test_layer_shapes_count_every_parameter_of_the_library_models():
    m = tl.models.resnet20()
    modules = [m.conv1, m.bn1, m.relu, *m.layer1, *m.layer2, *m.layer3, m.avgpool, nn.Flatten(), m.fc]
    rows = v.layer_shapes(modules, (3, 32, 32))
    assert sum(p for *_, p in rows) == m.num_parameters() == 269_722
    assert rows[0][1] == (16, 32, 32) and rows[-1][1] == (10,)
    assert [r[1] for r in rows if r[0] == "res block/2"] == [(32, 16, 16), (64, 8, 8)]
    alex = v.alexnet_layers()
    assert alex[0][1] == (96, 55, 55) and alex[7][1] == (256, 6, 6)
    assert alex[8][2] == 256 * 6 * 6 * 4096 + 4096
    assert sum(p for *_, p in alex) == 62_378_344
    v.architecture_figure(rows, "ResNet-20")


def test_slide_animation_has_the_requested_frames():
    anim = v.kernel_slide_animation(frames=3, interval=50)
    html = anim.to_jshtml()
    assert html.count("data:image/png") >= 3


def test_widget_needs_ipywidgets_or_builds_controls():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="ipywidgets"):
            v.widget(v.pooling_view)
    else:
        box = v.widget(v.pooling_view)
        names = [c.description for c in box.children if hasattr(c, "description")]
        assert names == ["mode", "kernel", "stride", "seed"]

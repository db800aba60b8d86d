"""The interactive figures of lesson 1.2 (tinylearn.viz.lesson_1_2), driven headlessly.

Each ``update`` is called at its default and at other parameters; the rendered pixels must differ
(the figure follows its controls) and the same parameters must draw the same pixels (pure). The
numbers behind the figures are checked against closed forms: the activations' values and
derivatives, the best straight line, the hand-built networks, the cached training.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

from tinylearn import lessons
from tinylearn.viz import lesson_1_2 as v
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]
FAST_TRAIN = {"steps": 30}  # the stacking figure trains a network: keep it short in the tests


def pixels(fig) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


# One case per figure (each renders three times; rendering is the slow part), each changing a
# different kind of control: a slider, a toggle, a choice.
CASES = [
    (v.linear_boundary, {}, {"dataset": "circles", "angle": 120.0}),
    (v.sigmoid_explorer, {}, {"x": -3.0}),
    (v.tanh_explorer, {}, {"compare_sigmoid": False}),
    (v.relu_explorer, {}, {"show_derivative": False}),
    (v.leaky_relu_explorer, {}, {"negative_slope": 0.3}),
    (v.gelu_explorer, {}, {"approximate": "tanh", "x": 2.0}),
    (v.silu_explorer, {}, {"compare_relu": True}),
    (v.activation_comparison, {}, {"tanh": False}),
    (v.stacking_layers, FAST_TRAIN, {**FAST_TRAIN, "width": 2, "show_units": False}),
    (v.forward_pass, {}, {"frame": 1, "x1": -1.0}),
]


@pytest.mark.parametrize(("update", "base", "changed"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_update_draws_a_figure_that_follows_its_parameters(update, base, changed):
    from matplotlib.figure import Figure

    first = update(**base)
    assert isinstance(first, Figure)
    a, b = pixels(first), pixels(update(**changed))
    again = pixels(update(**base))
    assert np.array_equal(a, again), "the same parameters must draw the same figure (pure update)"
    assert a.shape != b.shape or not np.array_equal(a, b), "changing the parameters must change the figure"


def test_every_figure_is_registered_for_its_subsection():
    specs = {s.func.__name__: s.section for s in registry.registered() if s.name.startswith(v.__name__)}
    assert specs == {
        "linear_boundary": "1.2.1",
        "sigmoid_explorer": "1.2.3",
        "tanh_explorer": "1.2.3",
        "relu_explorer": "1.2.3",
        "leaky_relu_explorer": "1.2.3",
        "gelu_explorer": "1.2.3",
        "silu_explorer": "1.2.3",
        "activation_comparison": "1.2.3",
        "stacking_layers": "1.2.4",
        "forward_pass": "1.2.5",
    }
    assert set(v.CONTROLS) == set(specs)


def test_controls_name_real_parameters_and_fit_the_defaults():
    import inspect

    for name, controls in v.CONTROLS.items():
        params = inspect.signature(getattr(v, name)).parameters
        for param, spec in controls.items():
            default = params[param].default
            if isinstance(spec, tuple):
                assert spec[0] <= default <= spec[1], (name, param)
            elif isinstance(spec, list):
                assert default in spec, (name, param)
            else:
                assert spec is bool and isinstance(default, bool), (name, param)


def _phi(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _Phi(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _sig(x):
    return 1 / (1 + np.exp(-x))


CLOSED_FORMS = {
    "sigmoid": (_sig, lambda x: _sig(x) * (1 - _sig(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "gelu": (lambda x: x * _Phi(x), lambda x: _Phi(x) + x * _phi(x)),
    "silu": (lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * (1 - _sig(x)))),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_activation_and_derivative_match_closed_forms(name):
    x = np.array([-6.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.5, 6.0])
    f, df = v.activation_and_derivative(name, x)
    want_f, want_df = CLOSED_FORMS[name]
    assert f.shape == df.shape == x.shape
    np.testing.assert_allclose(f, want_f(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(df, want_df(x), rtol=1e-10, atol=1e-12)


def test_activation_options_reach_the_library():
    _, d = v.activation_and_derivative("leaky_relu", [-1.0, 0.0, 1.0], negative_slope=0.2)
    np.testing.assert_allclose(d, [0.2, 0.2, 1.0])  # at 0 the slope is alpha (where(x > 0, ...))
    exact, _ = v.activation_and_derivative("gelu", [1.0])
    approx, _ = v.activation_and_derivative("gelu", [1.0], approximate="tanh")
    assert 1e-5 < abs(exact[0] - approx[0]) < 1e-3
    with pytest.raises(ValueError, match="unknown activation"):
        v.activation_and_derivative("swishy", [0.0])


def test_best_line_is_three_corners_of_xor_and_perfect_on_separable_data():
    X, y = v.lesson_dataset("xor")
    assert X.shape == (200, 2) and set(np.unique(y)) == {0, 1}
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    angle, offset, acc = v.best_linear_boundary(X, y)
    assert 0.70 <= acc <= 0.80
    assert v._line_accuracy(X, y, angle, offset) == pytest.approx(acc)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    assert v.best_linear_boundary(corners, np.array([0, 0, 1, 1]))[2] == pytest.approx(0.75)
    separable = np.array([[-1.0, 0.0], [-0.5, 0.3], [0.6, -0.2], [1.0, 0.1]])
    a, o, acc = v.best_linear_boundary(separable, np.array([0, 0, 1, 1]))
    assert acc == 1.0 and v._line_accuracy(separable, np.array([0, 0, 1, 1]), a, o) == 1.0


def test_no_random_line_beats_the_best_line():
    X, y = v.lesson_dataset("moons")
    _, _, best = v.best_linear_boundary(X, y)
    rng = np.random.default_rng(0)
    for angle, offset in zip(rng.uniform(-180, 180, 300), rng.uniform(-1.5, 1.5, 300), strict=True):
        assert v._line_accuracy(X, y, angle, offset) <= best + 1e-12


def test_unknown_dataset_is_an_error():
    with pytest.raises(ValueError, match="unknown data set"):
        v.lesson_dataset("donut")


def test_hand_made_xor_networks_classify_the_corners():
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    trace = v.forward_trace(v.two_unit_xor_net(), corners)
    assert [name for name, _ in trace] == ["input", "0: Linear", "1: ReLU", "2: Linear"]
    np.testing.assert_allclose(trace[2][1], [[0, 0], [0, 0], [2, 0], [0, 2]])
    np.testing.assert_allclose(trace[-1][1][:, 0], [-2, -2, 2, 2])
    out = v.forward_trace(v.corner_network(), corners)
    z1 = corners @ np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]]).T - 1
    np.testing.assert_allclose(out[1][1], z1)
    np.testing.assert_allclose(out[2][1], np.maximum(z1, 0))
    np.testing.assert_allclose(out[-1][1][:, 0], 1 / (1 + np.exp(-np.array([-4, -4, 4, 4]))), rtol=1e-6)


def test_hinge_network_interpolates_and_sawtooth_doubles_pieces():
    import tinylearn as tl

    knots = np.linspace(-np.pi, np.pi, 9)
    net = v.hinge_network(np.sin, 8, -np.pi, np.pi)
    with tl.no_grad():
        at_knots = net(tl.tensor(knots.astype(np.float32)[:, None])).numpy()[:, 0]
        mid = net(tl.tensor(np.array([[0.5 * (knots[2] + knots[3])]], np.float32))).numpy()[0, 0]
    np.testing.assert_allclose(at_knots, np.sin(knots), atol=1e-5)
    assert mid == pytest.approx(0.5 * (np.sin(knots[2]) + np.sin(knots[3])), abs=1e-5)  # straight between
    line = np.linspace(0, 1, 1025, dtype=np.float32)[:, None]
    for depth in (1, 3):
        with tl.no_grad():
            vals = v.sawtooth_network(depth)(tl.tensor(line)).numpy()[:, 0].astype(np.float64)
        slopes = np.round(np.diff(vals) / np.diff(line[:, 0].astype(np.float64)))
        assert 1 + np.sum(slopes[1:] != slopes[:-1]) == 2**depth
        assert np.all(np.abs(slopes) == 2**depth)


def test_trained_network_learns_and_is_cached():
    run = v.trained_network("xor", width=4, depth=1, steps=150)
    assert run.accuracy > 0.95
    assert run.n_params == 2 * 4 + 4 + 4 + 1
    assert run.first_weight.shape == (4, 2) and run.first_bias.shape == (4,)
    assert run.losses.shape == (150,) and run.losses[-1] < run.losses[0]
    assert run.grid.min() >= 0 and run.grid.max() <= 1
    assert not run.grid.flags.writeable  # shared by the cache: read-only
    assert v.trained_network("xor", 4, 1, "relu", 150) is run  # positional or keyword: one cache entry
    deeper = v.trained_network("xor", width=4, depth=2, steps=150)
    assert deeper.n_params == run.n_params + 4 * 4 + 4
    assert deeper.description == "2 → 4 → 4 → 1"


def test_train_classifier_reduces_the_loss_of_a_linear_model():
    import tinylearn as tl
    from tinylearn import nn

    X, y = v.lesson_dataset("blobs")
    tl.manual_seed(0)
    model = nn.Linear(2, 1)
    losses = v.train_classifier(model, X, y, steps=60, lr=0.05)
    assert len(losses) == 60 and losses[-1] < 0.5 * losses[0]


def test_widget_needs_ipywidgets_or_builds_controls():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="ipywidgets"):
            v.widget(v.relu_explorer)
    else:
        box = v.widget(v.forward_pass)
        names = [c.description for c in box.children if getattr(c, "description", "")]
        assert names == ["frame", "x1", "x2"]
        assert type(box.children[0]).__name__ == "Play"  # the frame parameter gets a play button
        box.children[1].value = 2  # redraws without error


def test_lesson_installs_from_the_configured_colab_repository_and_shows_every_widget():
    text = (REPO / "lessons" / "1.2-beyond-straight-lines.md").read_text(encoding="utf-8")
    installs = re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text)
    assert installs and set(installs) == {lessons.COLAB_REPO}
    for name in v.CONTROLS:
        assert f"show_widget(viz12.{name})" in text, name


def test_the_hidden_layer_makes_xor_separable_by_one_line():
    X, y = v.lesson_dataset("xor")
    hidden = v.forward_trace(v.two_unit_xor_net(), X)[2][1]
    assert np.all(hidden >= 0)
    assert np.mean((hidden.sum(axis=1) > 1) == (y == 1)) > 0.95  # the line h1 + h2 = 1
    assert v.best_linear_boundary(X, y)[2] < 0.8  # while in the input plane no line does
    fig = v.xor_hidden_space()
    assert len(fig.axes) == 2

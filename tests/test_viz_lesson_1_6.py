"""The interactive figures of lesson 1.6 (tinylearn.viz.lesson_1_6), driven headlessly, and the numbers
behind them checked against the variance argument of the lesson (n·Var(w) per layer, ½ for ReLU)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

import tinylearn as tl
from tinylearn import lessons
from tinylearn.nn import init
from tinylearn.viz import lesson_1_6 as v
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]
QUICK = {"depth": 3, "steps": 8}  # keeps the training runs of initializers_compared short


def pixels(fig) -> np.ndarray:
    fig.set_dpi(40)  # small rasters: the comparison needs pixels, not detail
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


CASES = [
    (v.signal_through_depth, {}, {"log10_std": -1.2, "activation": "relu"}),
    (v.signal_through_depth, {"activation": "sigmoid", "depth": 4}, {"activation": "linear", "depth": 5}),
    (v.signal_through_depth, {"depth": 4}, {"depth": 4, "width": 64, "constant_init": True}),
    (v.initializers_compared, QUICK, {**QUICK, "he": False, "zeros": False}),
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
    assert specs == {"signal_through_depth": "1.6.1", "initializers_compared": "1.6.4"}
    assert set(v.CONTROLS) == set(specs)
    for name, controls in v.CONTROLS.items():
        import inspect

        assert set(controls) <= set(inspect.signature(getattr(v, name)).parameters), name


@pytest.mark.parametrize("c", [0.5, 1.0, 2.0])
def test_linear_stack_multiplies_the_variance_by_n_var_w_per_layer(c):
    n, depth = 128, 12
    s = v.signal_stats(math.sqrt(c / n), "linear", depth=depth, width=n)
    assert s.act_std.shape == s.grad_std.shape == (depth + 1,)
    assert s.act_std[0] == pytest.approx(1.0, rel=0.02)
    predicted = c ** (depth / 2)  # std after `depth` layers: (n σ²)^(depth/2)
    assert s.act_std[-1] == pytest.approx(predicted, rel=0.2)
    assert s.grad_std[0] == pytest.approx(predicted, rel=0.2)  # backward: fan_out = n too


def test_relu_needs_twice_the_variance():
    n, depth = 256, 20
    he = v.signal_stats(math.sqrt(2 / n), "relu", depth=depth, width=n)
    xavier = v.signal_stats(math.sqrt(1 / n), "relu", depth=depth, width=n)
    assert 0.3 < he.act_std[-1] / he.act_std[1] < 3.0
    assert xavier.act_std[-1] / xavier.act_std[1] == pytest.approx(2 ** (-(depth - 1) / 2), rel=0.5)
    assert 0.2 < he.grad_std[0] < 5.0 and xavier.grad_std[0] < 1e-2


def test_constant_init_makes_every_unit_identical():
    sym = v.signal_stats(0.05, "tanh", depth=3, width=32, constant=True)
    rand = v.signal_stats(0.05, "tanh", depth=3, width=32)
    assert v._distinct_units(sym.activations[-1]) == 1
    assert v._distinct_units(rand.activations[-1]) == 32
    assert np.allclose(sym.activations[-1], sym.activations[-1][:, :1])


def test_signal_stats_is_pure_and_read_only():
    state = tl.get_rng_state().numpy().copy()
    a, b = v.signal_stats(0.1, depth=3, width=16), v.signal_stats(0.1, depth=3, width=16)
    assert np.array_equal(tl.get_rng_state().numpy(), state)
    assert np.array_equal(a.act_std, b.act_std) and np.array_equal(a.grad_std, b.grad_std)
    with pytest.raises(ValueError):
        a.activations[1][0, 0] = 1.0
    with pytest.raises(ValueError, match="activation must be one of"):
        v.signal_stats(0.1, "swish")


def test_init_distribution_reads_the_library_formulas():
    assert v.init_distribution(init.xavier_uniform_, (100, 300)) == pytest.approx(
        ("uniform", -math.sqrt(6 / 400), math.sqrt(6 / 400))
    )
    assert v.init_distribution(init.kaiming_normal_, (64, 32, 3, 3), nonlinearity="relu") == pytest.approx(
        ("normal", 0.0, math.sqrt(2 / (32 * 9)))
    )
    kind, low, high = v.init_distribution(init.kaiming_uniform_, (10, 400), a=math.sqrt(5))
    assert kind == "uniform" and high == pytest.approx(1 / 20) and low == -high  # nn.Linear's default
    with pytest.raises(ValueError, match="does not draw from uniform_ or normal_"):
        v.init_distribution(init.zeros_, (4, 4))


def test_training_runs_tell_the_initializers_apart_and_are_cached():
    state = tl.get_rng_state().numpy().copy()
    zeros = v.train_run("zeros", "relu", depth=3, steps=15)
    he = v.train_run("he", "relu", depth=3, steps=15)
    small = v.train_run("small", "relu", depth=3, steps=15)
    assert np.array_equal(tl.get_rng_state().numpy(), state), "train_run must not disturb the global RNG"
    assert zeros.losses.shape == (15,) and zeros.layer_std.shape == (3,)
    assert np.allclose(zeros.losses, math.log(3), atol=1e-6) and np.all(zeros.layer_std == 0)
    assert np.all(zeros.layer_spread == 0)
    assert he.losses[-1] < small.losses[-1] - 0.1
    assert he.layer_std[-1] > 100 * small.layer_std[-1]
    assert v.train_run("he", activation="relu", depth=3, steps=15.0) is he  # one cache, any spelling
    with pytest.raises(ValueError):
        he.losses[0] = 0.0
    with pytest.raises(ValueError, match="scheme must be one of"):
        v.train_run("lecun")
    with pytest.raises(ValueError, match="activation must be"):
        v.train_run("he", "gelu")


def test_default_init_leaves_deep_layers_mostly_bias():
    run = v.train_run("default", "tanh", depth=10, steps=1)
    assert run.layer_spread.shape == run.layer_std.shape == (10,)
    assert run.layer_spread[-1] < 0.05 * run.layer_std[-1]  # the input-dependent part has faded
    he = v.train_run("he", "tanh", depth=10, steps=1)
    assert he.layer_spread[-1] > 0.5 * he.layer_std[-1]


def test_init_scheme_fills_a_linear_layer():
    from tinylearn import nn

    layer = nn.Linear(400, 300)
    gen = tl.Generator().manual_seed(0)
    v.init_scheme(layer, "he", gen)
    assert layer.weight.detach().numpy().std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert np.all(layer.bias.detach().numpy() == 0)
    v.init_scheme(layer, "xavier", gen)
    assert layer.weight.detach().numpy().std() == pytest.approx(math.sqrt(2 / 700), rel=0.02)
    with pytest.raises(ValueError, match="scheme must be one of"):
        v.init_scheme(layer, "ones")


def test_widget_needs_ipywidgets_or_builds_controls():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="ipywidgets"):
            v.widget(v.signal_through_depth)
    else:
        box = v.widget(v.signal_through_depth, depth=(2, 6, 1))
        controls = [c for c in box.children if hasattr(c, "description")]
        assert [c.description for c in controls] == [
            "log10_std",
            "activation",
            "depth",
            "width",
            "constant_init",
        ]
        controls[-1].value = True  # redraws without error


def test_lesson_installs_from_the_configured_colab_repository():
    text = (REPO / "lessons" / "1.6-initialization.md").read_text(encoding="utf-8")
    installs = re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text)
    assert installs and set(installs) == {lessons.COLAB_REPO}
    for k in range(1, 5):
        assert f"\n## 1.6.{k} " in text

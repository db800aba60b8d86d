"""The interactive figures of lesson 1.4 (tinylearn.viz.lesson_1_4), driven headlessly.

Each ``update`` is called at a base state and at changed parameters: the same parameters draw the same
pixels (pure, seeded), other parameters draw others. The numbers behind the figures are checked against
the library's optimizers and closed forms: the paths are the library's, the momentum arrows add up to the
next step, Adam's recorded step is m̂/(√v̂ + ε), the race covers three surfaces.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

import tinylearn as tl
from tinylearn.viz import lesson_1_4 as v
from tinylearn.viz import registry


def pixels(fig) -> np.ndarray:
    fig.set_dpi(50)  # coarse pixels are enough to see a change, and draw faster
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


SMALL_RACE = {"steps": 20, "frame": 20}
CASES = [  # (update, base parameters, [changes to them]): each change must show
    (v.sgd_minibatch, {"steps": 10}, [{"batch_size": 32}, {"lr": 0.3}]),
    (v.momentum_valley, {"steps": 12, "frame": 6}, [{"beta": 0.5}, {"show_velocity": False}]),
    (v.adam_terms, {"steps": 20}, [{"beta1": 0.5}, {"beta2": 0.9}]),
    (v.optimizer_race, SMALL_RACE, [{"surface": "saddle"}, {"frame": 5}, {"adam": False}]),
]


@pytest.mark.parametrize(("update", "base", "changes"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_update_draws_a_figure_that_follows_its_parameters(update, base, changes):
    from matplotlib.figure import Figure

    first = update(**base)
    assert isinstance(first, Figure)
    a, again = pixels(first), pixels(update(**base))
    assert np.array_equal(a, again), "the same parameters must draw the same figure (pure update)"
    for change in changes:
        b = pixels(update(**{**base, **change}))
        assert a.shape == b.shape
        assert not np.array_equal(a, b), f"changing {change} must change the figure"


def test_every_figure_is_registered_for_its_subsection_with_controls_that_fit():
    import inspect

    specs = {s.func.__name__: s.section for s in registry.registered() if s.name.startswith(v.__name__)}
    assert specs == {
        "sgd_minibatch": "1.4.1",
        "momentum_valley": "1.4.2",
        "adam_terms": "1.4.6",
        "optimizer_race": "1.4.8",
    }
    assert set(v.CONTROLS) == set(specs)
    for name, controls in v.CONTROLS.items():
        params = inspect.signature(getattr(v, name)).parameters
        assert set(controls) <= set(params), name
    race = v.CONTROLS["optimizer_race"]
    assert race["surface"] == ["rosenbrock", "beale", "saddle"]
    assert all(race[n.lower()] is bool for n in v.OPTIMIZERS)  # one toggle per optimizer


def test_sgd_path_is_the_library_sgd_and_full_batch_is_plain_gradient_descent():
    x, y = v.regression_data()
    full = v.sgd_path(0.1, v.N_POINTS, 5)
    w, b = v.SGD_START
    for k in range(1, 6):  # θ ← θ − α∇L with the closed-form MSE gradient
        r = y - (w * x + b)
        w, b = w + 0.1 * 2 * np.mean(r * x), b + 0.1 * 2 * np.mean(r)
        assert np.allclose(full[k], [w, b], rtol=1e-12)
    noisy, again = v.sgd_path(0.1, 4, 30, seed=1), v.sgd_path(0.1, 4, 30, seed=1)
    assert np.array_equal(noisy, again) and not np.allclose(noisy, v.sgd_path(0.1, 4, 30, seed=2))
    # mini-batch gradients average to the full gradient; their spread shrinks with the batch size
    g1 = v.minibatch_gradients(v.SGD_START, 1, 300, seed=0)
    g16 = v.minibatch_gradients(v.SGD_START, 16, 300, seed=0)
    r = y - (v.SGD_START[0] * x + v.SGD_START[1])
    g_full = np.array([-2 * np.mean(r * x), -2 * np.mean(r)])
    assert np.allclose(g1.mean(0), g_full, rtol=0.15)
    assert 2.5 < g1.std(0).mean() / g16.std(0).mean() < 5.5  # ≈ √16 (a bit more: no replacement)


def test_momentum_arrows_add_up_to_the_next_step_of_the_library():
    beta, lr = 0.9, 0.1
    path = v.momentum_path(beta, lr, 30)
    theta = tl.tensor(v.VALLEY.start, dtype=tl.float64, requires_grad=True)
    opt = tl.optim.SGD([theta], lr=lr, momentum=beta)
    for i in range(30):
        opt.zero_grad()
        v.valley(theta[0], theta[1]).backward()
        opt.step()
        assert np.allclose(path[i + 1], theta.detach().numpy())
        coast, push = v._momentum_parts(path, beta, lr, i)
        assert np.allclose(path[i] + coast + push, path[i + 1], atol=1e-12)
        assert np.allclose(-lr * opt.state[theta]["momentum_buffer"].numpy(), coast + push)
    # momentum gets further down the valley than plain descent at the same learning rate
    assert v.valley(*path[-1]) < 0.5 * v.valley(*v.momentum_path(0.0, lr, 30)[-1])


def test_adam_trace_records_the_library_state_and_step():
    tr = v.adam_trace(beta1=0.8, beta2=0.99, noise=0.5, steps=30)
    t, g = tr["t"], tr["g"]
    m = v_ = 0.0
    for i in range(30):
        m = 0.8 * m + 0.2 * g[i]
        v_ = 0.99 * v_ + 0.01 * g[i] ** 2
        assert tr["m"][i] == pytest.approx(m) and tr["v"][i] == pytest.approx(v_)
    expected = tr["m_hat"] / (np.sqrt(tr["v_hat"]) + 1e-8)
    assert np.allclose(tr["step"], expected, rtol=1e-6)
    assert np.allclose(tr["m_hat"], tr["m"] / (1 - 0.8**t))
    assert tr["step"][0] == pytest.approx(np.sign(g[0]), rel=1e-6)  # the first step is ±α
    assert tr["raw"][0] == pytest.approx(np.sign(g[0]) * 0.2 / np.sqrt(0.01), rel=1e-6)  # 2α uncorrected


def test_race_has_three_surfaces_and_the_adaptive_methods_leave_the_saddle_first():
    assert set(v.RACE_SURFACES) == {"rosenbrock", "beale", "saddle"}
    assert v.saddle(0.0, 0.0) == 0.25 and v.saddle(0.0, 1.0) == v.saddle(0.0, -1.0) == 0.0
    paths = v.race_paths("saddle", 40)
    assert list(paths) == list(v.OPTIMIZERS)
    assert all(p.shape == (41, 2) and not p.flags.writeable for p in paths.values())
    # the start is a hair off the ridge y = 0, where ∂f/∂y ≈ −y/2 is tiny: SGD's steps along y are tiny
    # too, while the adaptive methods divide by the gradient's size and head straight for y = 1
    assert abs(paths["SGD"][-1, 1]) < 0.05
    for name in ("AdaGrad", "RMSprop", "Adam", "AdamW"):
        assert abs(paths[name][-1, 1]) > 0.9, name
    with pytest.raises(ValueError, match="unknown surface"):
        v.race_paths("himmelblau", 10)


def test_lesson_racers_reuses_race_py_for_its_surfaces():
    from tinylearn.viz import race

    rb = v.lesson_racers("rosenbrock", ["Adam"])
    assert list(rb) == ["Adam"]
    assert np.array_equal(
        race.run_optimizer(rb["Adam"], race.SURFACES["rosenbrock"], 5),
        race.run_optimizer(race.racers("rosenbrock", ["Adam"])["Adam"], race.SURFACES["rosenbrock"], 5),
    )
    assert set(v.lesson_racers("saddle")) == set(v.OPTIMIZERS)
    with pytest.raises(ValueError):
        v.lesson_racers("saddle", ["LBFGS"])


def test_animations_render_one_frame_per_step():
    anim = v.momentum_valley_animation(steps=2, interval=50)
    assert anim.to_jshtml().count("data:image/png") >= 3  # frames 0..2
    anim = v.optimizer_race_animation("saddle", steps=20, names=["SGD", "Adam"], frames=2)
    assert anim.to_jshtml().count("data:image/png") >= 2
    assert len(list(v.momentum_valley_animation(steps=60, frames=7).new_saved_frame_seq())) == 7


def test_widget_builds_sliders_toggles_and_a_play_button():
    ipywidgets = pytest.importorskip("ipywidgets")
    box = v.widget(v.momentum_valley)
    controls = {c.description: c for c in box.children if getattr(c, "description", "")}
    assert list(controls) == ["frame", "beta", "lr", "show_velocity"]
    assert isinstance(controls["show_velocity"], ipywidgets.Checkbox)
    assert isinstance(controls["beta"], ipywidgets.FloatSlider)
    assert any(isinstance(c, ipywidgets.Play) for c in box.children)  # the frame parameter animates
    controls["beta"].value = 0.5  # redraws without error

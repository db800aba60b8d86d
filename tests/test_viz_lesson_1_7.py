"""The figures of lesson 1.7 (tinylearn.viz.lesson_1_7), driven headlessly.

The interactive schedule explorer is called at its default and at other parameters; the rendered pixels
must differ (the figure follows its controls) and repeat for the same parameters (pure). The numbers
behind every figure are checked against closed forms and against the library: the learning-rate curves
against the schedules' formulas, the measured gradient noise against σ²/B, the clipping runs and the
half-precision gradients against what clipping and loss scaling must do.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

from tinylearn import get_rng_state, lessons, manual_seed, rand
from tinylearn.viz import lesson_1_7 as v
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "lessons" / "1.7-training-in-practice.md"
STEPS = 36  # short schedule runs keep the tests fast


def pixels(fig) -> np.ndarray:
    fig.set_dpi(50)  # enough pixels to compare, a quarter of the drawing time
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


CASES = [
    ({}, {"schedule": "cosine"}),
    ({}, {"schedule": "one-cycle", "warmup": 0.3}),
    ({"schedule": "step"}, {"schedule": "step", "gamma": 0.5}),
    ({"schedule": "step"}, {"schedule": "step", "step_size": 20}),
    ({}, {"lr": 0.2}),
    ({}, {"baseline": False}),
]
_BASE_PIXELS: dict[str, np.ndarray] = {}


def _base_pixels(base: dict) -> np.ndarray:
    """The base figure drawn twice (once per test session): it must come out the same (pure update)."""
    key = repr(sorted(base.items()))
    if key not in _BASE_PIXELS:
        a = pixels(v.schedule_explorer(steps=STEPS, **base))
        again = pixels(v.schedule_explorer(steps=STEPS, **base))
        assert np.array_equal(a, again), "the same parameters must draw the same figure (pure update)"
        _BASE_PIXELS[key] = a
    return _BASE_PIXELS[key]


@pytest.mark.parametrize(("base", "changed"), CASES, ids=[str(c[1]) for c in CASES])
def test_schedule_explorer_draws_a_figure_that_follows_its_parameters(base, changed):
    from matplotlib.figure import Figure

    fig = v.schedule_explorer(steps=STEPS, **changed)
    assert isinstance(fig, Figure)
    a, b = _base_pixels(base), pixels(fig)
    assert a.shape == b.shape
    assert not np.array_equal(a, b), "changing the parameters must change the figure"


def test_only_the_schedule_explorer_is_registered_and_it_serves_1_7_2():
    specs = {s.func.__name__: s.section for s in registry.registered() if s.name.startswith(v.__name__)}
    assert specs == {"schedule_explorer": "1.7.2"}
    assert set(v.CONTROLS) == {"schedule_explorer"}
    controls = v.CONTROLS["schedule_explorer"]
    assert controls["schedule"] == v.SCHEDULES and controls["baseline"] is bool
    import inspect

    params = inspect.signature(v.schedule_explorer).parameters
    for name, spec in controls.items():  # every slider starts inside its range
        if isinstance(spec, tuple):
            lo, hi, _ = spec
            assert lo <= params[name].default <= hi, name


def test_lr_curves_follow_the_schedules_formulas():
    T, lr = 50, 0.4
    t = np.arange(T)
    assert np.allclose(v.lr_curve("constant", T, lr), lr)
    assert np.allclose(v.lr_curve("step", T, lr, step_size=20, gamma=0.5), lr * 0.5 ** (t // 20))
    assert np.allclose(v.lr_curve("exponential", T, lr, step_size=20, gamma=0.5), lr * 0.5 ** (t / 20))
    cosine = 0.01 + (lr - 0.01) * (1 + np.cos(np.pi * t / T)) / 2
    assert np.allclose(v.lr_curve("cosine", T, lr, lr_min=0.01), cosine)
    w = v.warmup_steps(T, 0.2)
    warm = v.lr_curve("warm-up + cosine", T, lr, warmup=0.2)
    assert w == 10
    assert np.allclose(warm[:w], lr * (0.01 + 0.99 * t[:w] / w))
    assert np.allclose(warm[w:], lr * (1 + np.cos(np.pi * (t[w:] - w) / (T - w))) / 2)
    one = v.lr_curve("one-cycle", T, lr, warmup=0.3)
    assert one[0] == pytest.approx(lr / 25) and one.max() == pytest.approx(lr)
    assert int(np.argmax(one)) == round(0.3 * T) - 1 and one[-1] < lr / 25 / 100
    with pytest.raises(ValueError, match="unknown schedule"):
        v.lr_curve("linear", T, lr)


def test_schedule_runs_use_the_schedule_are_cached_and_leave_the_global_generator_alone():
    manual_seed(123)
    before = get_rng_state().numpy().copy()
    run = v.schedule_run("cosine", steps=STEPS)
    assert np.array_equal(get_rng_state().numpy(), before)
    assert run.lrs.shape == run.losses.shape == (STEPS,)
    assert np.allclose(run.lrs, v.lr_curve("cosine", STEPS))
    assert np.all(np.isfinite(run.losses)) and 0.0 <= run.final_acc <= 1.0
    assert v.schedule_run("cosine", steps=STEPS, gamma=0.9) is run  # an unused parameter: the cache
    assert v.schedule_run("cosine", steps=STEPS, lr_min=0.05) is not run
    with pytest.raises(ValueError):
        run.losses[0] = 0.0  # cached results are read-only
    rand(1)  # the global generator still works as before


def test_decaying_schedules_end_lower_than_a_constant_large_learning_rate():
    constant = v.schedule_run("constant", steps=60)
    cosine = v.schedule_run("cosine", steps=60)
    assert cosine.final_loss < constant.final_loss
    assert cosine.final_acc > constant.final_acc


def test_gradient_noise_falls_like_one_over_the_batch_size():
    m = v.gradient_noise((1, 4, 16, 64), n_samples=128, repeats=12)
    assert list(m.steps_per_epoch) == [128, 32, 8, 2]
    assert np.allclose(m.theory, m.sigma2 / m.batch_sizes * (128 - m.batch_sizes) / 127)
    ratio = m.noise / m.theory
    assert np.all((ratio > 0.4) & (ratio < 2.5)), ratio  # measured around the formula
    assert np.all(np.diff(m.noise) < 0) and np.all(np.diff(m.cosine) > 0)


def test_batch_size_figure_draws():
    from matplotlib.figure import Figure

    fig = v.batch_size_figure((1, 4, 16, 64), n_samples=128, repeats=12)  # the measurement above, cached
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert pixels(fig).std() > 0


def test_clipping_keeps_the_direction_by_norm_and_bends_it_by_value():
    grads = v.line_batch_gradients(n_batches=30)
    assert grads.shape == (30, 2)
    norms = np.linalg.norm(grads, axis=1)
    assert norms.max() > 5 * np.median(norms)  # the outlier batches
    big = grads[np.argmax(norms)]
    by_norm = v._clip_2d(big, "norm", 2.0, 1.5)
    assert np.linalg.norm(by_norm) == pytest.approx(2.0, rel=1e-5)
    assert np.allclose(by_norm / np.linalg.norm(by_norm), big / np.linalg.norm(big))
    by_value = v._clip_2d(big, "value", 2.0, 1.5)
    assert np.allclose(by_value, np.clip(big, -1.5, 1.5))


def test_clipping_runs_tame_the_outlier_batches():
    runs = {mode: v.clipping_run(mode, steps=60) for mode in ("none", "norm", "value")}
    for run in runs.values():
        assert run.path.shape == (61, 2) and run.grad_norms.shape == (60,) and run.clean_loss.shape == (61,)
    assert np.array_equal(runs["none"].grad_norms[:1], runs["norm"].grad_norms[:1])  # same first batch
    late = {mode: run.clean_loss[30:].mean() for mode, run in runs.items()}
    assert late["norm"] < late["none"] / 3 and late["value"] < late["none"] / 3
    steps = np.linalg.norm(np.diff(runs["norm"].path, axis=0), axis=1)
    assert steps.max() <= 0.1 * 2.0 * (1 + 1e-5)  # lr · max_norm bounds every step
    with pytest.raises(ValueError, match="mode"):
        v.clipping_run("sideways")


def test_loss_scaling_rescues_half_precision_gradients():
    g = v.half_precision_gradients()
    assert g.scale == 2.0**16
    assert g.reference.shape == g.unscaled.shape == g.scaled.shape
    lost_plain, err_plain = v._lost(g.reference, g.unscaled)
    lost_scaled, err_scaled = v._lost(g.reference, g.scaled)
    assert lost_plain > 0.5 and err_plain > 0.5
    assert lost_scaled < 0.01 and err_scaled < 0.01
    loud = v.half_precision_gradients(loss_weight=1.0, init_scale=1.0)  # ordinary gradients need no scaling
    assert v._lost(loud.reference, loud.unscaled)[1] < 0.01


def test_static_figures_draw():
    from matplotlib.figure import Figure

    for fig in (
        v.clipping_figure(steps=60),  # the runs above, cached
        v.float16_figure(),
        v.confusion_figure(np.array([[5, 1], [0, 4]]), ["a", "b"], title="t"),
        v.image_grid(np.zeros((3, 28, 28)), ["x", "y", "z"], columns=2),
    ):
        assert isinstance(fig, Figure)
        assert pixels(fig).std() > 0


def test_widget_needs_ipywidgets_or_builds_controls():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="ipywidgets"):
            v.widget(v.schedule_explorer)
    else:
        box = v.widget(v.schedule_explorer, steps=(STEPS, STEPS, 1))  # short runs for the test
        controls = {c.description: c for c in box.children if hasattr(c, "description")}
        assert list(controls)[:2] == ["schedule", "lr"] and controls["steps"].value == STEPS
        assert list(controls["schedule"].options) == v.SCHEDULES
        controls["schedule"].value = "cosine"  # redraws without error


def test_lesson_uses_the_configured_colab_repository_and_links_its_notebook():
    text = LESSON.read_text(encoding="utf-8")
    installs = re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text)
    assert installs and set(installs) == {lessons.COLAB_REPO}
    assert "lessons.COLAB_REPO" in text and "/lessons/1.7-training-in-practice.ipynb" in text
    assert LESSON.with_suffix(".ipynb").is_file()
    for section in ("1.7.1", "1.7.2", "1.7.3", "1.7.4", "1.7.5"):
        assert re.search(rf"^## {re.escape(section)} ", text, re.MULTILINE), section
    assert math.isclose(float(np.finfo(np.float16).max), 65504.0)

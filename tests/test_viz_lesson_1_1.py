"""The interactive figures of lesson 1.1 (tinylearn.viz.lesson_1_1), driven headlessly.

Each ``update`` is called at its default and at other parameters; the rendered pixels must differ
(the figure follows its controls). The numbers behind the figures are checked against closed forms.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

from tinylearn import lessons
from tinylearn.viz import lesson_1_1 as v
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]


def pixels(fig) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


CASES = [
    (v.draggable_line, {}, {"slope": 2.0, "intercept": 1.0}),
    (v.residuals_view, {}, {"slope": 3.0, "intercept": -1.0}),
    (v.loss_surface, {}, {"slope": 4.0, "intercept": 2.0}),
    (v.loss_surface, {}, {"azim": 30.0}),
    (v.update_rule_breakdown, {}, {"lr": 0.25}),
    (v.ball_rolling, {"steps": 10}, {"steps": 10, "frame": 8}),
    (v.learning_rate_explorer, {"steps": 10}, {"steps": 10, "lr": 0.3}),
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
        "draggable_line": "1.1.2",
        "residuals_view": "1.1.3",
        "loss_surface": "1.1.3",
        "update_rule_breakdown": "1.1.4",
        "ball_rolling": "1.1.4",
        "learning_rate_explorer": "1.1.5",
    }
    assert set(v.CONTROLS) == set(specs)


def test_mse_and_its_gradient_match_closed_forms():
    x, y = v.lesson_data(30)
    assert x.shape == y.shape == (30,)
    w, b = 0.7, -0.4
    assert v.mse(w, b, x, y) == pytest.approx(np.mean((y - w * x - b) ** 2))
    h = 1e-6
    numeric = (
        (v.mse(w + h, b, x, y) - v.mse(w - h, b, x, y)) / (2 * h),
        (v.mse(w, b + h, x, y) - v.mse(w, b - h, x, y)) / (2 * h),
    )
    assert np.allclose(v.mse_grad(w, b, x, y), numeric, rtol=1e-5)
    (w_ls, b_ls), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
    assert np.allclose(v.mse_grad(w_ls, b_ls, x, y), 0.0, atol=1e-9)


def test_gradient_descent_converges_below_the_critical_rate_and_diverges_above():
    x, y = v.lesson_data(30)
    H = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    critical = 2 / np.linalg.eigvalsh(H).max()
    (w_ls, b_ls), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
    good = v.gradient_descent(x, y, 0.9 * critical, 300)
    assert good.shape == (301, 3)
    assert np.allclose(good[-1, :2], [w_ls, b_ls], atol=1e-4)
    bad = v.gradient_descent(x, y, 1.1 * critical, 100)
    assert bad[-1, 2] > 1e3 * bad[0, 2]


def test_loss_grid_matches_mse():
    x, y = v.lesson_data(10)
    W, B, L = v.loss_grid(x, y, n=5)
    assert L.shape == (5, 5)
    assert L[2, 3] == pytest.approx(v.mse(W[2, 3], B[2, 3], x, y))


def test_ball_animation_has_one_frame_per_step_and_renders_html():
    anim = v.ball_rolling_animation(steps=3, interval=50)
    html = anim.to_jshtml()
    assert "<img" in html or "data:image" in html
    assert html.count("data:image/png") >= 4  # frames 0..3


def test_widget_needs_ipywidgets_or_builds_controls():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="ipywidgets"):
            v.widget(v.draggable_line)
    else:
        box = v.widget(v.draggable_line)
        sliders = [c for c in box.children if hasattr(c, "description")]
        assert [s.description for s in sliders] == ["slope", "intercept"]
        sliders[0].value = 3.0  # redraws without error


def test_lesson_installs_from_the_configured_colab_repository():
    text = (REPO / "lessons" / "1.1-learning-problem.md").read_text(encoding="utf-8")
    installs = re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text)
    assert installs and set(installs) == {lessons.COLAB_REPO}
    assert "lessons.COLAB_REPO" in text  # the Colab link is built from the same constant

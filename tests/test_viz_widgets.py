"""The shared widget machinery of tinylearn.viz: controls built from a CONTROLS table, live redraws,
the offline animation player."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")

from tinylearn.viz import animation_html, new_figure, registry, widget


@pytest.fixture
def figure_module(monkeypatch):
    """A throwaway module holding one figure function and its CONTROLS table."""
    module = types.ModuleType("fake_lesson_viz")
    calls = []

    def picture(scale: float = 1.0, steps: int = 3, show: bool = True, kind: str = "sin", frame: int = 0):
        calls.append({"scale": scale, "steps": steps, "show": show, "kind": kind, "frame": frame})
        fig = new_figure(figsize=(2, 2))
        xs = np.linspace(0, steps, 20)
        fig.subplots().plot(xs, scale * (np.sin(xs) if kind == "sin" else np.cos(xs)), visible=show)
        return fig

    picture.__module__ = module.__name__
    module.picture = picture
    module.CONTROLS = {
        "picture": {
            "scale": (0.5, 2.0, 0.1),
            "steps": (1, 10, 1),
            "show": bool,
            "kind": ["sin", "cos"],
            "frame": (0, 5, 1),
        }
    }
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return picture, calls


def test_controls_follow_the_table(figure_module):
    picture, calls = figure_module
    box = widget(picture)
    kinds = {type(c).__name__: c for c in box.children}
    assert set(kinds) >= {"Play", "FloatSlider", "IntSlider", "Checkbox", "ToggleButtons", "Output"}
    assert calls[-1] == {"scale": 1.0, "steps": 3, "show": True, "kind": "sin", "frame": 0}
    kinds["FloatSlider"].value = 1.5  # a change redraws with the new value
    assert calls[-1]["scale"] == 1.5
    kinds["ToggleButtons"].value = "cos"
    assert calls[-1]["kind"] == "cos"


def test_overrides_and_errors(figure_module):
    picture, _ = figure_module
    box = widget(picture, kind=["sin", "cos", "tan", "sinh", "cosh"])
    assert any(type(c).__name__ == "Dropdown" for c in box.children)  # 5 choices: a drop-down
    with pytest.raises(TypeError, match="no parameter"):
        widget(picture, nope=(0, 1, 0.1))
    with pytest.raises(TypeError, match=r"must be \(min, max, step\), bool or a list"):
        widget(picture, scale="big")


def test_every_registered_figure_has_controls_for_real_parameters():
    """Each lesson figure's CONTROLS entry names parameters the function has (else widget() fails)."""
    import inspect

    for spec in registry.registered():
        module = sys.modules[spec.func.__module__]
        table = getattr(module, "CONTROLS", {})
        assert spec.func.__name__ in table, f"{spec.name} has no CONTROLS entry"
        params = inspect.signature(spec.func).parameters
        assert set(table[spec.func.__name__]) <= set(params), spec.name


def test_animation_html_is_offline():
    from matplotlib.animation import FuncAnimation

    fig = new_figure(figsize=(2, 2))
    (line,) = fig.subplots().plot([], [])
    anim = FuncAnimation(fig, lambda i: line.set_data([0, i], [0, i]), frames=3)
    raw = anim.to_jshtml()
    assert "font-awesome" in raw  # what matplotlib does, and why the helper exists
    html = animation_html(anim).data
    assert "font-awesome" not in html and "maxcdn" not in html
    assert 'class="fa' not in html and "▶" in html and "⏸" in html
    assert html.count("<img") >= 1 or "frames[0]" in html

"""Live controls for the interactive figures: one ipywidgets box around a pure ``update`` function.

Every interactive figure of :mod:`tinylearn.viz` is a pure function ``update(**params) -> Figure``.
:func:`widget` turns one into a live control: a slider (or checkbox, or drop-down) per parameter and
the figure below it, redrawn on every change. The ranges come from the ``CONTROLS`` table of the
module that defines ``update`` (``CONTROLS[update.__name__] = {param: spec}``), overridable per call.

A control spec is one of

* ``(min, max, step)``: a slider (integer when all three and the default are integers);
* ``bool`` (``True``/``False``, the spec being the type ``bool``): a checkbox (a toggle);
* a ``list`` of choices: a drop-down (``["relu", "tanh"]``) or, for 2–4 short strings, toggle buttons.

A parameter called ``frame`` also gets a play button, so that frame-by-frame figures animate.
ipywidgets is imported only inside :func:`widget`: the figures themselves need only matplotlib.
:func:`new_figure` makes a figure without pyplot (no global state, safe in tests and threads);
:func:`animation_html` turns a matplotlib animation into an offline HTML player.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["animation_html", "new_figure", "widget"]

# matplotlib's JavaScript player draws its buttons with Font Awesome icons loaded from a CDN; we
# draw them with Unicode symbols instead, so that an animation works offline and in the docs.
_PLAYER_ICONS = {
    "fa fa-minus": "−",
    "fa fa-fast-backward": "⏮",
    "fa fa-step-backward": "⏪",
    "fa fa-play fa-flip-horizontal": "◀",
    "fa fa-pause": "⏸",
    "fa fa-play": "▶",
    "fa fa-step-forward": "⏩",
    "fa fa-fast-forward": "⏭",
    "fa fa-plus": "+",
}
_CDN_LINK = re.compile(r"<link\b[^>]*href=[\"'](?:https?:)?//[^\"']*font-awesome[^>]*>", re.IGNORECASE)


def animation_html(animation: Any, **kwargs: Any) -> Any:
    """A matplotlib animation as a self-contained HTML player (``IPython.display.HTML``).

    Like ``HTML(animation.to_jshtml())``, but without the Font Awesome stylesheet that matplotlib's
    player loads from a CDN (its buttons get Unicode symbols instead), so it plays offline, in
    Colab and in the docs. ``kwargs`` go to ``to_jshtml`` (``fps``, ``default_mode``, ...).
    """
    from IPython.display import HTML

    html = _CDN_LINK.sub("", animation.to_jshtml(**kwargs))
    for css, symbol in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', symbol)
    return HTML(html)


def new_figure(**kwargs: Any) -> Figure:
    """A ``matplotlib.figure.Figure`` made without pyplot (``kwargs`` go to ``Figure``)."""
    from matplotlib.figure import Figure  # imported here: ``import tinylearn`` stays matplotlib-free

    return Figure(**kwargs)


def _control(w: Any, name: str, spec: Any, value: Any) -> Any:
    if spec is bool:
        return w.Checkbox(value=bool(value), description=name)
    if isinstance(spec, list):
        choices = list(spec)
        start = value if value in choices else choices[0]
        if 2 <= len(choices) <= 4 and all(isinstance(c, str) and len(c) <= 12 for c in choices):
            return w.ToggleButtons(options=choices, value=start, description=name)
        return w.Dropdown(options=choices, value=start, description=name)
    if isinstance(spec, tuple) and len(spec) == 3:
        lo, hi, step = spec
        if value is None or value is inspect.Parameter.empty:
            value = lo
        if all(float(v).is_integer() for v in (lo, hi, step)) and isinstance(value, int):
            return w.IntSlider(value=value, min=int(lo), max=int(hi), step=int(step), description=name)
        return w.FloatSlider(
            value=float(value), min=lo, max=hi, step=step, description=name, readout_format=".3g"
        )
    raise TypeError(
        f"widget(): control {name!r} must be (min, max, step), bool or a list of choices, got {spec!r}"
    )


def widget(update: Callable[..., Figure], **controls: Any) -> Any:
    """An ipywidgets box around ``update``: one control per parameter and the figure, redrawn live.

    Args:
        update: a pure figure function of :mod:`tinylearn.viz` (``update(**params) -> Figure``).
        controls: ``name=spec`` to add or override controls (see the module docstring for specs);
            the defaults are ``CONTROLS[update.__name__]`` of ``update``'s module.

    Returns:
        An ``ipywidgets.VBox`` with the controls above an output area holding the figure.

    Raises:
        ImportError: ipywidgets is not installed (``pip install ipywidgets``).
        TypeError: a control spec is not one of the accepted forms.
    """
    try:
        import ipywidgets as w
        from IPython.display import display
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("widget() needs ipywidgets: pip install ipywidgets") from exc

    table = getattr(sys.modules.get(update.__module__), "CONTROLS", {})
    spec = {**table.get(update.__name__, {}), **controls}
    params = inspect.signature(update).parameters
    unknown = sorted(set(spec) - set(params))
    if unknown:
        raise TypeError(f"widget(): {update.__name__}() has no parameter(s) {unknown}")
    boxes = {name: _control(w, name, s, params[name].default) for name, s in spec.items()}
    out = w.Output()

    def redraw(_: Any = None) -> None:
        fig = update(**{name: box.value for name, box in boxes.items()})
        with out:
            out.clear_output(wait=True)
            display(fig)

    for box in boxes.values():
        box.observe(redraw, names="value")
    rows: list[Any] = list(boxes.values())
    if "frame" in boxes:
        play = w.Play(min=boxes["frame"].min, max=boxes["frame"].max, step=1, interval=150)
        w.jslink((play, "value"), (boxes["frame"], "value"))
        rows.insert(0, play)
    redraw()
    return w.VBox([*rows, out])

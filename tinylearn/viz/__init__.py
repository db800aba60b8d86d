"""Pictures of what tinylearn computes.

* :func:`draw_graph` — the computational graph behind a tensor (lesson 1.3.5): ops as nodes,
  tensors (shape, dtype, name, gradient) on the way, edges following the data. It returns a
  :class:`GraphDrawing` holding Graphviz DOT text that saves itself as ``.svg``, ``.png``,
  ``.pdf`` or ``.dot`` and shows itself in Jupyter; it renders with Graphviz's ``dot`` when
  installed and with matplotlib otherwise.
* :func:`interactive` — the decorator by which an interactive figure declares the curriculum
  subsection it serves (see :mod:`tinylearn.viz.registry`); ``tinylearn lessons coverage`` counts them.
* ``tinylearn.viz.lesson_S_M`` (e.g. :mod:`tinylearn.viz.lesson_1_1`) — the interactive figures of
  lesson S.M, each a pure ``update(**params) -> Figure``; every such module is imported here.
* :func:`plot_filters` — a convolution's learned filters as small images (the CNN examples).
* :func:`widget` — the ipywidgets controls around any of them (:mod:`tinylearn.viz.widgets`);
  :func:`new_figure` makes a matplotlib figure without pyplot.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from .filters import plot_filters
from .graph import GraphDrawing, GraphEdge, GraphNode, draw_graph
from .registry import interactive
from .widgets import animation_html, new_figure, widget

# Import every ``lesson_*`` module so that its figures register themselves (matplotlib itself is
# imported only when a figure is drawn).
for _info in _pkgutil.iter_modules(__path__):
    if _info.name.startswith("lesson_"):
        _importlib.import_module(f"{__name__}.{_info.name}")

__all__ = [
    "GraphDrawing",
    "GraphEdge",
    "GraphNode",
    "animation_html",
    "draw_graph",
    "interactive",
    "new_figure",
    "plot_filters",
    "widget",
]

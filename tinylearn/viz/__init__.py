"""Pictures of what tinylearn computes.

* :func:`draw_graph` — the computational graph behind a tensor (lesson 1.3.5): ops as nodes,
  tensors (shape, dtype, name, gradient) on the way, edges following the data. It returns a
  :class:`GraphDrawing` holding Graphviz DOT text that saves itself as ``.svg``, ``.png``,
  ``.pdf`` or ``.dot`` and shows itself in Jupyter; it renders with Graphviz's ``dot`` when
  installed and with matplotlib otherwise.
* :func:`interactive` — the decorator by which an interactive figure declares the curriculum
  subsection it serves (see :mod:`tinylearn.viz.registry`); ``tinylearn lessons coverage`` counts them.
"""

from .graph import GraphDrawing, GraphEdge, GraphNode, draw_graph
from .registry import interactive

__all__ = ["GraphDrawing", "GraphEdge", "GraphNode", "draw_graph", "interactive"]

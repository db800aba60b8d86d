"""Figures: the computational graph (draw_graph)."""

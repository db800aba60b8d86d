"""The learned filters of a convolution, drawn as small images (red positive, blue negative)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_filters"]


def plot_filters(weight: Any, path: str | Path | None = None, title: str | None = None):
    """One panel per filter of ``weight``: a Tensor or array (K, kh, kw), or (K, 1, kh, kw) as a
    single-channel ``Conv2d.weight``; each panel on its own symmetric colour scale, so that its sign
    pattern shows whatever its size. Returns the matplotlib Figure (no pyplot); with ``path`` also
    saves it there."""
    from matplotlib.figure import Figure

    w = np.asarray(weight.detach().numpy() if hasattr(weight, "detach") else weight, dtype=np.float64)
    if w.ndim == 4 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 3 or not len(w):
        raise ValueError(
            "plot_filters: expected filters of shape (K, kh, kw) or (K, 1, kh, kw), "
            f"got {tuple(np.shape(weight))}"
        )
    fig = Figure(figsize=(1.3 * len(w), 1.6), layout="constrained")
    for i, (ax, f) in enumerate(zip(np.atleast_1d(fig.subplots(1, len(w))), w, strict=True)):
        limit = np.abs(f).max() or 1.0
        ax.imshow(f, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {i}", fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title or f"{len(w)} learned {w.shape[1]}x{w.shape[2]} filters (red positive, blue negative)",
                 fontsize=10)  # fmt: skip
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig

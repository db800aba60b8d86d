"""``tinylearn tour`` runs offline from start to end and writes its figures.

It runs the command in a fresh interpreter, as a user would, with one BLAS thread (see
``test_mnist_slow.py`` for why that matters under ``pytest -n auto``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FIGURES = [
    "moons_boundary.png",
    "moons_graph.png",
    "fontdigits_curves.png",
    "fontdigits_predictions.png",
    "optimizer_race.png",
    "lenet_curves.png",
    "lenet_filters.png",
    "resnet_curves.png",
]


@pytest.mark.slow
def test_the_tour_runs_offline_and_writes_its_figures(tmp_path) -> None:
    out = tmp_path / "tour"
    env = {**os.environ, **ONE_THREAD, "MPLBACKEND": "Agg", "TQDM_DISABLE": "1"}
    env.pop("TINYLEARN_DATA", None)
    env["HOME"] = str(tmp_path / "home")  # no data cache to lean on: the tour needs no download
    result = subprocess.run(
        [sys.executable, "-m", "tinylearn.cli", "tour", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    text = result.stdout
    assert "not MNIST" in text and "test accuracy" in text
    assert "Tour finished" in text
    assert "refused with a clear error" in text  # the save/load stop
    assert not (tmp_path / "home" / ".cache" / "tinylearn").exists()  # nothing downloaded

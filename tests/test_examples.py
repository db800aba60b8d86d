"""The examples run and say what their docstrings promise, with small settings (``mnist_mlp.py`` is run
by the slow test in ``test_mnist_slow.py``)."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_main(name: str) -> Callable[[list[str]], int]:
    """The ``main(argv)`` of ``examples/<name>.py``, loaded without running it as a script."""
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")["main"]


def test_linear_regression_gradient_descent_matches_closed_form_and_tinylearn(tmp_path, capsys) -> None:
    assert example_main("linear_regression")(["--n", "100", "--steps", "300", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "all three agree to 1e-3: True" in out
    assert "match the hand-derived gradient descent step for step: True" in out
    fits = [
        (float(row[-4]), float(row[-1])) for row in (line.split() for line in out.splitlines()) if "w" in row
    ]
    assert len(fits) == 3  # NumPy gradient descent, closed form, tinylearn: w and b of each
    assert np.ptp(np.array(fits), axis=0).max() < 1e-3
    assert (tmp_path / "linear_regression.png").stat().st_size > 0


def test_xor_needs_a_hidden_layer(tmp_path, capsys) -> None:
    assert example_main("xor")(["--n", "200", "--steps", "400", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "the linear model cannot learn XOR; the MLP does" in out
    assert (tmp_path / "xor.png").stat().st_size > 0


def test_optimizer_race_runs_all_seven_on_both_surfaces(tmp_path, capsys) -> None:
    assert example_main("optimizer_race")(["--steps", "60", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW"):
        assert out.count(f"  {name} ") == 2, name  # one line per surface
    assert "Rosenbrock" in out and "Beale" in out
    assert "nan" not in out.lower()
    assert (tmp_path / "optimizer_race.png").stat().st_size > 0


@pytest.mark.parametrize("name", ["linear_regression", "xor", "optimizer_race", "mnist_mlp"])
def test_every_example_documents_how_to_run_it_and_what_was_measured(name) -> None:
    doc = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")["__doc__"]
    assert "What it shows" in doc and "How to run" in doc and f"python examples/{name}.py" in doc
    assert "Measured" in doc

"""The CNN examples: ``mnist_cnn.py`` (LeNet-5 on MNIST) and ``cifar10_resnet.py`` (ResNet-20 on CIFAR-10).

Their pipelines in miniature are stops of ``tinylearn tour`` (tested in ``test_tour.py``); the
``--quick`` runs read the real data from ``../shared/data`` and are skipped when it is not there.
Everything that trains is marked slow.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinylearn as tl

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DATA = REPO.parent / "shared" / "data"
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1"}


def example(name: str) -> dict:
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args], env=ENV, capture_output=True,
                          text=True, timeout=900, check=False)  # fmt: skip


@pytest.mark.parametrize("name", ["mnist_cnn", "cifar10_resnet"])
def test_docstring_says_what_how_and_what_was_measured(name) -> None:
    doc = example(name)["__doc__"]
    assert "What it shows" in doc and "How to run" in doc and f"python examples/{name}.py" in doc
    assert "Measured" in doc and "PENDING" not in doc
    assert re.search(r"test accuracy \d+\.\d+%", doc)


@pytest.mark.slow
def test_cifar_run_resumes_from_its_checkpoint_exactly(tmp_path) -> None:
    ns = example("cifar10_resnet")
    data = (tl.data.FontDigits(True, 256, colour=True), tl.data.FontDigits(False, 128, colour=True))

    def trained(out: Path, **kwargs) -> dict:
        tl.manual_seed(0)
        model = tl.models.ResNet(tl.models.BasicBlock, [1, 1], 10, (4, 8), stem="cifar", shortcut="A")
        return ns["train"](model_name="tiny", epochs=3, batch_size=64, max_lr=0.05, progress_bars=False,
                           data=data, model=model, out=out, **kwargs)  # fmt: skip

    straight = trained(tmp_path / "a")
    trained(tmp_path / "b", stop_after=2)
    resumed = trained(tmp_path / "b", resume=True)
    a, b = straight["model"].state_dict(), resumed["model"].state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
    for metric in ("train_loss", "test_loss", "test_acc", "lr"):  # the resumed run keeps the early epochs
        assert straight["history"][metric] == resumed["history"][metric], metric


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "mnist" / "train-images-idx3-ubyte.gz").is_file(), reason=f"no MNIST in {DATA}"
)
def test_mnist_cnn_quick_on_real_mnist(tmp_path) -> None:
    result = run_script("mnist_cnn", "--root", str(DATA), "--quick", "--no-progress", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"test accuracy (\d+\.\d+)%", result.stdout)
    assert match and float(match.group(1)) >= 70.0, result.stdout  # measured 81.79%
    assert (tmp_path / "mnist_cnn_curves.png").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "cifar10").is_dir(), reason=f"no CIFAR-10 in {DATA}")
def test_cifar10_resnet_quick_on_real_cifar(tmp_path) -> None:
    result = run_script(
        "cifar10_resnet", "--root", str(DATA), "--quick", "--no-progress", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"test accuracy (\d+\.\d+)% .* on 1,000 test images", result.stdout)
    # 15 steps: a smoke test. Measured 19.1-20.2%; chance is 10% (± 0.95% on 1,000 images), 14% is 4σ above it
    assert match and float(match.group(1)) >= 14.0, result.stdout
    assert "training data:" in result.stdout
    for name in ("cifar10_resnet_curves.png", "cifar10_resnet20.safetensors",
                 "cifar10_resnet20_checkpoint.safetensors"):  # fmt: skip
        assert (tmp_path / name).is_file(), name

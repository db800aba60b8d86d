"""``benchmarks/run.py``: its output has the fields of WORKLOADS.md's format and its definitions match the
workloads (parameters, FLOPs by the protocol's rules). Speed itself is never asserted."""

from __future__ import annotations

import importlib.util
import json
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tinylearn as tl

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "benchmarks" / "run.py"
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def bench() -> dict:
    return runpy.run_path(str(RUN), run_name="benchmarks_run")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=REPO)  # fmt: skip


def test_mlp_quick_json_has_the_fields_of_the_output_format() -> None:
    result = run("--workload", "mlp", "--quick", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    r = lines[0]
    assert {k: r[k] for k in ("framework", "workload", "metric", "unit", "higher_is_better")} == {
        "framework": "tinylearn", "workload": "mlp", "metric": "train_step_ms", "unit": "ms",
        "higher_is_better": False,
    }  # fmt: skip
    assert len(r["rounds"]) == 3 and all(v > 0 for v in r["rounds"])
    assert r["median"] == pytest.approx(statistics.median(r["rounds"]), abs=1e-3)
    assert r["min"] == min(r["rounds"]) and r["max"] == max(r["rounds"])
    assert r["params"] == 269_322
    assert r["flops_per_step"] == 155_058_176  # 0.155 GFLOP/step, both counting methods
    assert r["flops_source"]
    assert r["gflop_per_s"] == pytest.approx(r["flops_per_step"] / (r["median"] * 1e-3) / 1e9, rel=1e-2)
    assert r["gemm_peak_gflop_per_s"] > 0 and r["fraction_of_gemm_peak"] > 0
    assert len(r["round_load"]) == 3
    for load in r["round_load"]:
        # a round that others disturb is rerun (twice at most): how often depends on the machine's load
        assert load["self_cores"] > 0 and load["steps"] == 5 and 1 <= load["attempts"] <= 3
        if load["other_cores"] is not None:  # /proc/stat exists (Linux)
            assert load["noisy"] == (load["other_cores"] > 0.25)
    assert r["warmup"] == 2 and r["steps"] == 5


def test_the_readable_table_and_vs_torch(tmp_path) -> None:
    result = run("--workload", "mlp", "--quick", "--rounds", "1", "--vs", "torch")
    assert result.returncode == 0, result.stderr
    assert "| mlp | 269,322 | 0.155 | tinylearn |" in result.stdout
    assert "GEMM peak" in result.stdout
    if HAS_TORCH:
        assert "| mlp | 269,322 | 0.155 | torch |" in result.stdout
        assert "losses agree" in result.stdout
    else:
        assert "PyTorch is not installed: timing tinylearn alone" in result.stderr
        assert "| torch |" not in result.stdout


def test_flops_counted_by_the_protocols_rules(bench) -> None:
    # matmuls and convolutions; forward, weight gradient, input gradient except for the first layer
    w = bench["WORKLOADS"]["mlp"]
    model = bench["tinylearn_model"]("mlp")
    x, _ = bench["tinylearn_data"](w)
    linear = 2 * 128 * (784 * 256 + 256 * 256 + 256 * 10)
    assert bench["count_flops"](model, x) == 3 * linear - 2 * 128 * 784 * 256
    assert round(bench["count_flops"](model, x) / 1e9, 3) == w.gflop_per_step


@pytest.mark.parametrize("name", ["lenet", "resnet"])
def test_conv_workloads_match_their_definitions(bench, name) -> None:
    w = bench["WORKLOADS"][name]
    model = bench["tinylearn_model"](name)
    x, labels = bench["tinylearn_data"](w)
    assert model.num_parameters() == w.params
    assert x.shape == w.input_shape and labels.shape == (4, w.input_shape[0])
    exact = {"lenet": 1_121_222_656, "resnet": 27_607_154_688}[name]  # = torch's FlopCounterMode
    assert bench["count_flops"](model, x) == exact
    assert round(exact / 1e9, 3) == w.gflop_per_step  # the GFLOP/step of WORKLOADS.md


def test_data_is_seeded_and_the_label_pool_has_four_draws(bench) -> None:
    w = bench["WORKLOADS"]["mlp"]
    (x1, y1), (x2, y2) = bench["tinylearn_data"](w), bench["tinylearn_data"](w)
    assert (x1 == x2).all() and (y1 == y2).all()
    assert y1.shape == (4, 128) and y1.min() >= 0 and y1.max() <= 9
    assert len({tuple(row) for row in y1.tolist()}) == 4
    assert abs(float(x1.mean())) < 0.02 and abs(float(x1.std()) - 1) < 0.02


def test_a_step_trains(bench) -> None:
    w = bench["WORKLOADS"]["mlp"]
    x, labels = bench["tinylearn_data"](w)
    step = bench["tinylearn_step"](w, bench["tinylearn_model"]("mlp"), x, labels[:1].repeat(4, 0))
    first = step(0).item()
    for i in range(1, 15):
        last = step(i).item()
    assert first > 2.0 and last < 0.5 * first  # one label set, memorised


def test_rounds_measure_load_and_rerun_noisy_ones(bench, monkeypatch) -> None:
    calls = []
    rounds = iter([bench["Round"](5.0, 3, 1.0, 0.9), bench["Round"](4.0, 3, 1.0, 0.5),
                   bench["Round"](6.0, 3, 1.0, 0.7)])  # fmt: skip

    def fake_round(step, warmup, steps):
        calls.append(1)
        return next(rounds)

    monkeypatch.setitem(bench["measured_round"].__globals__, "time_round", fake_round)
    best = bench["measured_round"](None, 1, 3, retries=2)
    assert len(calls) == 3 and best.ms == 4.0 and best.noisy and best.attempts == 3

    def busy(i: int) -> None:  # 20 ms of CPU time: well above the clock tick of os.times
        end = time.process_time() + 0.02
        while time.process_time() < end:
            pass

    real = bench["time_round"](busy, 1, 5)
    assert real.steps == 5 and real.ms >= 20 and real.self_cores > 0  # ms: wall time ≥ the CPU time spent


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (pip install torch==2.13.0)")
@pytest.mark.parametrize("name", ["mlp", "lenet", "resnet"])
def test_same_weights_and_data_give_the_same_training_in_both_frameworks(bench, name) -> None:
    check = bench["check_same_workload"](name, bench["WORKLOADS"][name])
    assert check["loss_max_rel_diff"] < 1e-5 and check["state_max_abs_diff"] < 1e-4
    assert bench["torch_flops"](name, bench["WORKLOADS"][name]) == bench["count_flops"](
        bench["tinylearn_model"](name), bench["tinylearn_data"](bench["WORKLOADS"][name])[0]
    )


def test_tinylearn_models_are_the_workload_models() -> None:
    assert tl.models.bench_resnet().num_parameters() == 170_410
    assert tl.models.bench_lenet().num_parameters() == 215_370


def test_compile_time_script_times_a_first_and_a_second_step_per_workload() -> None:
    script = REPO / "benchmarks" / "compile_time.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                            check=False, cwd=REPO)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("kernels: ")
    for name, line in zip(("lenet", "resnet", "mlp"), lines[1:], strict=True):
        assert line.startswith(f"{name}: first step ") and "second step" in line

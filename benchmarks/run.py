"""Training-step benchmarks of ../shared/benchmarks/WORKLOADS.md: tinylearn, and PyTorch side by side.

Each workload (``mlp``, ``lenet``, ``resnet``) is one training step, defined exactly as in WORKLOADS.md:
the architecture, PyTorch's default initialisation seeded 0, one fixed input batch drawn from a
generator seeded 1234 and a pool of 4 label sets (step *i* uses set *i* mod 4), the optimizer, and
the step ``zero_grad → forward → loss → backward → optimizer step``. The protocol:

* a **round** is W untimed warm-up steps, then N steps each timed with ``time.perf_counter`` (the
  loss is never read back inside the loop); the round's value is the median step time; a round
  stops early after 8 s (keeping ≥ 3 steps);
* **3 rounds**; the result is the median of the round values [min–max];
* **load**: each round records ``self_cores`` (this process's CPU seconds / wall seconds) and
  ``other_cores`` (every other process's busy CPU seconds / wall seconds, from ``/proc/stat``); a
  round where others used more than 0.25 cores is *noisy* and is rerun (``--retries`` times),
  and flagged if it stays noisy;
* **threads**: PyTorch gets ``torch.set_num_threads(2)``; NumPy's BLAS and Numba keep their
  defaults (2 on the 2-core reference machine);
* **FLOPs per step**: PyTorch's ``FlopCounterMode`` over one forward+backward when torch is
  installed; otherwise counted from the tinylearn model by the same rules (matmuls and
  convolutions, forward and the weight gradient of every layer, the input gradient of every layer
  but the first; hooks on ``Linear``/``Conv2d`` record the shapes). ``flops_source`` says which.
  GFLOP/s = FLOPs per step / median step time, set against the NumPy float32 GEMM peak measured in
  the same run.

``--vs torch`` runs the same workload in PyTorch in the same process, rounds alternating
tinylearn / PyTorch, and prints the ratio tinylearn/PyTorch of the medians; before timing it loads
PyTorch's initial weights into the tinylearn model and checks that three steps on PyTorch's data
give the same losses in both. Without torch installed it says so and times tinylearn alone.

    python benchmarks/run.py --workload mlp                      # a readable table
    python benchmarks/run.py --workload mlp lenet resnet --vs torch
    python benchmarks/run.py --workload mlp --json               # one JSON object per metric and line
    python benchmarks/run.py --workload all --quick              # a few steps, to see that it runs

``pip install torch==2.13.0`` is the CPU build on the reference machines; torch is never a
dependency of tinylearn, only of this optional comparison.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tinylearn as tl

DATA_SEED, WEIGHT_SEED, POOL = 1234, 0, 4
NOISY_OTHER_CORES = 0.25
MAX_ROUND_S = 8.0


@dataclass(frozen=True)
class Workload:
    """One workload of WORKLOADS.md: its input shape, the documented parameter count and GFLOP/step,
    the optimizer, and the default warm-up / timed steps of a round."""

    name: str
    input_shape: tuple[int, ...]
    params: int
    gflop_per_step: float  # documented in WORKLOADS.md (rounded)
    optimizer: str  # "adam" or "sgd"
    warmup: int
    steps: int


WORKLOADS = {
    "mlp": Workload("mlp", (128, 784), 269_322, 0.155, "adam", warmup=20, steps=200),
    "lenet": Workload("lenet", (64, 1, 28, 28), 215_370, 1.121, "sgd", warmup=5, steps=50),
    "resnet": Workload("resnet", (64, 3, 32, 32), 170_410, 27.607, "sgd", warmup=3, steps=20),
}


# --------------------------------------------------------------------------- tinylearn


def tinylearn_model(name: str) -> tl.nn.Module:
    """The workload's network in tinylearn, initialised with PyTorch's defaults from ``tl.manual_seed(0)``."""
    tl.manual_seed(WEIGHT_SEED)
    if name == "mlp":  # keys 0.*, 2.*, 4.*: the same as torch.nn.Sequential's
        return tl.models.MLP(784, [256, 256], 10)
    if not hasattr(tl.nn, "Conv2d"):
        raise SystemExit(f"benchmarks/run.py: the {name} workload needs tinylearn.nn.Conv2d, not there yet")
    return tl.models.bench_lenet() if name == "lenet" else tl.models.bench_resnet()


def tinylearn_data(w: Workload) -> tuple[np.ndarray, np.ndarray]:
    """The fixed input batch ~ N(0, 1) and the pool of 4 label sets, from a Generator seeded 1234."""
    g = tl.Generator().manual_seed(DATA_SEED)
    x = tl.randn(*w.input_shape, generator=g).numpy()
    labels = tl.randint(0, 10, (POOL, w.input_shape[0]), generator=g).numpy()
    return x, labels


def tinylearn_step(
    w: Workload, model: tl.nn.Module, x: np.ndarray, labels: np.ndarray
) -> Callable[[int], tl.Tensor]:
    """``step(i)``: one training step on label set ``i mod 4``; returns the loss (not read back)."""
    F = tl.nn.functional
    model.train()
    if w.optimizer == "adam":
        opt = tl.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    else:
        opt = tl.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xt = tl.tensor(x)
    ys = [tl.tensor(labels[i]) for i in range(POOL)]

    def step(i: int) -> tl.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), ys[i % POOL])
        loss.backward()
        opt.step()
        return loss

    return step


def count_flops(model: tl.nn.Module, x: np.ndarray) -> int:
    """FLOPs of one forward+backward by WORKLOADS.md's rules, from hooks on the Linear/Conv2d layers.

    A layer with output ``out`` and a reduction of length K per output element costs 2·|out|·K
    forward, the same for its weight gradient, and the same again for its input gradient when its
    input requires grad (not the first layer: the data does not).
    """
    total = 0

    def hook(module: tl.nn.Module, args: tuple, out: tl.Tensor) -> None:
        nonlocal total
        if type(module).__name__ == "Linear":
            k = module.in_features
        else:  # Conv1d/Conv2d: (C_in / groups) · kernel elements per output element
            k = module.weight.shape[1] * int(np.prod(module.weight.shape[2:]))
        fwd = 2 * out.numel() * k
        total += fwd * (2 + int(args[0].requires_grad))

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if type(m).__name__ in ("Linear", "Conv1d", "Conv2d")
    ]
    try:
        model(tl.tensor(x))  # with grad mode on, so that the inner layers' inputs require grad
    finally:
        for h in handles:
            h.remove()
    return total


# --------------------------------------------------------------------------- PyTorch


def torch_model(name: str):
    """The workload's network in PyTorch, with its default initialisation after ``torch.manual_seed(0)``;
    module names match the tinylearn model's, so the state_dict keys are the same."""
    import torch
    from torch import nn

    torch.manual_seed(WEIGHT_SEED)
    if name == "mlp":
        return nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
        )
    if name == "lenet":

        class LeNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
                self.conv2 = nn.Conv2d(16, 32, 5, padding=2)
                self.fc1 = nn.Linear(1568, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                f = nn.functional
                x = f.max_pool2d(f.relu(self.conv1(x)), 2)
                x = f.max_pool2d(f.relu(self.conv2(x)), 2)
                return self.fc2(f.relu(self.fc1(torch.flatten(x, 1))))

        return LeNet()

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            h = torch.relu(self.bn1(self.conv1(x)))
            h = self.bn2(self.conv2(h))
            return torch.relu(h + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(32)
            self.layer1 = nn.Sequential(BasicBlock(32, 32, 1), BasicBlock(32, 32, 1))
            self.layer2 = nn.Sequential(BasicBlock(32, 64, 2), BasicBlock(64, 64, 1))
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = torch.relu(self.bn1(self.conv1(x)))
            x = self.layer2(self.layer1(x))
            return self.fc(x.mean((2, 3)))

    return ResNet()


def torch_data(w: Workload):
    import torch

    g = torch.Generator().manual_seed(DATA_SEED)
    x = torch.randn(*w.input_shape, generator=g)
    labels = torch.randint(0, 10, (POOL, w.input_shape[0]), generator=g)
    return x, labels


def torch_step(w: Workload, model, x, labels) -> Callable[[int], Any]:
    import torch

    model.train()
    if w.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    ys = [labels[i] for i in range(POOL)]

    def step(i: int):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), ys[i % POOL])
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def torch_flops(name: str, w: Workload) -> int:
    """FLOPs of one forward+backward of a fresh copy of the PyTorch model, by ``FlopCounterMode``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = torch_model(name)
    x, labels = torch_data(w)
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), labels[0]).backward()
    return int(counter.get_total_flops())


def check_same_workload(name: str, w: Workload, steps: int = 3) -> dict[str, float]:
    """Load PyTorch's initial weights into the tinylearn model, run ``steps`` training steps in both on
    PyTorch's data, and compare: the losses, and the parameters afterwards."""
    tmodel = torch_model(name)
    model = tinylearn_model(name)
    model.load_state_dict({k: v.detach().numpy().copy() for k, v in tmodel.state_dict().items()})
    x, labels = torch_data(w)
    t_step = torch_step(w, tmodel, x, labels)
    l_step = tinylearn_step(w, model, x.numpy(), labels.numpy())
    loss_diff = 0.0
    for i in range(steps):
        lt, ll = t_step(i).item(), l_step(i).item()
        loss_diff = max(loss_diff, abs(lt - ll) / max(abs(lt), 1e-12))
    ours = model.state_dict()
    param_diff = max(
        float(np.abs(v.detach().numpy() - ours[k].numpy()).max()) for k, v in tmodel.state_dict().items()
    )
    return {"steps": steps, "loss_max_rel_diff": loss_diff, "state_max_abs_diff": param_diff}


# --------------------------------------------------------------------------- timing


def _proc_stat_busy_s() -> float | None:
    """Busy CPU seconds of the whole machine so far (all CPUs), from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class Round:
    ms: float  # median step time of the round
    steps: int
    self_cores: float
    other_cores: float | None
    attempts: int = 1

    @property
    def noisy(self) -> bool:
        return self.other_cores is not None and self.other_cores > NOISY_OTHER_CORES


def time_round(step: Callable[[int], Any], warmup: int, steps: int, max_s: float = MAX_ROUND_S) -> Round:
    """W untimed warm-up steps, then up to N timed steps (≥ 3, stopping after ``max_s``): their median."""
    for i in range(warmup):
        step(i)
    gc.collect()
    times: list[float] = []
    busy0, cpu0, start = _proc_stat_busy_s(), _self_cpu_s(), time.perf_counter()
    for i in range(steps):
        t0 = time.perf_counter()
        step(warmup + i)
        times.append(time.perf_counter() - t0)
        if len(times) >= 3 and time.perf_counter() - start > max_s:
            break
    wall = time.perf_counter() - start
    cpu, busy1 = _self_cpu_s() - cpu0, _proc_stat_busy_s()
    other = None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0 - cpu) / wall)
    return Round(statistics.median(times) * 1e3, len(times), cpu / wall, other)


def measured_round(step: Callable[[int], Any], warmup: int, steps: int, retries: int) -> Round:
    """A round, rerun up to ``retries`` times while other processes used more than 0.25 cores;
    the least disturbed attempt is kept."""
    best = time_round(step, warmup, steps)
    for attempt in range(2, retries + 2):
        if not best.noisy:
            break
        again = time_round(step, warmup, steps)
        if again.other_cores is not None and again.other_cores < best.other_cores:
            best = again
        best.attempts = attempt
    return best


def gemm_peak(n: int, repeats: int, matmul: Callable[[Any, Any], Any] | None = None, make=None) -> float:
    """GFLOP/s of the best of ``repeats`` float32 n×n products (NumPy's unless ``matmul``/``make`` say)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    if make is not None:
        a, b = make(a), make(b)
    matmul = matmul or np.matmul
    matmul(a, b)
    best = min(_timed(lambda: matmul(a, b)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- the run


@dataclass
class Result:
    framework: str
    workload: Workload
    params: int
    flops: int
    flops_source: str
    rounds: list[Round] = field(default_factory=list)
    first_step_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def values(self) -> list[float]:
        return [r.ms for r in self.rounds]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def record(self, gemm: float) -> dict[str, Any]:
        """The JSON object of WORKLOADS.md's output format, plus the load of each round and more."""
        gflops = self.flops / (self.median * 1e-3) / 1e9
        return {
            "framework": self.framework, "workload": self.workload.name, "metric": "train_step_ms",
            "unit": "ms", "higher_is_better": False, "rounds": [round(v, 4) for v in self.values],
            "median": round(self.median, 4), "min": round(min(self.values), 4),
            "max": round(max(self.values), 4), "params": self.params, "flops_per_step": self.flops,
            "flops_source": self.flops_source, "gflop_per_s": round(gflops, 2),
            "gemm_peak_gflop_per_s": round(gemm, 1), "fraction_of_gemm_peak": round(gflops / gemm, 4),
            "round_load": [
                {"self_cores": round(r.self_cores, 2),
                 "other_cores": None if r.other_cores is None else round(r.other_cores, 2),
                 "noisy": r.noisy, "attempts": r.attempts, "steps": r.steps}
                for r in self.rounds
            ],
            "first_step_ms": None if self.first_step_ms is None else round(self.first_step_ms, 2),
            **self.extra,
        }  # fmt: skip


def run_workload(name: str, args: argparse.Namespace, with_torch: bool) -> list[Result]:
    w = WORKLOADS[name]
    warmup, steps = (2, 5) if args.quick else (w.warmup, w.steps)
    model = tinylearn_model(name)
    x, labels = tinylearn_data(w)
    params = model.num_parameters()
    if with_torch:
        flops, source = torch_flops(name, w), "torch FlopCounterMode"
    else:
        flops, source = count_flops(model, x), "counted from the tinylearn model's Linear/Conv2d layers"
    ours = Result("tinylearn", w, params, flops, source)
    step = tinylearn_step(w, model, x, labels)
    ours.first_step_ms = _timed(lambda: step(0)) * 1e3
    contenders = [(ours, step)]
    if with_torch:
        import torch

        tmodel = torch_model(name)
        tx, tlabels = torch_data(w)
        theirs = Result("torch", w, sum(p.numel() for p in tmodel.parameters()), flops, source)
        tstep = torch_step(w, tmodel, tx, tlabels)
        theirs.first_step_ms = _timed(lambda: tstep(0)) * 1e3
        theirs.extra = {"version": torch.__version__, "threads": torch.get_num_threads()}
        ours.extra["check_vs_torch"] = check_same_workload(name, w)
        contenders.append((theirs, tstep))
    for _ in range(args.rounds):  # alternate: tinylearn, torch, tinylearn, torch, ...
        for result, fn in contenders:
            result.rounds.append(measured_round(fn, warmup, steps, 0 if args.quick else args.retries))
    if with_torch:
        ours.extra["ratio_vs_torch"] = round(ours.median / contenders[1][0].median, 3)
    for result, _ in contenders:
        result.extra.update(warmup=warmup, steps=steps)
    return [r for r, _ in contenders]


def kernels() -> str:
    """tinylearn's kernel backend for convolution and pooling (``TINYLEARN_KERNELS``): numba or numpy."""
    try:
        from tinylearn import kernels as k
    except ImportError:
        return "none"
    return k.backend()


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        name = platform.processor() or platform.machine()
    return f"{name}, {os.cpu_count()} CPUs"


def blas_threads() -> str:
    """The number of threads of the OpenBLAS that NumPy loaded (asked through its C API), or why not."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return "unknown"
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "openblas_get_num_threads"):  # fmt: skip
            if hasattr(lib, name):
                return f"OpenBLAS {getattr(lib, name)()}"
    return "unknown"


def print_table(results: list[Result], gemm: float, torch_gemm: float | None) -> None:
    print(f"# tinylearn {tl.__version__} (kernels: {kernels()}), NumPy {np.__version__} "
          f"({blas_threads()} threads), Python {platform.python_version()}")  # fmt: skip
    print(f"# {machine()}; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    peak = f"# float32 GEMM peak (best of the run): NumPy {gemm:.1f} GFLOP/s"
    print(peak + (f", PyTorch {torch_gemm:.1f} GFLOP/s" if torch_gemm else ""))
    print()
    rounds = len(results[0].rounds)
    print(f"| workload | params | GFLOP/step | framework | ms/step, median [min–max] of {rounds} rounds | "
          "GFLOP/s | % of NumPy GEMM peak | other cores per round | tinylearn / PyTorch |")  # fmt: skip
    print("|---|---:|---:|---|---|---:|---:|---|---:|")
    for r in results:
        rec = r.record(gemm)
        load = ", ".join(
            "n/a" if x.other_cores is None else f"{x.other_cores:.2f}{'*' if x.noisy else ''}"
            for x in r.rounds
        )
        ratio = f"{rec['ratio_vs_torch']:.2f}×" if "ratio_vs_torch" in rec else ""
        print(f"| {r.workload.name} | {r.params:,} | {r.flops / 1e9:.3f} | {r.framework} | "
              f"{rec['median']:.2f} [{rec['min']:.2f}–{rec['max']:.2f}] | {rec['gflop_per_s']:.1f} | "
              f"{100 * rec['fraction_of_gemm_peak']:.1f} | {load} | {ratio} |")  # fmt: skip
    print()
    print(f"FLOPs: {results[0].flops_source}. * = a noisy round (others used > {NOISY_OTHER_CORES} cores).")
    for r in results:
        if "check_vs_torch" in r.extra:
            c = r.extra["check_vs_torch"]
            print(f"{r.workload.name}: same weights and data in both, {c['steps']} steps: losses agree to "
                  f"{c['loss_max_rel_diff']:.1e} (relative), weights and buffers afterwards to "
                  f"{c['state_max_abs_diff']:.1e}")  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workload", nargs="+", default=["mlp"], choices=[*WORKLOADS, "all"], help="workload(s) to time"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per metric and line")
    parser.add_argument("--vs", choices=["torch"], help="also time PyTorch in the same run, alternating")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per framework and workload")
    parser.add_argument("--retries", type=int, default=2, help="reruns of a noisy round")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads for PyTorch")
    parser.add_argument("--quick", action="store_true", help="2 warm-up and 5 timed steps per round")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = list(WORKLOADS) if "all" in args.workload else list(dict.fromkeys(args.workload))
    with_torch = False
    if args.vs == "torch":
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing tinylearn alone (pip install torch==2.13.0 for the "
                  "comparison)", file=sys.stderr)  # fmt: skip
        else:
            torch.set_num_threads(args.threads)
            with_torch = True
    n, repeats = (512, 3) if args.quick else (2048, 5)
    gemm = gemm_peak(n, repeats)
    torch_gemm = None
    if with_torch:
        torch_gemm = gemm_peak(n, repeats, torch.matmul, torch.from_numpy)
    results = [r for name in names for r in run_workload(name, args, with_torch)]
    gemm = max(gemm, gemm_peak(n, repeats))  # the best of the run: measured before and after
    if with_torch:
        torch_gemm = max(torch_gemm, gemm_peak(n, repeats, torch.matmul, torch.from_numpy))
    for r in results:
        if r.framework == "torch":
            r.extra["torch_gemm_peak_gflop_per_s"] = round(torch_gemm, 1)
    if args.json:
        for r in results:
            extra = {
                "machine": machine(),
                "numpy": np.__version__,
                "kernels": kernels(),
                "blas": blas_threads(),
            }
            print(json.dumps({**r.record(gemm), **extra}))
    else:
        print_table(results, gemm, torch_gemm)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

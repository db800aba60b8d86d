"""Numba's compile time, apart from the benchmarks: the first and the second training step of each
workload of ``run.py`` (lenet, resnet, mlp, in that order, in one process).

The first step of a workload compiles the kernels it is the first to use (or loads them from
Numba's disk cache); the second shows the step itself. Run it twice with the same, initially empty,
cache folder to see cold and cached starts::

    rm -rf /tmp/nbcache
    NUMBA_CACHE_DIR=/tmp/nbcache python benchmarks/compile_time.py   # cold: compiles
    NUMBA_CACHE_DIR=/tmp/nbcache python benchmarks/compile_time.py   # from the disk cache
"""

from __future__ import annotations

import runpy
import time
from pathlib import Path


def main() -> None:
    bench = runpy.run_path(str(Path(__file__).with_name("run.py")), run_name="benchmarks_run")
    from tinylearn import kernels

    print(f"kernels: {kernels.backend()}")
    for name in ("lenet", "resnet", "mlp"):
        workload = bench["WORKLOADS"][name]
        x, labels = bench["tinylearn_data"](workload)
        step = bench["tinylearn_step"](workload, bench["tinylearn_model"](name), x, labels)
        start = time.perf_counter()
        step(0)
        first = time.perf_counter() - start
        start = time.perf_counter()
        step(1)
        second = time.perf_counter() - start
        print(f"{name}: first step {first:.2f} s, second step {second:.3f} s")


if __name__ == "__main__":
    main()

"""The framework's own cost per op: tinylearn against raw NumPy doing the same arithmetic.

For each op, at a tiny size (a few elements, where only overhead shows) and at 1M elements
(where the arithmetic dominates), it times

* forward: the op alone (no graph recorded, as under ``no_grad``), and the op recording the graph,
* forward + backward: the op on tensors that require grad, then ``backward()``,

and the same arithmetic written directly in NumPy (for forward+backward, the forward and the
hand-written backward formulas). Prints the median microseconds per call as a Markdown table.

    python benchmarks/overhead.py            # the table
    python benchmarks/overhead.py --json     # machine-readable
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import tinylearn as tl


def _median_us(fn: Callable[[], object], min_time: float = 0.2, repeats: int = 7) -> float:
    """Median over ``repeats`` rounds of the mean time per call, each round lasting ~min_time/repeats."""
    fn()
    n, t = 1, 0.0
    while True:  # calibrate the number of calls per round
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t > min_time / repeats:
            break
        n *= 2
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds) * 1e6


def _cases(size: int):
    """(name, tinylearn forward, numpy forward, numpy forward+backward) for one size."""
    rng = np.random.default_rng(0)
    side = round(size**0.5)
    a = rng.standard_normal(size).astype(np.float32)
    b = rng.standard_normal(size).astype(np.float32)
    m1 = rng.standard_normal((side, side)).astype(np.float32)
    m2 = rng.standard_normal((side, side)).astype(np.float32)
    g = np.ones(size, np.float32)
    gm = np.ones((side, side), np.float32)

    def np_softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    def np_softmax_fb(x):
        y = np_softmax(x)
        return y * (g - (g * y).sum())

    return [
        ("add", (a, b), lambda x, y: x + y, lambda: a + b, lambda: (a + b, g.copy(), g.copy())),
        ("mul", (a, b), lambda x, y: x * y, lambda: a * b, lambda: (a * b, g * b, g * a)),
        ("exp", (a,), lambda x: x.exp(), lambda: np.exp(a), lambda: g * np.exp(a)),
        ("tanh", (a,), lambda x: x.tanh(), lambda: np.tanh(a), lambda: g * (1 - np.tanh(a) ** 2)),
        ("relu", (a,), lambda x: x.relu(), lambda: np.maximum(a, 0), lambda: g * (a > 0)),
        (
            "sum",
            (a,),
            lambda x: x.sum(),
            a.sum,
            lambda: (a.sum(), np.broadcast_to(np.float32(1), a.shape)),
        ),
        ("softmax", (a,), lambda x: x.softmax(-1), lambda: np_softmax(a), lambda: np_softmax_fb(a)),
        ("matmul", (m1, m2), lambda x, y: x @ y, lambda: m1 @ m2, lambda: (m1 @ m2, gm @ m2.T, m1.T @ gm)),
    ]


def measure(sizes=(4, 1_000_000)) -> list[dict]:
    rows = []
    for size in sizes:
        for name, arrays, op, np_fwd, np_fb in _cases(size):
            plain = [tl.tensor(x) for x in arrays]
            leaves = [tl.tensor(x, requires_grad=True) for x in arrays]

            def fwd_nograd(op=op, plain=plain):
                with tl.no_grad():
                    return op(*plain)

            def fwd_graph(op=op, leaves=leaves):
                return op(*leaves)

            def fwd_bwd(op=op, leaves=leaves):
                y = op(*leaves)
                y.backward(tl.ones_like(y))
                for t in leaves:
                    t.grad = None

            rows.append({
                "op": name, "elements": size,
                "numpy_fwd_us": _median_us(np_fwd), "tl_fwd_nograd_us": _median_us(fwd_nograd),
                "tl_fwd_graph_us": _median_us(fwd_graph),
                "numpy_fwd_bwd_us": _median_us(np_fb), "tl_fwd_bwd_us": _median_us(fwd_bwd),
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()
    rows = measure()
    if args.json:
        print(json.dumps({"machine": platform.processor() or platform.machine(), "rows": rows}, indent=1))
        return
    print(f"numpy {np.__version__}, python {platform.python_version()}, {platform.machine()}")
    print("| op | elements | NumPy fwd | tl fwd (no_grad) | tl fwd (graph) | NumPy fwd+bwd | tl fwd+bwd |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['op']} | {r['elements']:,} | {r['numpy_fwd_us']:.1f} | {r['tl_fwd_nograd_us']:.1f} | "
            f"{r['tl_fwd_graph_us']:.1f} | {r['numpy_fwd_bwd_us']:.1f} | {r['tl_fwd_bwd_us']:.1f} |"
        )


if __name__ == "__main__":
    main()

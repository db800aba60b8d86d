"""Exercises of lesson 1.6 (initializing weights): fans, the Xavier bound, the He std, a whole MLP.

The reference solutions are :mod:`tinylearn.nn.init` itself: ``_calculate_fan_in_and_fan_out`` on a
tensor of the given shape, and the distribution that ``xavier_uniform_`` and ``kaiming_normal_`` ask
for, read off by :func:`tinylearn.viz.lesson_1_6.init_distribution` (the library's function runs on a
stand-in tensor that records the call). ``init_mlp`` fills every layer with ``kaiming_normal_``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..dtypes import float64
from ..nn import init
from ..random import Generator
from ..tensor import zeros
from ..viz.lesson_1_6 import init_distribution
from . import ExerciseFailure, _host, exercise, expect_close

# --------------------------------------------------------------------------- reference solutions


def _fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    return init._calculate_fan_in_and_fan_out(zeros(*shape))


def _xavier_uniform_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    _, _, high = init_distribution(init.xavier_uniform_, (fan_out, fan_in), gain=gain)
    return high


def _kaiming_normal_std(fan_in: int, nonlinearity: str) -> float:
    _, _, std = init_distribution(init.kaiming_normal_, (1, fan_in), nonlinearity=nonlinearity)
    return std


def _init_mlp(sizes: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    gen = Generator().manual_seed(int(rng.integers(2**62)))
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        weight, bias = zeros(fan_out, fan_in, dtype=float64), zeros(fan_out, dtype=float64)
        init.kaiming_normal_(weight, nonlinearity="relu", generator=gen)
        layers.append((weight.numpy(), bias.numpy()))
    return layers


# --------------------------------------------------------------------------- checks


@exercise(
    "1.6.2",
    "fan_in_and_fan_out",
    reference=_fan_in_and_fan_out,
    signature="fan_in_and_fan_out(shape)",
    prompt="Return (fan_in, fan_out) for a weight of shape (out, in, *kernel): fan_in = in·∏kernel, "
    "fan_out = out·∏kernel, as PyTorch computes them (a Linear weight is (out, in), a Conv2d weight "
    "(out, in, kh, kw)). Raise ValueError for fewer than 2 dimensions.",
)
def _check_fans(fn):
    for shape in [(3, 5), (128, 784), (1, 1), (10, 4, 5), (16, 8, 3, 3), (32, 3, 7, 7), (6, 2, 3, 3, 3)]:
        got = fn(shape)
        want = _fan_in_and_fan_out(shape)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise ExerciseFailure(
                f"fan_in_and_fan_out({shape}) must return a pair (fan_in, fan_out), got {got!r}"
            )
        if tuple(int(v) for v in got) != want:
            hint = (
                "  (fan_in comes from dimension 1, fan_out from dimension 0)"
                if tuple(got) == want[::-1]
                else ""
            )
            raise ExerciseFailure(f"fan_in_and_fan_out({shape}): expected {want}, got {tuple(got)}{hint}")
    try:
        got = fn((7,))
    except ValueError:
        return
    except Exception as exc:  # any other exception is the wrong kind
        raise ExerciseFailure(
            f"fan_in_and_fan_out((7,)) raised {type(exc).__name__}; expected ValueError (a bias has no fans)"
        ) from None
    raise ExerciseFailure(f"fan_in_and_fan_out((7,)) returned {got!r}; expected it to raise ValueError")


@exercise(
    "1.6.2",
    "xavier_uniform_bound",
    reference=_xavier_uniform_bound,
    signature="xavier_uniform_bound(fan_in, fan_out, gain=1.0)",
    prompt="Return the bound a of Xavier/Glorot's uniform init U(-a, a): the a whose variance a²/3 "
    "equals gain²·2/(fan_in + fan_out).",
)
def _check_xavier_bound(fn):
    for fan_in, fan_out, gain in [(256, 128, 1.0), (784, 10, 1.0), (64, 64, 5 / 3), (3, 1000, math.sqrt(2))]:
        want = _xavier_uniform_bound(fan_in, fan_out, gain)
        expect_close(
            fn(fan_in, fan_out, gain),
            want,
            f"xavier_uniform_bound(fan_in={fan_in}, fan_out={fan_out}, gain={gain:.4g})",
        )
    expect_close(
        fn(100, 300), _xavier_uniform_bound(100, 300), "xavier_uniform_bound(100, 300) (gain left at 1)"
    )


@exercise(
    "1.6.3",
    "kaiming_normal_std",
    reference=_kaiming_normal_std,
    signature="kaiming_normal_std(fan_in, nonlinearity)",
    prompt="Return the std of He/Kaiming's normal init for a layer with fan_in inputs followed by "
    "nonlinearity ('relu', 'tanh', 'linear', 'sigmoid'): gain/√fan_in with the gain of "
    "calculate_gain (√2 for ReLU).",
)
def _check_kaiming_std(fn):
    for nonlinearity in ("relu", "tanh", "linear", "sigmoid"):
        for fan_in in (10, 256, 4096):
            expect_close(
                fn(fan_in, nonlinearity),
                _kaiming_normal_std(fan_in, nonlinearity),
                f"kaiming_normal_std(fan_in={fan_in}, nonlinearity={nonlinearity!r})",
            )


def _as_layers(got: Any, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    call = f"init_mlp({sizes}, rng)"
    if not isinstance(got, (list, tuple)) or len(got) != len(sizes) - 1:
        n = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
        raise ExerciseFailure(f"{call} must return a list of {len(sizes) - 1} (W, b) pairs, got {n}")
    layers = []
    for k, pair in enumerate(got):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ExerciseFailure(f"{call}: layer {k} must be a pair (W, b), got {type(pair).__name__}")
        w, b = (_host(a).astype(np.float64) for a in pair)
        fan_in, fan_out = sizes[k], sizes[k + 1]
        if w.shape != (fan_out, fan_in):
            raise ExerciseFailure(
                f"{call}: W of layer {k} ({fan_in} → {fan_out}) must have shape (fan_out, fan_in) = "
                f"{(fan_out, fan_in)} like nn.Linear's weight, got {w.shape}"
            )
        if b.shape != (fan_out,):
            raise ExerciseFailure(f"{call}: b of layer {k} must have shape ({fan_out},), got {b.shape}")
        layers.append((w, b))
    return layers


@exercise(
    "1.6.4",
    "init_mlp",
    reference=_init_mlp,
    signature="init_mlp(sizes, rng)",
    prompt="Return [(W, b), ...] for a ReLU MLP with layer sizes `sizes` (e.g. [784, 256, 10]): W of "
    "shape (fan_out, fan_in) drawn from He's normal N(0, 2/fan_in) with the NumPy generator rng, b zeros.",
)
def _check_init_mlp(fn):
    sizes = [784, 256, 128, 10]
    layers = _as_layers(fn(sizes, np.random.default_rng(0)), sizes)
    for k, (w, b) in enumerate(layers):
        fan_in, fan_out = sizes[k], sizes[k + 1]
        where = f"init_mlp({sizes}, rng): layer {k} ({fan_in} → {fan_out})"
        if np.any(b != 0):
            raise ExerciseFailure(
                f"{where}: the bias should start at 0, got values up to {np.abs(b).max():.3g}"
            )
        want, n = math.sqrt(2.0 / fan_in), w.size
        tol = 5.0 / math.sqrt(2.0 * n)  # five standard errors of a sample std
        if abs(w.std() / want - 1.0) > tol:
            raise ExerciseFailure(
                f"{where}: std of W is {w.std():.4g}, expected ≈ √(2/fan_in) = √(2/{fan_in}) = {want:.4g}"
            )
        if abs(w.mean()) > 5.0 * want / math.sqrt(n):
            raise ExerciseFailure(f"{where}: mean of W is {w.mean():.3g}, expected ≈ 0")
    w0 = layers[0][0]
    z = (w0 - w0.mean()) / w0.std()
    kurtosis = float(np.mean(z**4))
    if abs(kurtosis - 3.0) > 0.15:
        raise ExerciseFailure(
            f"init_mlp({sizes}, rng): layer 0's weights have kurtosis {kurtosis:.2f}; a normal "
            "distribution has 3 (a uniform one 1.8): draw them with rng.normal"
        )
    again = _as_layers(fn(sizes, np.random.default_rng(0)), sizes)
    other = _as_layers(fn(sizes, np.random.default_rng(1)), sizes)
    if not np.array_equal(again[0][0], w0):
        raise ExerciseFailure(
            "init_mlp called twice with np.random.default_rng(0) gave different weights: draw from rng"
        )
    if np.array_equal(other[0][0], w0):
        raise ExerciseFailure(
            "init_mlp gave the same weights for np.random.default_rng(0) and default_rng(1): draw from rng"
        )
    if np.unique(w0, axis=0).shape[0] < w0.shape[0]:
        raise ExerciseFailure(
            f"init_mlp({sizes}, rng): layer 0 has identical rows (units): symmetry not broken"
        )
    small = [2, 64, 64, 3]
    _as_layers(fn(small, np.random.default_rng(2)), small)

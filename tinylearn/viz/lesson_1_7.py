"""The figures of lesson 1.7 (training in practice): batches, schedules, clipping, half precision.

Every figure is a pure function ``update(**params) -> matplotlib.figure.Figure`` (no pyplot, no global
state: the global random generator is put back as it was). The numbers behind each figure are measured
by the library itself, with small real models on toy data: :class:`~tinylearn.data.DataLoader` batches,
the schedulers of :mod:`tinylearn.optim.lr_scheduler`, :func:`~tinylearn.optim.clip_grad_norm_` and
:func:`~tinylearn.optim.clip_grad_value_`, :class:`~tinylearn.amp.autocast` and
:class:`~tinylearn.amp.GradScaler`.

=====================================  =======  ==================================================
function                               section  what it shows
=====================================  =======  ==================================================
:func:`batch_size_figure`              1.7.1    gradient noise and steps per epoch against the
                                                batch size (measured on DataLoader batches)
:func:`schedule_explorer`              1.7.2    **interactive**: a learning-rate schedule (six to
                                                pick from) and the loss of a real run with it
:func:`clipping_figure`                1.7.3    clipping by norm and by value: clipped gradients,
                                                training paths, gradient norms
:func:`float16_figure`                 1.7.4    float16's number line, and gradients that underflow
                                                unless the loss is scaled (GradScaler)
:func:`confusion_figure`               1.7.5    a confusion matrix; :func:`image_grid` a few images
=====================================  =======  ==================================================

The numbers: :func:`lr_curve` and :func:`make_scheduler` (a schedule, from the library's schedulers),
:func:`schedule_run` (a short training run with one, cached), :func:`gradient_noise`,
:func:`clipping_run`, :func:`line_batch_gradients`, :func:`half_precision_gradients`.
Only :func:`schedule_explorer` is an interactive widget; the other figures are static pictures that the
lesson draws live.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .. import amp, nn, optim
from ..autograd import no_grad
from ..data import DataLoader, TensorDataset
from ..data.toy import make_line, make_spirals
from ..models import MLP
from ..optim import lr_scheduler
from ..random import Generator, get_rng_state, manual_seed, set_rng_state
from ..tensor import Tensor, tensor
from .registry import interactive
from .widgets import new_figure, widget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CONTROLS",
    "SCHEDULES",
    "ClippingRun",
    "GradientNoise",
    "HalfPrecisionGradients",
    "ScheduleRun",
    "batch_size_figure",
    "clipping_figure",
    "clipping_run",
    "confusion_figure",
    "float16_figure",
    "gradient_noise",
    "half_precision_gradients",
    "image_grid",
    "line_batch_gradients",
    "line_data",
    "lr_curve",
    "make_scheduler",
    "schedule_explorer",
    "schedule_run",
    "spiral_data",
    "warmup_steps",
    "widget",
]

SCHEDULES = ["constant", "step", "exponential", "cosine", "warm-up + cosine", "one-cycle"]
COLORS = dict(
    zip(SCHEDULES, ["tab:gray", "tab:orange", "tab:green", "tab:blue", "tab:purple", "tab:red"], strict=True)
)


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed the global generator (model initialisation draws from it), then put its state back."""
    state = get_rng_state()
    manual_seed(seed)
    try:
        yield
    finally:
        set_rng_state(state)


def _frozen(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False  # cached results are shared: nobody may change them


def spiral_data(n_samples: int = 600, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Three spiral arms in 2-D (``make_spirals``), as float32 inputs ``(N, 2)`` and int64 labels."""
    X, y = make_spirals(n_samples, 3, noise=0.2, seed=seed)
    return tensor(X), tensor(y)


def _flat_grad(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()]).astype(np.float64)


# ------------------------------------------------------------------------------------------------
# 1.7.1 Batch size and gradient noise
# ------------------------------------------------------------------------------------------------


class GradientNoise(NamedTuple):
    """What :func:`gradient_noise` measured, one entry per batch size."""

    batch_sizes: np.ndarray
    noise: np.ndarray  # measured mean of ‖g_B − g‖² over the batches drawn
    theory: np.ndarray  # σ²/B · (N − B)/(N − 1)
    cosine: np.ndarray  # mean cosine between g_B and g
    steps_per_epoch: np.ndarray  # batches one pass of the DataLoader gave
    grad_norm2: float  # ‖g‖² of the full-batch gradient
    sigma2: float  # (1/N) Σ ‖g_i − g‖² over the per-sample gradients


@functools.lru_cache(maxsize=8)
def _gradient_noise(batch_sizes: tuple[int, ...], n_samples: int, repeats: int, seed: int) -> GradientNoise:
    X, y = spiral_data(n_samples, seed)
    with _seeded(seed):
        model = MLP(2, [32, 32], 3)

    def grad(x: Tensor, t: Tensor) -> np.ndarray:
        model.zero_grad()
        nn.functional.cross_entropy(model(x), t).backward()
        return _flat_grad(model)

    g = grad(X, y)  # the full-batch gradient: the one we would like to follow
    per_sample = np.stack([grad(X[i : i + 1], y[i : i + 1]) for i in range(n_samples)])
    sigma2 = float(np.mean(np.sum((per_sample - g) ** 2, axis=1)))
    dataset = TensorDataset(X, y)
    noise, cosine, steps = [], [], []
    for b in batch_sizes:
        loader = DataLoader(dataset, b, shuffle=True, drop_last=True, generator=Generator().manual_seed(seed))
        steps.append(sum(1 for _ in DataLoader(dataset, b)))  # one pass, counted
        errs, coss = [], []
        while len(errs) < repeats:
            for xb, yb in loader:
                gb = grad(xb, yb)
                errs.append(float(np.sum((gb - g) ** 2)))
                coss.append(float(gb @ g / (np.linalg.norm(gb) * np.linalg.norm(g) + 1e-30)))
                if len(errs) == repeats:
                    break
        noise.append(np.mean(errs))
        cosine.append(np.mean(coss))
    bs = np.array(batch_sizes, dtype=float)
    result = GradientNoise(
        np.array(batch_sizes),
        np.array(noise),
        sigma2 / bs * (n_samples - bs) / (n_samples - 1),
        np.array(cosine),
        np.array(steps),
        float(g @ g),
        sigma2,
    )
    _frozen(result.batch_sizes, result.noise, result.theory, result.cosine, result.steps_per_epoch)
    return result


def gradient_noise(
    batch_sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256),
    n_samples: int = 512,
    repeats: int = 16,
    seed: int = 0,
) -> GradientNoise:
    """Measure how far mini-batch gradients stray from the full-batch gradient.

    A small MLP (2 → 32 → 32 → 3, at its seeded initialisation) on ``n_samples`` spiral points: the
    full gradient g, every per-sample gradient gᵢ (so σ² = mean ‖gᵢ − g‖² is exact), then for each
    batch size B, ``repeats`` batches from a shuffled :class:`~tinylearn.data.DataLoader` and their
    gradients g_B. Sampling without replacement predicts E‖g_B − g‖² = σ²/B · (N − B)/(N − 1).
    Results are cached (the arrays are read-only).
    """
    sizes = tuple(int(b) for b in batch_sizes)
    if not sizes or min(sizes) < 1 or max(sizes) > n_samples:
        raise ValueError(
            f"gradient_noise: batch sizes must be between 1 and n_samples={n_samples}, got {sizes}"
        )
    return _gradient_noise(sizes, int(n_samples), int(repeats), int(seed))


def batch_size_figure(
    batch_sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256),
    n_samples: int = 512,
    repeats: int = 16,
    seed: int = 0,
) -> Figure:
    """Gradient noise (left), agreement with the full gradient (middle) and steps per epoch (right)
    against the batch size, all measured (see :func:`gradient_noise`)."""
    m = gradient_noise(batch_sizes, n_samples, repeats, seed)
    bs = m.batch_sizes
    fig = new_figure(figsize=(12.0, 3.6), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    norm = math.sqrt(m.grad_norm2)
    left.loglog(bs, np.sqrt(m.noise) / norm, "o", color="tab:red", label="measured")
    left.loglog(
        bs, np.sqrt(m.theory) / norm, "-", color="black", lw=1, label=r"$\sigma/\sqrt{B}$ · correction"
    )
    left.set_xlabel("batch size B")
    left.set_ylabel("‖g_B − g‖ / ‖g‖")
    left.set_title("noise of a mini-batch gradient")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=8)
    middle.semilogx(bs, m.cosine, "o-", color="tab:blue")
    middle.set_ylim(0.0, 1.05)
    middle.set_xlabel("batch size B")
    middle.set_ylabel("cos(g_B, g)")
    middle.set_title("does the step point the right way?")
    middle.grid(alpha=0.3, which="both")
    right.bar(np.arange(len(bs)), m.steps_per_epoch, color="tab:green")
    right.set_xticks(np.arange(len(bs)), [str(b) for b in bs])
    right.set_yscale("log")
    for i, s in enumerate(m.steps_per_epoch):
        right.text(i, s, str(int(s)), ha="center", va="bottom", fontsize=8)
    right.set_xlabel("batch size B")
    right.set_ylabel("updates per epoch")
    right.set_title(f"len(DataLoader) for N = {n_samples}")
    return fig


# ------------------------------------------------------------------------------------------------
# 1.7.2 Learning-rate schedules
# ------------------------------------------------------------------------------------------------


def warmup_steps(steps: int, warmup: float) -> int:
    """The number of warm-up steps: a fraction ``warmup`` of ``steps``, at least 1."""
    return max(1, round(warmup * steps))


def make_scheduler(
    optimizer: optim.Optimizer,
    schedule: str,
    steps: int,
    *,
    step_size: int = 60,
    gamma: float = 0.3,
    warmup: float = 0.1,
    lr_min: float = 0.0,
) -> lr_scheduler.LRScheduler:
    """The library scheduler for ``schedule`` (one of :data:`SCHEDULES`), for a run of ``steps`` steps
    stepped once per batch; η₀ is the optimizer's lr.

    * ``constant``: ``LambdaLR`` with λ(t) = 1;
    * ``step``: ``StepLR(step_size, gamma)``: ×γ every ``step_size`` steps;
    * ``exponential``: ``ExponentialLR(gamma ** (1/step_size))``: the same decay, spread over every step;
    * ``cosine``: ``CosineAnnealingLR(T_max=steps, eta_min=lr_min)``;
    * ``warm-up + cosine``: ``SequentialLR`` of ``LinearLR(0.01 → 1)`` over the first ``warmup`` fraction
      of the steps, then ``CosineAnnealingLR`` down to ``lr_min``;
    * ``one-cycle``: ``OneCycleLR(max_lr=η₀, total_steps=steps, pct_start=warmup)``.
    """
    if schedule == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda t: 1.0)
    if schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    if schedule == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=gamma ** (1.0 / step_size))
    if schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr_min)
    if schedule == "warm-up + cosine":
        w = warmup_steps(steps, warmup)
        return lr_scheduler.SequentialLR(
            optimizer,
            [
                lr_scheduler.LinearLR(optimizer, start_factor=0.01, end_factor=1.0, total_iters=w),
                lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps - w, eta_min=lr_min),
            ],
            milestones=[w],
        )
    if schedule == "one-cycle":
        top = optimizer.param_groups[0]["lr"]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=top, total_steps=steps, pct_start=float(warmup))
    raise ValueError(f"unknown schedule {schedule!r}; pick one of {SCHEDULES}")


def _key(schedule: str, lr: float, step_size: int, gamma: float, warmup: float, lr_min: float) -> tuple:
    """Only the parameters ``schedule`` uses (rounded), so that moving an unused slider hits the cache."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; pick one of {SCHEDULES}")
    r = functools.partial(round, ndigits=9)
    uses = {
        "constant": (),
        "step": ("step_size", "gamma"),
        "exponential": ("step_size", "gamma"),
        "cosine": ("lr_min",),
        "warm-up + cosine": ("warmup", "lr_min"),
        "one-cycle": ("warmup",),
    }[schedule]
    values = {"step_size": int(step_size), "gamma": r(gamma), "warmup": r(warmup), "lr_min": r(lr_min)}
    defaults = {"step_size": 60, "gamma": 0.3, "warmup": 0.1, "lr_min": 0.0}
    return (schedule, r(lr), *(values[k] if k in uses else defaults[k] for k in defaults))


def lr_curve(
    schedule: str,
    steps: int = 200,
    lr: float = 0.5,
    step_size: int = 60,
    gamma: float = 0.3,
    warmup: float = 0.1,
    lr_min: float = 0.0,
) -> np.ndarray:
    """The learning rate of each of ``steps`` steps under ``schedule``, read from the library's scheduler
    (built by :func:`make_scheduler` on a one-parameter SGD) as a training loop would: the lr the step
    uses, then ``scheduler.step()``."""
    param = Tensor(np.zeros(1, np.float32), requires_grad=True)
    opt = optim.SGD([param], lr=lr, momentum=0.9)
    sched = make_scheduler(
        opt, schedule, steps, step_size=step_size, gamma=gamma, warmup=warmup, lr_min=lr_min
    )
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    return np.array(lrs)


class ScheduleRun(NamedTuple):
    """A training run of :func:`schedule_run`."""

    lrs: np.ndarray  # the learning rate of each step
    losses: np.ndarray  # the mini-batch loss of each step
    final_loss: float  # cross-entropy on all the points after training
    final_acc: float  # accuracy on all the points after training


@functools.lru_cache(maxsize=512)
def _schedule_run(key: tuple, steps: int, seed: int) -> ScheduleRun:
    schedule, lr, step_size, gamma, warmup, lr_min = key
    X, y = spiral_data(600, seed)
    with _seeded(seed):
        model = MLP(2, [64, 64], 3)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = make_scheduler(
        opt, schedule, steps, step_size=step_size, gamma=gamma, warmup=warmup, lr_min=lr_min
    )
    loader = DataLoader(
        TensorDataset(X, y), 32, shuffle=True, drop_last=True, generator=Generator().manual_seed(seed)
    )
    lrs, losses = [], []
    while len(losses) < steps:
        for xb, yb in loader:
            lrs.append(opt.param_groups[0]["lr"])
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()  # once per batch
            losses.append(loss.item())
            if len(losses) == steps:
                break
    with no_grad():
        out = model(X)
        final = nn.functional.cross_entropy(out, y).item()
        acc = float(np.mean(out.numpy().argmax(axis=1) == y.numpy()))
    run = ScheduleRun(np.array(lrs), np.array(losses), final, acc)
    _frozen(run.lrs, run.losses)
    return run


def schedule_run(
    schedule: str = "warm-up + cosine",
    steps: int = 200,
    lr: float = 0.5,
    step_size: int = 60,
    gamma: float = 0.3,
    warmup: float = 0.1,
    lr_min: float = 0.0,
    seed: int = 0,
) -> ScheduleRun:
    """Train a 2 → 64 → 64 → 3 MLP on 600 spiral points for ``steps`` steps of SGD (momentum 0.9,
    batches of 32 from a shuffled DataLoader), the learning rate following ``schedule`` (see
    :func:`make_scheduler`), the scheduler stepped after every batch.

    Runs are cached by the parameters the schedule uses, so a widget revisiting a setting is instant.
    """
    key = _key(schedule, lr, step_size, gamma, warmup, lr_min)
    return _schedule_run(key, int(steps), int(seed))


def _smooth(values: np.ndarray, beta: float = 0.9) -> np.ndarray:
    """An exponential moving average with bias correction (the smoothing of TensorBoard's curves)."""
    out, avg = np.empty(len(values)), 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1 - beta) * v
        out[i] = avg / (1 - beta ** (i + 1))
    return out


@interactive(section="1.7.2", title="learning-rate schedules: the lr over the steps and a real run's loss")
def schedule_explorer(
    schedule: str = "warm-up + cosine",
    lr: float = 0.5,
    step_size: int = 60,
    gamma: float = 0.3,
    warmup: float = 0.1,
    lr_min: float = 0.0,
    baseline: bool = True,
    steps: int = 200,
) -> Figure:
    """Left: the learning rate over the steps for ``schedule`` (bold) and the five others at the same
    settings (faint), each from the library's scheduler. Right: the mini-batch loss of a real run with
    that schedule (faint: each batch; bold: smoothed) and, with ``baseline``, the run at the constant
    peak lr (dashed)."""
    params = {"step_size": step_size, "gamma": gamma, "warmup": warmup, "lr_min": lr_min}
    run = schedule_run(schedule, steps, lr, **params)
    fig = new_figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)
    t = np.arange(steps)
    for other in SCHEDULES:
        if other != schedule:
            left.plot(
                t, lr_curve(other, steps, lr, **params), color=COLORS[other], lw=1, alpha=0.3, label=other
            )
    left.plot(t, run.lrs, color=COLORS[schedule], lw=2.5, label=f"{schedule} (this run)")
    left.set_xlabel("step (one batch each)")
    left.set_ylabel("learning rate")
    left.set_ylim(0, lr * 1.08)
    left.grid(alpha=0.3)
    left.legend(fontsize=7, loc="upper right")
    left.set_title(f"{schedule}: lr {run.lrs[0]:.3g} at step 0, {run.lrs[-1]:.3g} at the end")
    losses = np.clip(np.nan_to_num(run.losses, nan=1e3), 1e-4, 1e3)
    right.semilogy(t, losses, color=COLORS[schedule], lw=0.6, alpha=0.3)
    right.semilogy(t, _smooth(losses), color=COLORS[schedule], lw=2, label=schedule)
    title = f"after training: loss {run.final_loss:.3f}, accuracy {run.final_acc:.0%}"
    if baseline and schedule != "constant":
        base = schedule_run("constant", steps, lr)
        right.semilogy(
            t,
            _smooth(np.clip(np.nan_to_num(base.losses, nan=1e3), 1e-4, 1e3)),
            "--",
            color="black",
            lw=1.2,
            label=f"constant lr {lr:g}",
        )
        title += f"\n(constant lr: loss {base.final_loss:.3f}, accuracy {base.final_acc:.0%})"
    right.set_xlabel("step")
    right.set_ylabel("mini-batch cross-entropy")
    right.set_ylim(1e-3, 5.0)
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=8, loc="lower left")
    right.set_title(title, fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------------
# 1.7.3 Gradient clipping
# ------------------------------------------------------------------------------------------------

LINE_START = (-1.0, 4.0)  # (w, b) where the clipping runs start


def line_data(
    n_samples: int = 400, outliers: float = 0.03, size: float = 100.0, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Points on y = 2x + 1 (noise 0.5), a fraction ``outliers`` of them moved up or down by ``size``:
    ``X`` and ``y``, ``(N, 1)`` each."""
    X, y = make_line(n_samples, slope=2.0, intercept=1.0, noise=0.5, seed=seed)
    rng = np.random.default_rng(seed + 1)
    bad = rng.choice(n_samples, size=round(outliers * n_samples), replace=False)
    y = y.copy()
    y[bad, 0] += rng.choice([-size, size], size=len(bad)).astype(np.float32)
    return tensor(X), tensor(y)


def _line_model(w: float, b: float) -> nn.Linear:
    model = nn.Linear(1, 1)
    with no_grad():
        model.weight.fill_(w)
        model.bias.fill_(b)
    return model


def line_batch_gradients(
    n_batches: int = 60, batch_size: int = 16, w: float = 2.5, b: float = 0.0, seed: int = 0
) -> np.ndarray:
    """The gradients (∂L/∂w, ∂L/∂b) of the MSE of ``Linear(1, 1)`` at (w, b) on ``n_batches`` batches
    of :func:`line_data` from a shuffled DataLoader: real 2-D gradient vectors, some from batches
    with an outlier. Shape ``(n_batches, 2)``."""
    X, y = line_data(seed=seed)
    model = _line_model(w, b)
    loader = DataLoader(
        TensorDataset(X, y), batch_size, shuffle=True, generator=Generator().manual_seed(seed)
    )
    grads: list[np.ndarray] = []
    while len(grads) < n_batches:
        for xb, yb in loader:
            model.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            grads.append(np.array([model.weight.grad.item(), model.bias.grad.item()]))
            if len(grads) == n_batches:
                break
    return np.array(grads)


def _clip_2d(g: np.ndarray, mode: str, max_norm: float, clip_value: float) -> np.ndarray:
    """Clip one 2-D gradient with the library's functions (on a 2-parameter stand-in)."""
    p = Tensor(np.zeros(2), requires_grad=True)
    p.grad = tensor(np.array(g, dtype=np.float64))
    if mode == "norm":
        optim.clip_grad_norm_([p], max_norm)
    else:
        optim.clip_grad_value_([p], clip_value)
    return p.grad.numpy()


class ClippingRun(NamedTuple):
    """A run of :func:`clipping_run`."""

    path: np.ndarray  # (steps + 1, 2): (w, b) after each step, the start first
    grad_norms: np.ndarray  # ‖g‖ of each step, before clipping (clip_grad_norm_'s return value)
    clean_loss: np.ndarray  # MSE on the points without the outliers, after each step


@functools.lru_cache(maxsize=32)
def _clipping_run(
    mode: str, max_norm: float, clip_value: float, steps: int, lr: float, seed: int
) -> ClippingRun:
    X, y = line_data(seed=seed)
    X_clean, y_clean = make_line(400, slope=2.0, intercept=1.0, noise=0.5, seed=seed)
    X_clean, y_clean = tensor(X_clean), tensor(y_clean)
    model = _line_model(*LINE_START)
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X, y), 16, shuffle=True, generator=Generator().manual_seed(seed))

    def clean() -> float:
        with no_grad():
            return nn.functional.mse_loss(model(X_clean), y_clean).item()

    path, norms, losses = [LINE_START], [], [clean()]
    while len(norms) < steps:
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            if mode == "norm":
                norm = optim.clip_grad_norm_(model.parameters(), max_norm).item()
            else:
                norm = optim.clip_grad_norm_(model.parameters(), math.inf).item()  # measure only
                if mode == "value":
                    optim.clip_grad_value_(model.parameters(), clip_value)
            opt.step()
            norms.append(norm)
            path.append((model.weight.item(), model.bias.item()))
            losses.append(clean())
            if len(norms) == steps:
                break
    run = ClippingRun(np.array(path), np.array(norms), np.array(losses))
    _frozen(*run)
    return run


def clipping_run(
    mode: str = "norm",
    max_norm: float = 2.0,
    clip_value: float = 1.5,
    steps: int = 200,
    lr: float = 0.1,
    seed: int = 0,
) -> ClippingRun:
    """SGD on ``Linear(1, 1)`` fitting :func:`line_data` (3% outliers) from (w, b) = (−1, 4), batches of
    16, with ``mode`` = ``"none"``, ``"norm"`` (``clip_grad_norm_(max_norm)``) or ``"value"``
    (``clip_grad_value_(clip_value)``) between ``backward()`` and ``step()``. Cached."""
    if mode not in ("none", "norm", "value"):
        raise ValueError(f"clipping_run: mode must be 'none', 'norm' or 'value', got {mode!r}")
    return _clipping_run(mode, float(max_norm), float(clip_value), int(steps), float(lr), int(seed))


def clipping_figure(
    max_norm: float = 2.0, clip_value: float = 1.5, steps: int = 200, lr: float = 0.1
) -> Figure:
    """Clipping by norm against clipping by value, on real gradients of ``Linear(1, 1)``.

    Left: 60 mini-batch gradients at (w, b) = (2.5, 0) (their directions as faint rays) after
    ``clip_grad_norm_`` (blue dots: inside the circle ‖g‖ ≤ max_norm, each on its own ray) and after
    ``clip_grad_value_`` (orange crosses: inside the square, pushed off their rays). Middle: SGD paths
    from the same start and batches without clipping and with each kind. Right: the gradient norm of
    each step, before clipping."""
    grads = line_batch_gradients()
    by_norm = np.array([_clip_2d(g, "norm", max_norm, clip_value) for g in grads])
    by_value = np.array([_clip_2d(g, "value", max_norm, clip_value) for g in grads])
    fig = new_figure(figsize=(13.0, 4.2), layout="constrained")
    left, middle, right = fig.subplots(1, 3)
    reach = 1.3 * max(max_norm, clip_value * math.sqrt(2))
    for g in grads:
        d = g / (np.linalg.norm(g) + 1e-12) * 3 * reach
        left.plot([0, d[0]], [0, d[1]], color="gray", lw=0.5, alpha=0.4)
    circle = np.linspace(0, 2 * np.pi, 200)
    left.plot(max_norm * np.cos(circle), max_norm * np.sin(circle), color="tab:blue", lw=1)
    c = clip_value
    left.plot([-c, c, c, -c, -c], [-c, -c, c, c, -c], color="tab:orange", lw=1)
    left.scatter(by_norm[:, 0], by_norm[:, 1], s=14, color="tab:blue", zorder=3, label="clip_grad_norm_")
    left.scatter(
        by_value[:, 0],
        by_value[:, 1],
        s=22,
        marker="x",
        color="tab:orange",
        zorder=3,
        label="clip_grad_value_",
    )
    cos_norm = np.mean(
        np.sum(by_norm * grads, 1) / (np.linalg.norm(by_norm, axis=1) * np.linalg.norm(grads, axis=1))
    )
    cos_value = np.mean(
        np.sum(by_value * grads, 1) / (np.linalg.norm(by_value, axis=1) * np.linalg.norm(grads, axis=1))
    )
    left.set_xlim(-reach, reach)
    left.set_ylim(-reach, reach)
    left.set_aspect("equal")
    left.set_xlabel("∂L/∂w")
    left.set_ylabel("∂L/∂b")
    left.legend(fontsize=7, loc="lower left")
    left.set_title(
        f"clipped gradients; mean cosine to the raw one:\nby norm {cos_norm:.3f}, by value {cos_value:.3f}",
        fontsize=9,
    )
    runs = {mode: clipping_run(mode, max_norm, clip_value, steps, lr) for mode in ("none", "norm", "value")}
    colors = {"none": "tab:red", "norm": "tab:blue", "value": "tab:orange"}
    labels = {"none": "no clipping", "norm": f"by norm ({max_norm:g})", "value": f"by value ({clip_value:g})"}
    for mode, run in runs.items():
        middle.plot(
            run.path[:, 0],
            run.path[:, 1],
            ".-",
            lw=0.8,
            ms=2,
            color=colors[mode],
            label=f"{labels[mode]}: MSE {np.mean(run.clean_loss[steps // 2 :]):.2f}",
        )
    middle.plot(*LINE_START, "ko")
    middle.plot(2.0, 1.0, "k*", ms=12, label="the true line (2, 1)")
    middle.set_xlabel("w")
    middle.set_ylabel("b")
    middle.legend(fontsize=7)
    middle.set_title(
        f"SGD paths, lr {lr:g}, batches of 16\n"
        f"(MSE on clean points, mean of the last {steps - steps // 2} steps)",
        fontsize=9,
    )
    right.semilogy(runs["none"].grad_norms, color="gray", lw=1)
    right.axhline(max_norm, color="tab:blue", ls="--", lw=1, label=f"max_norm = {max_norm:g}")
    right.set_xlabel("step")
    right.set_ylabel("‖g‖ before clipping")
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    right.set_title("gradient norm per step (no clipping)", fontsize=10)
    return fig


# ------------------------------------------------------------------------------------------------
# 1.7.4 Half precision
# ------------------------------------------------------------------------------------------------


class HalfPrecisionGradients(NamedTuple):
    """The parameter gradients of one batch, three ways (flattened, float64 copies)."""

    reference: np.ndarray  # float32 throughout, no autocast
    unscaled: np.ndarray  # under autocast (float16 matmuls), plain backward()
    scaled: np.ndarray  # under autocast, GradScaler: scale(loss).backward(), then unscale_
    scale: float  # the GradScaler's scale S


@functools.lru_cache(maxsize=16)
def _half_precision_gradients(loss_weight: float, init_scale: float, seed: int) -> HalfPrecisionGradients:
    X, y = spiral_data(600, seed)
    x, t = X[:256], y[:256]
    with _seeded(seed):
        model = MLP(2, [64, 64], 3)
    model.zero_grad()
    (nn.functional.cross_entropy(model(x), t) * loss_weight).backward()
    reference = _flat_grad(model)
    model.zero_grad()
    with amp.autocast():
        loss = nn.functional.cross_entropy(model(x), t) * loss_weight
    loss.backward()
    unscaled = _flat_grad(model)
    model.zero_grad()
    scaler = amp.GradScaler(init_scale=init_scale)
    opt = optim.SGD(model.parameters(), lr=0.0)
    with amp.autocast():
        loss = nn.functional.cross_entropy(model(x), t) * loss_weight
    scaler.scale(loss).backward()
    scaler.unscale_(opt)  # the gradients divided by S again, in float32
    scaled = _flat_grad(model)
    result = HalfPrecisionGradients(reference, unscaled, scaled, scaler.get_scale())
    _frozen(reference, unscaled, scaled)
    return result


def half_precision_gradients(
    loss_weight: float = 2.0**-14, init_scale: float = 2.0**16, seed: int = 0
) -> HalfPrecisionGradients:
    """One batch of 256 spiral points through a 2 → 64 → 64 → 3 MLP, the loss multiplied by
    ``loss_weight`` (small gradients, as late in training or with a loss averaged over many outputs):
    the gradients in float32, under :class:`~tinylearn.amp.autocast` without scaling, and with a
    :class:`~tinylearn.amp.GradScaler` of scale ``init_scale``. Cached."""
    return _half_precision_gradients(float(loss_weight), float(init_scale), int(seed))


def _lost(reference: np.ndarray, got: np.ndarray) -> tuple[float, float]:
    """(the fraction of the nonzero reference entries that came back exactly 0, ‖got − ref‖ / ‖ref‖)."""
    nonzero = reference != 0
    lost = float(np.mean(got[nonzero] == 0))
    return lost, float(np.linalg.norm(got - reference) / np.linalg.norm(reference))


def float16_figure(loss_weight: float = 2.0**-14, init_scale: float = 2.0**16) -> Figure:
    """Left: the gap between neighbouring numbers (one ulp) against the number, in float16 and float32,
    with float16's limits marked. Right: the magnitudes of real gradients (:func:`half_precision_gradients`)
    before and after multiplying by the GradScaler's S, against float16's underflow zone; the title gives
    what was measured under autocast without and with the scaler."""
    h = np.finfo(np.float16)
    fig = new_figure(figsize=(12.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    x16 = np.geomspace(2.0**-26, 60000.0, 600)
    x32 = np.geomspace(2.0**-26, 1e6, 600)
    left.loglog(x16, np.spacing(x16.astype(np.float16)).astype(np.float64), color="tab:red", label="float16")
    left.loglog(x32, np.spacing(x32.astype(np.float32)).astype(np.float64), color="tab:blue", label="float32")
    marks = [
        (2.0**-24, "smallest float16\n2⁻²⁴ ≈ 6·10⁻⁸"),
        (float(h.tiny), "smallest normal\n2⁻¹⁴ ≈ 6·10⁻⁵"),
        (float(h.max), "largest\n65504"),
    ]
    for value, text in marks:
        left.axvline(value, color="tab:red", ls=":", lw=1)
        left.text(value, 1e-15, text, fontsize=7, rotation=90, va="bottom", ha="right")
    left.axvspan(2.0**-26, 2.0**-24, color="tab:red", alpha=0.12)
    left.set_xlabel("|x|")
    left.set_ylabel("gap to the next number (ulp)")
    left.set_title(f"float16: ε = {float(h.eps):.2e} (3 digits), max {float(h.max):g}", fontsize=10)
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=8, loc="upper left")

    g = half_precision_gradients(loss_weight, init_scale)
    mags = np.abs(g.reference[g.reference != 0])
    bins = np.arange(-40, 12, 1.0)
    right.hist(
        np.log2(mags),
        bins=bins,
        color="gray",
        alpha=0.7,
        label=f"gradients (loss × 2^{math.log2(loss_weight):g})",
    )
    right.hist(
        np.log2(mags * g.scale),
        bins=bins,
        color="tab:green",
        alpha=0.6,
        label=f"× S = 2^{math.log2(g.scale):g} (GradScaler)",
    )
    right.axvspan(bins[0], -24, color="tab:red", alpha=0.15, label="float16 rounds to 0")
    right.axvspan(-24, -14, color="tab:orange", alpha=0.12, label="subnormal: fewer digits")
    right.axvline(math.log2(65504), color="tab:red", ls=":", lw=1)
    right.set_xlabel("log₂ |gradient entry|")
    right.set_ylabel("entries")
    right.legend(fontsize=7, loc="upper left")
    lost_u, err_u = _lost(g.reference, g.unscaled)
    lost_s, err_s = _lost(g.reference, g.scaled)
    right.set_title(
        f"measured under autocast, no scaling: {lost_u:.0%} of the entries became 0, "
        f"relative error {err_u:.2g}\nwith GradScaler: {lost_s:.0%} became 0, relative error {err_s:.2g}",
        fontsize=10,
    )
    return fig


# ------------------------------------------------------------------------------------------------
# 1.7.5 Evaluation pictures
# ------------------------------------------------------------------------------------------------


def confusion_figure(
    matrix: np.ndarray, labels: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """A confusion matrix (rows: true class, columns: predicted class) as a heat map with its counts;
    the colour is the fraction of the row, so mistakes stand out whatever the class sizes."""
    matrix = np.asarray(matrix)
    k = len(matrix)
    labels = [str(i) for i in range(k)] if labels is None else list(labels)
    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig = new_figure(figsize=(5.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.sqrt(rows), cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if rows[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, label="√(fraction of the row)", shrink=0.8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def image_grid(images: np.ndarray, titles: Sequence[str], columns: int = 8) -> Figure:
    """Gray-scale images ``(n, H, W)`` in a grid, each with its title."""
    n = len(images)
    rows = max(1, math.ceil(n / columns))
    fig = new_figure(figsize=(1.3 * columns, 1.5 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, title in zip(axes, images, titles, strict=False):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(title, fontsize=8)
    return fig


# ------------------------------------------------------------------------------------------------
# The controls
# ------------------------------------------------------------------------------------------------

# name -> {parameter: control spec}: (min, max, step) sliders, [choices], bool toggles.
CONTROLS: dict[str, dict[str, Any]] = {
    "schedule_explorer": {
        "schedule": SCHEDULES,
        "lr": (0.05, 1.0, 0.05),
        "step_size": (20, 200, 20),
        "gamma": (0.1, 0.9, 0.1),
        "warmup": (0.05, 0.5, 0.05),
        "lr_min": (0.0, 0.1, 0.01),
        "baseline": bool,
    },
}

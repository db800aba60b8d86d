"""Learning-rate schedulers against their closed forms over many steps, PyTorch's conventions (step 0 is
taken by the constructor, ``initial_lr``, ``get_last_lr``), OneCycleLR's phases and endpoints,
SequentialLR, ReduceLROnPlateau, and state_dict round trips."""

from __future__ import annotations

import copy
import math
from bisect import bisect_right

import numpy as np
import pytest

import tinylearn as tl
from tinylearn import optim
from tinylearn.optim import lr_scheduler as S


def make_opt(lrs=(0.1,), cls=optim.SGD, **kw) -> optim.Optimizer:
    groups = [{"params": [tl.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, **kw)


def trace(sched: S.LRScheduler, steps: int) -> np.ndarray:
    """lr of every group at steps 0 … steps (step 0 set by the constructor), checking get_last_lr()."""
    out = []
    for i in range(steps + 1):
        if i:
            sched.optimizer.step()
            sched.step()
        lrs = [g["lr"] for g in sched.optimizer.param_groups]
        assert sched.get_last_lr() == lrs
        out.append(lrs)
    return np.array(out)


T = np.arange(101)[:, None]
BASE = np.array([0.1, 0.03])


@pytest.mark.parametrize(
    ("make", "closed_form"),
    [
        (lambda o: S.StepLR(o, step_size=7, gamma=0.5), lambda t, b: b * 0.5 ** (t // 7)),
        (
            lambda o: S.MultiStepLR(o, milestones=[40, 10, 70, 70], gamma=0.3),  # unsorted, 70 twice: ·0.3²
            lambda t, b: b * 0.3 ** np.vectorize(lambda s: bisect_right([10, 40, 70, 70], s))(t),
        ),
        (lambda o: S.ExponentialLR(o, gamma=0.97), lambda t, b: b * 0.97**t),
        (
            lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001),  # 100 steps: past T_max it rises again
            lambda t, b: 0.001 + (b - 0.001) * (1 + np.cos(np.pi * t / 30)) / 2,
        ),
        (
            lambda o: S.LinearLR(o, start_factor=0.25, end_factor=0.75, total_iters=20),
            lambda t, b: b * (0.25 + 0.5 * np.minimum(t, 20) / 20),
        ),
        (lambda o: S.LambdaLR(o, lambda t: 1 / (1 + t)), lambda t, b: b / (1 + t)),
        (
            lambda o: S.LambdaLR(o, [lambda t: 0.9**t, lambda t: t % 3 + 1.0]),  # one per group
            lambda t, b: b * np.concatenate([0.9**t, t % 3 + 1.0], axis=1),
        ),
    ],
    ids=["step", "multistep", "exponential", "cosine", "linear", "lambda", "lambda-per-group"],
)
def test_schedules_follow_their_closed_forms(make, closed_form) -> None:
    sched = make(make_opt(BASE))
    assert sched.base_lrs == list(BASE)
    np.testing.assert_allclose(trace(sched, 100), closed_form(T, BASE), rtol=1e-12, atol=1e-15)


def test_cosine_endpoints_are_exact() -> None:
    lrs = trace(S.CosineAnnealingLR(make_opt(), T_max=10, eta_min=0.01), 20)[:, 0]
    assert lrs[0] == 0.1 and lrs[10] == 0.01 and lrs[20] == pytest.approx(0.1)
    assert lrs[5] == pytest.approx(0.055)  # halfway: the mean of the two


def test_constructor_takes_step_zero_and_records_initial_lr() -> None:
    opt = make_opt((0.2,))
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    assert sched.last_epoch == 0 and opt.param_groups[0]["initial_lr"] == 0.2
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["initial_lr"] == 0.2


def test_resuming_needs_initial_lr() -> None:
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        S.ExponentialLR(make_opt(), gamma=0.9, last_epoch=4)
    opt = make_opt()
    opt.param_groups[0]["initial_lr"] = 1.0
    sched = S.ExponentialLR(opt, gamma=0.5, last_epoch=2)  # resumes: the constructor steps to 3
    assert sched.last_epoch == 3 and opt.param_groups[0]["lr"] == 0.125


def test_step_with_an_epoch_jumps_there_and_warns() -> None:
    sched = S.ExponentialLR(make_opt((1.0,)), gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(3)
    assert sched.get_last_lr() == [0.125]


# --------------------------------------------------------------------------- OneCycleLR


def one_cycle_reference(t, total, max_lr, pct, div, final_div, cos=True, three_phase=False, m=(0.85, 0.95)):
    """The 1cycle lr and momentum at step t, written from the schedule's definition."""
    init, low = max_lr / div, max_lr / div / final_div
    base_m, max_m = m

    def anneal(a, b, p):
        return b + (a - b) / 2 * (math.cos(math.pi * p) + 1) if cos else a + (b - a) * p

    if three_phase:
        ends = [pct * total - 1, 2 * pct * total - 2, total - 1]
        lrs = [(init, max_lr), (max_lr, init), (init, low)]
        ms = [(max_m, base_m), (base_m, max_m), (max_m, max_m)]
    else:
        ends = [pct * total - 1, total - 1]
        lrs = [(init, max_lr), (max_lr, low)]
        ms = [(max_m, base_m), (base_m, max_m)]
    start = 0.0
    for i, end in enumerate(ends):
        if t <= end or i == len(ends) - 1:
            p = (t - start) / (end - start)
            return anneal(*lrs[i], p), anneal(*ms[i], p)
        start = end
    raise AssertionError


@pytest.mark.parametrize(
    "kw",
    [
        {"total_steps": 100},
        {"total_steps": 100, "anneal_strategy": "linear", "pct_start": 0.25},
        {"epochs": 5, "steps_per_epoch": 20, "div_factor": 10.0, "final_div_factor": 100.0},
        {"total_steps": 100, "three_phase": True},
        {"total_steps": 100, "three_phase": True, "anneal_strategy": "linear", "pct_start": 0.4},
    ],
)
def test_one_cycle_follows_its_phases(kw) -> None:
    opt = make_opt(cls=optim.SGD, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, **kw)
    pct, div, final = kw.get("pct_start", 0.3), kw.get("div_factor", 25.0), kw.get("final_div_factor", 1e4)
    cos, three = kw.get("anneal_strategy", "cos") == "cos", kw.get("three_phase", False)
    for t in range(100):
        lr, momentum = one_cycle_reference(t, 100, 1.0, pct, div, final, cos, three)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-12)
        opt.step()
        sched.step()


def test_one_cycle_exact_endpoints() -> None:
    opt = make_opt(cls=optim.SGD, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=2.0, total_steps=100, pct_start=0.3)
    lrs, momenta = [], []
    for t in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        if t < 99:
            sched.step()
    # Each phase computes end + (start − end)(1 + cos πp)/2, exact at its end (p = 1) and, as in PyTorch,
    # only up to rounding at its start (p = 0): 2.0 + (0.08 − 2.0) is 0.08000000000000007.
    assert lrs[0] == pytest.approx(2.0 / 25, rel=1e-14)  # initial_lr = max_lr / div_factor
    assert lrs[29] == 2.0  # the peak, at pct_start·total − 1
    assert lrs[99] == 2.0 / 25 / 1e4  # min_lr = initial_lr / final_div_factor, at the last step
    assert momenta[0] == 0.95 and momenta[29] == 0.85 and momenta[99] == 0.95
    assert max(lrs) == 2.0 and np.argmax(lrs) == 29
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == (0.08, 2.0, 0.08 / 1e4)


def test_one_cycle_three_phase_endpoints() -> None:
    opt = make_opt(cls=optim.SGD, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=100, pct_start=0.25, three_phase=True)
    lrs = trace(sched, 99)[:, 0]
    assert lrs[0] == pytest.approx(0.04, rel=1e-14)
    assert lrs[24] == 1.0 and lrs[48] == 0.04 and lrs[99] == 0.04 / 1e4
    assert opt.param_groups[0]["momentum"] == 0.95


def test_one_cycle_cycles_adams_beta1_and_keeps_beta2() -> None:
    opt = make_opt(cls=optim.AdamW, betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=0.01, total_steps=10, pct_start=0.5, base_momentum=0.8, max_momentum=0.9)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    for _ in range(4):
        sched.step()
    assert opt.param_groups[0]["betas"] == (pytest.approx(0.8), 0.99)  # the peak of the lr: the lowest β₁


def test_one_cycle_per_group_max_lr_and_no_momentum_cycling() -> None:
    opt = make_opt((1.0, 1.0), cls=optim.Adagrad)
    sched = S.OneCycleLR(opt, max_lr=[1.0, 0.1], total_steps=10, cycle_momentum=False)
    assert sched.get_last_lr() == [pytest.approx(0.04), pytest.approx(0.004)]
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        S.OneCycleLR(make_opt(cls=optim.Adagrad), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="expected 2 values for max_lr, got 3"):
        S.OneCycleLR(opt, max_lr=[1.0, 2.0, 3.0], total_steps=10, cycle_momentum=False)


def test_one_cycle_refuses_to_step_past_total_steps() -> None:
    sched = S.OneCycleLR(make_opt(), max_lr=1.0, total_steps=5)
    for _ in range(5):  # up to step 5 = total_steps, as PyTorch allows
        sched.step()
    with pytest.raises(ValueError, match=r"Tried to step 6 times\. The specified number of total steps is 5"):
        sched.step()


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({}, "You must define either total_steps OR"),
        ({"total_steps": 0}, "Expected positive integer total_steps"),
        ({"epochs": 2, "steps_per_epoch": 0}, "Expected positive integer steps_per_epoch"),
        ({"total_steps": 10, "pct_start": 1}, "Expected float between 0 and 1 pct_start"),
        ({"total_steps": 10, "anneal_strategy": "exp"}, "anneal_strategy must be one of"),
    ],
)
def test_one_cycle_bad_arguments(kw, match) -> None:
    with pytest.raises(ValueError, match=match):
        S.OneCycleLR(make_opt(), max_lr=1.0, **kw)


# --------------------------------------------------------------------------- SequentialLR


def test_sequential_warmup_then_cosine() -> None:
    """Linear warmup from 0.1·η₀ for 5 steps, then cosine decay restarting at η₀ at the milestone."""
    opt = make_opt(BASE)
    warmup = S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5)
    decay = S.CosineAnnealingLR(opt, T_max=20, eta_min=0.0)
    sched = S.SequentialLR(opt, [warmup, decay], milestones=[5])
    t = np.arange(26)[:, None]
    expected = np.where(t < 5, BASE * (0.1 + 0.9 * t / 5), BASE * (1 + np.cos(np.pi * (t - 5) / 20)) / 2)
    np.testing.assert_allclose(trace(sched, 25), expected, rtol=1e-12, atol=1e-16)
    assert decay.last_epoch == 20 and warmup.last_epoch == 4


def test_sequential_three_schedulers() -> None:
    opt = make_opt((1.0,))
    scheds = [S.ExponentialLR(opt, gamma=0.5), S.StepLR(opt, 2, gamma=0.1), S.LambdaLR(opt, lambda t: 2.0)]
    lrs = trace(S.SequentialLR(opt, scheds, milestones=[3, 6]), 8)[:, 0]
    np.testing.assert_allclose(lrs, [1, 0.5, 0.25, 1, 1, 0.1, 2, 2, 2])


def test_sequential_bad_arguments() -> None:
    opt, other = make_opt(), make_opt()
    with pytest.raises(ValueError, match="at least one scheduler"):
        S.SequentialLR(opt, [], milestones=[])
    with pytest.raises(ValueError, match="number of schedulers provided to be one more"):
        S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.ReduceLROnPlateau(opt)], milestones=[3])


# --------------------------------------------------------------------------- ReduceLROnPlateau


def plateau(metrics, **kw) -> list[float]:
    opt = make_opt((1.0,))
    sched = S.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        sched.step(m)
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
        out.append(opt.param_groups[0]["lr"])
    return out


def test_plateau_patience_cooldown_and_min_lr() -> None:
    """patience 2: the third bad step in a row reduces; cooldown 1: the step after a reduction counts no
    bad step; min_lr 0.2 stops the decay at 0.2 (0.25·0.5 = 0.125 is raised to 0.2, then nothing)."""
    lrs = plateau([10, 9] + [9] * 15, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    assert lrs == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2]


def test_plateau_improvement_resets_the_count() -> None:
    lrs = plateau([5, 5, 4, 4, 3, 3, 3, 3], patience=1, factor=0.1)
    assert lrs == pytest.approx([1, 1, 1, 1, 1, 1, 0.1, 0.1])


def test_plateau_threshold_modes() -> None:
    # rel: 9.9995 is not below 10·(1 − 1e-4) = 9.999, so it is a bad step; 9.998 improves.
    assert plateau([10, 9.9995, 9.998], patience=0, factor=0.5) == [1, 0.5, 0.5]
    # abs: only an improvement by more than 0.5 counts.
    lrs = plateau([10, 9.6, 9.4], patience=0, factor=0.5, threshold=0.5, threshold_mode="abs")
    assert lrs == [1, 0.5, 0.5]


def test_plateau_mode_max() -> None:
    assert plateau([0.5, 0.6, 0.6, 0.7, 0.65], mode="max", patience=0, factor=0.5) == [1, 1, 0.5, 0.5, 0.25]


def test_plateau_metric_may_be_a_tensor_and_bad_arguments() -> None:
    assert plateau([tl.tensor(3.0), tl.tensor(4.0)], patience=0) == pytest.approx([1, 0.1])
    with pytest.raises(ValueError, match=r"Factor should be < 1\.0"):
        S.ReduceLROnPlateau(make_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        S.ReduceLROnPlateau(make_opt(), mode="avg")
    with pytest.raises(ValueError, match="threshold mode x is unknown"):
        S.ReduceLROnPlateau(make_opt(), threshold_mode="x")
    with pytest.raises(ValueError, match="expected 1 values for min_lr, got 2"):
        S.ReduceLROnPlateau(make_opt(), min_lr=[0.1, 0.2])


# --------------------------------------------------------------------------- state_dict


class Warmup:
    """A callable object: LambdaLR saves its attributes."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __call__(self, t: int) -> float:
        return min(1.0, (t + 1) / self.steps)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: S.CosineAnnealingLR(o, T_max=10),
        lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=30),
        lambda o: S.LambdaLR(o, Warmup(8)),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 4), S.ExponentialLR(o, 0.9)], milestones=[4]),
        lambda o: S.MultiStepLR(o, [3, 6]),
    ],
    ids=["cosine", "onecycle", "lambda", "sequential", "multistep"],
)
def test_state_dict_round_trip_continues_identically(make) -> None:
    opt_a = make_opt((0.5,), momentum=0.9)
    a = make(opt_a)
    for _ in range(5):
        a.step()
    saved_opt, saved = copy.deepcopy(opt_a.state_dict()), copy.deepcopy(a.state_dict())
    assert "optimizer" not in saved

    opt_b = make_opt((0.5,), momentum=0.9)
    b = make(opt_b)
    if isinstance(b, S.LambdaLR):
        b.lr_lambdas[0].steps = 1  # must come back from the state dict
    opt_b.load_state_dict(saved_opt)
    b.load_state_dict(saved)
    assert b.last_epoch == 5 and b.get_last_lr() == a.get_last_lr()
    for _ in range(10):
        a.step()
        b.step()
        assert b.get_last_lr() == a.get_last_lr()
        assert opt_b.param_groups[0]["momentum"] == opt_a.param_groups[0]["momentum"]


def test_lambda_state_dict_skips_plain_functions() -> None:
    sched = S.LambdaLR(make_opt((1.0, 1.0)), [lambda t: 1.0, Warmup(3)])
    assert sched.state_dict()["lr_lambdas"] == [None, {"steps": 3}]


def test_plateau_state_dict() -> None:
    a = S.ReduceLROnPlateau(make_opt(), patience=1)
    for m in (3, 2, 2):
        a.step(m)
    b = S.ReduceLROnPlateau(make_opt())
    b.load_state_dict(a.state_dict())
    assert (b.best, b.num_bad_epochs, b.patience, b.last_epoch) == (2, 1, 1, 3)


def test_scheduler_needs_an_optimizer() -> None:
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], step_size=1)

"""The training loop: History and its plot, EarlyStopping, evaluate, fit, and progress bars."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinylearn as tl
from tinylearn import nn, optim
from tinylearn.data import DataLoader, TensorDataset
from tinylearn.training import EarlyStopping, History, accuracy, evaluate, fit, progress


def blobs_loaders(n: int = 300, seed: int = 0) -> tuple[DataLoader, DataLoader]:
    X, y = tl.data.make_blobs(n, centers=3, seed=seed)
    ds = TensorDataset(X.astype(np.float32), y.astype(np.int64))
    train, val = tl.data.random_split(ds, [n - 60, 60], generator=tl.Generator().manual_seed(seed))
    return (
        DataLoader(train, 32, shuffle=True, generator=tl.Generator().manual_seed(seed)),
        DataLoader(val, 60),
    )


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------- History


def test_history_records_epochs_and_gives_each_metric_as_a_list() -> None:
    h = History()
    h.append(train_loss=1.0, val_loss=1.2)
    h.append({"train_loss": 0.5, "val_loss": 0.8, "lr": 0.1})
    assert len(h) == 2
    assert h["train_loss"] == [1.0, 0.5]
    assert h.last("val_loss") == 0.8
    assert math.isnan(h["lr"][0]) and h["lr"][1] == 0.1  # a metric missing in an epoch is NaN
    assert h.as_dict().keys() == {"train_loss", "val_loss", "lr"}
    assert "val_loss" in h and "val_acc" not in h
    with pytest.raises(KeyError, match="val_acc"):
        h["val_acc"]


def test_history_plot_draws_train_and_val_curves_of_a_quantity_in_one_panel(tmp_path) -> None:
    from matplotlib.figure import Figure

    h = History()
    for epoch, (tl_, vl) in enumerate([(1.0, 1.1), (0.6, 0.8), (0.4, 0.7)], 1):
        accs = {"train_acc": 0.5 + epoch / 10, "val_acc": 0.4 + epoch / 10}
        h.append(epoch=epoch, train_loss=tl_, val_loss=vl, **accs, lr=0.1 / epoch, time=1.0)
    h.best_epoch = 3
    fig = h.plot(tmp_path / "curves.png", title="curves")
    assert isinstance(fig, Figure)
    assert (tmp_path / "curves.png").stat().st_size > 0
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy", "learning rate"]  # no epoch/time panels
    labels = [[line.get_label() for line in ax.lines] for ax in axes]
    assert labels == [
        ["train_loss", "val_loss", "best epoch"],
        ["train_acc", "val_acc", "best epoch"],
        ["lr", "best epoch"],
    ]
    train_line = axes[0].lines[0]
    np.testing.assert_array_equal(train_line.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(train_line.get_ydata(), [1.0, 0.6, 0.4])
    assert axes[0].lines[2].get_xdata()[0] == 3  # the best epoch marker


def test_history_plot_without_anything_recorded_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="nothing to plot"):
        History().plot()


# --------------------------------------------------------------------------- EarlyStopping


def test_early_stopping_stops_after_patience_epochs_without_improvement_and_restores_best() -> None:
    model = nn.Linear(3, 2)
    stopper = EarlyStopping(patience=2, min_delta=0.01)
    snapshots = []
    decisions = []
    for value in [1.0, 0.8, 0.795, 0.9]:  # 0.795 is not better by more than min_delta
        with tl.no_grad():
            for p in model.parameters():
                p.add_(1.0)  # the weights change every epoch
        snapshots.append(weights(model))
        decisions.append(stopper.step(value, model))
    assert decisions == [False, False, False, True]
    assert stopper.best == 0.8 and stopper.best_epoch == 2 and stopper.stopped
    for name, value in weights(model).items():  # the model is back at epoch 2's weights
        np.testing.assert_array_equal(value, snapshots[1][name])


def test_early_stopping_counts_from_the_last_improvement_and_mode_max() -> None:
    model = nn.Linear(2, 1)
    stopper = EarlyStopping(patience=2, mode="max")
    assert [stopper.step(v, model) for v in [0.5, 0.4, 0.6, 0.6, 0.55]] == [False, False, False, False, True]
    assert stopper.best == 0.6 and stopper.best_epoch == 3


def test_early_stopping_keeps_a_copy_not_a_view_and_can_leave_the_weights() -> None:
    model = nn.Linear(2, 2)
    stopper = EarlyStopping(patience=1, restore_best=False)
    stopper.step(1.0, model)
    best = weights(model)
    with tl.no_grad():
        model.weight.mul_(0.0)  # in place: a view of the parameters would change too
    for name, value in stopper.best_state.items():
        np.testing.assert_array_equal(value.numpy(), best[name])
    assert stopper.step(2.0, model)
    assert np.all(model.weight.detach().numpy() == 0)  # restore_best=False: left alone
    stopper.restore(model)
    np.testing.assert_array_equal(model.weight.detach().numpy(), best["weight"])


def test_early_stopping_ignores_nan_and_checks_its_arguments() -> None:
    model = nn.Linear(2, 2)
    stopper = EarlyStopping(patience=1)
    stopper.step(1.0, model)
    assert stopper.step(float("nan"), model)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)


# --------------------------------------------------------------------------- evaluate and accuracy


def test_accuracy_of_class_logits_and_of_single_logits() -> None:
    logits = tl.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, tl.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert accuracy(tl.tensor([[1.5], [-2.0]]), tl.tensor([[1.0], [1.0]])) == 0.5
    assert math.isnan(accuracy(tl.tensor([0.3, 2.0]), tl.tensor([0.25, 1.9])))  # a regression


def test_evaluate_weights_batches_by_size_restores_train_mode_and_builds_no_graph() -> None:
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    X, y = tl.randn(10, 4), tl.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    loss_fn = nn.CrossEntropyLoss()
    loss, acc = evaluate(model, DataLoader(TensorDataset(X, y), batch_size=4), loss_fn)  # batches 4, 4, 2
    model.eval()
    with tl.no_grad():
        out = model(X)
    model.train()
    assert loss == pytest.approx(loss_fn(out, y).item(), rel=1e-6)
    assert acc == pytest.approx(accuracy(out, y))
    assert model.training and model[1].training
    assert all(p.grad is None for p in model.parameters())


# --------------------------------------------------------------------------- fit


def test_fit_reduces_the_loss_on_toy_data_and_records_the_history(capsys) -> None:
    tl.manual_seed(0)
    train_loader, val_loader = blobs_loaders()
    model = tl.models.MLP(2, [16], 3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, opt, nn.CrossEntropyLoss(), train_loader, val_loader, epochs=5, scheduler=sched,
                  clip_grad_norm=5.0, progress=False)  # fmt: skip
    assert len(history) == 5
    assert {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time"} <= set(history.names)
    assert history["val_loss"][-1] < 0.5 * history["val_loss"][0]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history.last("val_acc") > 0.9
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])  # the lr each epoch used
    assert history["epoch"] == [1, 2, 3, 4, 5]
    printed = capsys.readouterr().out
    assert printed.count("epoch") == 5 and "val_acc" in printed


def test_fit_with_early_stopping_stops_and_ends_with_the_best_weights() -> None:
    tl.manual_seed(0)
    train_loader, _ = blobs_loaders()
    X, y = tl.data.make_blobs(100, centers=3, seed=0)
    # Validation labels that disagree with training's: the better the model learns, the worse it does here.
    wrong = DataLoader(TensorDataset(X.astype(np.float32), (y.astype(np.int64) + 1) % 3), 50)
    model = tl.models.MLP(2, [16], 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    stopper = EarlyStopping(patience=2)
    history = fit(model, opt, nn.CrossEntropyLoss(), train_loader, wrong, epochs=30,
                  early_stopping=stopper, progress=False, verbose=False)  # fmt: skip
    assert stopper.stopped and len(history) == stopper.best_epoch + stopper.patience < 30
    assert history.best_epoch == stopper.best_epoch
    assert min(history["val_loss"]) == pytest.approx(stopper.best)
    assert history["val_loss"][-1] > stopper.best
    val_loss, _ = evaluate(model, wrong, nn.CrossEntropyLoss())
    assert val_loss == pytest.approx(stopper.best, rel=1e-5)  # the weights of the best epoch are back


def test_fit_with_reduce_lr_on_plateau_and_without_validation_data() -> None:
    tl.manual_seed(0)
    train_loader, _ = blobs_loaders()
    model = tl.models.MLP(2, [8], 3)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    # Improving means beating the best by 10: only the first epoch does, so the lr halves after the second.
    sched = optim.lr_scheduler.ReduceLROnPlateau(
        opt, patience=0, factor=0.5, threshold=10.0, threshold_mode="abs"
    )
    history = fit(model, opt, nn.CrossEntropyLoss(), train_loader, epochs=3, scheduler=sched, progress=False,
                  verbose=False)  # fmt: skip
    assert "val_loss" not in history
    assert history["lr"] == pytest.approx([1e-2, 1e-2, 5e-3])


def test_fit_in_mixed_precision_keeps_float32_master_weights_and_learns() -> None:
    tl.manual_seed(0)
    train_loader, val_loader = blobs_loaders()
    model = tl.models.MLP(2, [16], 3)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    scaler = tl.amp.GradScaler()
    history = fit(model, opt, nn.CrossEntropyLoss(), train_loader, val_loader, epochs=3, autocast=True,
                  scaler=scaler, clip_grad_norm=1.0, progress=False, verbose=False)  # fmt: skip
    assert all(p.dtype == tl.float32 for p in model.parameters())
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history.last("val_acc") > 0.9


# --------------------------------------------------------------------------- progress


def test_progress_bar_is_off_when_asked_or_under_tqdm_disable(monkeypatch) -> None:
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert not progress(range(3), "on").disable
    assert progress(range(3), "off", progress=False).disable
    monkeypatch.setenv("TQDM_DISABLE", "1")
    bar = progress(range(3), "env")
    assert bar.disable
    assert list(bar) == [0, 1, 2]  # the items still come through
    bar.set_postfix(loss="0.1")  # and the bar's methods still work
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert not progress(range(3), "on again").disable


def test_fit_shows_no_bar_under_tqdm_disable(monkeypatch, capsys) -> None:
    monkeypatch.setenv("TQDM_DISABLE", "1")
    train_loader, _ = blobs_loaders(100)
    model = tl.models.MLP(2, [4], 3)
    fit(
        model,
        optim.SGD(model.parameters(), lr=0.1),
        nn.CrossEntropyLoss(),
        train_loader,
        epochs=1,
        verbose=False,
    )
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""

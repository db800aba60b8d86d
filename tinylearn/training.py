"""The training loop (curriculum 1.7), in one readable file.

Training a network is one loop, repeated for a number of *epochs* (passes over the training data)::

    for epoch in range(epochs):
        model.train()                        # dropout on, batch norm uses batch statistics
        for x, y in train_loader:            # mini-batches (1.7.1)
            optimizer.zero_grad()            # forget the last batch's gradients
            loss = loss_fn(model(x), y)      # forward pass
            loss.backward()                  # backward pass: every parameter's .grad
            clip_grad_norm_(model.parameters(), 1.0)   # optional: tame a bad batch (1.7.3)
            optimizer.step()                 # update the parameters (1.4)
        scheduler.step()                     # change the learning rate (1.7.2)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn)   # eval mode, no graph
        if early_stopping.step(val_loss, model):                   # 1.5.7
            break

:func:`fit` is exactly this loop, plus the bookkeeping: a :class:`History` of the metrics of every
epoch (which :meth:`History.plot` draws as training/validation curves), tqdm progress bars
(:func:`progress`), and mixed precision (``autocast`` + ``GradScaler``, 1.7.4). It is meant to be read
from top to bottom; when you need something it does not do, copy the loop and change it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from . import amp
from .autograd import no_grad
from .data.files import progress_enabled
from .nn.module import Module
from .optim.clip import clip_grad_norm_
from .optim.lr_scheduler import ReduceLROnPlateau
from .optim.optimizer import Optimizer
from .tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EarlyStopping", "History", "accuracy", "evaluate", "fit", "progress"]

T = TypeVar("T")
LossFn = Callable[[Tensor, Tensor], Tensor]


# --------------------------------------------------------------------------- progress bars


def progress(iterable: Iterable[T], desc: str = "", progress: bool = True, **tqdm_kwargs: Any) -> Iterator[T]:
    """``iterable`` wrapped in a tqdm progress bar titled ``desc``.

    The bar is switched off (the items still come through, ``set_postfix`` still works) when
    ``progress=False`` or when the environment variable ``TQDM_DISABLE`` is set (to anything but
    ``0``/``false``/``no``), e.g. in CI logs: ``TQDM_DISABLE=1 tinylearn tour``. Extra keyword
    arguments go to ``tqdm`` (the bar disappears when done unless ``leave=True``).
    """
    from tqdm.auto import tqdm

    tqdm_kwargs.setdefault("leave", False)
    tqdm_kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, desc=desc, disable=not progress_enabled(progress), **tqdm_kwargs)


# --------------------------------------------------------------------------- history


class History:
    """The metrics of every epoch, e.g. ``{"train_loss": 0.31, "val_loss": 0.35, "val_acc": 0.91}``.

    ``history["val_loss"]`` is the list of one metric over the epochs (NaN where an epoch did not
    record it); ``as_dict()`` gives all of them; ``plot()`` draws them. Names that differ only by their
    ``train_`` / ``val_`` / ``test_`` prefix share one panel of the plot, so training and validation
    curves of the same quantity are drawn together.

        history = History()
        history.append(train_loss=0.9, val_loss=1.0)
        history.append({"train_loss": 0.5, "val_loss": 0.7})
        history["val_loss"]     # [1.0, 0.7]
    """

    PREFIXES: ClassVar[tuple[str, ...]] = ("train_", "val_", "test_")
    LABELS: ClassVar[dict[str, str]] = {"acc": "accuracy", "lr": "learning rate"}  # axis labels of the panels

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []
        self.best_epoch: int | None = None  # 1-based; set by fit when early stopping is used

    def append(self, metrics: dict[str, float] | None = None, **more: float) -> None:
        """Record one epoch's metrics (a dict, keyword arguments, or both)."""
        self.epochs.append({name: float(value) for name, value in {**(metrics or {}), **more}.items()})

    @property
    def names(self) -> list[str]:
        """Every metric name, in the order they first appeared."""
        return list(dict.fromkeys(name for epoch in self.epochs for name in epoch))

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.names:
            raise KeyError(f"History has no metric {name!r}; it has {self.names}")
        return [epoch.get(name, math.nan) for epoch in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def as_dict(self) -> dict[str, list[float]]:
        """``{name: [value of epoch 1, value of epoch 2, ...]}`` for every metric."""
        return {name: self[name] for name in self.names}

    def last(self, name: str) -> float:
        """The value of ``name`` in the latest epoch."""
        return self[name][-1]

    def __repr__(self) -> str:
        return f"History({len(self)} epochs: {', '.join(self.names)})"

    def panels(self) -> dict[str, list[str]]:
        """The plot's panels: ``{"loss": ["train_loss", "val_loss"], "lr": ["lr"], ...}`` (``epoch`` and
        ``time`` are left out)."""
        panels: dict[str, list[str]] = {}
        for name in self.names:
            if name in ("epoch", "time"):
                continue
            quantity = next((name[len(p) :] for p in self.PREFIXES if name.startswith(p)), name)
            panels.setdefault(quantity, []).append(name)
        return panels

    def plot(self, path: str | Path | None = None, title: str | None = None) -> Figure:
        """Training and validation curves, one panel per quantity (loss, accuracy, learning rate, ...).

        The epoch early stopping kept (``best_epoch``) is marked with a dashed line. Returns a
        ``matplotlib.figure.Figure`` (no pyplot, so nothing opens a window); with ``path`` it is also
        saved there (the format follows the suffix: .png, .svg, .pdf).
        """
        from matplotlib.figure import Figure

        panels = self.panels()
        if not panels:
            raise ValueError("History.plot: nothing to plot, no epoch has been recorded")
        fig = Figure(figsize=(4.2 * len(panels), 3.4), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        epochs = np.arange(1, len(self) + 1)
        for ax, (quantity, names) in zip(axes, panels.items(), strict=True):
            for name in names:
                ax.plot(epochs, self[name], marker="o", markersize=3, label=name)
            if self.best_epoch is not None:
                ax.axvline(self.best_epoch, color="grey", linestyle="--", linewidth=1, label="best epoch")
            ax.set_xlabel("epoch")
            ax.set_ylabel(self.LABELS.get(quantity, quantity))
            if quantity == "lr":
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
        if title:
            fig.suptitle(title)
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig


# --------------------------------------------------------------------------- early stopping


class EarlyStopping:
    """Stop training when a validation metric stops improving (curriculum 1.5.7), keeping the best weights.

    Call :meth:`step` once per epoch with the monitored metric; it returns True when the metric has not
    improved by more than ``min_delta`` for ``patience`` epochs in a row. Every improvement saves a copy
    of the model's ``state_dict``; with ``restore_best`` the model gets those weights back when training
    stops (and :meth:`restore` can be called at any time).

    Args:
        patience: epochs without improvement to tolerate before stopping.
        min_delta: the smallest change that counts as an improvement.
        mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
        restore_best: load the best weights into the model when stopping.
        monitor: the metric :func:`fit` passes to :meth:`step` (default ``"val_loss"``; ``fit`` falls
            back to the ``train_`` metric when there is no validation data).
    """

    def __init__(
        self,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best: bool = True,
        monitor: str = "val_loss",
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if patience < 1 or min_delta < 0:
            raise ValueError(
                f"EarlyStopping: need patience >= 1 and min_delta >= 0, got {patience}, {min_delta}"
            )
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.restore_best, self.monitor = restore_best, monitor
        self.best: float = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0  # 1-based count of step() calls; 0 before the first improvement
        self.best_state: dict[str, Tensor] | None = None
        self.epochs = 0  # step() calls so far
        self.bad_epochs = 0  # step() calls since the last improvement
        self.stopped = False

    def improved(self, metric: float) -> bool:
        """Whether ``metric`` beats the best so far by more than ``min_delta``."""
        if math.isnan(metric):
            return False
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric: float, model: Module) -> bool:
        """Record one epoch's ``metric``; return True when training should stop."""
        self.epochs += 1
        metric = float(metric)
        if self.improved(metric):
            self.best, self.best_epoch, self.bad_epochs = metric, self.epochs, 0
            self.best_state = {name: t.detach().clone() for name, t in model.state_dict().items()}  # a copy
        else:
            self.bad_epochs += 1
        self.stopped = self.bad_epochs >= self.patience
        if self.stopped and self.restore_best:
            self.restore(model)
        return self.stopped

    def restore(self, model: Module) -> None:
        """Load the best weights seen so far into ``model`` (nothing happens before the first step)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, mode={self.mode!r}, "
            f"best={self.best:.4g} at epoch {self.best_epoch})"
        )


# --------------------------------------------------------------------------- evaluation


def accuracy(output: Tensor, target: Tensor) -> float:
    """The fraction of correct predictions in a batch: the arg-max class of ``(N, C)`` logits against
    class indices ``(N,)``, or, for one logit per sample (``(N,)`` or ``(N, 1)``), ``logit > 0`` against
    0/1 targets. NaN when the targets are neither (a regression)."""
    out, y = output.detach().numpy(), target.detach().numpy()
    if out.ndim == 2 and out.shape[1] > 1 and y.ndim == 1 and y.dtype.kind in "iu":
        return float(np.mean(out.argmax(axis=1) == y))
    if out.size == y.size and (out.ndim == 1 or out.shape[-1] == 1) and np.isin(y, (0, 1)).all():
        return float(np.mean((out.reshape(-1) > 0) == y.reshape(-1)))
    return math.nan


def evaluate(
    model: Module, loader: Iterable[Any], loss_fn: LossFn, autocast: bool = False
) -> tuple[float, float]:
    """``(mean loss, accuracy)`` of ``model`` over ``loader``, in eval mode and without building a graph.

    Batches are weighted by their size, so the result is the mean over samples. The model's
    training mode is restored afterwards. ``autocast`` runs the forward passes under
    :class:`tinylearn.amp.autocast` (as a mixed-precision model is trained).
    """
    was_training = model.training
    model.eval()
    total_loss = total_correct = 0.0
    count = 0
    try:
        with no_grad(), amp.autocast(enabled=autocast):
            for x, y in loader:
                output = model(x)
                n = len(y)
                total_loss += loss_fn(output, y).item() * n
                total_correct += accuracy(output, y) * n
                count += n
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader gave no batches")
    return total_loss / count, total_correct / count


# --------------------------------------------------------------------------- the loop


def fit(
    model: Module,
    optimizer: Optimizer,
    loss_fn: LossFn,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    epochs: int = 10,
    scheduler: Any = None,
    clip_grad_norm: float | None = None,
    early_stopping: EarlyStopping | None = None,
    progress: bool = True,
    autocast: bool = False,
    scaler: amp.GradScaler | None = None,
    verbose: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` epochs (fewer if ``early_stopping`` says so); return the History.

    Each epoch records ``train_loss`` and ``train_acc`` (averaged over the epoch's batches, while the
    weights change), ``val_loss`` and ``val_acc`` (after the epoch, by :func:`evaluate`) when there is
    a ``val_loader``, the learning rate ``lr`` the epoch used, and its wall time ``time``.

    Args:
        scheduler: a learning-rate scheduler, stepped once after each epoch; ``ReduceLROnPlateau`` is
            given the validation loss (the training loss without validation data). Schedules meant to
            be stepped every batch (OneCycleLR) need a loop of your own.
        clip_grad_norm: clip the global gradient norm to this value before each update.
        early_stopping: an :class:`EarlyStopping`, given its ``monitor`` metric after every epoch; it
            may end training early, and with ``restore_best`` the model ends with its best weights even
            when all epochs ran.
        progress: show a progress bar per epoch (off as well when ``TQDM_DISABLE`` is set).
        autocast: run forward passes under :class:`tinylearn.amp.autocast` (float16 matmuls).
        scaler: a :class:`tinylearn.amp.GradScaler` for dynamic loss scaling with ``autocast``.
        verbose: print one line of metrics per epoch.
    """
    history = History()
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        total_loss = total_correct = 0.0
        count = 0
        bar = _progress_bar(train_loader, f"epoch {epoch}/{epochs}", progress)
        for x, y in bar:
            optimizer.zero_grad()
            with amp.autocast(enabled=autocast):
                output = model(x)
                loss = loss_fn(output, y)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)  # so that clipping sees the true gradients
            else:
                loss.backward()
            if clip_grad_norm is not None:
                clip_grad_norm_(model.parameters(), clip_grad_norm)
            if scaler is not None:
                scaler.step(optimizer)  # skipped if a gradient overflowed
                scaler.update()
            else:
                optimizer.step()
            n = len(y)
            total_loss += loss.item() * n
            total_correct += accuracy(output, y) * n
            count += n
            bar.set_postfix(loss=f"{total_loss / count:.4f}", refresh=False)

        metrics = {"epoch": epoch, "train_loss": total_loss / count, "train_acc": total_correct / count}
        if val_loader is not None:
            metrics["val_loss"], metrics["val_acc"] = evaluate(model, val_loader, loss_fn, autocast)
        metrics["lr"] = lr
        metrics["time"] = time.perf_counter() - start
        history.append(metrics)
        if verbose:
            _print_epoch(metrics, epochs)

        monitored = metrics.get("val_loss", metrics["train_loss"])
        if scheduler is not None:
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(monitored)
            else:
                scheduler.step()
        if early_stopping is not None:
            name = early_stopping.monitor
            value = metrics.get(name, metrics.get(name.replace("val_", "train_"), math.nan))
            stop = early_stopping.step(value, model)
            history.best_epoch = early_stopping.best_epoch or None
            if stop:
                if verbose:
                    print(
                        f"  early stopping: no improvement of {name} for {early_stopping.patience} epochs; "
                        f"keeping epoch {early_stopping.best_epoch} ({name} {early_stopping.best:.4f})"
                    )
                break
    else:
        if early_stopping is not None and early_stopping.restore_best:
            early_stopping.restore(model)
    return history


def _progress_bar(loader: Iterable[Any], desc: str, enabled: bool) -> Any:
    total = len(loader) if hasattr(loader, "__len__") else None
    return progress(loader, desc, enabled, total=total, unit="batch")


def _print_epoch(metrics: dict[str, float], epochs: int) -> None:
    """One line per epoch: ``epoch  3/10  train_loss 0.1234  train_acc 96.10%  ...  lr 1.0e-03  4.2 s``."""
    parts = [f"epoch {int(metrics['epoch']):>{len(str(epochs))}}/{epochs}"]
    for name, value in metrics.items():
        if name.endswith("_acc"):
            parts.append(f"{name} {value:.2%}")
        elif name.endswith("_loss"):
            parts.append(f"{name} {value:.4f}")
    parts += [f"lr {metrics['lr']:.2e}", f"{metrics['time']:.1f} s"]
    print("  " + "  ".join(parts))

"""CIFAR-10 with a ResNet: colour images, data augmentation, SGD with Nesterov momentum, a one-cycle schedule.

What it shows (curriculum 1.8, residual networks and a real image benchmark): CIFAR-10 (the official
binary archive when it is on disk, else the repacked files of ``shared/data/cifar10``: the first
10,000 training images and the full test set, JPEG-decoded, see their README) → augmentation on the fly,
the standard recipe for CIFAR (pad by 4 and crop back to 32×32 at a random place, mirror half of the
images; applied to whole batches by :mod:`tinylearn.data.transforms`) → ResNet-20 of He et al.
(2016) (:func:`tinylearn.models.resnet20`: 19 convolutions in three stages of 16, 32 and 64 channels,
BatchNorm, parameter-free "option A" shortcuts, 0.27M parameters) → SGD with Nesterov momentum 0.9
and weight decay, the learning rate on a one-cycle schedule stepped every batch (up from max_lr/25
over the first 15% of the steps, then down along a cosine) → a checkpoint after every epoch
(``--resume`` continues an interrupted run exactly where it stopped: weights, optimizer, schedule,
random generators) → the test accuracy of the *last* epoch (the test set is evaluated after each
epoch to draw the curves, never to choose a model). Progress bars show each epoch; the curves of
loss, accuracy and learning rate go to ``--out`` (``cifar10_resnet_curves.png``), the final weights
to ``cifar10_<model>.safetensors``.

How to run (the data: ``--root DIR`` or ``$TINYLEARN_DATA``, a folder holding ``cifar10/``)::

    python examples/cifar10_resnet.py --root ../shared/data               # the defaults
    python examples/cifar10_resnet.py --root ../shared/data --resume      # go on after an interruption
    python examples/cifar10_resnet.py --root ../shared/data --quick       # 1 epoch on 2,000 images

``tinylearn tour`` has this pipeline in miniature (:func:`tinylearn.tour.stop_resnet`): a smaller ResNet
for 2 epochs on a built-in colour data set, ``FontDigits(colour=True)`` (typeset digits in a random dark
colour on a random light background: offline, and NOT CIFAR-10; no mirroring, since a mirrored digit is
not the same digit).

Measured on 2026-11-26 on the reference machine: 2 CPU cores (AMD EPYC, x86_64), no GPU, NumPy 2.4.6,
Numba kernels (``tinylearn.kernels``), Python 3.11; seed 0; the wall time includes reading the data and
evaluating the test set after every epoch. The defaults (ResNet-20, batch 128, 40 epochs, one-cycle
max_lr 0.1, Nesterov momentum 0.9, weight decay 5e-4) on the local data, the first 10,000 training
images and the 10,000 test images, both JPEG-decoded (``shared/data/cifar10``)::

    OPENBLAS_NUM_THREADS=1 python examples/cifar10_resnet.py --root ../shared/data
    → test accuracy 78.27% (test loss 0.7449) after 40 epochs; wall time 3355 s

(2026-11-26 07:41-08:36 UTC, with the Winograd F(4×4, 3×3) convolutions of ``docs/design.md``
decision 31.) The epochs took 76-87 s each (78 training steps and the evaluation of 10,000 test
images). The test accuracy passed 77% after 33 epochs and stayed within 77.1-78.3% over the last
eight; the training accuracy (on augmented images, while the weights change) ended at 93.9%: with a
fifth of the data, the gap is wide. Before the Winograd convolutions (im2col for every layer) the
same command gave 78.00% (test loss 0.7700) in 4397 s, epochs of 87-145 s with other work on the
machine at times. An earlier run still, with
the library before the fused ``Linear``/``CrossEntropy`` nodes and the input gradient as a
convolution (``docs/design.md``, decisions 28-29: the same arithmetic rounded in another order, and
slower), gave 77.52% in 5095 s. The full official training set
(50,000 images, five times the steps per epoch) was not available on this machine, so this example
has not been measured on it. ``--quick`` (1 epoch on 2,000 images, 15 steps) gave 19.1-20.2% on 1,000
test images in 20-40 s: a smoke test of the pipeline, not a result.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import tinylearn as tl
from tinylearn import nn, optim
from tinylearn.data import DataLoader, ImageDataset
from tinylearn.data import transforms as T
from tinylearn.training import History, evaluate, progress

MODELS = {
    "resnet20": tl.models.resnet20,
    "resnet32": tl.models.resnet32,
    "resnet56": tl.models.resnet56,
    "vgg_small": lambda num_classes=10: tl.models.VGG("vgg_small", num_classes),
    "bench_resnet": tl.models.bench_resnet,
}


def pipelines(images: np.ndarray, crop_padding: int, flip: bool) -> tuple[T.Compose, T.Compose]:
    """(augmenting, plain) transforms for channels-last uint8 batches ``(N, H, W, 3)``: both scale to
    [0, 1] and standardise each channel with the mean and std of ``images``; the first also crops and
    flips."""
    pixels = images.reshape(-1, images.shape[-1]).astype(np.float32) / 255
    mean, std = pixels.mean(0).tolist(), pixels.std(0).tolist()
    size = images.shape[1]
    augment = [T.ToTensor(), T.RandomCrop(size, padding=crop_padding)]
    augment += [T.RandomHorizontalFlip()] if flip else []
    return T.Compose([*augment, T.Normalize(mean, std)]), T.Compose([T.ToTensor(), T.Normalize(mean, std)])


def train(
    root: str | None = None,
    model_name: str = "resnet20",
    epochs: int = 40,
    batch_size: int = 128,
    max_lr: float = 0.1,
    weight_decay: float = 5e-4,
    label_smoothing: float = 0.0,
    crop_padding: int = 4,
    flip: bool = True,
    seed: int = 0,
    subset: int | None = None,
    test_subset: int | None = None,
    resume: bool = False,
    stop_after: int | None = None,
    progress_bars: bool = True,
    out: str | Path = "cifar10-output",
    data: tuple[ImageDataset, ImageDataset] | None = None,
    model: nn.Module | None = None,
    title: str = "CIFAR-10",
) -> dict[str, Any]:
    """Train on CIFAR-10 (or ``data``, a (train, test) pair of colour image sets); evaluate on its test set.

    ``subset`` / ``test_subset`` keep only the first that many training / test images. ``model`` replaces
    the network named by ``model_name``. ``stop_after`` ends the run after that epoch (of a schedule
    still planned for ``epochs``): continue it later with ``resume``. Returns the results, the History
    and the model.
    """
    start = time.perf_counter()
    tl.manual_seed(seed)
    if data is None:
        data = (tl.data.CIFAR10(root, train=True, progress=progress_bars),
                tl.data.CIFAR10(root, train=False, progress=progress_bars))  # fmt: skip
        print(f"training data: {data[0].source}\ntest data: {data[1].source}")
    train_images, test_images = data
    train_x, train_y = train_images.data[:subset], train_images.targets[:subset]
    test_x, test_y = test_images.data[:test_subset], test_images.targets[:test_subset]
    augment, plain = pipelines(train_x, crop_padding, flip)
    loader_generator = tl.Generator().manual_seed(seed)
    train_loader = DataLoader(ImageDataset(train_x, train_y, augment), batch_size, shuffle=True,
                              drop_last=True, generator=loader_generator)  # fmt: skip
    test_loader = DataLoader(ImageDataset(test_x, test_y, plain), 500)

    model = model if model is not None else MODELS[model_name](num_classes=10)
    optimizer = optim.SGD(
        model.parameters(), lr=max_lr, momentum=0.9, nesterov=True, weight_decay=weight_decay
    )
    scheduler = optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr, total_steps=epochs * len(train_loader), pct_start=0.15, cycle_momentum=False
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / f"cifar10_{model_name}_checkpoint.safetensors"
    history, first_epoch = History(), 1
    if resume and checkpoint.is_file():
        info = tl.io.load_checkpoint(checkpoint, model=model, optimizer=optimizer, scheduler=scheduler)
        loader_generator.set_state(info["extra"]["loader_generator"])
        for metrics in info["extra"]["history"]:
            history.append(metrics)
        first_epoch = info["epoch"] + 1
        print(f"resumed from {checkpoint} after epoch {info['epoch']}")
    print(f"{model_name}: {model.num_parameters():,} parameters; {len(train_x):,} training images "
          f"({len(train_loader)} batches of {batch_size}), {len(test_x):,} test images; "
          f"SGD + Nesterov, one-cycle max_lr {max_lr}, weight decay {weight_decay}")  # fmt: skip

    for epoch in range(first_epoch, min(epochs, stop_after or epochs) + 1):
        tick = time.perf_counter()
        model.train()
        total_loss = total_correct = count = 0.0
        lr_start = optimizer.param_groups[0]["lr"]
        bar = progress(train_loader, f"epoch {epoch}/{epochs}", progress_bars, total=len(train_loader))
        for x, y in bar:
            optimizer.zero_grad()
            output = model(x)
            loss = loss_fn(output, y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            n = len(y)
            total_loss += loss.item() * n
            total_correct += tl.training.accuracy(output, y) * n
            count += n
            bar.set_postfix(loss=f"{total_loss / count:.3f}", refresh=False)
        test_loss, test_acc = evaluate(model, test_loader, loss_fn)
        metrics = {"epoch": epoch, "train_loss": total_loss / count, "train_acc": total_correct / count,
                   "test_loss": test_loss, "test_acc": test_acc, "lr": lr_start,
                   "time": time.perf_counter() - tick}  # fmt: skip
        history.append(metrics)
        print(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  train_loss {metrics['train_loss']:.4f}  "
              f"train_acc {metrics['train_acc']:.2%}  test_loss {test_loss:.4f}  test_acc {test_acc:.2%}  "
              f"lr {lr_start:.3g}  {metrics['time']:.1f} s", flush=True)  # fmt: skip
        tl.io.save_checkpoint(
            checkpoint, model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch,
            extra={"history": history.epochs, "loader_generator": loader_generator.get_state()},
        )  # fmt: skip

    test_acc, test_loss = history.last("test_acc"), history.last("test_loss")
    weights = out / f"cifar10_{model_name}.safetensors"
    tl.save(model.state_dict(), weights, metadata={"test_accuracy": f"{test_acc:.4f}", "epochs": str(epochs)})
    plot_curves(
        history, out / "cifar10_resnet_curves.png", f"{model_name} on {title}: test accuracy {test_acc:.2%}"
    )
    wall = time.perf_counter() - start
    print(f"curves: {out / 'cifar10_resnet_curves.png'}; weights: {weights}; checkpoint: {checkpoint}")
    return {"test_acc": test_acc, "test_loss": test_loss, "wall_s": wall, "history": history, "model": model,
            "test_size": len(test_x)}  # fmt: skip


def plot_curves(history: History, path: Path, title: str) -> None:
    """Loss and accuracy (training and test) and the learning rate, per epoch."""
    from matplotlib.figure import Figure

    epochs = np.arange(1, len(history) + 1)
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, quantity in zip(axes[:2], ("loss", "acc"), strict=True):
        for split in ("train", "test"):
            ax.plot(epochs, history[f"{split}_{quantity}"], marker=".", label=split)
        ax.set_ylabel("accuracy" if quantity == "acc" else "loss")
        ax.legend()
    axes[2].plot(epochs, history["lr"], marker=".")
    axes[2].set_ylabel("learning rate at the epoch's start")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.savefig(path, dpi=100)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None, help="data root holding cifar10/ (default: $TINYLEARN_DATA)")
    parser.add_argument("--model", default="resnet20", choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--max-lr", type=float, default=0.1, help="peak learning rate of the one-cycle schedule"
    )
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    parser.add_argument("--stop-after", type=int, help="end after this epoch (continue later with --resume)")
    parser.add_argument(
        "--quick", action="store_true", help="1 epoch on 2,000 training and 1,000 test images"
    )
    parser.add_argument(
        "--out", default="cifar10-output", help="folder for the curves, weights and checkpoint"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = train(
        args.root, args.model, 1 if args.quick else args.epochs, args.batch_size, args.max_lr,
        args.weight_decay, args.label_smoothing, flip=not args.no_flip, seed=args.seed,
        subset=2000 if args.quick else None, test_subset=1000 if args.quick else None, resume=args.resume,
        stop_after=args.stop_after, progress_bars=not args.no_progress, out=args.out,
    )  # fmt: skip
    print(
        f"test accuracy {result['test_acc']:.2%} (test loss {result['test_loss']:.4f}) on "
        f"{result['test_size']:,} test images after {len(result['history'])} epochs; wall time "
        f"{result['wall_s']:.0f} s on {platform.machine()} with {os.cpu_count()} CPUs, "
        f"NumPy {np.__version__}, kernels {tl.kernels.backend()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

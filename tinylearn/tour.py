"""``tinylearn tour``: a few minutes, offline, through what the library can do.

Each stop is a function that prints what it does and may write figures into the output
folder. Later parts of the library add their own stops to :data:`STOPS`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import tinylearn as tl


def stop_autograd(out: Path) -> None:
    """Reverse-mode autograd on a formula, checked against the hand-derived gradient."""
    x = tl.tensor(1.5, requires_grad=True)
    y = tl.tensor(-0.5, requires_grad=True)
    f = x * x * y + x.sin()
    f.backward()
    print(f"  f(x, y) = x²·y + sin x at x=1.5, y=-0.5: f = {f.item():.6f}")
    print(f"  autograd:  df/dx = {x.grad.item():+.6f}   df/dy = {y.grad.item():+.6f}")
    print(f"  by hand:   df/dx = {2 * 1.5 * -0.5 + math.cos(1.5):+.6f}   df/dy = {1.5**2:+.6f}")


def stop_gradcheck(out: Path) -> None:
    """Finite differences agree with the backward rules (float64, central differences)."""
    tl.manual_seed(0)
    a = tl.randn(3, 4, dtype=tl.float64, requires_grad=True)
    b = tl.randn(4, 2, dtype=tl.float64, requires_grad=True)
    checks = {
        "tanh(a @ b)": lambda a, b: (a @ b).tanh(),
        "softmax(a @ b, dim=-1)": lambda a, b: (a @ b).softmax(-1),
        "logsumexp(a, dim=1) * b.sum()": lambda a, b: a.logsumexp(1) * b.sum(),
    }
    for name, fn in checks.items():
        ok1 = tl.gradcheck(fn, (a, b))
        ok2 = tl.gradgradcheck(fn, (a, b))
        print(f"  gradcheck {'ok' if ok1 else 'FAILED'}, gradgradcheck {'ok' if ok2 else 'FAILED'}: {name}")


def stop_train_moons(out: Path) -> None:
    """A two-layer network written with raw tensors, trained by gradient descent on two moons."""
    X, y = tl.data.make_moons(400, noise=0.15, seed=0)
    X, y = tl.tensor(X), tl.tensor(y.astype(np.float32)).reshape(-1, 1)
    tl.manual_seed(0)
    w1 = (tl.randn(2, 32) * math.sqrt(2 / 2)).requires_grad_()
    b1 = tl.zeros(32, requires_grad=True)
    w2 = (tl.randn(32, 1) * math.sqrt(1 / 32)).requires_grad_()
    b2 = tl.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    def forward(inputs: tl.Tensor) -> tl.Tensor:
        return (inputs @ w1 + b1).relu() @ w2 + b2  # logits

    def loss_fn(logits: tl.Tensor) -> tl.Tensor:  # binary cross-entropy on logits, stable form
        return (logits.relu() - logits * y + (-logits.abs()).exp().log1p()).mean()

    start = time.perf_counter()
    for step in range(1, 601):
        loss = loss_fn(forward(X))
        for p in params:
            p.grad = None
        loss.backward()
        with tl.no_grad():
            for p in params:
                p.sub_(0.5 * p.grad)
        if step in (1, 50, 200, 600):
            acc = ((forward(X) > 0).float() == y).float().mean().item()
            print(f"  step {step:4d}  loss {loss.item():.4f}  accuracy {acc:.1%}")
    print(f"  trained in {time.perf_counter() - start:.1f} s")
    _plot_boundary(out / "moons_boundary.png", X.numpy(), y.numpy().ravel(), forward)
    graph = tl.viz.draw_graph(loss_fn(forward(X)), names={w1: "w1", b1: "b1", w2: "w2", b2: "b2"})
    graph.save(out / "moons_graph.png")
    graph.save(out / "moons_graph.dot")
    print(f"  wrote {out / 'moons_boundary.png'} and the graph of one step to {out / 'moons_graph.png'}")


def _plot_boundary(path: Path, X: np.ndarray, y: np.ndarray, forward: Callable) -> None:
    from matplotlib.figure import Figure

    xs, ys = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1.0, 1.5, 150))
    grid = tl.tensor(np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32))
    with tl.no_grad():
        z = forward(grid).sigmoid().numpy().reshape(xs.shape)
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.contourf(xs, ys, z, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=14)
    ax.set_title("Two moons: decision boundary of a 2-32-1 network")
    fig.savefig(path, dpi=100)


def stop_newton(out: Path) -> None:
    """Second derivatives from create_graph=True drive Newton's method."""
    x = tl.tensor(2.0, dtype=tl.float64, requires_grad=True)
    for i in range(6):
        f = x**3 - 2 * x - 5
        (df,) = tl.autograd.grad(f, x, create_graph=True)
        (d2f,) = tl.autograd.grad(df, x)
        print(f"  iter {i}: x = {x.item():.12f}   f'(x) = {df.item():+.3e}   f''(x) = {d2f.item():.4f}")
        with tl.no_grad():
            x -= df / d2f  # Newton step towards f'(x) = 0 (the local minimum of f)
    print(f"  minimum of x³ - 2x - 5 at x = √(2/3) = {math.sqrt(2 / 3):.12f}")


def _digits_mlp() -> tl.models.MLP:
    """The model of the FontDigits and save/load stops: 784 → 128 → 10, ReLU, dropout 0.1."""
    return tl.models.MLP(784, [128], 10, dropout=0.1)


def stop_font_digits(out: Path) -> None:
    """The Series-1 toolkit end to end: data, DataLoader, MLP, Adam, a schedule, early stopping, curves."""
    from . import io, nn, optim
    from .training import EarlyStopping, evaluate, fit

    start = time.perf_counter()
    print("  FontDigits: digits 0-9 typeset in matplotlib's fonts, randomly distorted, 28x28.")
    print("  Built in and generated offline from a seed: NOT MNIST (typeset glyphs, not handwriting).")
    train_full, test = tl.data.FontDigits(train=True), tl.data.FontDigits(train=False)
    x, y = train_full.as_tensors(flatten=True)  # (10000, 784) float32 in [0, 1], (10000,) int64
    x_test, y_test = test.as_tensors(flatten=True)
    mean, std = x.mean().item(), x.std().item()
    full = tl.data.TensorDataset((x - mean) / std, y)
    train, val = tl.data.random_split(full, [8500, 1500], generator=tl.Generator().manual_seed(0))
    test_set = tl.data.TensorDataset((x_test - mean) / std, y_test)
    print(f"  {len(train)} training / {len(val)} validation / {len(test_set)} test images "
          f"(generated in {time.perf_counter() - start:.1f} s)")  # fmt: skip

    tl.manual_seed(0)
    model = _digits_mlp()
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    epochs = 8
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    early_stopping = EarlyStopping(patience=3)
    print(f"  model: MLP 784-128-10, dropout 0.1 ({model.num_parameters():,} parameters), Adam lr 2e-3, "
          f"cosine schedule, early stopping (patience 3) on the validation loss")  # fmt: skip
    loader = tl.data.DataLoader(train, batch_size=128, shuffle=True, generator=tl.Generator().manual_seed(0))
    val_loader = tl.data.DataLoader(val, 500)
    loss_fn = nn.CrossEntropyLoss()
    history = fit(
        model, optimizer, loss_fn, loader, val_loader, epochs, scheduler, early_stopping=early_stopping
    )
    test_loss, test_acc = evaluate(model, tl.data.DataLoader(test_set, 1000), loss_fn)
    print(f"  test accuracy on {len(test_set)} unseen FontDigits images: {test_acc:.2%} "
          f"(loss {test_loss:.4f}), with the weights of epoch {early_stopping.best_epoch}")  # fmt: skip
    history.plot(
        out / "fontdigits_curves.png", title="MLP on FontDigits (built-in typeset digits, not MNIST)"
    )
    with tl.no_grad():
        predicted = model.eval()(test_set.tensors[0]).argmax(-1).numpy()
    wrong = np.flatnonzero(predicted != test.targets)
    show = np.concatenate([np.setdiff1d(np.arange(len(test)), wrong)[: 40 - min(len(wrong), 10)], wrong[:10]])
    _plot_digits(out / "fontdigits_predictions.png", test.data[show], predicted[show], test.targets[show])
    print(f"  wrote {out / 'fontdigits_curves.png'} and {out / 'fontdigits_predictions.png'}")
    meta = {"mean": repr(mean), "std": repr(std), "test_accuracy": f"{test_acc:.2%}"}  # the inputs' scaling
    io.save(model.state_dict(), out / "fontdigits_mlp.safetensors", metadata=meta)
    print(f"  stop took {time.perf_counter() - start:.1f} s")


def _plot_digits(path: Path, images: np.ndarray, predicted: np.ndarray, labels: np.ndarray) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.6), layout="constrained")
    for ax, image, guess, label in zip(fig.subplots(4, 10).ravel(), images, predicted, labels, strict=False):
        ax.imshow(image, cmap="gray")
        right = guess == label
        ax.set_title(f"{guess}" if right else f"{guess} ({label})", color="tab:green" if right else "tab:red")
        ax.set_axis_off()
    fig.suptitle("FontDigits test images, the MLP's guess above each; mistakes in red, (true digit)")
    fig.savefig(path, dpi=100)


def stop_optimizer_race(out: Path) -> None:
    """SGD, momentum and Adam from tinylearn.optim on the Rosenbrock valley (curriculum 1.4.8)."""
    from .viz.race import SURFACES, plot_race, race, racers

    surface = SURFACES["rosenbrock"]
    steps = 500
    print(f"  f(x, y) = (1 - x)² + 100 (y - x²)², from {surface.start}; minimum 0 at {surface.minimum}")
    paths = race(racers("rosenbrock", ["SGD", "Momentum", "Adam"]), surface, steps)
    for name, path in paths.items():
        x, y = path[-1]
        print(f"  {name:8s} after {steps} steps: ({x:+.3f}, {y:+.3f})   f = {surface.fn(x, y):.2e}")
    plot_race(paths, surface).savefig(out / "optimizer_race.png", dpi=100)
    print(f"  wrote {out / 'optimizer_race.png'} (all seven optimizers: examples/optimizer_race.py)")


def stop_save_load(out: Path) -> None:
    """The trained digits model saved as safetensors (never pickle), loaded back, checked."""
    from . import io
    from .training import evaluate

    path = out / "fontdigits_mlp.safetensors"
    if not path.is_file():
        print(f"  {path} is not there (the FontDigits stop writes it): nothing to load")
        return
    state, meta = io.load(path), io.load_metadata(path)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in state.items())
    print(f"  {path.name}: {path.stat().st_size:,} bytes; tensors {shapes}; metadata {meta}")
    print("  (safetensors holds only a JSON header and raw numbers: loading a file cannot run code)")
    model = _digits_mlp()
    model.load_state_dict(state)
    x, y = tl.data.FontDigits(train=False).as_tensors(flatten=True)
    x = (x - float(meta["mean"])) / float(meta["std"])
    _, acc = evaluate(model, tl.data.DataLoader(tl.data.TensorDataset(x, y), 1000), tl.nn.CrossEntropyLoss())
    print(f"  a fresh MLP with the loaded weights: test accuracy {acc:.2%} "
          f"(before saving: {meta['test_accuracy']})")  # fmt: skip
    again = out / "saved_again.safetensors"
    io.save(model.state_dict(), again, metadata=meta)
    verdict = "byte for byte the same file" if again.read_bytes() == path.read_bytes() else "a DIFFERENT file"
    again.unlink()
    print(f"  saving the loaded model again gives {verdict}")
    broken = out / "truncated.safetensors"
    broken.write_bytes(path.read_bytes()[:1000])  # as an interrupted download would leave it
    try:
        io.load(broken)
        print("  a truncated file loaded without complaint (unexpected!)")
    except ValueError as exc:
        print(f"  a truncated copy is refused with a clear error:\n    {type(exc).__name__}: {exc}")
    finally:
        broken.unlink()


def stop_lenet(out: Path) -> None:
    """``examples/mnist_cnn.py`` in miniature: LeNet-5, shifted digits, AdamW with a cosine schedule."""
    from . import nn, optim
    from .data import DataLoader, ImageDataset
    from .data import transforms as T
    from .training import evaluate, fit

    start = time.perf_counter()
    print("  LeNet-5 (conv 5x5 -> pool -> conv 5x5 -> pool -> 120 -> 84 -> 10) on FontDigits, the built-in")
    print("  typeset digits (NOT MNIST): 6,000 training images shifted by up to 2 pixels, AdamW, 3 epochs")
    train, test = tl.data.FontDigits(train=True, n_samples=6000), tl.data.FontDigits(train=False)
    mean, std = float(train.data.mean() / 255), float(train.data.std() / 255)
    plain = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    shifted = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=2), T.Normalize(mean, std)])
    tl.manual_seed(0)
    loader = DataLoader(ImageDataset(train.data, train.targets, shifted), 128, shuffle=True,
                        generator=tl.Generator().manual_seed(0))  # fmt: skip
    test_loader = DataLoader(ImageDataset(test.data, test.targets, plain), 1000)
    model = tl.models.LeNet5()
    optimizer = optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    loss_fn = nn.CrossEntropyLoss()
    history = fit(model, optimizer, loss_fn, loader, None, 3, scheduler, progress=False)
    _, test_acc = evaluate(model, test_loader, loss_fn)
    print(f"  {model.num_parameters():,} parameters; test accuracy {test_acc:.2%} on {len(test):,} unseen "
          f"FontDigits images")  # fmt: skip
    history.plot(out / "lenet_curves.png", title="LeNet-5 on FontDigits (built in, not MNIST)")
    tl.viz.plot_filters(
        model.conv1.weight, out / "lenet_filters.png", "LeNet-5 conv1: the learned 5x5 filters"
    )
    print(f"  wrote {out / 'lenet_curves.png'} and {out / 'lenet_filters.png'}")
    print(f"  stop took {time.perf_counter() - start:.1f} s")


def stop_resnet(out: Path) -> None:
    """``examples/cifar10_resnet.py`` in miniature: a small ResNet trained by the CIFAR-10 recipe."""
    from . import io, nn, optim
    from .data import DataLoader, ImageDataset
    from .data import transforms as T
    from .training import History, accuracy, evaluate

    start = time.perf_counter()
    print("  A small ResNet (BasicBlocks of 16, 32 and 64 channels, BatchNorm, skip connections) trained by")
    print("  the CIFAR-10 recipe (random crops, SGD + Nesterov, a one-cycle schedule stepped every batch,")
    print("  weight decay, a checkpoint per epoch) on FontDigits in random colours: built in, NOT CIFAR-10")
    train = tl.data.FontDigits(train=True, n_samples=3000, colour=True)
    test = tl.data.FontDigits(train=False, colour=True)
    pixels = train.data.reshape(-1, 3).astype(np.float32) / 255
    normalize = T.Normalize(pixels.mean(0).tolist(), pixels.std(0).tolist())
    augment = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=2), normalize])
    tl.manual_seed(0)
    loader = DataLoader(ImageDataset(train.data, train.targets, augment), 64, shuffle=True, drop_last=True,
                        generator=tl.Generator().manual_seed(0))  # fmt: skip
    test_loader = DataLoader(ImageDataset(test.data, test.targets, T.Compose([T.ToTensor(), normalize])), 500)
    model = tl.models.ResNet(tl.models.BasicBlock, [1, 1, 1], 10, (16, 32, 64), shortcut="A")
    epochs = 2
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, 0.1, epochs * len(loader), pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss()
    history = History()
    for epoch in range(1, epochs + 1):
        tick, model = time.perf_counter(), model.train()
        losses, accuracies = [], []
        for x, y in loader:
            optimizer.zero_grad()
            output = model(x)
            loss = loss_fn(output, y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            accuracies.append(accuracy(output, y))
        test_loss, test_acc = evaluate(model, test_loader, loss_fn)
        history.append(
            epoch=epoch, train_loss=np.mean(losses), train_acc=np.mean(accuracies), test_loss=test_loss,
            test_acc=test_acc, time=time.perf_counter() - tick,
        )  # fmt: skip
        io.save_checkpoint(out / "resnet_checkpoint.safetensors", model=model, optimizer=optimizer,
                           scheduler=scheduler, epoch=epoch)  # fmt: skip
        print(f"  epoch {epoch}/{epochs}: train loss {np.mean(losses):.4f}, test accuracy {test_acc:.2%} "
              f"({time.perf_counter() - tick:.1f} s)")  # fmt: skip
    print(f"  {model.num_parameters():,} parameters; test accuracy {history.last('test_acc'):.2%} on "
          f"{len(test):,} unseen colour digits")  # fmt: skip
    history.plot(out / "resnet_curves.png", title="a small ResNet on colour FontDigits (not CIFAR-10)")
    print(f"  wrote {out / 'resnet_curves.png'} and {out / 'resnet_checkpoint.safetensors'}")
    print(f"  stop took {time.perf_counter() - start:.1f} s")


STOPS: list[tuple[str, Callable[[Path], None]]] = [
    ("Autograd on a formula", stop_autograd),
    ("Gradient checking", stop_gradcheck),
    ("Training a network made of raw tensors", stop_train_moons),
    ("Newton's method with second derivatives", stop_newton),
    ("The toolkit: an MLP trained on built-in digits (FontDigits, not MNIST)", stop_font_digits),
    ("A CNN: LeNet-5 on built-in digits (examples/mnist_cnn.py in miniature)", stop_lenet),
    (
        "A ResNet by the CIFAR-10 recipe on built-in colour digits (examples/cifar10_resnet.py in miniature)",
        stop_resnet,
    ),
    ("Optimizer race on the Rosenbrock valley", stop_optimizer_race),
    ("Saving and loading weights (safetensors, never pickle)", stop_save_load),
]


def run(out: str | Path = "tour-output") -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    total = time.perf_counter()
    for i, (title, stop) in enumerate(STOPS, 1):
        print(f"\n[{i}/{len(STOPS)}] {title}")
        stop(out)
    print(f"\nTour finished in {time.perf_counter() - total:.1f} s; figures are in {out}/")

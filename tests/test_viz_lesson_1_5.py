"""The interactive figures of lesson 1.5 (tinylearn.viz.lesson_1_5), driven headlessly.

Each ``update`` is called at its default and at other parameters: what it draws (the data of every line,
patch, collection, image and text) must differ (the figure follows its controls), the same parameters
must draw the same (pure), and the figure must render. The numbers behind the figures are checked
against closed forms and against the library they show.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

import tinylearn as tl
from tinylearn import lessons
from tinylearn.viz import lesson_1_5 as v
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]


def pixels(fig) -> np.ndarray:
    fig.set_dpi(50)  # enough pixels to tell figures apart, fewer to draw
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


CASES = [
    (v.overfitting_explorer, {}, {"n_train": 60}),
    (v.l2_explorer, {"degree": 8}, {"degree": 8, "log_lambda": 0.0}),
    (v.l1_explorer, {}, {"log_lambda": -2.0}),
    (v.dropout_mask, {}, {"frame": 5}),
    (v.batchnorm_histograms, {"batch_size": 16}, {"batch_size": 16, "train": False}),
    (v.norm_axes, {}, {"kind": "LayerNorm"}),
    (v.early_stopping_explorer, {}, {"patience": 12}),
]


def drawn_data(fig) -> list:
    """What a figure draws, without rasterizing it: the data of every line, patch, collection and
    image, and every text (a cheap stand-in for the pixels when checking that a figure repeats)."""
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    out: list = []
    for artist in fig.findobj():
        if isinstance(artist, Line2D):
            out.append(np.asarray(artist.get_xydata(), dtype=float))
        elif isinstance(artist, Patch):
            out.append(np.asarray(artist.get_path().vertices, dtype=float))
            out.append(np.asarray(artist.get_facecolor(), dtype=float))
        elif isinstance(artist, Collection):
            out.extend(np.asarray(path.vertices, dtype=float) for path in artist.get_paths())
            out.append(np.asarray(artist.get_offsets(), dtype=float))
        elif isinstance(artist, AxesImage):
            out.append(np.asarray(artist.get_array(), dtype=float))
        elif isinstance(artist, Text):
            out.append(artist.get_text())
    return out


def same_drawing(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        x == y
        if isinstance(x, str)
        else (np.shape(x) == np.shape(y) and np.array_equal(x, y, equal_nan=True))
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize(("update", "base", "changed"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_update_draws_a_figure_that_follows_its_parameters(update, base, changed):
    from matplotlib.figure import Figure

    first, other = update(**base), update(**changed)
    assert isinstance(first, Figure)
    data_first, data_other = drawn_data(first), drawn_data(other)  # before drawing adds the ticks
    again = drawn_data(update(**base))
    assert same_drawing(data_first, again), "the same parameters must draw the same figure (pure update)"
    assert not same_drawing(data_other, again), "changing the parameters must change the figure"
    image = pixels(first)  # it renders, and not to a blank canvas
    assert image.shape[2] == 4 and len(np.unique(image.reshape(-1, 4), axis=0)) > 10


def test_figures_leave_the_global_random_state_alone():
    tl.manual_seed(123)
    expected = tl.rand(5).numpy()
    tl.manual_seed(123)
    v.dropout_mask(p=0.5, frame=3)
    v.early_stopping_explorer()
    assert np.array_equal(tl.rand(5).numpy(), expected)


def test_every_figure_is_registered_for_its_subsection():
    specs = {s.func.__name__: s.section for s in registry.registered() if s.name.startswith(v.__name__)}
    assert specs == {
        "overfitting_explorer": "1.5.1",
        "l2_explorer": "1.5.2",
        "l1_explorer": "1.5.3",
        "dropout_mask": "1.5.4",
        "batchnorm_histograms": "1.5.5",
        "norm_axes": "1.5.6",
        "early_stopping_explorer": "1.5.7",
    }
    assert set(v.CONTROLS) == set(specs)


# ------------------------------------------------------------------------------------------------ numbers


def test_ridge_fit_is_the_penalised_least_squares_optimum():
    x, y, _, _ = v.poly_data(20)
    phi = v.poly_features(x, 6)
    lam = 0.05
    w, b = v.ridge_fit(phi, y, lam)
    r = y - phi @ w - b  # the gradient of (1/n)‖r‖² + λ‖w‖² vanishes at the optimum
    assert np.allclose(-2 * phi.T @ r / len(y) + 2 * lam * w, 0.0, atol=1e-10)
    assert abs(np.mean(r)) < 1e-10
    w0, _ = v.ridge_fit(phi, y, 0.0)
    assert np.sum(w**2) < np.sum(w0**2)


def test_ridge_fit_is_where_the_library_penalised_loss_has_zero_gradient():
    x, y, _, _ = v.poly_data(15)
    phi = v.poly_features(x, 5)
    lam = 0.01
    w_star, b_star = v.ridge_fit(phi, y, lam)
    layer = tl.nn.Linear(5, 1, dtype=tl.float64)
    with tl.no_grad():
        layer.weight.copy_(tl.tensor(w_star[None, :]))
        layer.bias.fill_(b_star)
    loss = ((layer(tl.tensor(phi)) - tl.tensor(y[:, None])) ** 2).mean() + lam * tl.nn.l2_penalty(
        [layer.weight]
    )
    loss.backward()
    assert np.allclose(layer.weight.grad.numpy(), 0.0, atol=1e-10)
    assert abs(layer.bias.grad.item()) < 1e-10
    layer.weight.grad = None
    loss = ((layer(tl.tensor(phi)) - tl.tensor(y[:, None])) ** 2).mean()  # without the penalty: not optimal
    loss.backward()
    assert np.abs(layer.weight.grad.numpy()).max() > 1e-3


def test_overfitting_shows_in_the_errors():
    train_lo, val_lo = v.poly_errors(3, 15)
    train_hi, val_hi = v.poly_errors(12, 15)
    assert train_hi < train_lo and val_hi > 5 * val_lo
    assert v.poly_errors(14, 15)[0] < 1e-12  # 15 coefficients through 15 points: interpolation
    assert v.poly_errors(12, 100)[1] < val_hi  # more data tames the same capacity


def test_lasso_path_reaches_exact_zeros_and_satisfies_the_optimality_conditions():
    X, y, w_true = v.sparse_data()
    lam = 0.4
    w = v.lasso_path(X, y, [lam])[0]
    assert np.all(w[w_true == 0] == 0.0) and np.all(w[w_true != 0] != 0.0)
    Xc, yc = X - X.mean(0), y - y.mean()
    grad = -2 * Xc.T @ (yc - Xc @ w) / len(y)  # KKT: -grad = λ sign(w) on the support, |grad| ≤ λ off it
    on = w != 0
    assert np.allclose(-grad[on], lam * np.sign(w[on]), atol=1e-8)
    assert np.all(np.abs(grad[~on]) <= lam + 1e-8)
    assert not np.any(v.ridge_path(X, y, [lam])[0] == 0.0)
    assert np.array_equal(v.soft_threshold(np.array([-2.0, -0.5, 0.2, 1.5]), 1.0), [-1.0, 0.0, 0.0, 0.5])


def test_dropout_masks_are_the_library_draws():
    masks = v.dropout_masks(0.25, 3, seed=7)
    assert masks.shape == (3, 2, 8)
    assert set(np.unique(masks)) <= {0.0, float(np.float32(1 / 0.75))}
    with v.seeded(8):
        again = tl.nn.functional.dropout(tl.ones(2, 8), 0.25).numpy()
    assert np.array_equal(masks[1], again)
    many = v.dropout_masks(0.5, 400)
    assert abs(many.mean() - 1.0) < 0.05  # inverted dropout keeps the expectation


def test_batchnorm_figure_statistics_match_the_layer():
    bn = tl.nn.BatchNorm1d(3)
    rng = np.random.default_rng(0)
    x = v.preactivations(64, rng)
    with tl.no_grad():
        out = bn(tl.tensor(x)).numpy()
    assert np.allclose(out.mean(0), 0, atol=1e-5) and np.allclose(out.std(0), 1, atol=1e-3)
    assert np.allclose(bn.running_mean.numpy(), 0.1 * x.mean(0), rtol=1e-5)


def test_layer_norm_does_not_depend_on_the_batch_and_batch_norm_does():
    a, b = v.norm_batch(5, seed=0), v.norm_batch(5, seed=1)
    assert np.array_equal(a[0], b[0])
    assert np.allclose(v._normalize("LayerNorm", a)[0], v._normalize("LayerNorm", b)[0])
    assert not np.allclose(v._normalize("BatchNorm", a)[0], v._normalize("BatchNorm", b)[0])
    with pytest.raises(ValueError, match="kind"):
        v.norm_axes(kind="GroupNorm")


def test_the_run_overfits_and_early_stopping_replay_follows_patience():
    _, history = v.overfit_run()
    val, train = np.array(history["val_loss"]), np.array(history["train_loss"])
    assert len(history) == v.RUN_EPOCHS
    best = int(np.argmin(val)) + 1
    assert train[-1] < train[best - 1] and val[-1] > 1.3 * val.min()  # training improves, validation worsens
    for patience in (1, 5, 20):
        stop, kept = v.replay_early_stopping(val, patience)
        assert stop is not None and stop - kept == patience
        assert val[kept - 1] == val[:stop].min()
    assert v.replay_early_stopping(val, 10_000) == (None, best)
    assert v.replay_early_stopping([3.0, 2.0, 1.0], 1) == (None, 3)


def test_regularized_runs_overfit_less():
    base = v.overfit_run()[1]["val_loss"][-1]
    assert v.overfit_run(weight_decay=0.01)[1]["val_loss"][-1] < 0.7 * base


def test_dropout_animation_has_one_frame_per_pass():
    html = v.dropout_animation(p=0.5, frames=3, interval=50).to_jshtml()
    assert html.count("data:image/png") >= 3


def test_augmentation_gallery_draws_every_transform():
    rng = np.random.default_rng(0)
    images = (rng.uniform(0, 1, (4, 28, 28)) > 0.7).astype(np.uint8) * 255
    fig = v.augmentation_gallery(images, columns=2)
    assert len(fig.axes) == 6 * 2
    shown = [np.asarray(ax.get_images()[0].get_array()) for ax in fig.axes]
    assert np.allclose(shown[0], images[0] / 255.0)  # row 0: the originals
    assert np.allclose(shown[-2], images[0, :, ::-1] / 255.0)  # the last row: mirrored
    assert not np.allclose(shown[2], shown[0])  # a rotation changes the image


def test_widget_builds_controls_when_ipywidgets_is_installed():
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        pytest.skip("ipywidgets is not installed")
    box = v.widget(v.norm_axes)
    names = [c.description for c in box.children if hasattr(c, "description")]
    assert names == ["kind", "batch_size"]
    box = v.widget(v.dropout_mask)
    assert type(box.children[0]).__name__ == "Play"  # the frame control gets a play button


def test_lesson_installs_from_the_configured_colab_repository():
    text = (REPO / "lessons" / "1.5-regularization.md").read_text(encoding="utf-8")
    installs = re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text)
    assert installs and set(installs) == {lessons.COLAB_REPO}

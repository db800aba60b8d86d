"""The interactive figures of lesson 1.3 (tinylearn.viz.lesson_1_3), driven headlessly.

Each ``update`` is called at its default and at other parameters; the rendered pixels must differ
(the figure follows its controls) and the same parameters must draw the same pixels (pure). The
numbers behind the figures are checked against finite differences and tinylearn's autograd.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg

from tinylearn import lessons
from tinylearn.viz import lesson_1_3 as v
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]


def pixels(fig) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


CASES = [
    (v.chain_rule_view, {}, {"x": -1.3}),
    (v.blame_flow, {}, {"frame": 5}),
    (v.blame_flow, {"frame": 10}, {"frame": 10, "w1": -2.0}),
    (v.two_layer_gradients, {}, {"target": "dL/dW2"}),
    (v.two_layer_gradients, {}, {"reveal": False}),
    (v.autograd_graph, {}, {"show_grads": True}),
    (v.autograd_graph, {}, {"show_values": False}),
    (v.autograd_graph, {}, {"expression": "a*b + a"}),
    (v.gradient_flow, {"depth": 8}, {"depth": 8, "activation": "relu", "weight_scale": 2.5}),
]


@pytest.mark.parametrize(("update", "base", "changed"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_update_draws_a_figure_that_follows_its_parameters(update, base, changed):
    from matplotlib.figure import Figure

    first = update(**base)
    assert isinstance(first, Figure)
    a, b = pixels(first), pixels(update(**changed))
    again = pixels(update(**base))
    assert np.array_equal(a, again), "the same parameters must draw the same figure (pure update)"
    assert a.shape != b.shape or not np.array_equal(a, b), "changing the parameters must change the figure"


def test_every_figure_is_registered_for_its_subsection():
    specs = {s.func.__name__: s.section for s in registry.registered() if s.name.startswith(v.__name__)}
    assert specs == {
        "chain_rule_view": "1.3.1",
        "blame_flow": "1.3.2",
        "two_layer_gradients": "1.3.3",
        "autograd_graph": "1.3.5",
        "gradient_flow": "1.3.6",
    }
    assert set(v.CONTROLS) == set(specs)


@pytest.mark.parametrize("outer", list(v.ELEMENTARY))
def test_chain_rule_numbers_agree_with_autograd_and_finite_differences(outer):
    for inner in v.ELEMENTARY:
        for x in (-1.1, 0.3, 1.7):
            n = v.chain_rule_numbers(outer, inner, x)
            f, g = v.ELEMENTARY[outer].f, v.ELEMENTARY[inner].f
            h = 1e-6
            numeric = (f(g(x + h)) - f(g(x - h))) / (2 * h)
            assert n["product"] == pytest.approx(n["df"] * n["dg"])
            assert n["product"] == pytest.approx(n["autograd"], rel=1e-9, abs=1e-12), (outer, inner, x)
            assert n["product"] == pytest.approx(numeric, rel=1e-5, abs=1e-7), (outer, inner, x)


def test_elementary_write():
    assert v.ELEMENTARY["square"].write("x") == "x²"
    assert v.ELEMENTARY["square"].write("sin(x)") == "(sin(x))²"
    assert v.ELEMENTARY["sin"].write("x", derivative=True) == "cos(x)"


def _loss(x1=1.5, w1=0.8, x2=-0.5, w2=-1.2, b=0.3, y=0.0):
    a = 1 / (1 + np.exp(-(w1 * x1 + w2 * x2 + b)))
    return (a - y) ** 2


def test_neuron_graph_gradients_are_the_chain_rule_and_match_finite_differences():
    g = v.neuron_graph()
    assert g["L"]["value"] == pytest.approx(_loss())
    assert g["L"]["grad"] == 1.0
    # every node's gradient is the sum over its consumers of (consumer's gradient) x (local derivative)
    for name in g:
        if name == "L":
            continue
        total = sum(node["grad"] * node["local"][name] for node in g.values() if name in node["local"])
        assert g[name]["grad"] == pytest.approx(total, rel=1e-12), name
    h = 1e-6
    for leaf in ("x1", "w1", "x2", "w2", "b", "y"):
        numeric = (_loss(**{leaf: g[leaf]["value"] + h}) - _loss(**{leaf: g[leaf]["value"] - h})) / (2 * h)
        assert g[leaf]["grad"] == pytest.approx(numeric, rel=1e-6), leaf


def test_blame_frames_reveal_values_forward_then_gradients_backward():
    first = v._frame_state(0)
    assert first[0] == set(v._LEAVES) and first[1] == set() and first[3] == "forward"
    forward_done = v._frame_state(len(v._FORWARD))
    assert forward_done[0] == set(v._NODES) and forward_done[1] == set()
    assert v._frame_state(len(v._FORWARD) + 1)[1] == {"L"}
    _, graded, op, phase = v._frame_state(v.BLAME_FRAMES - 1)
    assert graded == set(v._NODES) and phase == "backward" and op == "p1"
    counts = [len(v._frame_state(f)[1]) for f in range(v.BLAME_FRAMES)]
    assert counts == sorted(counts)  # blame only spreads
    text = v._describe(v.BLAME_FRAMES - 3, v.neuron_graph())  # z sends blame to p1, p2, b
    assert "∂L/∂b = ∂L/∂z · ∂z/∂b" in text


def test_blame_animation_renders_the_frames_asked_for():
    anim = v.blame_flow_animation(frames=[0, 7, 13], interval=50)
    html = anim.to_jshtml()
    assert html.count("data:image/png") >= 3


@pytest.mark.parametrize(("batch", "n_in", "n_hidden", "n_out"), [(4, 3, 5, 2), (1, 1, 1, 1), (6, 2, 7, 3)])
def test_two_layer_backward_by_hand_matches_autograd_and_finite_differences(batch, n_in, n_hidden, n_out):
    arrays = v.two_layer_setup(batch, n_in, n_hidden, n_out, seed=3)
    cache = v.two_layer_backward(*arrays)
    auto = v.two_layer_autograd(*arrays)
    for key, want in zip(("dW1", "db1", "dW2", "db2"), auto, strict=True):
        assert cache[key].shape == want.shape
        assert np.allclose(cache[key], want, rtol=1e-10, atol=1e-13), key
    X, Y, W1, b1, W2, b2 = arrays
    h = 1e-6
    bumped = W1.copy()
    bumped[0, -1] += h
    up = v.two_layer_backward(X, Y, bumped, b1, W2, b2)["L"]
    bumped[0, -1] -= 2 * h
    down = v.two_layer_backward(X, Y, bumped, b1, W2, b2)["L"]
    assert cache["dW1"][0, -1] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)
    for key, of in (("dYhat", "Yhat"), ("dA1", "A1"), ("dZ1", "Z1")):
        assert cache[key].shape == cache[of].shape


@pytest.mark.parametrize("target", list(v.GRADIENT_TARGETS))
def test_every_gradient_target_draws(target):
    assert v.two_layer_gradients(target=target, batch=2, n_in=2, n_hidden=3, n_out=1) is not None


def test_expression_graphs_have_the_ops_and_gradients_autograd_computes():
    drawing = v.expression_graph("a*b + a", show_values=True, show_grads=True)
    ops = sorted(n.title for n in drawing.nodes if n.kind == "op")
    assert ops == ["Add", "Mul"]
    a = drawing.node("a = 3")  # a = 3, b = 4: out = a*b + a, d out/da = b + 1 = 5
    assert a.grad == "5"
    assert drawing.node("b = 4").grad == "3"
    plain = v.expression_graph("a*b + a", show_values=False, show_grads=False)
    assert plain.node("a").grad is None
    for expression in v.EXPRESSIONS:
        d = v.expression_graph(expression, show_grads=True)
        assert any(n.kind == "output" and n.grad == "1" for n in d.nodes), expression
    mse = v.expression_graph("((y - (w*x + b))**2).mean()", show_grads=True)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])
    assert float(mse.node("w = 0.5").grad) == pytest.approx(-2 * np.mean((y - 0.5 * x) * x), rel=1e-3)


def test_gradient_norms_vanish_for_sigmoid_and_small_weights_and_explode_for_large():
    sig = v.gradient_norms(depth=20, activation="sigmoid", weight_scale=1.0)
    assert sig["delta_norm"][0] / sig["delta_norm"][-1] < 1e-6
    he = v.gradient_norms(depth=20, activation="relu", weight_scale=np.sqrt(2.0))
    assert 1e-2 < he["delta_norm"][0] / he["delta_norm"][-1] < 1e2
    big = v.gradient_norms(depth=20, activation="relu", weight_scale=3.0)
    assert big["delta_norm"][0] / big["delta_norm"][-1] > 1e3
    assert big["act_std"][-1] > 1e3 * big["act_std"][0]
    assert sig["grad_norm"].shape == sig["delta_norm"].shape == sig["act_std"].shape == (20,)


def test_widget_builds_the_controls_of_the_table():
    pytest.importorskip("ipywidgets")
    for update in (v.blame_flow, v.two_layer_gradients, v.autograd_graph):
        box = v.widget(update)
        described = [c.description for c in box.children if getattr(c, "description", "")]
        assert described == list(v.CONTROLS[update.__name__])
    box = v.widget(v.blame_flow)
    assert type(box.children[0]).__name__ == "Play"  # the frame parameter gets a play button
    for name, controls in v.CONTROLS.items():  # every control names a parameter of its figure
        assert set(controls) <= set(inspect.signature(getattr(v, name)).parameters), name


def test_lesson_installs_from_the_configured_colab_repository_and_links_its_notebook():
    text = (REPO / "lessons" / "1.3-backpropagation.md").read_text(encoding="utf-8")
    installs = re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text)
    assert installs and set(installs) == {lessons.COLAB_REPO}
    assert "lessons.COLAB_REPO" in text and "/lessons/1.3-backpropagation.ipynb" in text

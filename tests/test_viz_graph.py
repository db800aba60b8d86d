"""tinylearn.viz.draw_graph: the computational graph as DOT text, plain data and pictures."""

from __future__ import annotations

import doctest
import os
import shutil
import stat
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest

import tinylearn as tl
from tinylearn.viz import GraphDrawing, draw_graph
from tinylearn.viz import graph as graph_module

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def net():
    """y = sum(2 * tanh(w @ x + b)) with named leaves w, b and a data input x."""
    w = tl.tensor(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, requires_grad=True)
    x = tl.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2))
    b = tl.zeros(3, 1, requires_grad=True)
    y = ((w @ x + b).tanh() * 2).sum()
    return w, x, b, y


def ops_of(g: GraphDrawing) -> list[str]:
    return [n.title for n in g.nodes if n.kind == "op"]


def by_title(g: GraphDrawing, title: str):
    (node,) = [n for n in g.nodes if n.title == title]
    return node


def no_dot(monkeypatch) -> None:
    """Make Graphviz look absent, so rendering takes the matplotlib fallback."""
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda cmd, *a, **k: None if cmd == "dot" else real_which(cmd, *a, **k)
    )


def check_png(data: bytes) -> None:
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000
    from PIL import Image  # matplotlib depends on Pillow

    with Image.open(__import__("io").BytesIO(data)) as im:
        im.verify()


def check_svg(text: str | bytes) -> None:
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")


# --------------------------------------------------------------------------- structure and DOT


def test_dot_has_ops_shapes_and_dtypes(net):
    *_, y = net
    g = draw_graph(y)
    assert ops_of(g) == ["Sum", "Mul", "Tanh", "Add", "MatMul"]
    for op in ["Sum", "Mul", "Tanh", "Add", "MatMul"]:
        assert f'label="{op}' in g.dot
    assert "Backward" not in g.dot
    assert g.dot.startswith("digraph tinylearn {") and g.dot.rstrip().endswith("}")
    for shape in ["(3, 4) float32", "(4, 2) float32", "(3, 1) float32", "(3, 2) float32", "() float32"]:
        assert shape in g.dot
    # Every node is declared once and every edge joins declared nodes.
    ids = [n.id for n in g.nodes]
    assert len(ids) == len(set(ids))
    assert all(e.src in ids and e.dst in ids for e in g.edges)
    assert g.dot.count(" -> ") == len(g.edges)


def test_node_kinds_and_edge_count(net):
    *_, y = net
    g = draw_graph(y)
    kinds = Counter(n.kind for n in g.nodes)
    # leaves w, b; inputs x and the constant 2; 4 intermediate results; the output
    assert kinds == {"op": 5, "leaf": 2, "input": 2, "intermediate": 4, "output": 1}
    # MatMul: 2 in + 1 out, Add: 2 + 1, Tanh: 1 + 1, Mul: 2 + 1, Sum: 1 + 1
    assert len(g.edges) == 13
    out = next(n for n in g.nodes if n.kind == "output")
    assert out.shape == () and out.dtype == "float32"
    assert repr(g) == "GraphDrawing(ops=5, tensors=9, edges=13)"


def test_edges_follow_data_flow_with_argument_numbers(net):
    w, x, b, y = net
    g = draw_graph(y, names={w: "w", x: "x", b: "b"})
    ids = {n.title: n.id for n in g.nodes if n.title}
    into_matmul = {(e.src, e.arg) for e in g.edges if e.dst == ids["MatMul"]}
    assert into_matmul == {(ids["w"], 0), (ids["x"], 1)}  # w @ x, not x @ w
    assert f'{ids["w"]} -> {ids["MatMul"]} [label="0"]' in g.dot
    # The op's output leaves it; the output tensor is a sink and the leaves are sources.
    out = next(n for n in g.nodes if n.kind == "output")
    assert [e.src for e in g.edges if e.dst == out.id] == [ids["Sum"]]
    assert not any(e.src == out.id for e in g.edges)
    assert not any(e.dst in (ids["w"], ids["x"], ids["b"]) for e in g.edges)


def test_op_parameters_are_shown():
    x = tl.randn(4, 3, requires_grad=True)
    g = draw_graph(x[:, 0].sum() + x.sum(dim=1, keepdim=True).reshape(4).sum())
    labels = [n.label for n in g.nodes if n.kind == "op"]
    assert "GetItem\nindex=(:, 0)" in labels
    assert any(label.startswith("Sum\ndims=(1,), keepdim=True") for label in labels)
    assert "Reshape\nshape=(4,)" in labels


def test_names_mapping_spellings(net):
    w, _x, b, y = net
    for names in ({w: "w", b: "b"}, {"w": w, "b": b}, [("w", w), ("b", b)]):
        g = draw_graph(y, names=names)
        assert by_title(g, "w").label.startswith("w\n(3, 4) float32")
        assert by_title(g, "b").kind == "leaf"
        assert '"w\\n(3, 4) float32' in g.dot

    class Model:
        def named_parameters(self):
            return iter([("layer.weight", w), ("layer.bias", b)])

    g = draw_graph(y, names=Model())
    assert by_title(g, "layer.weight").shape == (3, 4)
    with pytest.raises(TypeError, match="names"):
        draw_graph(y, names={"w": "not a tensor"})


def test_grads_after_backward_with_retained_graph(net):
    w, x, b, y = net
    assert "grad" not in draw_graph(y).dot
    y.backward(retain_graph=True)
    g = draw_graph(y, names={w: "w", b: "b", x: "x"})
    # b has 3 elements: its values are shown; w has 12: its norm is.
    b_node, w_node, x_node = by_title(g, "b"), by_title(g, "w"), by_title(g, "x")
    assert b_node.grad == "[[" + "], [".join(f"{v:.4g}" for v in b.grad.numpy().ravel()) + "]]"
    assert b_node.label.endswith("grad " + b_node.grad)
    assert w_node.grad == f"‖grad‖ = {np.linalg.norm(w.grad.numpy()):.4g}"
    assert x_node.grad is None  # x does not require grad
    assert "‖grad‖" in g.dot
    # The graph was retained, so every op, input and intermediate is still drawn.
    assert len(g.edges) == 13
    assert "grad" not in draw_graph(y, show_grads=False).dot
    assert draw_graph(y, grad_values=100, names={w: "w"}).node("w").grad.startswith("[[")


def test_drawing_after_the_graph_was_freed():
    w = tl.ones(3, requires_grad=True)
    y = (w * 2).sum()
    y.backward()  # frees what the ops saved, including the intermediate w * 2
    g = draw_graph(y, names={w: "w"})
    assert ops_of(g) == ["Sum", "Mul"]
    assert Counter(n.kind for n in g.nodes) == {"op": 2, "leaf": 1, "output": 1}
    assert g.node("w").grad == "[2, 2, 2]"
    mul, total = g.node("Mul").id, g.node("Sum").id
    assert any(e.src == mul and e.dst == total for e in g.edges)  # op -> op where the tensor is gone


def test_retained_intermediate_grad_and_hidden_parts(net):
    w, _x, _b, y = net
    g = draw_graph(y, show_inputs=False, show_intermediates=False)
    assert Counter(n.kind for n in g.nodes) == {"op": 5, "leaf": 2, "output": 1}
    assert len(g.edges) == 7  # w, b in; four op -> op links; Sum -> y
    h = w.sum() * 3
    h.retain_grad()
    z = h.exp()
    z.backward(retain_graph=True)
    g = draw_graph(z, names={h: "h"})
    assert g.node("h").kind == "intermediate"
    assert g.node("h").grad == f"{h.grad.item():.4g}"


def test_leaf_and_several_roots():
    a = tl.ones(2, 2, requires_grad=True)
    g = draw_graph(a, names={a: "a"})
    assert [(n.kind, n.label) for n in g.nodes] == [("leaf", "a\n(2, 2) float32")]
    assert g.edges == []
    c = draw_graph(tl.zeros(3, dtype=tl.int64))
    assert [(n.kind, n.dtype) for n in c.nodes] == [("input", "int64")]
    u, v = a.exp(), a.sin()
    both = draw_graph([u.sum(), v.sum()], names={a: "a"})
    assert sorted(ops_of(both)) == ["Exp", "Sin", "Sum", "Sum"]
    assert sum(n.kind == "leaf" for n in both.nodes) == 1  # a is shared
    assert sum(n.kind == "output" for n in both.nodes) == 2


def test_shared_inputs_and_constants_get_one_node():
    a = tl.tensor([1.0, 2.0], requires_grad=True)
    g = draw_graph((a * a).sum(), names={a: "a"})
    into_mul = sorted((e.src, e.arg) for e in g.edges if e.dst == g.node("Mul").id)
    assert into_mul == [(g.node("a").id, 0), (g.node("a").id, 1)]
    k = tl.tensor(3.0)
    g = draw_graph(a * k + k, names={k: "k"})
    assert sum(n.title == "k" for n in g.nodes) == 1
    assert g.node("k").kind == "input" and g.node("k").detail == "3"


def test_bad_arguments(net):
    *_, y = net
    with pytest.raises(TypeError):
        draw_graph(np.zeros(3))
    with pytest.raises(ValueError, match="format"):
        draw_graph(y, format="jpg")
    with pytest.raises(ValueError, match="engine"):
        draw_graph(y, engine="graphviz")
    with pytest.raises(ValueError, match="max_ops"):
        draw_graph(y, max_ops=0)
    with pytest.raises(ValueError, match="suffix"):
        draw_graph(y).save("graph.jpeg")


# --------------------------------------------------------------------------- deep graphs


def test_5000_op_chain_does_not_recurse():
    x = tl.randn(3, requires_grad=True)
    y = x
    for i in range(5000):
        y = y.sin() if i % 2 else y * 1.5
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(500)  # anything recursive over the graph would fail at once
    try:
        g = draw_graph(y, max_ops=None, names={x: "x"})
        lay = graph_module._layout(g.nodes, g.edges, "TB", 9)  # the fallback's layout too
    finally:
        sys.setrecursionlimit(limit)
    assert len(ops_of(g)) == 5000
    assert Counter(ops_of(g)) == {"Mul": 2500, "Sin": 2500}
    # per op: one output edge; per Mul two inputs (chain + constant), per Sin one
    assert len(g.edges) == 5000 + 2500 * 2 + 2500
    assert g.node("x").kind == "leaf"
    assert len(lay.pos) == len(g.nodes)
    assert g.dot.count("\n") == len(g.nodes) + len(g.edges) + 5


def test_max_ops_cuts_the_graph_with_a_marker(monkeypatch, tmp_path):
    x = tl.randn(3, requires_grad=True)
    y = x
    for _ in range(40):
        y = y.sin()
    g = draw_graph(y, max_ops=10, names={x: "x"})
    assert len(ops_of(g)) == 10
    more = g.node("more")
    assert more.kind == "more" and "30 more ops" in more.label
    assert [e.src for e in g.edges].count("more") == 1
    assert "x" not in [n.title for n in g.nodes]  # the leaf is beyond the cut
    no_dot(monkeypatch)
    check_png(g.render("png"))


# --------------------------------------------------------------------------- pictures


def test_matplotlib_fallback_saves_dot_svg_png_pdf(net, monkeypatch, tmp_path):
    no_dot(monkeypatch)
    w, x, b, y = net
    y.backward(retain_graph=True)
    g = draw_graph(y, names={w: "w", x: "x", b: "b"})
    assert g.renderer() == "matplotlib"
    for suffix in (".dot", ".svg", ".png", ".pdf"):
        assert g.save(tmp_path / f"graph{suffix}") == tmp_path / f"graph{suffix}"
    assert (tmp_path / "graph.dot").read_text() == g.dot
    check_svg((tmp_path / "graph.svg").read_bytes())
    check_png((tmp_path / "graph.png").read_bytes())
    assert (tmp_path / "graph.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot", "graph.pdf", "graph.png", "graph.svg"]
    mode = stat.S_IMODE(os.stat(tmp_path / "graph.png").st_mode)
    assert mode & stat.S_IRUSR and mode & stat.S_IROTH


def test_path_argument_and_explicit_format(net, tmp_path):
    *_, y = net
    draw_graph(y, path=tmp_path / "a.png", engine="matplotlib")
    check_png((tmp_path / "a.png").read_bytes())
    draw_graph(y, path=tmp_path / "graph_without_suffix", format="svg", engine="matplotlib")
    check_svg((tmp_path / "graph_without_suffix").read_bytes())


def test_save_is_atomic(net, monkeypatch, tmp_path):
    *_, y = net
    target = tmp_path / "graph.dot"
    target.write_text("old")
    g = draw_graph(y)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(graph_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        g.save(target)
    assert target.read_text() == "old"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["graph.dot"]  # no temporary file left behind
    monkeypatch.undo()
    g.save(target)
    assert target.read_text() == g.dot


def test_figure_is_a_matplotlib_figure_in_both_directions(net):
    from matplotlib.figure import Figure

    w, _x, _b, y = net
    for direction in ("TB", "LR"):
        g = draw_graph(y, names={w: "w"}, direction=direction)
        fig = g.figure()
        assert isinstance(fig, Figure)
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert {"MatMul", "Add", "Tanh", "Mul", "Sum", "w", "(3, 4) float32"} <= set(texts)
        wide, tall = fig.get_size_inches()
        assert (tall > wide) if direction == "TB" else (wide > tall)
    assert "rankdir=LR" in draw_graph(y, direction="LR").dot


def test_layout_keeps_nodes_apart_and_layers_ordered(net):
    *_, y = net
    g = draw_graph(y)
    lay = graph_module._layout(g.nodes, g.edges, "TB", 9)
    for e in g.edges:  # data flows downwards
        assert lay.pos[e.src][1] > lay.pos[e.dst][1]
    boxes = [(lay.pos[n.id], lay.size[n.id]) for n in g.nodes]
    for i, ((x1, y1), (w1, h1)) in enumerate(boxes):
        for (x2, y2), (w2, h2) in boxes[i + 1 :]:
            apart_x = abs(x1 - x2) >= (w1 + w2) / 2 - 1e-9
            apart_y = abs(y1 - y2) >= (h1 + h2) / 2 - 1e-9
            assert apart_x or apart_y


def test_jupyter_reprs(net, monkeypatch):
    no_dot(monkeypatch)
    *_, y = net
    g = draw_graph(y)
    check_svg(g._repr_svg_())
    check_png(g._repr_png_())
    only_png = draw_graph(y, format="png")
    assert only_png._repr_svg_() is None
    check_png(only_png._repr_png_())


def test_docstring_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(graph_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 5


# --------------------------------------------------------------------------- the dot program


def fake_dot(folder, script: str) -> None:
    exe = folder / "dot"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)


@pytest.mark.skipif(os.name != "posix", reason="the stand-in `dot` is a shell script")
def test_dot_program_is_called_when_found(net, monkeypatch, tmp_path):
    """A stand-in ``dot`` on PATH checks the plumbing (arguments, stdin, output, fallback)."""
    fake_dot(
        tmp_path,
        'cat > "$(dirname "$0")/stdin.dot"\n'
        'case "$1" in\n'
        "  -Tsvg) printf '<svg xmlns=\"http://www.w3.org/2000/svg\"><!-- fake --></svg>' ;;\n"
        "  *) exit 3 ;;\n"
        "esac\n",
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    *_, y = net
    g = draw_graph(y)
    assert g.renderer() == "dot"
    assert b"fake" in g.render("svg")
    assert (tmp_path / "stdin.dot").read_text() == g.dot
    with pytest.warns(UserWarning, match="Graphviz failed"):  # the stand-in fails for PNG
        check_png(g.render("png"))
    with pytest.raises(RuntimeError, match="exited with 3"):
        draw_graph(y, engine="dot").render("png")
    assert draw_graph(y, engine="matplotlib").renderer() == "matplotlib"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
def test_real_graphviz_renders(net, tmp_path):
    w, x, b, y = net
    y.backward(retain_graph=True)
    g = draw_graph(y, names={w: "w", x: "x", b: "b"}, engine="dot")
    g.save(tmp_path / "graph.svg")
    g.save(tmp_path / "graph.png")
    svg = (tmp_path / "graph.svg").read_text()
    check_svg(svg)
    assert "MatMul" in svg
    check_png((tmp_path / "graph.png").read_bytes())

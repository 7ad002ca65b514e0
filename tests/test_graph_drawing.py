"""mg.viz.draw_graph: the autograd graph as Graphviz DOT, checked by parsing the text."""
import math
import os
import re
import shutil
import subprocess
import sys

import pytest

import minigan as mg
from minigan import nn
from minigan.viz import draw_graph, graph

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$")


def parse(dot):
    """{node id: (label lines, attributes text)} and [(from, to)] from draw_graph's DOT."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        if (m := NODE.match(line)):
            nodes[m.group(1)] = (m.group(2).split("\\n"), m.group(3))
        elif (m := EDGE.match(line)):
            edges.append((m.group(1), m.group(2)))
    return nodes, edges


def by_first_line(nodes):
    return {lines[0]: node for node, (lines, _) in nodes.items()}


def neuron():
    """y = tanh(w * x + b), w and b learned, x data: micrograd's neuron with one input."""
    w = mg.tensor(0.5, requires_grad=True, dtype=mg.float64)
    x = mg.tensor(2.0, dtype=mg.float64)
    b = mg.tensor(0.25, requires_grad=True, dtype=mg.float64)
    return w, x, b, (w * x + b).tanh()


def test_a_neuron_draws_as_three_ops_and_six_tensors_linked_input_op_result(backend):
    w, x, b, y = neuron()
    nodes, edges = parse(draw_graph(y, params={"w": w, "b": b}))
    ops = sorted(lines[0] for lines, attrs in nodes.values() if "ellipse" in attrs)
    assert ops == ["Add", "Mul", "Tanh"]
    assert len(nodes) == 9 and len(edges) == 8
    named = by_first_line(nodes)
    assert nodes[named["w"]][0] == ["w", "() float64"]
    assert nodes[named["b"]][0] == ["b", "() float64"]
    ids = {name: named[name] for name in ("w", "b", "Mul", "Add", "Tanh")}
    x_node = [n for n, (lines, attrs) in nodes.items() if "dashed" in attrs]
    (product,) = [to for fr, to in edges if fr == ids["Mul"]]
    (total,) = [to for fr, to in edges if fr == ids["Add"]]
    (out,) = [to for fr, to in edges if fr == ids["Tanh"]]
    assert sorted(edges) == sorted([
        (ids["w"], ids["Mul"]), (x_node[0], ids["Mul"]), (ids["Mul"], product),
        (product, ids["Add"]), (ids["b"], ids["Add"]), (ids["Add"], total),
        (total, ids["Tanh"]), (ids["Tanh"], out)])


def test_leaves_constants_results_and_the_output_are_told_apart():
    w, x, b, y = neuron()
    nodes, edges = parse(draw_graph(y, params={"w": w, "b": b}))
    tensors = {n: attrs for n, (lines, attrs) in nodes.items() if "box" in attrs}
    fill = {n: re.search(r"fillcolor=(\w+)", attrs).group(1) for n, attrs in tensors.items()}
    named = by_first_line(nodes)
    assert fill[named["w"]] == fill[named["b"]] == "lightblue"
    (output,) = [n for n, attrs in tensors.items() if "peripheries=2" in attrs]
    assert fill[output] == "darkolivegreen1" and not any(fr == output for fr, _ in edges)
    (constant,) = [n for n, attrs in tensors.items() if "dashed" in attrs]
    assert fill[constant] == "white"
    results = [n for n in tensors if fill[n] == "lightgrey"]
    assert len(results) == 2  # w * x and w * x + b


def test_show_grad_writes_each_tensors_value_and_gradient_without_touching_grad():
    w, x, b, y = neuron()
    nodes, _ = parse(draw_graph(y, params={"w": w, "b": b}, show_grad=True))
    named = by_first_line(nodes)
    slope = 1 - math.tanh(1.25) ** 2  # dy/d(w x + b)
    assert nodes[named["w"]][0] == ["w", "() float64", "data 0.5", f"grad {2 * slope:.4g}"]
    assert nodes[named["b"]][0] == ["b", "() float64", "data 0.25", f"grad {slope:.4g}"]
    (output,) = [lines for lines, attrs in nodes.values() if "peripheries=2" in attrs]
    assert output == ["() float64", f"data {math.tanh(1.25):.4g}", "grad 1"]
    (constant,) = [lines for lines, attrs in nodes.values() if "dashed" in attrs]
    assert constant == ["() float64", "data 2"]  # no gradient: it does not require one
    assert w.grad is None and b.grad is None


def test_a_tensor_used_twice_is_one_node_with_two_edges_and_big_tensors_show_a_range():
    x = mg.tensor([[1.0, -2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], requires_grad=True)
    nodes, edges = parse(draw_graph((x * x).sum(), show_grad=True))
    (x_node,) = [n for n, (lines, _) in nodes.items() if lines[0] == "(2, 4) float32"
                 and "lightblue" in nodes[n][1]]
    (mul,) = [n for n, (lines, _) in nodes.items() if lines[0] == "Mul"]
    assert edges.count((x_node, mul)) == 2
    assert nodes[x_node][0][1:] == ["data 8 numbers in [-2, 8]", "grad 8 numbers in [-4, 16]"]


def test_parameters_are_named_as_in_named_parameters():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    y = model(mg.randn(4, 3)).sum()
    nodes, _ = parse(draw_graph(y, params=dict(model.named_parameters())))
    names = {lines[0] for lines, _ in nodes.values()}
    assert {"0.weight", "0.bias"} <= names
    assert nodes[by_first_line(nodes)["0.weight"]][0][1] == "(2, 3) float32"


def test_draw_graph_writes_a_dot_file(tmp_path):
    *_, y = neuron()
    text = draw_graph(y, tmp_path / "neuron.dot")
    assert (tmp_path / "neuron.dot").read_text() == text
    assert text.startswith("digraph autograd {") and text.rstrip().endswith("}")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("extension, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_draw_graph_renders_svg_and_png_with_graphviz(tmp_path, extension, magic):
    *_, y = neuron()
    path = tmp_path / f"neuron{extension}"
    draw_graph(y, path, show_grad=True)
    assert path.read_bytes().startswith(magic)
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left


def test_without_graphviz_an_svg_asks_for_the_package_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    *_, y = neuron()
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        draw_graph(y, tmp_path / "neuron.svg")
    assert os.listdir(tmp_path) == []


def test_bad_arguments_are_refused_with_what_was_expected(tmp_path):
    *_, y = neuron()
    with pytest.raises(ValueError, match=r"ending in \.dot, \.svg or \.png"):
        draw_graph(y, tmp_path / "neuron.pdf")
    with pytest.raises(TypeError, match="expected a Tensor, got float"):
        draw_graph(1.0)


def test_mg_viz_is_reachable_from_import_minigan_alone():
    code = "import minigan as mg; print(mg.viz.draw_graph.__module__)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.strip() == "minigan.viz.graph"

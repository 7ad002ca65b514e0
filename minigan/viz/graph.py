"""Drawing the autograd graph: the tensors and the ops that made them, as Graphviz DOT.

    y = (w * x + b).tanh()
    mg.viz.draw_graph(y, "neuron.svg", params={"w": w, "b": b}, show_grad=True)

Every Tensor an op made remembers that op (`tensor.grad_fn`, a Function holding
its `inputs`): following those links back from the output is the whole graph.
The drawing has two kinds of nodes, left (inputs) to right (the output):

    op nodes      ellipses, the Function's name (Mul, Add, Tanh, Conv2d, ...)
    tensor nodes  boxes: a name (a parameter's, from `params`), shape and dtype;
                  leaves that require grad in light blue, leaves that do not
                  (data, constants) in white and dashed, the results of ops in
                  light grey, the output in green with a double border

and its edges run input tensor -> op -> result. show_grad=True adds each tensor's
numbers and its gradient d(sum of output)/d(tensor) (computed for the drawing with
mg.grad; nothing is accumulated into .grad), as micrograd's drawing does; it is
meant for tiny graphs.
"""
import os
import shutil
import subprocess

from .. import backend as _backend
from .._atomic import atomic_write
from ..autograd import grad
from ..tensor import Tensor

__all__ = ["draw_graph"]

COLOURS = {"output": "darkolivegreen1", "leaf": "lightblue", "constant": "white",
           "result": "lightgrey", "op": "white"}
MAX_SHOWN = 6  # show_grad writes out at most this many numbers of a tensor


def draw_graph(output, path=None, params=None, show_grad=False):
    """The autograd graph that made `output`, as Graphviz DOT text.

    output: a Tensor (the drawing starts there and follows each op's inputs).
    path: also write the drawing there: `.dot` (the text), or `.svg` / `.png`
        (rendered by Graphviz's `dot` program, which must be installed).
    params: names for tensors, e.g. dict(model.named_parameters()) (as torchviz).
    show_grad: also show every tensor's numbers and its gradient (tiny graphs).
    Returns the DOT text.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(output).__name__}")
    names = {id(t): name for name, t in dict(params or {}).items()}
    tensors, ops = _walk(output)
    if show_grad and any(not isinstance(t, Tensor) for t in tensors):
        raise RuntimeError("draw_graph: show_grad computes the gradients from the graph, which "
                           "backward() has freed: draw before backward, or call "
                           "backward(retain_graph=True)")
    grads = _gradients(output, tensors) if show_grad else {}

    lines = ["digraph autograd {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11, style=filled];']
    ids = {_key(t): f"t{i}" for i, t in enumerate(tensors)}
    for t in tensors:
        kind = _kind(t, output)
        label = [names[id(t)]] if id(t) in names else []
        label.append(f"{_shape(t)} {t.dtype}")
        if show_grad:
            label.append("data " + _numbers(t.data))
            if id(t) in grads:
                label.append("grad " + _numbers(grads[id(t)].data))
        style = '"filled,dashed"' if kind == "constant" else "filled"
        border = ", peripheries=2" if kind == "output" else ""
        lines.append(f'  {ids[_key(t)]} [label="{_escape(label)}", shape=box, style={style}, '
                     f'fillcolor={COLOURS[kind]}{border}];')
    for i, (op, result) in enumerate(ops):
        lines.append(f'  op{i} [label="{_escape([type(op).__name__])}", shape=ellipse, '
                     f'fillcolor={COLOURS["op"]}];')
        for x in _inputs(op):
            lines.append(f"  {ids[_key(x)]} -> op{i};")
        lines.append(f"  op{i} -> {ids[_key(result)]};")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if path is not None:
        _write(text, path)
    return text


def _walk(output):
    """(tensors, [(op, its result)]): every tensor and op the output depends on, in
    topological order (an op's inputs before it). Iterative, for long chains. After a
    backward that freed the graph, the tensors ops made are their InputTraces."""
    tensors, ops, seen = [], [], set()
    stack = [(output, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            tensors.append(t)
            if t._ctx is not None:
                ops.append((t._ctx, t))
            continue
        if _key(t) in seen:
            continue
        seen.add(_key(t))
        stack.append((t, True))
        if t._ctx is not None:
            stack.extend((x, False) for x in reversed(_inputs(t._ctx)) if _key(x) not in seen)
    return tensors, ops


def _inputs(op):
    """An op's inputs: the tensors, or what a freed op keeps of them."""
    inputs = getattr(op, "inputs", None)
    return inputs if inputs is not None else op.graph_inputs


def _key(t):
    """One node per tensor: a tensor an op made is known by that op (its InputTraces
    after a backward are several objects for the one tensor)."""
    return ("op", id(t._ctx)) if t._ctx is not None else ("leaf", id(t))


def _kind(t, output):
    if t is output:
        return "output"
    if t._ctx is not None:
        return "result"
    return "leaf" if t.requires_grad else "constant"


def _gradients(output, tensors):
    """{id: d(sum of output)/d(tensor)} for every tensor that requires grad."""
    wanted = [t for t in tensors if t.requires_grad]
    if not output.requires_grad or not wanted:
        return {}
    ones = output.xp.ones_like(output.data)
    # retain_graph: drawing must leave the user's graph as it found it.
    found = grad(output, wanted, grad_outputs=Tensor._make(ones), retain_graph=True,
                 allow_unused=True)
    return {id(t): g for t, g in zip(wanted, found) if g is not None}


def _shape(t):
    return "(" + ", ".join(map(str, t.shape)) + ("," if t.ndim == 1 else "") + ")"


def _numbers(array):
    """A tensor's numbers for a label: all of them when few, else their range."""
    values = _backend.backend_of(array).to_numpy(array).ravel()
    if values.size <= MAX_SHOWN:
        shown = ", ".join(f"{float(v):.4g}" for v in values)
        return shown if values.size == 1 else f"[{shown}]"
    return f"{values.size} numbers in [{float(values.min()):.4g}, {float(values.max()):.4g}]"


def _escape(lines):
    """Label lines as the inside of a DOT string: quotes and backslashes escaped."""
    return "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)


def _write(text, path):
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension == ".dot":
        with atomic_write(path, "w") as f:
            f.write(text)
        return
    if extension not in (".svg", ".png"):
        raise ValueError(f"draw_graph: expected a path ending in .dot, .svg or .png, got {path!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            f"draw_graph: writing {os.path.basename(path)} needs Graphviz's `dot` program, "
            "which was not found: install Graphviz (apt-get install graphviz, brew install "
            "graphviz, or https://graphviz.org/download/), or write a .dot file")
    rendered = subprocess.run([dot, "-T" + extension[1:]], input=text.encode(),
                              capture_output=True, check=False)
    if rendered.returncode != 0:
        raise RuntimeError(f"draw_graph: Graphviz's dot failed: "
                           f"{rendered.stderr.decode(errors='replace').strip()}")
    with atomic_write(path) as f:
        f.write(rendered.stdout)

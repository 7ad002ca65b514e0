"""Assignment 1, autograd (docs/course/01_autograd.md).

Each task is checked on its own: 1.1 calls each op's backward directly, 1.2 calls
SumTo directly, 1.3 calls _topological_order on a graph built by forward passes,
1.4 runs the engine with the order of a known graph given, so one missing task
never hides another.
"""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import autograd
from minigan.course import check_close
from minigan.course.check import check_true
from minigan.functional.shape import sum_to

from .helpers import check_op_backward, own_backward, random, tensor


# --- 1.1 the backward of the core elementwise ops ------------------------------------

BINARY = {
    "Add.backward": F.add,
    "Sub.backward": F.sub,
    "Mul.backward": F.mul,
    "Div.backward": F.div,
}
UNARY = {
    "Neg.backward": (F.neg, None),
    "Exp.backward": (F.exp, None),
    "Log.backward": (F.log, (0.5, 2.0)),
    "Tanh.backward": (F.tanh, None),
    "Sigmoid.backward": (F.sigmoid, None),
    "ReLU.backward (MaskedGrad)": (F.relu, None),
}


@pytest.mark.task1_1
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_backward_matches_finite_differences(name):
    a = random(3, 4, seed=1)
    b = random(3, 4, seed=2, low=0.5, high=2.0)  # away from 0 for the division
    check_op_backward(name, BINARY[name], (a, b))


@pytest.mark.task1_1
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_backward_matches_finite_differences(name):
    f, interval = UNARY[name]
    if interval:
        x = random(3, 4, seed=3, low=interval[0], high=interval[1])
    else:
        x = random(3, 4, seed=3)
        x.data[np.abs(x.data) < 0.05] = 0.5  # ReLU's kink: no finite difference across it
    check_op_backward(name, f, (x,))


@pytest.mark.task1_1
def test_tanh_and_sigmoid_backward_at_known_points():
    x = tensor([0.0, 1.0])
    (gx,) = own_backward(F.tanh(x), np.ones(2))
    check_close("Tanh.backward at 0 and 1 (1 - tanh^2)", gx, [1.0, 1 - np.tanh(1.0) ** 2])
    (gx,) = own_backward(F.sigmoid(x), np.ones(2))
    s = 1 / (1 + np.exp(-1.0))
    check_close("Sigmoid.backward at 0 and 1 (s (1 - s))", gx, [0.25, s * (1 - s)])


# --- 1.2 broadcasting's backward: sum_to ----------------------------------------------

SHAPES = [((2, 3, 4), (3, 1)), ((2, 3, 4), (1, 4)), ((2, 3, 4), ()), ((2, 3, 4), (2, 1, 4)),
          ((5, 1, 3), (1, 3)), ((4, 3), (4, 3))]


def _adjoint_of_broadcast(x, shape):
    """The array s of `shape` with <s, v> = <x, broadcast_to(v, x.shape)> for every v,
    element by element: sum_to's definition as the adjoint of broadcasting."""
    s = np.zeros(shape)
    for k in np.ndindex(*shape):
        e = np.zeros(shape)
        e[k] = 1.0
        s[k] = (x * np.broadcast_to(e, x.shape)).sum()
    return s


@pytest.mark.task1_2
@pytest.mark.parametrize("big,small", SHAPES)
def test_sum_to_is_the_adjoint_of_broadcasting(big, small):
    x = random(*big, seed=4)
    y = sum_to(x, small)
    check_close(f"sum_to {big} -> {small}", y, _adjoint_of_broadcast(x.data, small))


@pytest.mark.task1_2
@pytest.mark.parametrize("big,small", [s for s in SHAPES if s[0] != s[1]])
def test_sum_to_backward_broadcasts_the_gradient_back(big, small):
    x = random(*big, seed=5)
    g = np.random.default_rng(6).standard_normal(small)
    (gx,) = own_backward(sum_to(x, small), g)
    check_close(f"SumTo.backward {small} -> {big}", gx, np.broadcast_to(g, big))


# --- 1.3 topological order ------------------------------------------------------------

def _check_order(order, roots):
    """Every tensor reachable from the roots through inputs that require grad, once
    each, each after its inputs."""
    reachable, stack = {}, list(roots)
    while stack:
        t = stack.pop()
        if id(t) in reachable:
            continue
        reachable[id(t)] = t
        if t._ctx is not None:
            stack.extend(x for x in t._ctx.inputs if x.requires_grad)
    position = {}
    for i, t in enumerate(order):
        check_true("topological order: each tensor once", id(t) not in position,
                   f"a tensor of shape {t.shape} appears twice")
        position[id(t)] = i
    missing = [t.shape for k, t in reachable.items() if k not in position]
    check_true("topological order: every tensor the roots depend on", not missing,
               f"{len(missing)} of {len(reachable)} are missing")
    for t in order:
        if t._ctx is None:
            continue
        for x in t._ctx.inputs:
            if x.requires_grad:
                check_true("topological order: inputs before the tensor they make",
                           position[id(x)] < position[id(t)],
                           f"an input at position {position[id(x)]} comes after its "
                           f"output at {position[id(t)]}")


@pytest.mark.task1_3
def test_topological_order_of_a_diamond():
    x, w = random(3, seed=7), random(3, seed=8)
    a = x * w                       # used twice below: the diamond
    b = a.exp()
    c = a + b
    y = (c * x).sum()
    order = autograd._topological_order([y])
    _check_order(order, [y])
    check_true("topological order: the root comes last", order[-1] is y)


@pytest.mark.task1_3
def test_topological_order_skips_tensors_that_need_no_gradient():
    x = random(3, seed=9)
    constant = random(3, seed=10, requires_grad=False)
    y = (x * constant).sum()
    order = autograd._topological_order([y])
    check_true("topological order: no constants", all(t.requires_grad for t in order),
               "a tensor without requires_grad is in the order")
    _check_order(order, [y])


@pytest.mark.task1_3
def test_topological_order_of_a_long_chain_needs_no_recursion():
    x = random(1, seed=11)
    y = x
    for _ in range(5000):     # far deeper than Python's recursion limit
        y = y * 1.0
    order = autograd._topological_order([y])
    check_true("topological order of a 5,000-op chain", len(order) == 5001,
               f"{len(order)} tensors, expected 5001")
    check_true("topological order of a chain: x first, y last", order[0] is x and order[-1] is y)


# --- 1.4 gradient accumulation -----------------------------------------------------------

def _x_used_twice(monkeypatch):
    """y = sum(x ** x): one op with x as both of its inputs, so x's gradient is the sum
    d/da a^b + d/db a^b = x^x + x^x log x. The engine is given [x, x ** x, y], a
    topological order of this graph, so only the accumulation is tested."""
    x = random(4, seed=12, low=0.5, high=2.0)
    p = x ** x
    y = p.sum()
    monkeypatch.setattr(autograd, "_topological_order", lambda roots: [x, p, y])
    return x, y


def _expected(x):
    return x ** x * (np.log(x) + 1.0)


@pytest.mark.task1_4
def test_a_tensor_used_twice_gets_the_sum_of_both_gradients(monkeypatch):
    x, y = _x_used_twice(monkeypatch)
    (gx,) = mg.grad(y, x)
    check_close("d/dx sum(x ** x) = x^x (log x + 1)", gx, _expected(x.data))


@pytest.mark.task1_4
def test_backward_adds_into_grad_and_does_not_overwrite_it(monkeypatch):
    x, y = _x_used_twice(monkeypatch)
    y.backward()
    check_close("x.grad after one backward", x.grad, _expected(x.data))
    p = x ** 2
    s = p.sum()
    monkeypatch.setattr(autograd, "_topological_order", lambda roots: [x, p, s])
    s.backward()
    check_close("x.grad after a second backward (accumulated: x^x (log x + 1) + 2x)", x.grad,
                _expected(x.data) + 2 * x.data)

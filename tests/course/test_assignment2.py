"""Assignment 2, linear layers, softmax cross-entropy, SGD with momentum (docs/course/02_mlp.md).

The gradients are checked through the engine (assignment 1) against finite
differences; SGD against values worked out by hand; and, end to end, a 784-100-10
MLP trained with the student's ops and optimizer must reach 97% on MNIST's test set.
"""
import os
import time

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.course import check_close
from minigan.course.check import check_true

from .helpers import check_gradients, random, tensor


# --- 2.1 matmul and linear backward -----------------------------------------------------

@pytest.mark.task2_1
@pytest.mark.parametrize("a_shape,b_shape", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)),
                                             ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_backward_matches_finite_differences(a_shape, b_shape):
    a, b = random(*a_shape, seed=1), random(*b_shape, seed=2)
    check_gradients(f"matmul {a_shape} @ {b_shape}", mg.matmul, (a, b))


@pytest.mark.task2_1
def test_linear_backward_matches_finite_differences():
    x, w, b = random(4, 5, seed=3), random(3, 5, seed=4), random(3, seed=5)
    check_gradients("linear x (4, 5), weight (3, 5), bias (3,)", F.linear, (x, w, b))


@pytest.mark.task2_1
def test_linear_weight_gradient_is_g_transposed_times_x():
    x, w = random(4, 5, seed=6), random(3, 5, seed=7)
    g = np.random.default_rng(8).standard_normal((4, 3))
    (gw,) = mg.grad(F.linear(x, w), w, grad_outputs=tensor(g, requires_grad=False))
    check_close("linear dL/dweight = g^T x", gw, g.T @ x.data)


# --- 2.2 log-softmax, the core of cross-entropy ---------------------------------------------

@pytest.mark.task2_2
def test_log_softmax_values():
    x = tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = x.data - np.log(np.exp(x.data).sum(1, keepdims=True))
    check_close("log_softmax([[1, 2, 3], [0, 0, 0]], 1)", F.log_softmax(x, 1), expected)


@pytest.mark.task2_2
def test_log_softmax_of_huge_logits_is_finite():
    big = F.log_softmax(tensor([[1000.0, 1001.0, 1002.0]]), 1)
    small = F.log_softmax(tensor([[0.0, 1.0, 2.0]]), 1)
    check_true("log_softmax of logits near 1000 is finite", np.isfinite(big.numpy()).all(),
               f"got {big.numpy()}: subtract the max before exp")
    check_close("log_softmax is shift invariant (x + 1000 gives the same)", big, small)


@pytest.mark.task2_2
def test_log_softmax_backward_matches_finite_differences():
    x = random(3, 5, seed=9)
    check_gradients("log_softmax(x, dim=1)", lambda t: F.log_softmax(t, 1), (x,))
    check_gradients("log_softmax(x, dim=0)", lambda t: F.log_softmax(t, 0), (x,))


@pytest.mark.task2_2
def test_cross_entropy_value_and_gradient():
    x = random(4, 3, seed=10)
    t = mg.tensor(np.array([0, 2, 1, 2]))
    p = np.exp(x.data) / np.exp(x.data).sum(1, keepdims=True)
    loss = F.cross_entropy(x, t)
    check_close("cross_entropy = mean -log softmax(x)[t]", loss,
                -np.log(p[np.arange(4), t.numpy()]).mean())
    (gx,) = mg.grad(loss, x)
    check_close("d cross_entropy/dx = (softmax(x) - onehot(t)) / N", gx,
                (p - np.eye(3)[t.numpy()]) / 4)
    uniform = F.cross_entropy(tensor(np.zeros((2, 10))), mg.tensor(np.array([3, 7])))
    check_close("cross_entropy of uniform logits over 10 classes = log 10", uniform, np.log(10))


# --- 2.3 SGD with momentum ------------------------------------------------------------------

def _steps(grads, **options):
    """The parameter after one SGD step per gradient in `grads`, starting at p = 1."""
    p = nn.Parameter(mg.tensor(np.array([1.0]), dtype=mg.float64))
    opt = optim.SGD([p], **options)
    values = []
    for g in grads:
        p.grad = mg.tensor(np.array([g], dtype=np.float64), dtype=mg.float64)
        opt.step()
        values.append(float(p.numpy()[0]))
    return values


@pytest.mark.task2_3
def test_sgd_momentum_by_hand():
    # b1 = 1, p = 1 - 0.1 = 0.9;  b2 = 0.9 + 1 = 1.9, p = 0.71;  b3 = 1.71 + 1 = 2.71, p = 0.439
    check_close("SGD(lr=0.1, momentum=0.9), gradient 1 three times",
                _steps([1, 1, 1], lr=0.1, momentum=0.9), [0.9, 0.71, 0.439])


@pytest.mark.task2_3
def test_sgd_momentum_with_dampening_and_changing_gradients():
    # b1 = 2 (the first gradient, undamped), p = 0.8;  b2 = 0.5*2 + 0.75*(-1) = 0.25, p = 0.775
    check_close("SGD(lr=0.1, momentum=0.5, dampening=0.25), gradients 2, -1",
                _steps([2, -1], lr=0.1, momentum=0.5, dampening=0.25), [0.8, 0.775])


@pytest.mark.task2_3
def test_sgd_nesterov_by_hand():
    # b1 = 1, step 1 + 0.9*1 = 1.9, p = 0.81;  b2 = 1.9, step 1 + 1.71 = 2.71, p = 0.539
    check_close("SGD(lr=0.1, momentum=0.9, nesterov=True), gradient 1 twice",
                _steps([1, 1], lr=0.1, momentum=0.9, nesterov=True), [0.81, 0.539])


@pytest.mark.task2_3
def test_sgd_keeps_its_momentum_buffer_in_the_state():
    p = nn.Parameter(mg.tensor(np.array([1.0, 2.0]), dtype=mg.float64))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for g in ([1.0, -1.0], [1.0, -1.0]):
        p.grad = mg.tensor(np.array(g), dtype=mg.float64)
        opt.step()
    check_close("state['momentum_buffer'] after two steps of gradient (1, -1)",
                opt.state[p]["momentum_buffer"], [1.9, -1.9])


MLP_BUDGET_S = 60


@pytest.mark.task2_3
@pytest.mark.end_to_end
@pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"), reason="MNIST not found (set MINIGAN_DATA)")
def test_an_mlp_trained_with_these_reaches_97_percent_on_mnist():
    """784-100-10, ReLU, cross-entropy, SGD(lr 0.05, momentum 0.9), batch 100, 3 epochs."""
    from minigan.data import MNIST
    start = time.perf_counter()
    mg.manual_seed(0)
    train, test = MNIST(train=True), MNIST(train=False)
    x = (train.images.reshape(-1, 784) / np.float32(255)).astype(np.float32)
    y = train.labels
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    for epoch in range(3):
        order = rng.permutation(len(y))
        for i in range(0, len(y), 100):
            batch = order[i:i + 100]
            loss = F.cross_entropy(model(mg.tensor(x[batch])), mg.tensor(y[batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with mg.no_grad():
        logits = model(mg.tensor((test.images.reshape(-1, 784) / np.float32(255)).astype(np.float32)))
    accuracy = float((logits.numpy().argmax(1) == test.labels).mean())
    seconds = time.perf_counter() - start
    check_true("the MLP's test accuracy after 3 epochs", accuracy >= 0.97,
               f"{accuracy:.2%}, expected at least 97% (the solution reaches 97.5%)")
    check_true("the MLP trains within its budget", seconds < MLP_BUDGET_S,
               f"{seconds:.0f} s, budget {MLP_BUDGET_S} s")

"""Assignment 4, batch norm and Adam (docs/course/04_batchnorm_adam.md), in minigan/textbook/.

Batch norm is checked against its definition, the fast twin (minigan/functional/norm.py)
and finite differences; Adam against values worked out by hand and the fast
optim.Adam. 4.2 is graded on its own even before 4.1 is written: while the forward
still raises 4.1's NotImplementedError, a stand-in forward (the fast twin's
value, ctx.eps kept) takes its place.
"""
import types

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.course import check_close
from minigan.functional import norm as fast_norm
from minigan.textbook import adam as tb_adam
from minigan.textbook import norm as tb

from .helpers import numerical_gradients, random, tensor

EPS = 1e-5


def _channels(x):
    return (0,) + tuple(range(2, x.ndim))


def _expected_y(x, gamma, beta):
    axes = _channels(x)
    mu, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * (x - mu) / np.sqrt(var + EPS) + beta.reshape(shape)


# --- 4.1 forward, running statistics, evaluation --------------------------------------------

@pytest.mark.task4_1
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4, 4)])
def test_batch_norm_forward_is_its_definition(shape):
    x = random(*shape, seed=1, requires_grad=False)
    gamma, beta = random(shape[1], seed=2), random(shape[1], seed=3)
    y = tb.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS)
    check_close(f"batch norm forward {shape}: gamma (x - mu) / sqrt(var + eps) + beta", y,
                _expected_y(x.data, gamma.data, beta.data))


@pytest.mark.task4_1
def test_running_statistics_move_with_momentum_and_the_unbiased_variance():
    x1, x2 = random(4, 3, seed=4, requires_grad=False), random(4, 3, seed=5, requires_grad=False)
    mean, var = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    for x in (x1, x2):
        tb.batch_norm(x, mean, var, None, None, training=True, momentum=0.1, eps=EPS)
    m1, m2 = x1.data.mean(0), x2.data.mean(0)
    v1, v2 = x1.data.var(0, ddof=1), x2.data.var(0, ddof=1)
    check_close("running_mean after two batches: 0.9 (0.9 * 0 + 0.1 m1) + 0.1 m2", mean,
                0.9 * (0.1 * m1) + 0.1 * m2)
    check_close("running_var after two batches (unbiased batch variances)", var,
                0.9 * (0.9 * 1 + 0.1 * v1) + 0.1 * v2)


@pytest.mark.task4_1
def test_evaluation_uses_the_running_statistics():
    x = random(4, 3, 2, 2, seed=6, requires_grad=False)
    mean, var = tensor([0.5, -1.0, 2.0], False), tensor([1.0, 4.0, 0.25], False)
    gamma, beta = random(3, seed=7), random(3, seed=8)
    y = tb.batch_norm(x, mean, var, gamma, beta, training=False, eps=EPS)
    shape = (1, 3, 1, 1)
    expected = (gamma.data.reshape(shape) * (x.data - mean.data.reshape(shape))
                / np.sqrt(var.data.reshape(shape) + EPS) + beta.data.reshape(shape))
    check_close("evaluation: gamma (x - running_mean) / sqrt(running_var + eps) + beta", y, expected)


# --- 4.2 backward ------------------------------------------------------------------------------

@pytest.fixture
def forward_or_stand_in(monkeypatch):
    """The student's forward if it is written; the fast twin's value (and ctx.eps) if not."""
    try:
        tb.BatchNorm.apply(random(3, 2, seed=0), random(2, seed=0), random(2, seed=0),
                           running_mean=None, running_var=None, momentum=0.1, eps=EPS)
        return
    except NotImplementedError as e:
        if not str(e).startswith("Task 4.1"):
            raise

    def stand_in(ctx, x, gamma, beta, running_mean, running_var, momentum, eps):
        ctx.eps = eps
        return fast_norm.BatchNorm.forward(types.SimpleNamespace(), x, gamma, beta,
                                           running_mean=None, running_var=None,
                                           momentum=momentum, eps=eps)

    monkeypatch.setattr(tb.BatchNorm, "forward", staticmethod(stand_in))


def _bn(x, gamma, beta):
    return tb.BatchNorm.apply(x, gamma, beta, running_mean=None, running_var=None,
                              momentum=0.1, eps=EPS)


@pytest.mark.task4_2
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 3)])
def test_batch_norm_backward_matches_finite_differences(forward_or_stand_in, shape):
    x, gamma, beta = random(*shape, seed=9), random(shape[1], seed=10), random(shape[1], seed=11)
    y = _bn(x, gamma, beta)
    v = np.random.default_rng(12).standard_normal(shape)
    computed = mg.grad(y, [x, gamma, beta], grad_outputs=tensor(v, False))
    expected = numerical_gradients(
        lambda a, g, b: mg.tensor(_expected_y(a.data, g.data, b.data), dtype=mg.float64),
        (x, gamma, beta), v)
    for name, c, e in zip(("dL/dx", "dL/dgamma", "dL/dbeta"), computed, expected):
        check_close(f"batch norm backward {shape} {name}", c, e, 1e-6)


@pytest.mark.task4_2
def test_batch_norm_backward_and_double_backward_equal_the_fast_twin(forward_or_stand_in):
    x, gamma, beta = random(4, 2, 3, 3, seed=13), random(2, seed=14), random(2, seed=15)

    def second(f):   # a gradient penalty through batch norm needs the double backward
        y = f(x, gamma, beta)
        (gx,) = mg.grad((y * y * y).sum(), x, create_graph=True)
        first = mg.grad((y * y * y).sum(), [x, gamma, beta])
        return first + mg.grad((gx * gx).sum(), [x, gamma])

    mine = second(_bn)
    theirs = second(lambda a, g, b: F.batch_norm(a, None, None, g, b, training=True, eps=EPS))
    for name, a, b in zip(("dL/dx", "dL/dgamma", "dL/dbeta", "d2 x", "d2 gamma"), mine, theirs):
        check_close(f"batch norm vs the fast twin: {name}", a, b, 1e-8)


# --- 4.3 Adam ------------------------------------------------------------------------------------

def _group(**options):
    group = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 maximize=False)
    group.update(options)
    return group


def _state(n):
    return {"step": 0, "exp_avg": np.zeros(n), "exp_avg_sq": np.zeros(n)}


@pytest.mark.task4_3
def test_adam_moves_each_parameter_by_lr_for_a_constant_gradient():
    # m_hat = g and v_hat = g^2 at every step, so each step is lr * g / (|g| + eps)
    p, g, state = np.array([1.0, -2.0]), np.array([0.5, -3.0]), _state(2)
    for _ in range(3):
        tb_adam.adam_update(p, g, state, _group())
    check_close("Adam, constant gradient (0.5, -3), lr 0.1: three steps of 0.1 each", p,
                [1.0 - 0.3, -2.0 + 0.3], 1e-6)
    check_close("Adam's state['step'] after three steps", state["step"], 3)


@pytest.mark.task4_3
@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1}, {"amsgrad": True},
                                     {"betas": (0.5, 0.9), "maximize": True}],
                         ids=["plain", "weight-decay", "amsgrad", "betas-maximize"])
def test_adam_follows_the_fast_optimizer(options):
    rng = np.random.default_rng(16)
    start = rng.standard_normal(4)
    fast_p = nn.Parameter(mg.tensor(start.copy(), dtype=mg.float64))
    opt = optim.Adam([fast_p], **{"lr": 0.1, **options})
    p, state = start.copy(), _state(4)
    if options.get("amsgrad"):
        state["max_exp_avg_sq"] = np.zeros(4)
    for step in range(5):
        g = rng.standard_normal(4)
        fast_p.grad = mg.tensor(g, dtype=mg.float64)
        opt.step()
        tb_adam.adam_update(p, g.copy(), state, _group(**options))
        check_close(f"Adam {options or ''} after step {step + 1} vs optim.Adam", p, fast_p, 1e-10)

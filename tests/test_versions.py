"""Autograd refuses gradients it would compute wrong: version counters and freed graphs.

Every in-place change that goes through the library moves `Tensor._version`; an op
records the versions of its inputs and output, and backward raises PyTorch's error
when one moved. After backward, what the ops saved is freed (as in PyTorch): a
second backward through the same ops raises unless retain_graph=True.
"""
import gc
import weakref

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim

from .helpers import assert_close, randn

MODIFIED = r"modified by an inplace operation: \[\w+, shape \(.*\)\] is at version \d+; " \
           r"expected version \d+ instead"
SECOND_TIME = "Trying to backward through the graph a second time"


# --- what moves the version ---------------------------------------------------------

def test_a_new_tensor_is_at_version_zero_and_every_in_place_change_moves_it(backend):
    x = mg.zeros(2, 3)
    assert x._version == 0
    x.data = x.xp.ones((2, 3), dtype=x.dtype)
    assert x._version == 1
    x[0] = 5.0
    assert x._version == 2 and x.numpy()[0].tolist() == [5.0] * 3
    x[:, 1] = mg.tensor([7.0, 8.0])
    assert x._version == 3 and x.numpy()[:, 1].tolist() == [7.0, 8.0]
    nn.init.normal_(x)
    nn.init.zeros_(x)
    assert x._version == 5
    assert (x * 2)._version == 0 and mg.Tensor(x)._version == 0


def test_an_optimizer_step_moves_the_version_of_the_parameters_it_updates(backend):
    a, b = nn.Parameter(mg.ones(3)), nn.Parameter(mg.ones(3))
    opt = optim.Adam([a, b], lr=0.1)
    (a * 2).sum().backward()  # b has no gradient: the step leaves it alone
    before = a._version, b._version
    opt.step()
    assert (a._version, b._version) == (before[0] + 1, before[1])


def test_load_state_dict_and_module_init_move_the_versions(backend):
    layer = nn.Linear(3, 2)
    assert layer.weight._version >= 1  # kaiming_uniform_ wrote into it
    before = layer.weight._version
    layer.load_state_dict(nn.Linear(3, 2).state_dict())
    assert layer.weight._version == before + 1


# --- the classic GAN ordering bug ----------------------------------------------------

def tiny_gan():
    mg.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 8 * 2 * 2), nn.Unflatten(1, (8, 2, 2)),
                      nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.ConvTranspose2d(4, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(4, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(8 * 2 * 2, 1))
    return G, D


def gan_losses(G, D, real, z):
    fake = G(z)
    ones, zeros = mg.ones(real.shape[0], 1), mg.zeros(real.shape[0], 1)
    loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
              + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
    loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
    return loss_d, loss_g


def test_stepping_d_between_g_loss_and_its_backward_raises(backend):
    G, D = tiny_gan()
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real, z = mg.randn(3, 1, 8, 8), mg.randn(3, 4)
    loss_d, loss_g = gan_losses(G, D, real, z)
    loss_d.backward()
    opt_d.step()  # D's weights change under loss_g's graph
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss_g.backward()
    assert all(p.grad is None for p in G.parameters())  # nothing half-accumulated
    with pytest.raises(RuntimeError, match=MODIFIED):  # nothing freed either: same answer
        loss_g.backward()


def test_the_right_order_gives_g_the_gradient_of_the_d_it_was_computed_with(backend):
    G, D = tiny_gan()
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real, z = mg.randn(3, 1, 8, 8), mg.randn(3, 4)
    reference = [mg.grad(gan_losses(G, D, real, z)[1], list(G.parameters()))]
    loss_d, loss_g = gan_losses(G, D, real, z)
    loss_d.backward()
    loss_g.backward()  # G's backward before D's step: the graph is still true
    opt_d.step()
    for p, expected in zip(G.parameters(), reference[0]):
        assert_close(p.grad, expected, atol=1e-6, rtol=1e-5)


def test_the_error_names_the_op_and_the_shape_of_the_changed_tensor(backend):
    w = nn.Parameter(mg.ones(2, 3))
    x = mg.randn(4, 2)
    loss = (x @ w).sum()
    opt = optim.SGD([w], lr=0.1)
    (x @ w).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match=r"\[Matmul, shape \(2, 3\)\] is at version 1; "
                                           r"expected version 0 instead"):
        loss.backward()


def test_a_view_of_a_changed_tensor_is_caught_through_the_op_that_made_it(backend):
    """w.T shares w's memory; the step changes both, and permute's record of w's
    version catches it (PyTorch shares one version counter between views)."""
    w = nn.Parameter(mg.ones(2, 3))
    loss = (mg.randn(4, 3) @ w.T).sum()
    w.grad = mg.ones(2, 3)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"\[Permute, shape \(2, 3\)\]"):
        loss.backward()


def test_a_changed_saved_output_raises_too(backend):
    x = randn(3)
    y = x.exp()  # exp's backward reads its output
    y.data = y.data * 0
    with pytest.raises(RuntimeError, match=r"\[Exp, shape \(3,\)\]"):
        y.backward(mg.ones(3, dtype=mg.float64))


# --- x[...] = value ----------------------------------------------------------------

def test_setitem_on_a_leaf_that_requires_grad_is_refused(backend):
    x = randn(3)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with mg.no_grad():
        x[0] = 1.0
    assert x.numpy()[0] == 1.0


def test_setitem_inside_a_graph_is_differentiable(backend):
    x, v, w = randn(3, 2), randn(2), randn(3, 2)
    y = x * 2
    y[1] = v
    (y * w).sum().backward()
    expected_x = 2 * w.numpy()
    expected_x[1] = 0  # row 1 was overwritten: nothing flows to x there
    assert_close(x.grad, expected_x)
    assert_close(v.grad, w.numpy()[1])
    assert_close(y, np.concatenate([2 * x.numpy()[:1], v.numpy()[None], 2 * x.numpy()[2:]]))


def test_setitem_of_a_value_that_requires_grad_into_a_constant_buffer(backend):
    v = randn(2)
    buffer = mg.zeros(3, 2, dtype=mg.float64)
    buffer[1] = v
    (buffer * 3).sum().backward()
    assert buffer.requires_grad and not buffer.is_leaf
    assert_close(v.grad, [3.0, 3.0])


def test_setitem_after_an_op_saved_the_tensor_raises_at_backward(backend):
    x = randn(3)
    y = x * 1.0
    z = (y * y).sum()  # Mul saved y
    y[0] = 0.0
    with pytest.raises(RuntimeError, match=r"\[Mul, shape \(3,\)\]"):
        z.backward()


def test_setitem_gradients_pass_gradgradcheck(backend):
    def fn(x, v):
        y = x * x
        y[1:, 0] = v * v
        return y
    x, v = randn(3, 2), randn(2)
    assert mg.gradcheck(fn, (x, v)) and mg.gradgradcheck(fn, (x, v))


# --- freed graphs and retain_graph ----------------------------------------------------

def test_a_second_backward_raises_unless_the_first_retained_the_graph(backend):
    x = randn(3)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        y.backward()
    x.grad = None
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    assert_close(x.grad, 2 * first)  # gradients accumulate


def test_grad_frees_too_and_accepts_retain_graph(backend):
    x = randn(3)
    y = (x * x).sum()
    (g,) = mg.grad(y, x, retain_graph=True)
    (again,) = mg.grad(y, x)
    assert_close(g, again)
    with pytest.raises(RuntimeError, match=SECOND_TIME):
        mg.grad(y, x)


def test_create_graph_keeps_what_double_backward_needs(backend):
    x = randn(3)
    y = (x ** 3).sum()
    (g,) = mg.grad(y, x, create_graph=True)  # retain_graph defaults to create_graph
    g.sum().backward()
    assert_close(x.grad, 6 * x.numpy())
    z = (x ** 3).sum()
    z.backward(create_graph=True)
    z.backward()  # kept: a second pass works


def test_backward_releases_the_activations_the_graph_saved(backend):
    x = randn(50, 50)
    h = x * 2
    alive = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward()
    gc.collect()
    assert alive() is None  # freed although `loss` (and its grad_fn) still exist
    assert loss.grad_fn is not None


def test_retain_graph_keeps_the_activations(backend):
    x = randn(5)
    h = x * 2
    alive = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert alive() is not None


def test_backward_takes_pytorchs_argument_order(backend):
    x = randn(3)
    y = x * x
    y.backward(mg.ones(3, dtype=mg.float64), True)  # gradient, retain_graph
    y.backward(mg.ones(3, dtype=mg.float64))
    assert_close(x.grad, 4 * x.numpy())

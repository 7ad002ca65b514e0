"""Assignment 6, WGAN-GP (docs/course/06_wgan_gp.md).

The gradient penalty is checked on critics whose gradient is known in closed form,
and its own gradient w.r.t. the critic's weights (a second derivative: double
backward) against finite differences of the penalty itself.
"""
import numpy as np
import pytest

import minigan as mg
from minigan.course import check_close
from minigan.course.check import check_true
from minigan.gan import losses

from .helpers import numerical_gradients, random, tensor


def linear_critic(w):
    """D(x) = <w, x> per image: its gradient is w at every x, so gp = (||w|| - 1)^2."""
    return lambda x: (x * w).sum((1, 2, 3)).reshape(-1, 1)


def tanh_critic(w):
    """D(x) = sum tanh(w * x): dD/dx = w (1 - tanh(w x)^2)."""
    return lambda x: (x * w).tanh().sum((1, 2, 3)).reshape(-1, 1)


@pytest.mark.task6_1
def test_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    w = random(1, 1, 2, 2, seed=1)
    real, fake = random(3, 1, 2, 2, seed=2, requires_grad=False), random(3, 1, 2, 2, seed=3, requires_grad=False)
    gp = losses.gradient_penalty(linear_critic(w), real, fake)
    norm = np.sqrt((w.data ** 2).sum())
    check_close("gp of D(x) = <w, x> is (||w|| - 1)^2 whatever the interpolates", gp, (norm - 1) ** 2)
    (gw,) = mg.grad(gp, w)
    check_close("d gp / dw = 2 (||w|| - 1) w / ||w|| (double backward)", gw,
                2 * (norm - 1) * w.data / norm)


@pytest.mark.task6_1
def test_penalty_of_a_tanh_critic_at_known_points():
    w = random(1, 1, 2, 2, seed=4)
    x = random(3, 1, 2, 2, seed=5, requires_grad=False)
    gp = losses.gradient_penalty(tanh_critic(w), x, x)   # real = fake: x_hat = x for any alpha
    grads = w.data * (1 - np.tanh(w.data * x.data) ** 2)
    norms = np.sqrt((grads.reshape(3, -1) ** 2).sum(1))
    check_close("gp = mean over samples of (||dD/dx_hat|| - 1)^2", gp, ((norms - 1) ** 2).mean())


@pytest.mark.task6_1
def test_penalty_gradient_wrt_the_critic_matches_finite_differences():
    w = random(1, 1, 2, 2, seed=6)
    x = random(3, 1, 2, 2, seed=7, requires_grad=False)
    gp = losses.gradient_penalty(tanh_critic(w), x, x)
    check_true("the penalty is differentiable w.r.t. the critic (create_graph=True)",
               gp.requires_grad, "gp has no graph: take the inner gradient with create_graph=True")
    (gw,) = mg.grad(gp, w)
    (numerical,) = numerical_gradients(
        lambda w_: losses.gradient_penalty(tanh_critic(w_), x, x), (w,), np.ones(()))
    check_close("d gp / d critic weights (a gradient of a gradient)", gw, numerical, 1e-6)


@pytest.mark.task6_1
def test_penalty_is_a_scalar_on_interpolates_between_real_and_fake():
    # D(x) = sum(x^2) / 2 has gradient x: with fake = 0 the gradient at x_hat = alpha x is
    # alpha x, so with ||x|| = 1 each sample's norm is its alpha, inside [0, 1].
    x = tensor(np.full((64, 1, 1, 4), 0.5), requires_grad=False)
    zero = tensor(np.zeros((64, 1, 1, 4)), requires_grad=False)
    mg.manual_seed(0)
    gp = losses.gradient_penalty(lambda t: (t * t).sum((1, 2, 3)).reshape(-1, 1) * 0.5, x, zero)
    check_true("the penalty is a scalar", gp.shape == (), f"shape {gp.shape}")
    # alpha ~ U(0, 1): E[(alpha - 1)^2] = 1/3; 64 samples put the mean well inside (0.2, 0.47)
    check_true("gp with x_hat = alpha x + (1 - alpha) 0, alpha ~ U(0, 1) per sample",
               0.2 < gp.item() < 0.47, f"{gp.item():.3f}, expected about 1/3 = E[(alpha - 1)^2]")


@pytest.mark.task6_2
def test_wasserstein_losses_values_and_gradients():
    real, fake = tensor([[1.0], [3.0]]), tensor([[0.5], [-0.5], [2.0]])
    loss = losses.critic_loss(real, fake)
    check_close("critic_loss = mean D(G(z)) - mean D(x)", loss, 2.0 / 3 - 2.0)
    gr, gf = mg.grad(loss, [real, fake])
    check_close("d critic_loss / d D(x) = -1/N", gr, [[-0.5], [-0.5]])
    check_close("d critic_loss / d D(G(z)) = 1/M", gf, np.full((3, 1), 1 / 3))
    g_loss = losses.wasserstein_g_loss(fake)
    check_close("wasserstein_g_loss = -mean D(G(z))", g_loss, -2.0 / 3)

"""WGAN, WGAN-GP and EBGAN: a few training steps on real MNIST, generation, and each
model's own piece (weight clipping, the gradient penalty, the margin loss and the
pull-away term) against hand-computed values and finite differences.
"""
import functools

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.train import load_checkpoint, read_steplog
from minigan.gan.ebgan import EBGAN, margin_loss, pull_away_term, reconstruction_energy
from minigan.gan.losses import gradient_penalty
from minigan.gan.wgan import WGAN, clip_weights_
from minigan.gan.wgan_gp import WGANGP

from .helpers import checkpoint_weights, initial_weights, needs_mnist, run_program

SMALL = ["--train-size", "32", "--batch-size", "8", "--no-eval", "--z-dim", "16"]


run = functools.partial(run_program, options=SMALL)


# --- training and generation, end to end ----------------------------------------------

@pytest.mark.slow
@needs_mnist
@pytest.mark.parametrize("model_cls, critic_steps, options", [
    (WGAN, 5, ["--clip", "0.005"]),
    (WGANGP, 5, []),
    (EBGAN, 1, ["--margin", "0.5"]),
])
def test_a_few_steps_change_both_networks_and_generate_gives_images(
        tmp_path, model_cls, critic_steps, options):
    # 5 steps (--max-steps over 2 epochs of 4 batches): the critic models' generator
    # moves at step 5 only, after its 5 critic steps.
    assert run(model_cls, tmp_path, "--epochs", "2", "--max-steps", "5", *options) == 0
    records = read_steplog(tmp_path / "log.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    assert [r["step"] for r in records if "loss_g" in r] == list(range(critic_steps, 6,
                                                                       critic_steps))
    assert all(np.isfinite(v) for r in records for v in r.values())

    after = checkpoint_weights(tmp_path)
    config = load_checkpoint(tmp_path / "checkpoint.npz")["config"]
    assert config["d_steps"] == critic_steps
    before = initial_weights(model_cls, config)
    assert before.keys() == after.keys()
    moved = {net: max(np.abs(after[k] - before[k]).max() for k in before
                      if k.startswith(net + ".") and "running" not in k and "num_batches" not in k)
             for net in ("G", "D")}
    assert moved["D"] > 0
    # A few optimizer steps of lr <= 2e-4 move G a little from its seeded init (a
    # different init would differ by about the init's scale, 0.02, or more).
    assert 0 < moved["G"] < 0.01

    assert run(model_cls, tmp_path, "--generate", "6") == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (6, 1, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1
    assert run(model_cls, tmp_path, "--generate", "3", "--nice") == 0  # ranked by score
    assert np.load(tmp_path / "samples.npy").shape == (3, 1, 28, 28)


# --- WGAN: the critic, clipped --------------------------------------------------------

@pytest.mark.slow
@needs_mnist
def test_wgan_keeps_every_critic_weight_within_the_clip_and_reports_w(tmp_path):
    assert run(WGAN, tmp_path, "--epochs", "1", "--max-steps", "2", "--clip", "0.003") == 0
    weights = checkpoint_weights(tmp_path)
    critic = {k: v for k, v in weights.items()
              if k.startswith("D.") and "running" not in k and "num_batches" not in k}
    assert max(np.abs(v).max() for v in critic.values()) <= 0.003
    assert any(np.abs(v).max() == np.float32(0.003) for v in critic.values())  # it did clip
    for r in read_steplog(tmp_path / "log.jsonl"):
        assert r["W"] == -r["loss_d"]  # W = D(x) - D(G(z)) = -(critic loss)


def test_clip_weights_changes_the_parameters_in_place(backend):
    layer = nn.Linear(3, 2)
    layer.weight.data[...] = mg.tensor([[-0.5, 0.001, 0.2], [0.0, -0.002, 0.05]]).data
    array = layer.weight.data
    clip_weights_(layer, 0.01)
    assert layer.weight.data is array  # the same array: the optimizer's state still fits
    np.testing.assert_array_equal(layer.weight.numpy(),
                                  np.float32([[-0.01, 0.001, 0.01], [0.0, -0.002, 0.01]]))
    assert np.abs(layer.bias.numpy()).max() <= 0.01


def test_the_critic_score_is_the_raw_critic_output_with_no_sigmoid():
    mg.manual_seed(0)
    model = WGAN({"lr": 5e-5, "d_steps": 5, "clip": 0.01, "z_dim": 8})
    model.eval()
    images = mg.randn(4, 1, 28, 28)
    np.testing.assert_array_equal(model.score(images).numpy(), model.D(images).numpy()[:, 0])


# --- WGAN-GP: the gradient penalty ----------------------------------------------------

def tiny_critic():
    """Conv2d(1, 2, 3, 2, 1) -> LeakyReLU -> Linear(18, 1) on 5x5 images, in float64."""
    return nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                         nn.Linear(2 * 3 * 3, 1)).double()


def penalty_with_fixed_alpha(critic, real, fake, seed=0):
    """The penalty with the interpolation weights alpha drawn from a fixed seed, so
    every evaluation (finite differences included) uses the same interpolates.

    enable_grad: gradcheck evaluates fn under no_grad for its finite differences,
    and the penalty needs a graph for its inner mg.grad even there.
    """
    mg.manual_seed(seed)
    with mg.enable_grad():
        return gradient_penalty(critic, real, fake)


def test_gradient_penalty_gradient_wrt_critic_weights_matches_finite_differences(backend):
    mg.manual_seed(1)
    critic = tiny_critic()
    real = mg.randn(2, 1, 5, 5, dtype=mg.float64)
    fake = mg.randn(2, 1, 5, 5, dtype=mg.float64)
    params = tuple(critic.parameters())
    assert mg.gradcheck(lambda *_: penalty_with_fixed_alpha(critic, real, fake), params)


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared(backend):
    # D(x) = <w, x>: the gradient is w at every x_hat, so gp = (||w|| - 1)^2 whatever
    # the images and alpha are, and d gp / dw = 2 (||w|| - 1) w / ||w||.
    for norm in (5.0, 0.5, 1.0):
        w = np.zeros((1, 1, 5, 5))
        w[0, 0, 0, 0], w[0, 0, 2, 3] = 0.6 * norm, 0.8 * norm  # ||w|| = norm
        weight = mg.tensor(w, requires_grad=True)

        def linear_critic(x):
            return (x * weight).flatten(1).sum(1)

        real = mg.randn(3, 1, 5, 5, dtype=mg.float64)
        fake = mg.randn(3, 1, 5, 5, dtype=mg.float64)
        gp = gradient_penalty(linear_critic, real, fake)
        assert gp.item() == pytest.approx((norm - 1.0) ** 2, abs=1e-10)
        (dw,) = mg.grad(gp, weight)
        np.testing.assert_allclose(dw.numpy(), 2 * (norm - 1.0) * w / norm, atol=1e-10)


@pytest.mark.torch
def test_gradient_penalty_matches_pytorch(torch):
    mg.manual_seed(2)
    critic = tiny_critic()
    real = mg.randn(3, 1, 5, 5, dtype=mg.float64)
    fake = mg.randn(3, 1, 5, 5, dtype=mg.float64)
    gp = penalty_with_fixed_alpha(critic, real, fake, seed=7)
    # Leaky ReLU's slope is piecewise constant and the last bias adds a constant, so
    # the input gradient, and gp, do not depend on the biases: no gradient (torch: None or 0).
    grads = mg.grad(gp, list(critic.parameters()), allow_unused=True)
    mg.manual_seed(7)
    alpha = torch.tensor(mg.rand(3, 1, 1, 1, dtype=mg.float64).numpy())  # the same draw

    w1, b1, w2, b2 = (torch.tensor(p.numpy(), requires_grad=True) for p in critic.parameters())
    x_hat = (alpha * torch.tensor(real.numpy()) + (1 - alpha) * torch.tensor(fake.numpy()))
    x_hat.requires_grad_()
    hidden = torch.nn.functional.leaky_relu(
        torch.nn.functional.conv2d(x_hat, w1, b1, stride=2, padding=1), 0.2)
    scores = torch.nn.functional.linear(hidden.flatten(1), w2, b2)
    (g,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    expected = ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
    expected.backward()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-10)
    for mine, theirs in zip(grads, (w1, b1, w2, b2)):
        mine = np.zeros(theirs.shape) if mine is None else mine.numpy()
        theirs = np.zeros(theirs.shape) if theirs.grad is None else theirs.grad.numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-12)
    assert grads[0] is not None and np.abs(grads[0].numpy()).max() > 1e-3


def test_wgan_gp_critic_has_no_batch_norm_and_adam_has_the_papers_betas():
    mg.manual_seed(0)
    model = WGANGP({"lr": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_steps": 5, "gp_weight": 10.0,
                    "z_dim": 8})
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.D.modules())
    assert model.optimizers["D"].param_groups[0]["betas"] == (0.0, 0.9)
    assert model.gp_weight == 10.0


# --- EBGAN: energies, the margin loss and the pull-away term ---------------------------

def test_reconstruction_energy_is_the_per_image_mean_squared_error(backend):
    images = mg.zeros(2, 1, 2, 2)
    reconstructions = mg.tensor(np.float32([[[[1, 1], [1, 1]]], [[[2, 0], [0, 0]]]]))
    np.testing.assert_allclose(reconstruction_energy(images, reconstructions).numpy(),
                               [1.0, 1.0])  # 4 * 1 / 4 and 2^2 / 4


def test_margin_loss_on_hand_values(backend):
    real = mg.tensor([0.1, 0.3], dtype=mg.float64)
    fake = mg.tensor([1.5, 0.4], dtype=mg.float64, requires_grad=True)
    # 0.2 + mean(max(0, 1 - 1.5), max(0, 1 - 0.4)) = 0.2 + (0 + 0.6) / 2
    loss = margin_loss(real, fake, margin=1.0)
    assert loss.item() == pytest.approx(0.5)
    (d_fake,) = mg.grad(loss, fake)
    np.testing.assert_allclose(d_fake.numpy(), [0.0, -0.5])  # no push above the margin


def test_fakes_with_energy_above_the_margin_cost_the_discriminator_nothing(backend):
    real = mg.tensor([0.2, 0.4], dtype=mg.float64)
    fake = mg.tensor([2.0, 3.0], dtype=mg.float64)
    assert margin_loss(real, fake, margin=1.0).item() == pytest.approx(0.3)  # mean D(x) only


def test_pull_away_term_of_orthogonal_vectors_is_zero(backend):
    s = mg.tensor([[2.0, 0, 0], [0, -3.0, 0], [0, 0, 0.5]], dtype=mg.float64)
    assert pull_away_term(s).item() == pytest.approx(0.0, abs=1e-15)


def test_pull_away_term_of_two_parallel_and_one_orthogonal_vector_is_one_third(backend):
    # pairs i != j: (0,1) and (1,0) have cosine^2 = 1, the other four 0: 2 / (3 * 2)
    s = mg.tensor([[1.0, 2.0], [3.0, 6.0], [-2.0, 1.0]], dtype=mg.float64)
    assert pull_away_term(s).item() == pytest.approx(1.0 / 3.0, rel=1e-12)


def test_pull_away_term_matches_the_pairwise_sum_and_its_gradient_checks(backend):
    rng = np.random.default_rng(0)
    s = rng.standard_normal((4, 2, 3))
    flat = s.reshape(4, -1)
    expected = np.mean([(flat[i] @ flat[j] / np.linalg.norm(flat[i]) / np.linalg.norm(flat[j])) ** 2
                        for i in range(4) for j in range(4) if i != j])
    embeddings = mg.tensor(s, requires_grad=True)
    assert pull_away_term(embeddings).item() == pytest.approx(expected, rel=1e-12)
    assert mg.gradcheck(pull_away_term, (embeddings,))


def test_pull_away_term_needs_two_embeddings():
    with pytest.raises(ValueError, match="at least 2"):
        pull_away_term(mg.ones(1, 4))


def test_ebgan_score_is_minus_the_energy():
    mg.manual_seed(0)
    model = EBGAN({"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "margin": 1.0, "pt_weight": 0.1,
                   "z_dim": 8})
    model.eval()
    images = mg.rand(3, 1, 28, 28) * 2 - 1
    reconstructions, embeddings = model.D(images)
    assert reconstructions.shape == (3, 1, 28, 28) and embeddings.shape == (3, 128, 7, 7)
    energy = ((reconstructions - images) ** 2).numpy().reshape(3, -1).mean(1)
    np.testing.assert_allclose(model.score(images).numpy(), -energy, rtol=1e-6)

"""LAPGAN, the VAE and CVAE, and CVAE-GAN: their losses by hand, their pyramids and
reparameterisation, a few training steps on real MNIST, and generation from the CLI.

The end-to-end runs follow tests/test_gan_training.py: a small slice of MNIST at batch 8,
so the whole file takes seconds; sample quality is judged by real training runs.
"""
import functools
import math
import os
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan.data import MNIST
from minigan.train import load_checkpoint, read_steplog
from minigan.gan.cvae_gan import (CVAEGAN, class_mean_feature_matching, class_means,
                                  mean_feature_matching)
from minigan.gan.lapgan import (LAPGAN, downsample, gaussian_pyramid, laplacian_pyramid,
                                reconstruct, upsample)
from minigan.gan.vae import (CVAE, VAE, bernoulli_reconstruction_loss, kl_divergence,
                             reparameterize)

from .helpers import needs_mnist, run_program

SMALL = ["--batch-size", "8", "--train-size", "32", "--no-eval", "--z-dim", "16"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


run = functools.partial(run_program, options=SMALL)


def changed_networks(model_cls, out):
    """The networks of a run's checkpoint whose every parameter differs from the
    initialisation the run started from (same seed, same config)."""
    state = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    mg.manual_seed(state["config"]["seed"])
    fresh = model_cls(state["config"])
    changed = []
    for name, net in fresh.networks.items():
        trained = state["networks"][name]
        if all(not np.array_equal(p.numpy(), trained[key].numpy())
               for key, p in net.named_parameters()):
            changed.append(name)
    return sorted(changed)


def parameters_of(model):
    return {f"{name}.{key}": p.numpy().copy()
            for name, net in model.networks.items() for key, p in net.named_parameters()}


def networks_changed_by_one_step(model_cls, config, real, labels):
    mg.manual_seed(0)
    model = model_cls(config)
    before = parameters_of(model)
    metrics = model.train_step(real, labels, 1)
    after = parameters_of(model)
    assert all(math.isfinite(v) for v in metrics.values()), metrics
    unchanged = [k for k in before if np.array_equal(before[k], after[k])]
    assert not unchanged, f"parameters a training step did not change: {unchanged}"
    return sorted(model.networks), metrics


@pytest.fixture(scope="module")
def mnist_batch():
    """Eight real test-set digits in [-1, 1] (float32 (8, 1, 28, 28)) and their labels."""
    if not os.environ.get("MINIGAN_DATA"):
        pytest.skip("MNIST not found (set MINIGAN_DATA)")
    data = MNIST(root=os.environ["MINIGAN_DATA"], train=False)
    images = (data.images[:8].astype(np.float32) / 127.5 - 1.0)[:, None]
    return images, data.labels[:8].astype(np.int64)


def f64(data):
    """A float64 Tensor (Python lists would become float32, the default dtype)."""
    return mg.tensor(np.asarray(data, dtype=np.float64))


CONFIG = {"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "z_dim": 16, "seed": 0}


# --- LAPGAN ------------------------------------------------------------------------------

def test_the_laplacian_pyramid_adds_back_to_the_image(backend, mnist_batch):
    x = mg.tensor(mnist_batch[0].astype(np.float64))
    x7, h14, h28 = laplacian_pyramid(x)
    assert (x7.shape, h14.shape, h28.shape) == ((8, 1, 7, 7), (8, 1, 14, 14), (8, 1, 28, 28))
    levels = reconstruct([x7, h14, h28])
    for rebuilt, level in zip(levels, gaussian_pyramid(x)):
        np.testing.assert_allclose(rebuilt.numpy(), level.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(levels[-1].numpy(), mnist_batch[0], rtol=0, atol=1e-12)
    # nearest upsampling inverts average pooling, so a band holds no 2x2-block mean
    np.testing.assert_allclose(downsample(upsample(x7)).numpy(), x7.numpy(), atol=1e-15)
    np.testing.assert_allclose(downsample(h28).numpy(), 0.0, atol=1e-12)
    assert np.abs(h28.numpy()).max() > 0.5  # ... but real detail


def test_the_pyramid_levels_are_block_means(backend):
    x = mg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(downsample(x).numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(upsample(downsample(x)).numpy()[0, 0, 1], [2.5, 2.5, 4.5, 4.5])


def test_lapgan_generates_each_level_in_range(backend):
    mg.manual_seed(0)
    model = LAPGAN(CONFIG)
    model.eval()
    with mg.no_grad():
        levels = model.generate_pyramid(mg.randn(5, 16))
        images = model.generate(mg.randn(5, 16))
    assert [tuple(x.shape) for x in levels] == [(5, 1, 7, 7), (5, 1, 14, 14), (5, 1, 28, 28)]
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32
    for x in levels + [images]:
        assert x.numpy().min() >= -1.0 and x.numpy().max() <= 1.0


def test_generated_bands_keep_the_coarser_image(backend):
    mg.manual_seed(0)
    model = LAPGAN(CONFIG)
    coarse = upsample(mg.randn(3, 1, 7, 7))
    band = model.generators[1](mg.randn(3, 1, 14, 14), coarse)
    assert band.shape == (3, 1, 14, 14) and np.abs(band.numpy()).max() > 0
    np.testing.assert_allclose(downsample(band).numpy(), 0.0, atol=1e-6)
    np.testing.assert_allclose(downsample(coarse + band).numpy(), downsample(coarse).numpy(),
                               atol=1e-6)


def test_one_lapgan_step_changes_all_six_networks(mnist_batch):
    real, labels = mg.tensor(mnist_batch[0]), mg.tensor(mnist_batch[1])
    names, metrics = networks_changed_by_one_step(LAPGAN, CONFIG, real, labels)
    assert names == ["D0", "D1", "D2", "G0", "G1", "G2"]
    assert {"loss_d0", "loss_g0", "loss_d1", "loss_g1", "loss_d2", "loss_g2"} <= set(metrics)


def test_lapgan_skips_its_generator_steps_between_d_steps(mnist_batch):
    mg.manual_seed(0)
    model = LAPGAN({**CONFIG, "d_steps": 2})
    before = parameters_of(model)
    metrics = model.train_step(mg.tensor(mnist_batch[0]), mg.tensor(mnist_batch[1]), 1)
    after = parameters_of(model)
    assert "loss_g" not in metrics and "loss_d" in metrics
    assert all(np.array_equal(before[k], after[k]) for k in before if k.startswith("G"))


@needs_mnist
def test_lapgan_trains_draws_its_pyramid_and_generates(tmp_path):
    assert run(LAPGAN, tmp_path, "--epochs", "1") == 0  # 4 steps: one epoch, its figures
    records = read_steplog(tmp_path / "log.jsonl")
    assert len(records) == 4
    assert all(math.isfinite(r[k]) for r in records for k in ("loss_d2", "loss_g0"))
    assert changed_networks(LAPGAN, tmp_path) == ["D0", "D1", "D2", "G0", "G1", "G2"]
    # 10 samples across, 3 levels down, each cell 28 + 2 pixels, drawn at scale 2
    assert Image.open(tmp_path / "pyramid" / "epoch_001.png").size == (604, 184)
    assert run(LAPGAN, tmp_path, "--generate", "6") == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (6, 1, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1
    assert run(LAPGAN, tmp_path, "--generate", "3", "--nice") == 0
    assert np.load(tmp_path / "samples.npy").shape == (3, 1, 28, 28)


# --- VAE and CVAE --------------------------------------------------------------------------

def test_kl_of_the_prior_itself_is_zero(backend):
    zeros = mg.zeros(4, 20, dtype=mg.float64)
    assert kl_divergence(zeros, zeros).item() == 0.0


def test_kl_by_hand_sums_over_dimensions_and_averages_over_the_batch(backend):
    # N(1, 2) against N(0, 1): -1/2 (1 + ln 2 - 1 - 2) = 1 - ln(2) / 2
    one_d = kl_divergence(f64([[1.0]]), f64([[math.log(2.0)]])).item()
    assert one_d == pytest.approx(1 - math.log(2) / 2, rel=1e-12)
    # (1, -2) with unit variances: (1 + 4) / 2 = 2.5; batched with the prior (0): mean 1.25
    mu = f64([[1.0, -2.0], [0.0, 0.0]])
    assert kl_divergence(mu, mg.zeros(2, 2, dtype=mg.float64)).item() == pytest.approx(1.25)


def test_reparameterisation_gradients_reach_mu_and_logvar(backend):
    rng = np.random.default_rng(0)
    mu = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    logvar = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    eps = mg.tensor(rng.standard_normal((3, 4)))
    assert mg.gradcheck(lambda m, lv: reparameterize(m, lv, eps), (mu, logvar))
    reparameterize(mu, logvar, eps).sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), 1.0)
    np.testing.assert_allclose(logvar.grad.numpy(),
                               0.5 * np.exp(0.5 * logvar.numpy()) * eps.numpy())


def test_reparameterisation_draws_from_the_gaussian_it_is_given(backend):
    mg.manual_seed(0)
    z = reparameterize(mg.full((20000, 1), 3.0), mg.full((20000, 1), math.log(4.0))).numpy()
    assert abs(z.mean() - 3.0) < 0.05 and abs(z.std() - 2.0) < 0.05


def test_bernoulli_reconstruction_of_even_odds_is_ln2_per_pixel(backend):
    images = mg.tensor(np.random.default_rng(0).choice([-1.0, 1.0], (2, 1, 28, 28)))
    loss = bernoulli_reconstruction_loss(mg.zeros(2, 1, 28, 28, dtype=mg.float64), images)
    assert loss.item() == pytest.approx(784 * math.log(2))


def test_vae_generate_maps_the_decoders_mean_to_minus_one_one(backend):
    mg.manual_seed(0)
    model = VAE({**CONFIG, "lr": 1e-3, "z_dim": 20})
    z = mg.randn(4, 20)
    images = model.generate(z)
    assert images.shape == (4, 1, 28, 28) and images.dtype == np.float32
    mean = 1 / (1 + np.exp(-model.decoder(z).numpy()))  # sigmoid(logits) in [0, 1]
    np.testing.assert_allclose(images.numpy(), 2 * mean - 1, atol=1e-6)


def test_the_cvae_decoder_draws_what_the_label_asks(backend):
    mg.manual_seed(0)
    model = CVAE({**CONFIG, "z_dim": 20})
    z = mg.randn(3, 20)
    zeros = model.generate(z, mg.tensor(np.zeros(3, dtype=np.int64))).numpy()
    ones = model.generate(z, mg.tensor(np.ones(3, dtype=np.int64))).numpy()
    assert zeros.shape == (3, 1, 28, 28) and not np.allclose(zeros, ones)
    assert CVAE.conditional and not VAE.conditional


@needs_mnist
def test_vae_trains_generates_and_refuses_nice(tmp_path, capsys):
    assert run(VAE, tmp_path, "--max-steps", "3") == 0
    records = read_steplog(tmp_path / "log.jsonl")
    assert len(records) == 3
    assert all(math.isfinite(r[k]) for r in records for k in ("loss", "recon", "kl"))
    assert records[0]["loss"] == pytest.approx(records[0]["recon"] + records[0]["kl"], rel=1e-5)
    assert changed_networks(VAE, tmp_path) == ["decoder", "encoder"]
    assert run(VAE, tmp_path, "--generate", "6") == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (6, 1, 28, 28) and samples.min() >= -1 and samples.max() <= 1
    assert not (tmp_path / "labels.npy").exists()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_status:  # no discriminator: --nice is not offered
        run(VAE, tmp_path, "--generate", "2", "--nice")
    assert exit_status.value.code == 2
    assert "error: unrecognized arguments: --nice" in capsys.readouterr().err


@needs_mnist
def test_cvae_generates_the_requested_digit(tmp_path):
    assert run(CVAE, tmp_path, "--max-steps", "3") == 0
    assert changed_networks(CVAE, tmp_path) == ["decoder", "encoder"]
    assert run(CVAE, tmp_path, "--generate", "6", "--digit", "7") == 0
    assert list(np.load(tmp_path / "labels.npy")) == [7] * 6
    assert np.load(tmp_path / "samples.npy").shape == (6, 1, 28, 28)
    assert run(CVAE, tmp_path, "--generate", "20") == 0
    assert list(np.bincount(np.load(tmp_path / "labels.npy"))) == [2] * 10


@needs_mnist
def test_the_vae_program_trains_the_cvae_when_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["mnist_vae.py", "--conditional", "--max-steps", "1",
                                      "--out", str(tmp_path)] + SMALL)
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(EXAMPLES / "mnist_vae.py"), run_name="__main__")
    assert exit_.value.code == 0
    assert load_checkpoint(tmp_path / "checkpoint.npz")["model"] == "cvae"


# --- CVAE-GAN ------------------------------------------------------------------------------

def test_mean_feature_matching_by_hand(backend):
    real = f64([[1.0, 2.0], [3.0, 4.0]])   # mean (2, 3)
    fake = f64([[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]])   # mean (1, 1)
    assert mean_feature_matching(real, fake).item() == pytest.approx(0.5 * (1 + 4))


def test_class_mean_feature_matching_by_hand(backend):
    real = f64([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    real_labels = mg.tensor(np.array([0, 0, 1, 2]))
    fake = f64([[0.0, 0.0], [0.0, 4.0], [0.0, 6.0]])
    fake_labels = mg.tensor(np.array([0, 1, 1]))
    # class 0: (2, 0) vs (0, 0) -> 4; class 1: (0, 2) vs (0, 5) -> 9;
    # class 2 has no fakes and class 3 nothing at all: left out
    loss = class_mean_feature_matching(real, real_labels, fake, fake_labels, 4)
    assert loss.item() == pytest.approx(0.5 * (4 + 9))
    means, counts = class_means(real, real_labels, 4)
    np.testing.assert_array_equal(counts.numpy(), [2, 1, 1, 0])
    np.testing.assert_array_equal(means.numpy(), [[2, 0], [0, 2], [5, 5], [0, 0]])


def test_class_mean_feature_matching_is_a_loop_over_classes_and_differentiable(backend):
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((12, 5)), rng.standard_normal((9, 5))
    real_labels, fake_labels = rng.integers(0, 4, 12), rng.integers(0, 4, 9)
    expected = sum(0.5 * ((real[real_labels == c].mean(0) - fake[fake_labels == c].mean(0)) ** 2)
                   .sum() for c in range(4) if (real_labels == c).any() and (fake_labels == c).any())
    fake_t = mg.tensor(fake, requires_grad=True)
    args = (mg.tensor(real), mg.tensor(real_labels), fake_t, mg.tensor(fake_labels), 4)
    assert class_mean_feature_matching(*args).item() == pytest.approx(expected, rel=1e-12)
    assert mg.gradcheck(lambda f: class_mean_feature_matching(args[0], args[1], f, args[3], 4),
                        (fake_t,))


def test_one_cvae_gan_step_changes_all_four_networks(mnist_batch):
    real, labels = mg.tensor(mnist_batch[0]), mg.tensor(mnist_batch[1])
    names, metrics = networks_changed_by_one_step(CVAEGAN, CONFIG, real, labels)
    assert names == ["C", "D", "E", "G"]
    for key in ("loss_d", "loss_c", "loss_g", "kl", "recon", "loss_gd", "loss_gc"):
        assert key in metrics


@needs_mnist
def test_cvae_gan_trains_and_generates_the_requested_digit(tmp_path):
    assert run(CVAEGAN, tmp_path, "--max-steps", "3") == 0
    records = read_steplog(tmp_path / "log.jsonl")
    assert len(records) == 3 and all(math.isfinite(r["loss_g"]) for r in records)
    assert changed_networks(CVAEGAN, tmp_path) == ["C", "D", "E", "G"]
    assert run(CVAEGAN, tmp_path, "--generate", "4", "--digit", "3") == 0
    assert list(np.load(tmp_path / "labels.npy")) == [3] * 4
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (4, 1, 28, 28) and samples.min() >= -1 and samples.max() <= 1
    assert run(CVAEGAN, tmp_path, "--generate", "10", "--nice") == 0
    assert sorted(np.load(tmp_path / "labels.npy")) == list(range(10))

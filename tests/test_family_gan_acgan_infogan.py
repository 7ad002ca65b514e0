"""The 2014 GAN, ACGAN and InfoGAN: a few real training steps each, generation, and the
losses that make each model what it is, checked against numbers worked out by hand.

The training runs use a small slice of MNIST (--train-size 24 at batch 8: one epoch of
3 steps, so the end-of-epoch figures are drawn too); each model is trained once per file.
"""
import functools
import math

import numpy as np
import pytest
from PIL import Image

import minigan as mg
import minigan.functional as F
from minigan.gan.acgan import ACGAN, auxiliary_class_loss
from minigan.train import load_checkpoint, read_steplog
from minigan.gan.gan import GAN
from minigan.gan.infogan import InfoGAN, information_loss
from minigan.gan.losses import g_loss_minimax, g_loss_non_saturating

from .helpers import checkpoint_weights, initial_weights, needs_mnist, run_program

SMALL = ["--batch-size", "8", "--train-size", "24", "--no-eval", "--max-steps", "3",
         "--epochs", "1"]
MODELS = {"gan": GAN, "acgan": ACGAN, "infogan": InfoGAN}


run = functools.partial(run_program, options=SMALL)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each model trained for 3 steps once: {name: its output folder}."""
    folders = {}
    for name, model_cls in MODELS.items():
        out = tmp_path_factory.mktemp(name)
        assert run(model_cls, out) == 0
        folders[name] = out
    return folders


# --- all three: training changes the weights, keeps losses finite, generation works ----------

@needs_mnist
@pytest.mark.parametrize("name", list(MODELS))
def test_a_few_steps_change_every_network_and_keep_the_losses_finite(trained, name):
    out, model_cls = trained[name], MODELS[name]
    records = read_steplog(out / "log.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3]
    for record in records:
        for key in ("loss_d", "loss_g", "D(x)", "D(G(z))"):
            assert math.isfinite(record[key]), (key, record)
    state = load_checkpoint(out / "checkpoint.npz")
    with mg.use_backend("numpy"):
        initial = initial_weights(model_cls, state["config"])
    after = checkpoint_weights(out)
    assert initial.keys() == after.keys()
    assert {key.split(".")[0] for key in initial} == {"G", "D"}
    for net in ("G", "D"):
        changed = [k for k in initial
                   if k.startswith(net + ".") and not np.array_equal(initial[k], after[k])]
        assert changed, f"no weight of {name}'s {net} changed in 3 steps"
    assert (out / "samples" / "epoch_001.png").exists() and (out / "losses.png").exists()


@needs_mnist
@pytest.mark.parametrize("name", list(MODELS))
def test_generate_writes_images_of_the_documented_shape(trained, name):
    out = trained[name]
    assert run(MODELS[name], out, "--generate", "12") == 0
    samples = np.load(out / "samples.npy")
    assert samples.shape == (12, 1, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1
    assert (out / "labels.npy").exists() == (name == "acgan")


@needs_mnist
def test_the_models_train_on_the_strict_backend_too(tmp_path):
    for name, model_cls in MODELS.items():
        assert run(model_cls, tmp_path / name, "--max-steps", "1", backend="strict") == 0


# --- GAN: why the non-saturating generator loss ---------------------------------------------

def test_minimax_generator_gradient_vanishes_where_the_non_saturating_one_does_not():
    # D rejects the fake confidently: logit l = -10, D(G(z)) = sigma(-10) = 4.5398e-5.
    sigma = 1.0 / (1.0 + math.exp(10.0))
    for loss, expected in ((g_loss_minimax, -sigma), (g_loss_non_saturating, -(1.0 - sigma))):
        logit = mg.tensor([[-10.0]], dtype=mg.float64, requires_grad=True)
        loss(logit).backward()
        assert logit.grad.item() == pytest.approx(expected, rel=1e-9)
    # by hand: d/dl log(1 - sigma(l)) = -sigma(l) = -4.54e-5; d/dl -log sigma(l) = -0.99995
    assert -sigma == pytest.approx(-4.5397868702434395e-05)


@needs_mnist
def test_the_loss_option_picks_the_generator_loss(trained, tmp_path):
    # -log sigma(l) > 0 for the non-saturating loss; log(1 - sigma(l)) < 0 for the minimax one.
    assert all(r["loss_g"] > 0 for r in read_steplog(trained["gan"] / "log.jsonl"))
    assert run(GAN, tmp_path, "--loss", "minimax") == 0
    records = read_steplog(tmp_path / "log.jsonl")
    assert all(r["loss_g"] < 0 and 0 < r["grad_logit"] < 1 for r in records)
    assert load_checkpoint(tmp_path / "checkpoint.npz")["config"]["loss"] == "minimax"


# --- ACGAN: the auxiliary classifier -------------------------------------------------------

def test_auxiliary_class_loss_matches_a_hand_computed_value():
    logits = mg.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=mg.float64)
    labels = mg.tensor([0, 1], dtype=mg.int64)
    # -log(e^2 / (e^2 + 2)) = log(e^2 + 2) - 2 = 0.23954; -log(e / (e + 2)) = 0.55144
    by_hand = (math.log(math.e ** 2 + 2) - 2 + math.log(math.e + 2) - 1) / 2
    assert by_hand == pytest.approx(0.3954947400769677, rel=1e-12)
    assert auxiliary_class_loss(logits, labels).item() == pytest.approx(by_hand, rel=1e-12)


def test_auxiliary_class_loss_is_the_mean_negative_log_softmax_at_the_labels():
    rng = np.random.default_rng(0)
    logits = mg.tensor(rng.standard_normal((6, 10)) * 3, dtype=mg.float64, requires_grad=True)
    labels = mg.tensor(rng.integers(0, 10, 6), dtype=mg.int64)
    expected = -F.log_softmax(logits, 1).numpy()[np.arange(6), labels.numpy()].mean()
    loss = auxiliary_class_loss(logits, labels)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()  # d/dlogits = (softmax - one_hot) / N: the fused log-softmax's gradient
    softmax = F.softmax(logits, 1).numpy()
    np.testing.assert_allclose(logits.grad.numpy(),
                               (softmax - np.eye(10)[labels.numpy()]) / 6, atol=1e-12)


@needs_mnist
def test_acgan_reports_d_class_accuracy_and_draws_one_row_per_digit(trained):
    out = trained["acgan"]
    records = read_steplog(out / "log.jsonl")
    assert all(0.0 <= r["acc_real"] <= 1.0 and math.isfinite(r["class_loss_real"])
               for r in records)
    grid = Image.open(out / "samples" / "epoch_001.png")
    assert grid.size[0] == grid.size[1]  # 10 rows (digits 0..9) of 10
    assert run(ACGAN, out, "--generate", "6", "--digit", "4") == 0
    assert list(np.load(out / "labels.npy")) == [4] * 6


def test_acgan_generator_draws_differently_for_different_labels():
    with mg.use_backend("numpy"):
        mg.manual_seed(0)
        model = ACGAN({"lr": 2e-4, "beta1": 0.5, "z_dim": 8, "d_steps": 1})
        model.eval()
        z = mg.tensor(np.zeros((2, 8), np.float32))
        with mg.no_grad():
            images = model.generate(z, mg.tensor(np.array([3, 7]))).numpy()
        assert images.shape == (2, 1, 28, 28)
        assert not np.allclose(images[0], images[1])


# --- InfoGAN: the latent, the information loss, the code sweeps ---------------------------

def infogan(z_dim=62):
    return InfoGAN({"lr": 2e-4, "g_lr": 1e-3, "beta1": 0.5, "z_dim": z_dim, "d_steps": 1,
                    "seed": 0})


def test_information_loss_matches_hand_computed_values():
    category_logits = mg.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=mg.float64)
    categories = mg.tensor([0, 1], dtype=mg.int64)
    means = mg.tensor([[0.5, -0.5], [0.0, 1.0]], dtype=mg.float64)
    codes = mg.tensor([[1.0, 0.0], [0.2, 0.6]], dtype=mg.float64)
    cross_entropy = 0.3954947400769677  # as for ACGAN's class loss above
    # 0.5 * sum_k (c - mu)^2 per row: 0.5 * (0.25 + 0.25) = 0.25, 0.5 * (0.04 + 0.16) = 0.1
    gaussian = (0.25 + 0.1) / 2
    assert information_loss(category_logits, categories, means, codes, 1.0, 0.0).item() \
        == pytest.approx(cross_entropy, rel=1e-12)
    assert information_loss(category_logits, categories, means, codes, 0.0, 1.0).item() \
        == pytest.approx(0.175, rel=1e-12)
    assert information_loss(category_logits, categories, means, codes).item() \
        == pytest.approx(cross_entropy + 0.1 * gaussian, rel=1e-12)  # lambdas 1 and 0.1


def test_infogan_latent_is_noise_then_one_hot_category_then_uniform_codes():
    with mg.use_backend("numpy"):
        mg.manual_seed(0)
        model = infogan()
        latent, categories, continuous = model.sample_latent(500)
        latent, categories, continuous = latent.numpy(), categories.numpy(), continuous.numpy()
    assert model.latent_dim == 74
    assert latent.shape == (500, 74) and latent.dtype == np.float32
    assert categories.shape == (500,) and categories.dtype == np.int64
    assert continuous.shape == (500, 2)
    np.testing.assert_array_equal(latent[:, 62:72], np.eye(10)[categories])
    np.testing.assert_array_equal(latent[:, 72:], continuous)
    assert set(categories) == set(range(10))
    assert continuous.min() >= -1 and continuous.max() <= 1 and continuous.std() > 0.4
    assert abs(latent[:, :62].mean()) < 0.05 and abs(latent[:, :62].std() - 1) < 0.05
    with pytest.raises(ValueError, match=r"expected a latent of shape \(N, 74\)"):
        model.generate(mg.randn(3, 62))


def test_infogan_code_sweeps_vary_one_code_and_fix_the_rest():
    with mg.use_backend("numpy"):
        sweeps = {k: v.numpy() for k, v in infogan(z_dim=5).code_sweeps(seed=0).items()}
    assert set(sweeps) == {"cat", "c1", "c2"}
    for latent in sweeps.values():
        assert latent.shape == (100, 17)
    cat = sweeps["cat"].reshape(10, 10, 17)          # (rows, columns, latent)
    np.testing.assert_array_equal(cat[:, :, 5:15].argmax(2), np.tile(np.arange(10), (10, 1)))
    assert np.all(cat[:, :, :5] == cat[:, :1, :5]) and np.all(cat[:, :, 15:] == 0)
    for k, name in enumerate(("c1", "c2")):
        sweep = sweeps[name].reshape(10, 10, 17)
        np.testing.assert_allclose(sweep[:, :, 15 + k], np.tile(np.linspace(-2, 2, 10), (10, 1)))
        assert np.all(sweep[:, :, 15 + (1 - k)] == 0)
        assert np.all(sweep[:, :, :15] == sweep[:, :1, :15])  # noise and category per row
        np.testing.assert_array_equal(sweep[:, 0, 5:15].argmax(1), np.arange(10))


@needs_mnist
def test_infogan_writes_the_code_sweep_figures_each_epoch(trained):
    codes = trained["infogan"] / "codes"
    sizes = {name: Image.open(codes / f"epoch_001_{name}.png").size
             for name in ("cat", "c1", "c2")}
    cell = 2 * (28 + 2)  # scale 2 of 28 pixels + 2 of padding
    assert all(size == (10 * cell + 4, 10 * cell + 4) for size in sizes.values())
    records = read_steplog(trained["infogan"] / "log.jsonl")
    assert all(r["loss_info"] > 0 and 0 <= r["acc_category"] <= 1 for r in records)


def test_infogan_latent_walk_moves_the_noise_and_keeps_one_category_per_row():
    import numpy as np
    from minigan.train import COMMON_DEFAULTS
    from minigan.gan.infogan import InfoGAN
    from minigan.train import latent_walk
    model = InfoGAN({**COMMON_DEFAULTS, "z_dim": 62})
    images, labels = latent_walk(model, rows=3, steps=4)
    assert images.shape == (12, 1, 28, 28) and labels is None

"""--info-code C on the DCGAN: InfoGAN's categorical code (Chen et al. 2016) as a tool.

G's input is [z | one_hot(c)], c uniform over 0..C-1; a head Q on D's features reads c
back; D's and G's losses both add --info-weight * CE(Q(G(z, c)), c). These tests check
each part against the same sum written out by hand, and that nothing changes without it.

Runs are tiny (--train-size 256 at batch 32, 4 steps, no evaluation)."""
import copy

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan.gan import CGAN, DCGAN, InfoGAN
from minigan.gan.losses import d_loss, g_loss_non_saturating, r1_penalty
from minigan.train import main, read_steplog

from .helpers import needs_mnist, resumed_in_halves
from .test_training_tools import SMALL, config_for, flags, images


def coded(code_size=3, *argv, seed=0):
    """A small DCGAN (z 8) with --info-code code_size, in train mode."""
    mg.manual_seed(seed)
    model = DCGAN(config_for(DCGAN, "--z-dim", "8", "--info-code", str(code_size), *argv))
    model.train()
    return model


def test_the_code_is_offered_to_the_dcgan_only():
    assert {"--info-code", "--info-weight"} <= flags(DCGAN)
    for model_cls in (CGAN, InfoGAN):  # CGAN has labels; InfoGAN has its own codes
        assert not {"--info-code", "--info-weight"} & flags(model_cls)


def test_info_weight_without_a_code_is_one_error_line(tmp_path, capsys):
    assert main(DCGAN, [*SMALL, "--out", str(tmp_path / "run"), "--info-weight", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --info-weight LAMBDA weighs the code's loss: add --info-code C"]


def test_g_reads_z_then_the_one_hot_code_and_d_grows_a_q_head():
    model = coded(3)
    assert model.G.net[0].in_features == 8 + 3
    assert model.D.q[-1].out_features == 3
    z = model.sample_z(500)
    codes = model.code_of(z)
    assert z.shape == (500, 11) and codes.shape == (500,) and codes.dtype == np.int64
    codes = codes.numpy()
    assert set(codes.tolist()) == {0, 1, 2}  # uniform over 0..C-1: all three, no other
    np.testing.assert_array_equal(z.numpy()[:, 8:], np.eye(3, dtype=np.float32)[codes])
    logits, code_logits = model.D.forward_with_code(images(4))
    assert logits.shape == (4, 1) and code_logits.shape == (4, 3)
    np.testing.assert_allclose(logits.numpy(), model.D(images(4)).numpy(), rtol=1e-6)


def test_without_a_code_nothing_changes():
    mg.manual_seed(5)
    model = DCGAN(config_for(DCGAN, "--z-dim", "8"))
    assert not hasattr(model.D, "q")
    assert not any(k.startswith("q.") for k in model.D.state_dict())
    mg.manual_seed(7)
    z = model.sample_z(4)
    mg.manual_seed(7)
    np.testing.assert_array_equal(z.numpy(), mg.randn(4, 8).numpy())  # the same draws
    assert model.code_of(z) is None
    with pytest.raises(RuntimeError, match="no code head"):
        model.D.forward_with_code(images(2))


def test_the_grids_keep_one_code_per_column_and_a_walk_one_per_row():
    model = coded(10)
    z, labels = model.fixed_inputs(100, seed=0)
    assert labels is None and z.shape == (100, 18)
    np.testing.assert_array_equal(z.numpy()[:, 8:].argmax(1), np.arange(100) % 10)
    plain = DCGAN(config_for(DCGAN, "--z-dim", "8")).fixed_inputs(100, seed=0)[0]
    np.testing.assert_array_equal(z.numpy()[:, :8], plain.numpy())  # the same noise
    rows = np.repeat(np.arange(12), 3)
    z, _ = model.walk_inputs(np.zeros((36, 8)), rows)
    np.testing.assert_array_equal(z.numpy()[:, 8:].argmax(1), rows % 10)


def information(code_logits, codes, weight):
    """weight * mean_n -log softmax(code_logits)[n, codes[n]], in NumPy."""
    x = code_logits.numpy().astype(np.float64)
    x = x - x.max(1, keepdims=True)
    log_p = x - np.log(np.exp(x).sum(1, keepdims=True))
    return weight * -log_p[np.arange(len(codes)), codes.numpy()].mean()


@pytest.mark.parametrize("argv", [[], ["--r1", "1", "--r1-every", "1"]], ids=["bce", "r1"])
def test_the_d_step_adds_the_weighted_cross_entropy_of_q_to_ds_loss(argv):
    weight = 0.5
    model = coded(3, "--info-weight", str(weight), *argv)
    real = images(4, seed=1)
    z = model.sample_z(4)
    model.codes = model.code_of(z)
    fake = model.G(z).detach()

    twin = copy.deepcopy(model)  # the loss written out on a copy
    twin.D.zero_grad()
    fake_logits, code_logits = twin.D.forward_with_code(fake)
    if argv:
        penalty, real_logits = r1_penalty(twin.D, real)
        extra = 0.5 * penalty
    else:
        real_logits, extra = twin.D(real), 0.0
    info = weight * F.cross_entropy(code_logits, model.codes)
    (d_loss(real_logits, fake_logits) + extra + info).backward()

    model.step = 1
    metrics = model.discriminator_step(real, fake, None)
    for (name, got), want in zip(model.D.named_parameters(), twin.D.parameters()):
        np.testing.assert_allclose(got.grad.numpy(), want.grad.numpy(), rtol=1e-5, atol=1e-7,
                                   err_msg=name)
    assert model.D.q[0].weight.grad is not None and np.abs(model.D.q[0].weight.grad.numpy()).max() > 0
    np.testing.assert_allclose(metrics["loss_info"], information(code_logits, model.codes, weight),
                               rtol=1e-5)
    assert 0.0 <= metrics["acc_code"] <= 1.0


def test_the_g_step_adds_it_to_gs_loss_and_leaves_d_alone():
    weight = 2.0
    model = coded(3, "--info-weight", str(weight))
    z = model.sample_z(4)
    model.codes = model.code_of(z)

    twin = copy.deepcopy(model)
    twin.G.zero_grad()
    logits, code_logits = twin.D.forward_with_code(twin.G(z))
    (g_loss_non_saturating(logits) + weight * F.cross_entropy(code_logits, model.codes)).backward()

    model.D.zero_grad()
    before = [p.grad for p in model.D.parameters()]
    loss_g = model.generator_step(model.G(z), None)
    for (name, got), want in zip(model.G.named_parameters(), twin.G.parameters()):
        np.testing.assert_allclose(got.grad.numpy(), want.grad.numpy(), rtol=1e-5, atol=1e-7,
                                   err_msg=name)
    assert [p.grad for p in model.D.parameters()] == before  # D's gradients: not computed
    with mg.no_grad():
        want = (g_loss_non_saturating(logits) + weight * F.cross_entropy(code_logits, model.codes))
    np.testing.assert_allclose(loss_g, want.item(), rtol=1e-5)


def test_q_learns_to_read_the_code_back():
    """A few dozen train steps on a tiny batch of noise images: Q's accuracy on G's code
    climbs from chance (1/3) to every code read right, as the information term asks."""
    model = coded(3, "--lr", "2e-3")
    real = images(32, seed=3)
    accuracies = [model.train_step(real, None, step)["acc_code"] for step in range(1, 41)]
    assert np.mean(accuracies[:3]) < 0.7 and np.mean(accuracies[-5:]) == 1.0, accuracies


@needs_mnist
def test_a_run_with_a_code_resumes_bit_for_bit_and_logs_q(tmp_path):
    argv = ["--recipe", "modern", "--clusters", "0", "--info-code", "10", "--info-weight", "0.5", "--g-steps", "2"]
    a, halves = resumed_in_halves(DCGAN, tmp_path, argv, SMALL)
    assert any(k.startswith("D.q.") for k in a)
    log = [r for r in read_steplog(halves / "log.jsonl") if "loss_d" in r]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert all("loss_info" in r and "acc_code" in r for r in log)

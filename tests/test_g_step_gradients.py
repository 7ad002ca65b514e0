"""The G step computes no gradient for D's parameters (GANModel.skip_discarded_grads):
D's .grad after a training step is what D's own step left, which is PyTorch's .grad
after the same calls with D frozen (D.requires_grad_(False)) around the G step's
forward; with the skip turned off, it is PyTorch's plain step's (D's step gradients
plus the G step's). Either way G's gradients and every weight after the step agree.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan.gan.cgan import CGAN
from minigan.gan.dcgan import DCGAN

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
CONFIG = {"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "z_dim": 100}


def batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, n).astype(np.int64)
    z = rng.standard_normal((n, 100)).astype(np.float32)
    return images, labels, z


def stepped(cls, skip, images, labels, z):
    """A model from seed 0 after one step on the batch with noise z; also the copies of
    D's .grad taken right after D's optimizer stepped (before the G step)."""
    mg.manual_seed(0)
    model = cls(CONFIG)
    model.skip_discarded_grads = skip
    model.sample_z = lambda n: mg.tensor(z)
    after_d_step = {}
    d_step = model.optimizers["D"].step

    def recording_step():
        d_step()
        after_d_step.update({k: p.grad.numpy().copy() for k, p in model.D.named_parameters()})

    model.optimizers["D"].step = recording_step
    model.train_step(mg.tensor(images), mg.tensor(labels), 1)
    return model, after_d_step


@pytest.mark.parametrize("cls", [DCGAN, CGAN])
def test_the_g_step_leaves_d_grads_as_d_step_left_them(cls):
    images, labels, z = batch()
    model, after_d_step = stepped(cls, True, images, labels, z)
    for k, p in model.D.named_parameters():
        np.testing.assert_array_equal(p.grad.numpy(), after_d_step[k], err_msg=k)
        assert p.requires_grad, f"{k}: requires_grad not restored after the G step"


@pytest.mark.parametrize("cls", [DCGAN, CGAN])
def test_skipping_d_grads_changes_neither_g_grads_nor_any_weight(cls):
    images, labels, z = batch()
    skipping, _ = stepped(cls, True, images, labels, z)
    plain, after_d_step = stepped(cls, False, images, labels, z)
    changed = [k for k, p in plain.D.named_parameters()
               if not np.array_equal(p.grad.numpy(), after_d_step[k])]
    assert changed, "without the skip, the G step should add to D's .grad"
    for a, b in ((skipping.G, plain.G), (skipping.D, plain.D)):
        for (k, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
            np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=k)
    for (k, p), (_, q) in zip(skipping.G.named_parameters(), plain.G.named_parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=k)


def test_a_frozen_d_layer_stays_frozen_after_the_g_step():
    images, labels, z = batch()
    mg.manual_seed(0)
    model = DCGAN(CONFIG)
    model.sample_z = lambda n: mg.tensor(z)
    model.D.net[0].weight.requires_grad_(False)
    model.train_step(mg.tensor(images), mg.tensor(labels), 1)
    assert not model.D.net[0].weight.requires_grad
    assert model.D.net[2].weight.requires_grad


def load_bench_dcgan(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("bench_dcgan_for_grads",
                                                  BENCHMARKS / "bench_dcgan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.torch
@pytest.mark.parametrize("skip", [True, False])
def test_d_grads_after_the_step_are_pytorchs_after_the_same_calls(torch, monkeypatch, skip):
    bench = load_bench_dcgan(monkeypatch)
    images, labels, z = batch()
    model, _ = stepped(DCGAN, skip, images, labels, z)
    mg.manual_seed(0)
    theirs = bench.TorchGAN(conditional=False, device="cpu")
    theirs.load_minigan_weights(DCGAN(CONFIG))  # the same seed-0 weights as `model`'s start
    theirs.sample_z = lambda n: torch.from_numpy(z)
    if skip:  # what the skip means in PyTorch: D frozen while the G step's graph is made
        discriminate = theirs.discriminate
        theirs.discriminate = lambda x, y: (
            discriminate(x, y) if not x.requires_grad else frozen_d(theirs, discriminate, x, y))
    theirs.train_step(torch.from_numpy(images), torch.from_numpy(labels))
    for (k, p), (_, q) in zip(model.D.named_parameters(), theirs.D.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-6,
                                   err_msg=k)


def frozen_d(theirs, discriminate, x, y):
    """PyTorch's D on the G step's (grad-requiring) fakes, with D's parameters frozen."""
    theirs.D.requires_grad_(False)
    try:
        return discriminate(x, y)
    finally:
        theirs.D.requires_grad_(True)

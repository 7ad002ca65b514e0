"""Random streams that survive a GPU: the strict backend's generator is CuPy's, as it
really is, and training is reproducible from seeds alone, never from a stored state.

CuPy's `Generator` keeps its state in device memory: `bit_generator.state` is a
method returning a pointer, and the generator cannot be pickled. A checkpoint that
stored `json.dumps(rng.bit_generator.state)` failed at its first save on
`--backend cupy`; the strict backend now fails the same way, so these tests (and the
training tests run on strict) catch the next such mistake without a GPU.
"""
import copy
import functools
import json
import os
import pickle

import numpy as np
import pytest

import minigan as mg
from minigan import backend as B
from minigan.gan import (ACGAN, CGAN, CVAE, CVAEGAN, DCGAN, EBGAN, GAN, LAPGAN, VAE, WGAN,
                         WGANGP, InfoGAN)
from minigan.train import load_checkpoint
from minigan.train.checkpoint import save_checkpoint

from .helpers import checkpoint_weights, needs_mnist, run_program

# cupy.random.Generator's public methods (cupy/random/_generator_api.pyx): no normal,
# choice, permutation, shuffle or bytes, unlike numpy.random.Generator.
CUPY_GENERATOR_METHODS = {
    "random", "uniform", "integers", "standard_normal", "standard_exponential",
    "standard_gamma", "beta", "binomial", "chisquare", "dirichlet", "exponential", "f",
    "gamma", "geometric", "hypergeometric", "logseries", "poisson", "power",
}


def strict_generator():
    return B.get_backend("strict").rng


# --- the strict generator is CuPy's ---------------------------------------------------

def test_strict_generator_has_exactly_cupys_methods():
    rng = strict_generator()
    public = {name for name in dir(rng)
              if not name.startswith("_") and callable(getattr(rng, name))}
    assert public == CUPY_GENERATOR_METHODS
    for numpy_only in ("normal", "choice", "permutation", "shuffle", "bytes", "spawn"):
        assert not hasattr(rng, numpy_only), numpy_only


def test_strict_generator_state_cannot_be_serialized_as_on_cupy():
    rng = strict_generator()
    assert callable(rng.bit_generator.state)  # a device pointer, as in CuPy; no dict
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps(rng.bit_generator.state)
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(rng)
    with pytest.raises(TypeError):
        copy.deepcopy(rng)
    with pytest.raises(TypeError, match="no settable state"):
        rng.bit_generator.state = {"bit_generator": "PCG64"}


def test_strict_draws_are_device_arrays_even_for_one_value():
    rng = strict_generator()
    one = rng.standard_normal()
    assert type(one) is mg._strict.StrictArray and one.shape == ()
    assert rng.standard_normal((2, 3), dtype=np.float32).dtype == np.float32
    assert rng.integers(0, 5, size=4).dtype == np.int64
    assert type(rng.uniform(-1.0, 1.0, size=3)) is mg._strict.StrictArray
    with pytest.raises(TypeError, match="cupy.ndarray or a scalar"):
        rng.poisson(np.ones(3))  # a host array where CuPy wants a device one
    with pytest.raises(TypeError, match="cupy.ndarray or a scalar"):
        rng.poisson(np.float64(2.0))  # CuPy checks type(lam) in (float, int)
    with pytest.raises(ValueError, match="cupy.ndarray or a scalar"):
        rng.standard_gamma(np.ones(2))  # CuPy raises ValueError here
    assert rng.uniform(np.zeros(2), 1.0).shape == (2,)  # uniform copies host values over
    with pytest.raises(TypeError, match="Unsupported dtype"):
        rng.standard_normal(3, dtype=np.int32)


def test_strict_random_module_offers_cupys_bit_generators():
    xp = B.get_backend("strict").xp
    for name in ("XORWOW", "MRG32k3a", "Philox4x3210"):
        gen = xp.random.Generator(getattr(xp.random, name)(3))
        assert gen.random(2).shape == (2,)
    assert xp.random.default_rng(3).random(2).shape == (2,)


# --- seeds name streams ---------------------------------------------------------------

def test_a_seed_tuple_names_a_reproducible_stream_of_its_own(backend):
    def draws(seed):
        mg.manual_seed(seed)
        return mg.randn(5).numpy()
    np.testing.assert_array_equal(draws((0, 3)), draws((0, 3)))
    assert not np.array_equal(draws((0, 3)), draws((0, 4)))
    assert not np.array_equal(draws((0, 3)), draws((1, 3)))
    assert not np.array_equal(draws((0, 3)), draws(0))


def test_numpy_and_strict_draw_the_same_stream_from_the_same_seed_tuple():
    draws = {}
    for name in ("numpy", "strict"):
        with mg.use_backend(name):
            mg.manual_seed((7, 2))
            draws[name] = (mg.randn(2, 3).numpy(), mg.rand(4).numpy(), mg.randint(0, 9, 5).numpy())
    for a, b in zip(draws["numpy"], draws["strict"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", (), (0, -2), True])
def test_manual_seed_refuses_what_is_not_a_non_negative_int_or_tuple(bad):
    with pytest.raises(ValueError, match="manual_seed: expected a non-negative int"):
        mg.manual_seed(bad)


# --- checkpoints hold no generator state ----------------------------------------------

def test_a_checkpoint_saves_on_the_strict_backend_and_holds_no_generator_state(tmp_path):
    with mg.use_backend("strict"):
        model = DCGAN({"z_dim": 8, "lr": 2e-4, "beta1": 0.5, "d_steps": 1, "seed": 0})
        path = tmp_path / "checkpoint.npz"
        save_checkpoint(path, model, {"seed": 0}, epoch=0, batch=1, step=1)
        state = load_checkpoint(path)
    assert "rng" not in state and state["step"] == 1


SMALL = ["--batch-size", "8", "--train-size", "16", "--no-eval"]
run = functools.partial(run_program, options=SMALL)


@pytest.fixture
def mnist_once(monkeypatch):
    """Decompressing MNIST takes most of a 3-step run: read it once for this file."""
    import minigan.data
    monkeypatch.setattr(minigan.data, "MNIST", _cached_mnist)  # GANModel.make_dataset reads it


@functools.lru_cache(maxsize=None)
def _cached_mnist(root=None, train=True, download=True):
    from minigan.data.mnist import MNIST
    return MNIST(root=root, train=train, download=download)

ALL_MODELS = [GAN, DCGAN, CGAN, ACGAN, InfoGAN, WGAN, WGANGP, EBGAN, LAPGAN, VAE, CVAE, CVAEGAN]


@needs_mnist
@pytest.mark.parametrize("model_cls", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_trains_on_strict_and_resumes_bit_for_bit(tmp_path, model_cls, mnist_once):
    """Step 3 of a resumed run draws what step 3 of the straight run drew: (seed, 3)."""
    assert run(model_cls, tmp_path / "straight", "--epochs", "2", "--max-steps", "3",
               backend="strict") == 0
    assert run(model_cls, tmp_path / "resumed", "--epochs", "2", "--max-steps", "1",
               backend="strict") == 0
    assert run(model_cls, tmp_path / "resumed", "--epochs", "2", "--max-steps", "3", "--resume",
               backend="strict") == 0
    a, b = checkpoint_weights(tmp_path / "straight"), checkpoint_weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@needs_mnist
def test_draws_between_steps_do_not_change_the_next_step(tmp_path, monkeypatch, mnist_once):
    """An epoch-end grid, an evaluation or a user's hook may draw random numbers; the
    next step is re-seeded from (seed, step), so the run's weights stay the same."""
    run(DCGAN, tmp_path / "plain", "--epochs", "1", "--max-steps", "2")
    original = DCGAN.train_step

    def train_step_then_draw(self, real, labels, step):
        metrics = original(self, real, labels, step)
        mg.randn(1000)  # as if something between steps used the generator
        return metrics

    monkeypatch.setattr(DCGAN, "train_step", train_step_then_draw)
    run(DCGAN, tmp_path / "drawing", "--epochs", "1", "--max-steps", "2")
    a, b = checkpoint_weights(tmp_path / "plain"), checkpoint_weights(tmp_path / "drawing")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@needs_mnist
def test_an_old_checkpoint_with_a_generator_state_still_generates(tmp_path, mnist_once):
    assert run(DCGAN, tmp_path, "--epochs", "1", "--max-steps", "1") == 0
    path = os.path.join(tmp_path, "checkpoint.npz")
    state = mg.load(path)
    state["rng"] = json.dumps(np.random.default_rng(0).bit_generator.state)  # as written before
    mg.save(state, path)
    assert run(DCGAN, tmp_path, "--generate", "4") == 0

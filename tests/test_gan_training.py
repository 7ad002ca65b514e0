"""The training programs end to end on real MNIST: a few small steps, resume, NaN, generation.

Each run trains on a small slice of MNIST (--train-size) at a small batch so the
whole file takes seconds; quality is measured by the benchmarks, not here.
"""
import functools
import json
import os

import numpy as np
import pytest
from PIL import Image

from minigan.gan import CGAN, DCGAN
from minigan.train import load_checkpoint, read_steplog

from .helpers import checkpoint_weights, run_program

pytestmark = pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"),
                                reason="MNIST not found (set MINIGAN_DATA)")

SMALL = ["--batch-size", "8", "--train-size", "32", "--no-eval", "--z-dim", "16"]


run = functools.partial(run_program, options=SMALL)


@pytest.mark.parametrize("backend", ["numpy", "strict"])
@pytest.mark.parametrize("model_cls", [DCGAN, CGAN])
def test_one_epoch_writes_every_output_and_changes_the_checkpoint_weights(tmp_path, model_cls, backend):
    assert run(model_cls, tmp_path, "--epochs", "1", backend=backend) == 0
    samples = tmp_path / "samples" / "epoch_001.png"
    assert samples.exists() and (tmp_path / "progress.gif").exists()
    assert (tmp_path / "losses.png").exists()
    records = read_steplog(tmp_path / "log.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4]  # 32 images / batch 8
    assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["loss_g"]) for r in records)
    state = load_checkpoint(tmp_path / "checkpoint.npz")
    assert (state["epoch"], state["batch"], state["step"]) == (1, 0, 4)
    assert state["config"]["batch_size"] == 8
    fresh = model_cls({**state["config"]})
    trained = checkpoint_weights(tmp_path)
    before = fresh.networks["G"].state_dict()
    assert not np.allclose(before["net.0.weight"].numpy(), trained["G.net.0.weight"])
    if model_cls is CGAN:  # one row per digit: 10 rows of 10 (28*2 px + padding each)
        assert Image.open(samples).size[1] == Image.open(samples).size[0]


def test_resume_mid_epoch_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    run(DCGAN, tmp_path / "straight", "--epochs", "2", "--max-steps", "6")
    run(DCGAN, tmp_path / "resumed", "--epochs", "2", "--max-steps", "3")
    run(DCGAN, tmp_path / "resumed", "--epochs", "2", "--max-steps", "6", "--resume")
    a, b = checkpoint_weights(tmp_path / "straight"), checkpoint_weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    steps = [r["step"] for r in read_steplog(tmp_path / "resumed" / "log.jsonl")]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_resume_at_an_epoch_boundary_is_bit_identical(tmp_path):
    run(DCGAN, tmp_path / "straight", "--epochs", "2")
    run(DCGAN, tmp_path / "resumed", "--epochs", "1")
    run(DCGAN, tmp_path / "resumed", "--epochs", "2", "--resume")
    a, b = checkpoint_weights(tmp_path / "straight"), checkpoint_weights(tmp_path / "resumed")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert (tmp_path / "resumed" / "samples" / "epoch_002.png").exists()


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    run(DCGAN, tmp_path, "--epochs", "1")
    good = checkpoint_weights(tmp_path)
    original = DCGAN.train_step

    def poisoned(self, real, labels, step):
        metrics = original(self, real, labels, step)
        return {**metrics, "loss_d": float("nan")} if step == 6 else metrics

    DCGAN.train_step = poisoned
    try:
        assert run(DCGAN, tmp_path, "--epochs", "2", "--resume") == 1
    finally:
        DCGAN.train_step = original
    message = capsys.readouterr().err
    assert "diverged at epoch 2, step 6" in message and "loss_d = nan" in message
    assert "checkpoint" in message and "is kept" in message
    after = checkpoint_weights(tmp_path)
    for key in good:
        np.testing.assert_array_equal(good[key], after[key])


def test_generate_writes_samples_in_range_and_a_grid(tmp_path):
    run(DCGAN, tmp_path, "--epochs", "1")
    assert run(DCGAN, tmp_path, "--generate", "12") == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (12, 1, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1
    assert (tmp_path / "grid.png").exists()
    assert not (tmp_path / "labels.npy").exists()


def test_generate_nice_keeps_the_samples_the_discriminator_likes_best(tmp_path):
    run(DCGAN, tmp_path, "--epochs", "1")
    assert run(DCGAN, tmp_path, "--generate", "5", "--nice") == 0
    assert np.load(tmp_path / "samples.npy").shape == (5, 1, 28, 28)


def test_cgan_generates_the_requested_digit_labels(tmp_path):
    run(CGAN, tmp_path, "--epochs", "1")
    assert run(CGAN, tmp_path, "--generate", "20") == 0
    labels = np.load(tmp_path / "labels.npy")
    assert labels.dtype == np.int64 and list(np.bincount(labels)) == [2] * 10
    assert run(CGAN, tmp_path, "--generate", "6", "--digit", "7") == 0
    assert list(np.load(tmp_path / "labels.npy")) == [7] * 6
    assert np.load(tmp_path / "samples.npy").shape == (6, 1, 28, 28)
    assert run(CGAN, tmp_path, "--generate", "10", "--nice") == 0
    assert sorted(np.load(tmp_path / "labels.npy")) == list(range(10))


def test_interpolate_writes_a_latent_walk_grid(tmp_path):
    run(DCGAN, tmp_path, "--epochs", "1")
    assert run(DCGAN, tmp_path, "--interpolate") == 0
    width, height = Image.open(tmp_path / "interpolation.png").size
    assert width > height  # 10 steps across, 8 walks down


def test_generate_without_a_checkpoint_says_where_it_looked(tmp_path, capsys):
    assert run(DCGAN, tmp_path, "--generate", "4") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no checkpoint at") and "checkpoint.npz" in err


def test_bad_options_are_rejected_with_the_option_name(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run(DCGAN, tmp_path, "--batch-size", "0")
    assert "argument --batch-size: expected an integer >= 1, got 0" in capsys.readouterr().err


def test_the_config_of_a_run_is_kept_in_its_checkpoint(tmp_path):
    run(DCGAN, tmp_path, "--epochs", "1", "--lr", "0.001", "--d-steps", "2")
    config = load_checkpoint(tmp_path / "checkpoint.npz")["config"]
    assert config["lr"] == 0.001 and config["d_steps"] == 2
    json.dumps(config)

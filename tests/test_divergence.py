"""A diverged run keeps a usable checkpoint: by NaN, by explosion without NaN, by a NaN
hidden in a buffer; and --generate never writes samples that are not finite."""
import os

import numpy as np
import pytest

import minigan as mg
from minigan.gan import DCGAN
from minigan.train import COMMON_DEFAULTS, TrainingDiverged, load_checkpoint, save_checkpoint
from minigan.train.guard import MAX_METRIC, MAX_WEIGHT, bad_metrics, bad_weights, nonfinite_entries

from .helpers import checkpoint_weights, needs_mnist, run_program

TINY = ["--train-size", "128", "--batch-size", "16", "--no-eval", "--z-dim", "16"]  # 8 steps/epoch


def run(out, *args):
    return run_program(DCGAN, out, *args, options=TINY)


def tiny_model():
    mg.manual_seed(0)
    return DCGAN({**COMMON_DEFAULTS, "z_dim": 16})


# ---- the guard's pieces ----------------------------------------------------------------

def test_bad_metrics_names_nan_infinite_and_out_of_bound_values_only():
    assert bad_metrics({"loss_d": 0.7, "loss_g": -MAX_METRIC, "D(x)": 0.5}) == ""
    assert bad_metrics({"loss_d": float("nan"), "loss_g": 1.2e15, "W": -float("inf"),
                        "ok": 3.0}) == "loss_d = nan, loss_g = 1.2e+15, W = -inf"


def test_bad_weights_finds_one_huge_or_nan_parameter(backend):
    model = tiny_model()
    assert bad_weights(model.networks) == ""
    weight = model.networks["D"].net[0].weight
    weight.data[0, 0, 0, 0] = 2 * MAX_WEIGHT
    assert bad_weights(model.networks) == "the largest |weight| is 2e+08 (bound 1e8)"
    weight.data[0, 0, 0, 0] = float("nan")
    assert "the largest |weight| is nan" in bad_weights(model.networks)


def test_nonfinite_entries_name_weights_buffers_and_optimizer_moments(backend):
    model = tiny_model()
    assert nonfinite_entries(model.state_dict()) == []
    model.networks["G"].state_dict()["net.1.running_var"].data[3] = float("inf")
    model.optimizers["D"].state[model.networks["D"].net[0].weight] = {
        "step": 1, "exp_avg": mg.zeros(2).data, "exp_avg_sq": mg.tensor([0.0, float("inf")]).data}
    assert nonfinite_entries(model.state_dict()) == [
        "networks.G.net.1.running_var", "optimizers.D.state.0.exp_avg_sq"]


def test_save_checkpoint_refuses_a_nan_weight_and_keeps_the_previous_file(tmp_path, backend):
    path = str(tmp_path / "checkpoint.npz")
    model = tiny_model()
    save_checkpoint(path, model, {"seed": 0}, 1, 0, 8)
    before = open(path, "rb").read()
    model.networks["G"].net[0].weight.data[0, 0] = float("nan")  # a Linear: (6272, 16)
    with pytest.raises(TrainingDiverged) as error:
        save_checkpoint(path, model, {"seed": 0}, 1, 3, 11)
    assert str(error.value) == (
        "training diverged at epoch 2, step 11: networks.G.net.0.weight not finite, so no "
        f"checkpoint is written; the last good checkpoint {path} is kept. Try a lower --lr, "
        "or --resume from the checkpoint with another --seed.")
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["checkpoint.npz"]  # no temporary file either


# ---- end to end ------------------------------------------------------------------------

def poison(monkeypatch, at_step, damage):
    """DCGAN.train_step that calls damage(model) after step `at_step`."""
    original = DCGAN.train_step

    def train_step(self, real, labels, step):
        metrics = original(self, real, labels, step)
        if step == at_step:
            damage(self)
        return metrics

    monkeypatch.setattr(DCGAN, "train_step", train_step)


@needs_mnist
def test_lr_1e6_explodes_without_nan_and_is_stopped_at_the_first_step(tmp_path, capsys):
    assert run(tmp_path, "--epochs", "1", "--lr", "1e6") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: training diverged at epoch 1, step 1: loss_g = ")
    assert "no checkpoint had been written yet" in err and "nan" not in err
    assert not (tmp_path / "checkpoint.npz").exists()


@needs_mnist
def test_a_weight_past_the_bound_stops_the_run_though_every_loss_is_fine(
        tmp_path, monkeypatch, capsys):
    assert run(tmp_path, "--epochs", "1") == 0
    good = checkpoint_weights(tmp_path)

    def blow_up(model):
        model.networks["G"].net[0].weight.data *= 1e12

    poison(monkeypatch, 11, blow_up)
    assert run(tmp_path, "--epochs", "2", "--resume") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: training diverged at epoch 2, step 11: the largest |weight| is ")
    assert f"the last good checkpoint {tmp_path / 'checkpoint.npz'} is kept" in err
    after = checkpoint_weights(tmp_path)
    for key in good:
        np.testing.assert_array_equal(good[key], after[key], err_msg=key)


@needs_mnist
def test_a_nan_only_in_a_buffer_writes_no_checkpoint_at_the_epoch_end(tmp_path, monkeypatch, capsys):
    assert run(tmp_path, "--epochs", "1") == 0
    good = checkpoint_weights(tmp_path)

    def nan_buffer(model):  # running statistics are not parameters: only the save sees them
        model.networks["D"].state_dict()["net.3.running_var"].data[0] = float("nan")

    poison(monkeypatch, 16, nan_buffer)
    assert run(tmp_path, "--epochs", "2", "--resume") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        "error: training diverged at epoch 2, step 16: networks.D.net.3.running_var not "
        "finite, so no checkpoint is written; the last good checkpoint "
        f"{tmp_path / 'checkpoint.npz'} is kept. Try a lower --lr, or --resume from the "
        "checkpoint with another --seed.")
    assert load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 8
    after = checkpoint_weights(tmp_path)
    for key in good:
        np.testing.assert_array_equal(good[key], after[key], err_msg=key)


@needs_mnist
@pytest.mark.parametrize("request_", [["--generate", "6"], ["--generate", "6", "--nice"],
                                      ["--interpolate"]])
def test_generate_refuses_to_write_samples_that_are_not_finite(tmp_path, capsys, request_):
    assert run(tmp_path, "--epochs", "1") == 0
    path = tmp_path / "checkpoint.npz"
    state = mg.load(str(path))  # a checkpoint damaged outside the trainer (no guard wrote it)
    state["networks"]["G"]["net.0.weight"].data[...] = float("nan")
    mg.save(state, str(path))
    capsys.readouterr()
    assert run(tmp_path, *request_) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: the generator of {path} drew ")
    assert "non-finite pixel values" in err and "no samples written" in err
    for name in ("samples.npy", "grid.png", "interpolation.png"):
        assert not (tmp_path / name).exists()

"""--resume continues the run the checkpoint holds: the options that define it come from
the checkpoint, a different one is an error naming it, and what may change (epochs,
steps, learning rates, evaluation) changes for real and is logged.

Runs are tiny (--train-size 64 at batch 16: 4 steps an epoch) so the file takes seconds.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan.gan import DCGAN, GAN, WGAN, InfoGAN
from minigan.train import load_checkpoint, main, read_steplog
from minigan.viz import plot_losses

from .helpers import checkpoint_weights, needs_mnist, run_program

pytestmark = needs_mnist

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--train-size", "64", "--batch-size", "16", "--no-eval", "--z-dim", "16"]


def train(model_cls, out, *args):
    """A fresh tiny run: SMALL, --d-steps 2 and --seed 3 (not the defaults), then args."""
    return main(model_cls, [*SMALL, "--out", str(out), *(str(a) for a in args),
                            "--d-steps", "2", "--seed", "3"])


def resume(model_cls, out, *args):
    """--resume with nothing but `args`: everything else must come from the checkpoint."""
    return main(model_cls, ["--resume", "--out", str(out), *(str(a) for a in args)])


MODEL_OPTIONS = {"dcgan": [], "gan": ["--loss", "minimax"], "wgan": ["--clip", "0.02"]}


def options_of_run(name):
    """Every option `runs` trained the model `name` with (what train() adds, and its own)."""
    return [*SMALL, "--d-steps", "2", "--seed", "3", *MODEL_OPTIONS[name]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{name: folder} of a 2-step DCGAN, GAN (--loss minimax) and WGAN (--clip 0.02) run."""
    folders = {}
    for model_cls in (DCGAN, GAN, WGAN):
        out = tmp_path_factory.mktemp(model_cls.name)
        assert train(model_cls, out, "--max-steps", 2, *MODEL_OPTIONS[model_cls.name]) == 0
        folders[model_cls.name] = out
    return folders


def assert_same_weights(a, b):
    wa, wb = checkpoint_weights(a), checkpoint_weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


# --- the options that define the run come from the checkpoint ----------------------------

def test_resume_with_no_options_continues_the_checkpoints_run_bit_for_bit(tmp_path):
    assert train(DCGAN, tmp_path / "straight", "--max-steps", 6) == 0
    assert train(DCGAN, tmp_path / "resumed", "--max-steps", 3) == 0
    # no --batch-size, --train-size, --z-dim, --d-steps, --seed: all from the checkpoint
    assert resume(DCGAN, tmp_path / "resumed", "--max-steps", 6) == 0
    assert_same_weights(tmp_path / "straight", tmp_path / "resumed")
    config = load_checkpoint(tmp_path / "resumed" / "checkpoint.npz")["config"]
    assert (config["batch_size"], config["train_size"], config["z_dim"], config["d_steps"],
            config["seed"], config["max_steps"]) == (16, 64, 16, 2, 3, 6)
    steps = [r["step"] for r in read_steplog(tmp_path / "resumed" / "log.jsonl")]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_resume_without_loss_keeps_the_checkpoints_minimax_loss(runs, tmp_path):
    out = tmp_path / "gan"
    assert main(GAN, ["--resume", "--checkpoint", str(runs["gan"] / "checkpoint.npz"),
                      "--out", str(out), "--max-steps", "3"]) == 0
    assert load_checkpoint(out / "checkpoint.npz")["config"]["loss"] == "minimax"


CONFLICTS = [  # (model, option, the value given on --resume, the checkpoint's, shown)
    ("dcgan", "--batch-size", "32", "16"),
    ("dcgan", "--train-size", "48", "64"),
    ("dcgan", "--z-dim", "100", "16"),
    ("dcgan", "--d-steps", "1", "2"),
    ("dcgan", "--seed", "0", "3"),
    ("dcgan", "--beta1", "0.9", "0.5"),
    ("dcgan", "--backend", "strict", "numpy"),
    ("gan", "--loss", "non-saturating", "minimax"),
    ("gan", "--dropout", "0.5", "0.3"),
    ("wgan", "--clip", "0.01", "0.02"),
]


@pytest.mark.parametrize("name, option, given, saved", CONFLICTS,
                         ids=[f"{c[0]}{c[1]}" for c in CONFLICTS])
def test_a_run_option_that_differs_from_the_checkpoint_is_an_error_naming_both(
        runs, name, option, given, saved, capsys):
    model_cls = {"dcgan": DCGAN, "gan": GAN, "wgan": WGAN}[name]
    before = (runs[name] / "checkpoint.npz").read_bytes()
    options = options_of_run(name)  # the run's own options, but `option` changed
    if option in options:
        options[options.index(option) + 1] = given
    else:
        options += [option, given]
    capsys.readouterr()
    assert resume(model_cls, runs[name], "--max-steps", 4, *options) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert f"{option} is {saved} in the checkpoint, not {given}" in err
    assert (runs[name] / "checkpoint.npz").read_bytes() == before  # nothing trained


def test_several_conflicts_are_named_in_one_line(runs, capsys):
    assert resume(DCGAN, runs["dcgan"], "--batch-size", 8, "--z-dim", 32) == 2
    err = capsys.readouterr().err
    assert "--batch-size is 16 in the checkpoint, not 8" in err
    assert "--z-dim is 16 in the checkpoint, not 32" in err and err.count("\n") == 1


def test_the_same_value_given_again_is_no_conflict(runs, tmp_path):
    out = tmp_path / "again"
    argv = ["--resume", "--checkpoint", str(runs["dcgan"] / "checkpoint.npz"), "--out", str(out),
            *SMALL, "--d-steps", "2", "--seed", "3", "--max-steps", "3"]
    assert main(DCGAN, argv) == 0


# --- what may change does change ---------------------------------------------------------

def optimizer_rates(out):
    state = load_checkpoint(out / "checkpoint.npz")
    return {name: [g["lr"] for g in opt["param_groups"]] for name, opt in state["optimizers"].items()}


def test_a_new_lr_on_resume_is_what_the_optimizers_use_and_the_log_records_it(tmp_path):
    out = tmp_path / "run"
    assert train(DCGAN, out, "--max-steps", 2) == 0
    assert optimizer_rates(out) == {"G": [2e-4], "D": [2e-4]}
    assert resume(DCGAN, out, "--max-steps", 4, "--lr", 1e-3) == 0
    assert optimizer_rates(out) == {"G": [1e-3], "D": [1e-3]}
    assert load_checkpoint(out / "checkpoint.npz")["config"]["lr"] == 1e-3
    records = read_steplog(out / "log.jsonl")
    events = [r for r in records if r.get("event") == "lr"]
    assert events == [
        {"step": 2, "event": "lr", "option": "lr", "optimizer": "G", "lr": 1e-3, "was": 2e-4},
        {"step": 2, "event": "lr", "option": "lr", "optimizer": "D", "lr": 1e-3, "was": 2e-4}]
    assert [r["step"] for r in records if "event" not in r] == [1, 2, 3, 4]
    plot_losses(records, tmp_path / "losses.png")  # the event lines do not disturb the plot
    assert (tmp_path / "losses.png").stat().st_size > 0


def test_the_step_after_the_new_rate_moves_d_five_times_as_far_at_five_times_the_rate(tmp_path):
    """Step 3 sees the same weights, batch and noise in both runs, so its Adam update,
    lr * m_hat / (sqrt(v_hat) + eps), scales with the rate alone: 1e-3 / 2e-4 = 5."""
    assert train(DCGAN, tmp_path / "same", "--max-steps", 2) == 0
    step2 = checkpoint_weights(tmp_path / "same")
    assert train(DCGAN, tmp_path / "new", "--max-steps", 2) == 0
    assert resume(DCGAN, tmp_path / "same", "--max-steps", 3) == 0
    assert resume(DCGAN, tmp_path / "new", "--max-steps", 3, "--lr", 1e-3) == 0
    same, new = checkpoint_weights(tmp_path / "same"), checkpoint_weights(tmp_path / "new")
    key = "D.net.0.weight"  # with --d-steps 2, step 3 is a D step only
    moved_same, moved_new = same[key] - step2[key], new[key] - step2[key]
    assert np.abs(moved_same).max() > 0
    np.testing.assert_allclose(moved_new, 5 * moved_same, rtol=1e-3, atol=1e-8)


def test_infogan_g_lr_on_resume_changes_only_the_generators_rate(tmp_path):
    out = tmp_path / "info"
    assert train(InfoGAN, out, "--max-steps", 1) == 0
    assert optimizer_rates(out) == {"G": [1e-3], "D": [2e-4]}
    assert resume(InfoGAN, out, "--max-steps", 2, "--g-lr", 5e-4) == 0
    assert optimizer_rates(out) == {"G": [5e-4], "D": [2e-4]}
    events = [r for r in read_steplog(out / "log.jsonl") if r.get("event")]
    assert [(e["option"], e["optimizer"], e["lr"]) for e in events] == [("g_lr", "G", 5e-4)]


def test_epochs_and_max_steps_come_from_the_checkpoint_unless_given(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(DCGAN, out, "--epochs", 1) == 0           # 4 steps: the whole run
    capsys.readouterr()
    assert resume(DCGAN, out) == 2                         # --epochs 1 from the checkpoint
    err = capsys.readouterr().err
    assert "nothing to train" in err and "--epochs 1" in err and "larger --epochs" in err
    assert resume(DCGAN, out, "--epochs", 2) == 0
    assert load_checkpoint(out / "checkpoint.npz")["step"] == 8


def test_a_no_eval_run_resumes_without_evaluating(tmp_path):
    out = tmp_path / "run"
    assert train(DCGAN, out, "--max-steps", 1) == 0       # SMALL has --no-eval
    assert resume(DCGAN, out, "--max-steps", 2) == 0
    assert not (out / "quality.json").exists()
    assert load_checkpoint(out / "checkpoint.npz")["config"]["no_eval"] is True


# --- --checkpoint is honoured ------------------------------------------------------------

def test_resume_reads_the_checkpoint_option_and_writes_to_out(tmp_path):
    assert train(DCGAN, tmp_path / "straight", "--max-steps", 4) == 0
    assert train(DCGAN, tmp_path / "a", "--max-steps", 2) == 0
    source = tmp_path / "a" / "checkpoint.npz"
    before = source.read_bytes()
    assert main(DCGAN, ["--resume", "--checkpoint", str(source), "--out", str(tmp_path / "b"),
                        "--max-steps", "4"]) == 0
    assert source.read_bytes() == before                   # the source run is untouched
    assert load_checkpoint(tmp_path / "b" / "checkpoint.npz")["step"] == 4
    assert_same_weights(tmp_path / "straight", tmp_path / "b")


def test_resume_from_elsewhere_into_an_out_holding_another_run_is_refused(tmp_path, capsys):
    assert train(DCGAN, tmp_path / "a", "--max-steps", 1) == 0
    assert train(DCGAN, tmp_path / "b", "--max-steps", 1) == 0
    capsys.readouterr()
    assert main(DCGAN, ["--resume", "--checkpoint", str(tmp_path / "a" / "checkpoint.npz"),
                        "--out", str(tmp_path / "b"), "--max-steps", "2"]) == 2
    assert "already holds a run" in capsys.readouterr().err


# --- nothing makes the loop spin without progress ---------------------------------------

def run_example(*args, timeout=120):
    """examples/mnist_dcgan.py in a subprocess that may not run past `timeout` seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(ROOT / "examples" / "mnist_dcgan.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.mark.parametrize("change", [["--batch-size", "128"], ["--train-size", "8"]],
                         ids=["larger-batch", "smaller-train-size"])
def test_resume_with_a_batch_that_no_longer_fits_stops_at_once(runs, tmp_path, change):
    """Once these looped forever, rewriting the checkpoint: now an error, within seconds."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes((runs["dcgan"] / "checkpoint.npz").read_bytes())
    options = SMALL + ["--d-steps", "2", "--seed", "3"]  # the run's own, but for `change`
    options[options.index(change[0]) + 1] = change[1]
    done = run_example("--resume", "--out", out, "--max-steps", 4, *options, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert f"{change[0]} is" in done.stderr and "in the checkpoint" in done.stderr


@pytest.mark.parametrize("options, expected", [
    (["--train-size", "8", "--batch-size", "16"],
     "--batch-size 16 is larger than the training set (8 images with --train-size)"),
    (["--batch-size", "60001"], "--batch-size 60001 is larger than the training set (60000 images)"),
], ids=["train-size", "all-of-mnist"])
def test_a_batch_larger_than_the_training_set_is_an_error_not_a_spin(tmp_path, options, expected):
    done = run_example("--out", tmp_path / "a", "--no-eval", *options, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and expected in done.stderr
    assert not (tmp_path / "a" / "checkpoint.npz").exists()

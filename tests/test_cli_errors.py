"""Every failure a user can cause from the command line is one `error: ...` line with
status 2, and leaves nothing half-written: a fresh run never replaces an old one, bad
files and folders, bad numbers, a missing GPU, options a model would ignore."""
import argparse
import errno
import gzip
import os
import sys
import types

import numpy as np
import pytest

import minigan as mg
from minigan import backend as _backend
from minigan.data import write_idx
from minigan.gan import (ACGAN, CGAN, CVAE, CVAEGAN, DCGAN, EBGAN, GAN, LAPGAN, VAE, WGAN,
                         WGANGP, InfoGAN)
from minigan.train import build_parser, load_checkpoint, main, read_steplog

from .helpers import needs_mnist

SMALL = ["--train-size", "32", "--batch-size", "16", "--no-eval", "--z-dim", "16"]
BOUNDED = [*SMALL, "--max-steps", "1"]  # should a check fail to stop a run, it stays short
MODELS = [DCGAN, CGAN, GAN, ACGAN, InfoGAN, WGAN, WGANGP, EBGAN, LAPGAN, VAE, CVAE, CVAEGAN]


def run(model_cls, out, *args):
    return main(model_cls, [*SMALL, "--out", str(out), *(str(a) for a in args)])


def one_error_line(capsys):
    """The stderr of the last call, checked to be exactly one `error: ` line."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and err.endswith(lines[0] + "\n"), err
    assert err.count("\n") == 1 or "\nerror: " in err, err  # progress lines may come first
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 2-step DCGAN run: its folder."""
    out = tmp_path_factory.mktemp("dcgan")
    assert run(DCGAN, out, "--max-steps", 2) == 0
    return out


def files_in(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, _, names in os.walk(folder) for f in names)


@needs_mnist
def test_generate_with_a_model_option_other_than_the_checkpoints_is_refused(trained, capsys):
    assert main(DCGAN, ["--out", str(trained), "--generate", "4", "--z-dim", "32"]) == 2
    assert one_error_line(capsys) == (
        "error: --generate samples the model the checkpoint holds: --z-dim is 16 in the "
        "checkpoint, not 32. Leave these options out")
    assert main(DCGAN, ["--out", str(trained), "--generate", "4", "--seed", "5"]) == 0


# --- a fresh run never destroys an old one -----------------------------------------------

@needs_mnist
def test_a_fresh_run_in_a_folder_holding_a_run_is_refused_and_changes_nothing(trained, capsys):
    before = {name: (trained / name).read_bytes() for name in files_in(trained)}
    capsys.readouterr()
    assert run(DCGAN, trained, "--max-steps", 1) == 2
    line = one_error_line(capsys)
    assert f"--out {trained} already holds a run (checkpoint.npz, log.jsonl" in line
    assert "--resume" in line and "--overwrite" in line and "another --out" in line
    assert {name: (trained / name).read_bytes() for name in files_in(trained)} == before


@needs_mnist
def test_a_folder_holding_only_a_step_log_is_a_run_too(tmp_path, capsys):
    (tmp_path / "log.jsonl").write_text('{"step": 1, "loss_d": 1.0}\n')
    assert run(DCGAN, tmp_path, "--max-steps", 1) == 2
    assert "already holds a run (log.jsonl)" in one_error_line(capsys)
    assert read_steplog(tmp_path / "log.jsonl") == [{"step": 1, "loss_d": 1.0}]


@needs_mnist
def test_overwrite_says_what_it_replaces_and_leaves_no_old_epoch_grid(tmp_path, capsys):
    assert run(DCGAN, tmp_path, "--epochs", 2) == 0      # 2 steps an epoch: two grids
    assert (tmp_path / "samples" / "epoch_002.png").exists()
    capsys.readouterr()
    assert run(DCGAN, tmp_path, "--epochs", 1, "--overwrite") == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "--overwrite" in line]
    assert said == [f"--overwrite: deleted the previous run's files in {tmp_path}: checkpoint.npz, "
                    "log.jsonl, progress.gif, losses.png, samples/*.png (3 files)"]
    assert sorted(os.listdir(tmp_path / "samples")) == ["epoch_001.png", "step_000000.png"]
    assert load_checkpoint(tmp_path / "checkpoint.npz")["step"] == 2
    assert [r["step"] for r in read_steplog(tmp_path / "log.jsonl")] == [1, 2]


def test_an_empty_out_is_refused(capsys):
    assert main(DCGAN, [*BOUNDED, "--out", ""]) == 2
    assert one_error_line(capsys) == "error: --out is empty: expected the folder to write the run to"


@needs_mnist
def test_overwrite_together_with_resume_of_the_same_run_is_refused(trained, capsys):
    assert main(DCGAN, ["--out", str(trained), "--resume", "--overwrite", "--max-steps", "3"]) == 2
    assert "--overwrite would delete the run" in one_error_line(capsys)


# --- the checkpoint on --resume ----------------------------------------------------------

def test_resume_without_a_checkpoint_says_where_it_looked(tmp_path, capsys):
    assert main(DCGAN, ["--out", str(tmp_path), "--resume"]) == 2
    assert one_error_line(capsys).startswith(f"error: no checkpoint at {tmp_path / 'checkpoint.npz'}")


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "folder"])
def test_resume_from_a_corrupt_checkpoint_is_one_line(trained, tmp_path, damage, capsys):
    path = tmp_path / "checkpoint.npz"
    if damage == "garbage":
        path.write_bytes(b"this is not a checkpoint\n" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        data = (trained / "checkpoint.npz").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.mkdir()
    assert main(DCGAN, ["--out", str(tmp_path / "new"), "--resume", "--checkpoint", str(path)]) == 2
    line = one_error_line(capsys)
    assert str(path) in line
    assert not (tmp_path / "new" / "checkpoint.npz").exists()


def test_an_npz_that_is_not_a_training_checkpoint_is_named(tmp_path, capsys):
    mg.save({"weights": np.zeros(3)}, tmp_path / "checkpoint.npz")
    assert main(DCGAN, ["--out", str(tmp_path), "--resume"]) == 2
    assert "is not a minigan training checkpoint (no 'model' entry)" in one_error_line(capsys)


@needs_mnist
@pytest.mark.parametrize("mode", ["--resume", "--generate"])
def test_another_models_checkpoint_is_refused_naming_both_models(trained, mode, capsys):
    argv = ["--out", str(trained), mode] + (["4"] if mode == "--generate" else [])
    assert main(GAN, argv) == 2
    assert one_error_line(capsys) == (
        f"error: {trained / 'checkpoint.npz'} holds a run of the model 'dcgan', not of this "
        "program's 'gan'")


@needs_mnist
def test_a_damaged_line_in_the_step_log_on_resume_is_named_and_nothing_is_trained(tmp_path, capsys):
    assert run(DCGAN, tmp_path, "--max-steps", 2) == 0
    log = tmp_path / "log.jsonl"
    lines = log.read_text().splitlines()
    lines[0] = lines[0][:20]                                # line 1 cut in the middle
    log.write_text("\n".join(lines) + "\n")
    checkpoint = (tmp_path / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(DCGAN, ["--out", str(tmp_path), "--resume", "--max-steps", "3"]) == 2
    line = one_error_line(capsys)
    assert f"{log}: expected one JSON object per line, line 1 is not" in line
    assert (tmp_path / "checkpoint.npz").read_bytes() == checkpoint
    assert log.read_text().splitlines() == lines


# --- --out that cannot be written --------------------------------------------------------

def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "file")]) == 2
    assert "is a file: expected a folder" in one_error_line(capsys)
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "file" / "run")]) == 2
    assert "a part of the path is a file, not a folder" in one_error_line(capsys)
    assert (tmp_path / "file").read_text() == "mine"


def test_a_read_only_out_is_one_line(tmp_path, monkeypatch, capsys):
    """Simulated (the suite may run as root, whom permissions do not stop): every file
    created in the folder fails as in a read-only one."""
    import tempfile

    def refuse(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", dir)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run")]) == 2
    assert one_error_line(capsys) == (
        f"error: --out {tmp_path / 'run'}: cannot write there (Permission denied)")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_read_only_out_is_one_line_for_real(tmp_path, capsys):
    (tmp_path / "ro").mkdir(mode=0o555)
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "ro")]) == 2
    assert "cannot write there (Permission denied)" in one_error_line(capsys)


@needs_mnist
def test_a_full_disk_during_a_checkpoint_save_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    assert run(DCGAN, tmp_path, "--epochs", 1) == 0
    good = (tmp_path / "checkpoint.npz").read_bytes()
    from minigan.serialization import npz as serialization

    def disk_full(archive, key, array):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serialization, "_write_array", disk_full)
    capsys.readouterr()
    assert main(DCGAN, ["--out", str(tmp_path), "--resume", "--epochs", "2"]) == 2
    assert one_error_line(capsys) == (
        f"error: could not write the checkpoint {tmp_path / 'checkpoint.npz'} (No space left "
        f"on device); the previous checkpoint {tmp_path / 'checkpoint.npz'} is kept")
    assert (tmp_path / "checkpoint.npz").read_bytes() == good
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


# --- numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize("option, value, expected", [
    ("--lr", "nan", "argument --lr: expected a positive finite number, got nan"),
    ("--lr", "inf", "argument --lr: expected a positive finite number, got inf"),
    ("--lr", "0", "argument --lr: expected a positive finite number, got 0"),
    ("--beta1", "1", "argument --beta1: expected a number in [0, 1), got 1"),
    ("--beta1", "-0.1", "argument --beta1: expected a number in [0, 1), got -0.1"),
    ("--beta1", "nan", "argument --beta1: expected a number in [0, 1), got nan"),
    ("--top-k", "0", "argument --top-k: expected a number in (0, 1], got 0"),
    ("--top-k", "1.5", "argument --top-k: expected a number in (0, 1], got 1.5"),
    ("--epochs", "0", "argument --epochs: expected an integer >= 1, got 0"),
    ("--max-steps", "-3", "argument --max-steps: expected an integer >= 1, got -3"),
    ("--generate", "0", "argument --generate: expected an integer >= 1, got 0"),
])
def test_bad_numbers_are_one_line_naming_the_option(tmp_path, option, value, expected, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run"), option, value])
    assert exit_status.value.code == 2
    assert capsys.readouterr().err == f"error: {expected} (see --help)\n"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("model_cls, option, value", [
    (WGANGP, "--beta2", "1.0"), (InfoGAN, "--g-lr", "nan"), (WGAN, "--clip", "inf"),
    (GAN, "--dropout", "1"), (EBGAN, "--pt-weight", "-1"), (CVAEGAN, "--kl-weight", "nan")])
def test_a_models_own_numbers_are_checked_too(tmp_path, model_cls, option, value, capsys):
    with pytest.raises(SystemExit):
        main(model_cls, [*BOUNDED, "--out", str(tmp_path / "run"), option, value])
    assert capsys.readouterr().err.startswith(f"error: argument {option}: expected")


# --- data --------------------------------------------------------------------------------

def test_a_data_folder_that_does_not_exist_is_an_error_not_a_fallback(tmp_path, capsys):
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run"), "--data", str(tmp_path / "nowhere")]) == 2
    assert one_error_line(capsys) == (
        f"error: --data {tmp_path / 'nowhere'}: no such folder (expected the folder holding "
        "the MNIST files)")
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def fake_mnist(folder, images=None, labels=None):
    """A --data folder holding the given train-images/labels .gz bytes (None: absent)."""
    folder.mkdir()
    if images is not None:
        (folder / "train-images-idx3-ubyte.gz").write_bytes(images)
    if labels is not None:
        (folder / "train-labels-idx1-ubyte.gz").write_bytes(labels)
    return folder


@pytest.mark.parametrize("case", ["missing", "truncated", "altered"])
def test_missing_truncated_or_altered_mnist_files_are_one_line(tmp_path, monkeypatch, case, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # an empty download cache
    wrong = gzip.compress(write_idx(np.zeros((10, 28, 28), np.uint8)))
    images = {"missing": None, "truncated": wrong[:40], "altered": wrong}[case]
    data = fake_mnist(tmp_path / "data", images=images)
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run"), "--data", str(data)]) == 2
    line = one_error_line(capsys)
    expected = {"missing": "train-images-idx3-ubyte(.gz) was not found in any of "
                           f"{data}, {data / 'mnist'}",
                "truncated": "train-images-idx3-ubyte.gz: not a valid gzip file",
                "altered": "expected train-images-idx3-ubyte content of 47040016 bytes"}[case]
    assert expected in line
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


# --- the GPU backend without a GPU -------------------------------------------------------

def test_backend_cupy_without_cupy_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delitem(_backend._backends, "cupy", raising=False)
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run"), "--backend", "cupy"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: --backend cupy: backend 'cupy' needs CuPy and an NVIDIA GPU")
    assert not (tmp_path / "run").exists()


def test_backend_cupy_with_no_gpu_is_one_line(tmp_path, monkeypatch, capsys):
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device))
    monkeypatch.delitem(_backend._backends, "cupy", raising=False)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run"), "--backend", "cupy"]) == 2
    assert "no CUDA-capable device is detected" in one_error_line(capsys)
    assert mg.get_backend().name == "numpy"


# --- combinations that would ignore an option --------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["--resume", "--generate", "4"], "--resume trains; --generate and --interpolate only sample"),
    (["--overwrite", "--interpolate"], "--overwrite starts a new training run"),
    (["--nice"], "--nice chooses what --generate N writes: add --generate N"),
    (["--checkpoint", "x.npz"], "--checkpoint is read by --resume, --generate and --interpolate"),
])
def test_options_that_would_be_ignored_together_are_refused(tmp_path, argv, expected, capsys):
    assert main(DCGAN, [*BOUNDED, "--out", str(tmp_path / "run"), *argv]) == 2
    assert expected in one_error_line(capsys)


# --- --help and the options each model is offered ----------------------------------------

@pytest.mark.parametrize("model_cls", MODELS, ids=[m.name for m in MODELS])
def test_help_shows_the_default_of_every_option(model_cls):
    parser = build_parser(model_cls)
    text = " ".join(parser.format_help().split())  # undo the line wrapping
    for action in parser._actions:
        if action.dest == "help":
            continue
        assert action.help, action.option_strings
        if action.default is argparse.SUPPRESS:  # --eval: the other half of --no-eval
            assert "the default" in action.help
        else:
            assert f"{' '.join(action.help.split())} (default: {action.default})" in text, \
                action.option_strings


def test_options_a_model_ignores_are_not_offered():
    offered = {m.name: {a.dest for a in build_parser(m)._actions} for m in MODELS}
    assert "beta1" not in offered["wgan"]                    # RMSprop has no beta1
    assert "beta1" in offered["wgan_gp"] and "beta2" in offered["wgan_gp"]
    for name in ("vae", "cvae"):                             # one optimizer, no discriminator
        assert "d_steps" not in offered[name] and "nice" not in offered[name]
    assert "digit" not in offered["dcgan"] and "digit" in offered["cgan"]


@pytest.mark.parametrize("model_cls", MODELS, ids=[m.name for m in MODELS])
def test_a_model_reads_no_shared_option_it_was_not_offered(model_cls):
    """Built and stepped with exactly the options its program offers: an option it reads
    but did not declare (common_options) would be a KeyError here."""
    config = vars(build_parser(model_cls).parse_args(["--z-dim", "8"]))
    mg.manual_seed(0)
    model = model_cls(config)
    real = mg.tensor(np.random.default_rng(0).uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32))
    labels = mg.tensor(np.arange(4, dtype=np.int64))
    for step in (1, 2):
        metrics = model.train_step(real, labels, step)
        assert all(np.isfinite(v) for v in metrics.values())
    has_score = model.score(real, labels if model.conditional else None) is not None
    assert has_score == ("nice" in model_cls.common_options)

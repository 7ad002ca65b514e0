"""Ctrl-C and SIGTERM save a checkpoint at the current step; --resume then gives the
uninterrupted run bit for bit. A second Ctrl-C during that save keeps the old
checkpoint; a killed save leaves a temporary file that the next start removes.

The signals go to a real training program in a subprocess at a random step (the
step is in the failure message); the second Ctrl-C and kill -9 are timed into
the save itself by wrapping the atomic write.
"""
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minigan.serialization
from minigan._atomic import stale_temporaries
from minigan.gan import DCGAN
from minigan.train import load_checkpoint, read_steplog

from .helpers import checkpoint_weights, needs_mnist, run_program

pytestmark = needs_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--train-size", "128", "--batch-size", "16", "--no-eval", "--z-dim", "16"]  # 8 steps/epoch
MESSAGE = re.compile(r"interrupted at epoch (\d+) step (\d+); checkpoint saved; --resume continues")


def run(out, *args):
    return run_program(DCGAN, out, *args, options=TINY)


def program(out, *args):
    """The DCGAN program in a subprocess, as a user starts it. Its BLAS threads are this
    process's (the environment's): a float32 GEMM on 1 thread and on 2 may round
    differently, and the runs it is compared with run here."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "examples", "mnist_dcgan.py"), *TINY,
         "--out", str(out), *map(str, args)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_steps(out, k, process, timeout=120):
    log = os.path.join(out, "log.jsonl")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the program ended before step {k}: {process.stderr.read()}")
        if os.path.exists(log):
            with open(log) as f:
                if f.read().count("\n") >= k:
                    return
        time.sleep(0.01)
    raise AssertionError(f"no step {k} within {timeout} s")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run of 2 epochs (16 steps) that every interrupted one must match."""
    out = tmp_path_factory.mktemp("straight")
    assert run(out, "--epochs", "2") == 0
    return out


def assert_same_weights(a, b):
    a, b = checkpoint_weights(a), checkpoint_weights(b)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_epoch_saves_the_step_and_resume_matches_the_uninterrupted_run_bit_for_bit(
        tmp_path, straight, signum, status):
    k = random.randrange(2, 9)  # of 16 steps; the signal lands at step k or a little later
    stopped = tmp_path / "stopped"
    process = program(stopped, "--epochs", "2")
    wait_for_steps(stopped, k, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, f"signal at step {k}: {err}"
    last = err.strip().splitlines()[-1]
    match = MESSAGE.fullmatch(last)
    assert match, f"signal at step {k}, last line: {last!r}"
    epoch, step = int(match.group(1)), int(match.group(2))
    assert k <= step < 16 and epoch == (step - 1) // 8 + 1, (k, last)
    assert "Traceback" not in err
    state = load_checkpoint(stopped / "checkpoint.npz")
    assert (state["step"], 8 * state["epoch"] + state["batch"]) == (step, step)
    assert [r["step"] for r in read_steplog(stopped / "log.jsonl")] == list(range(1, step + 1))
    grid = f"epoch_{epoch:03d}.png" if step % 8 == 0 else f"step_{step:06d}.png"
    assert (stopped / "samples" / grid).exists()  # the picture at the stop
    assert stale_temporaries(stopped) == []

    assert run(stopped, "--epochs", "2", "--resume") == 0
    assert_same_weights(straight, stopped)
    assert [r["step"] for r in read_steplog(stopped / "log.jsonl")] == list(range(1, 17))


def interrupt_at(step_to_stop, second_during=None):
    """A DCGAN.train_step that sends this process SIGINT after step `step_to_stop`, and an
    atomic_write that sends a second SIGINT halfway through writing `second_during`."""
    original_step = DCGAN.train_step
    original_write = minigan.serialization.npz.atomic_write

    def train_step(self, real, labels, step):
        metrics = original_step(self, real, labels, step)
        if step == step_to_stop:
            os.kill(os.getpid(), signal.SIGINT)
        return metrics

    @contextlib.contextmanager
    def atomic_write(path, mode="wb"):
        with original_write(path, mode) as f:
            yield f
            if second_during and path.endswith(second_during):
                f.write(b"half of it")
                os.kill(os.getpid(), signal.SIGINT)  # the handler raises here, mid-save
                time.sleep(1)
                raise AssertionError("the second SIGINT did not stop the save")

    return train_step, atomic_write


def test_a_second_ctrl_c_during_the_save_keeps_the_previous_checkpoint_and_its_temporary_is_removed(
        tmp_path, straight, monkeypatch, capsys):
    out = tmp_path / "run"
    assert run(out, "--epochs", "1") == 0
    before = (out / "checkpoint.npz").read_bytes()
    train_step, atomic_write = interrupt_at(11, second_during="checkpoint.npz")
    monkeypatch.setattr(DCGAN, "train_step", train_step)
    monkeypatch.setattr(minigan.serialization.npz, "atomic_write", atomic_write)
    capsys.readouterr()
    assert run(out, "--epochs", "2", "--resume") == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"interrupted at epoch 2 step 11; a second interrupt stopped it before saving; the "
        f"previous checkpoint {out / 'checkpoint.npz'} (epoch 1, step 8) is kept and --resume "
        "continues from it")
    assert (out / "checkpoint.npz").read_bytes() == before
    assert stale_temporaries(out) == [] and stale_temporaries(out / "samples") == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers put back

    monkeypatch.undo()
    assert run(out, "--epochs", "2", "--resume") == 0
    assert_same_weights(straight, out)


def test_a_second_ctrl_c_in_the_middle_of_a_step_names_the_last_step_done_and_saves_nothing(
        tmp_path, monkeypatch, capsys):
    original = DCGAN.train_step

    def train_step(self, real, labels, step):
        if step == 5:
            os.kill(os.getpid(), signal.SIGINT)  # the first: stop after this step
            os.kill(os.getpid(), signal.SIGINT)  # the second: now, halfway through step 5
        return original(self, real, labels, step)

    monkeypatch.setattr(DCGAN, "train_step", train_step)
    assert run(tmp_path, "--epochs", "1") == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "interrupted at epoch 1 step 4; a second interrupt stopped it before saving; "
        "no checkpoint was written")
    assert not (tmp_path / "checkpoint.npz").exists()
    assert stale_temporaries(tmp_path) == []


def test_ctrl_c_in_process_at_an_epoch_end_saves_that_epoch(tmp_path, monkeypatch, capsys):
    train_step, _ = interrupt_at(8)
    monkeypatch.setattr(DCGAN, "train_step", train_step)
    assert run(tmp_path, "--epochs", "3") == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "interrupted at epoch 1 step 8; checkpoint saved; --resume continues")
    state = load_checkpoint(tmp_path / "checkpoint.npz")
    assert (state["epoch"], state["batch"], state["step"]) == (1, 0, 8)
    assert (tmp_path / "samples" / "epoch_001.png").exists()
    assert not (tmp_path / "samples" / "step_000008.png").exists()  # one grid per step


KILLED_SAVE = textwrap.dedent("""
    import contextlib, os, signal, sys
    import minigan.serialization
    from minigan.gan import DCGAN
    from minigan.train import main
    original = minigan.serialization.npz.atomic_write

    @contextlib.contextmanager
    def atomic_write(path, mode="wb"):
        with original(path, mode) as f:
            yield f
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # kill -9 in the middle of the save

    minigan.serialization.npz.atomic_write = atomic_write
    sys.exit(main(DCGAN, sys.argv[1:]))
""")


def test_kill_9_during_a_save_leaves_a_temporary_that_the_next_start_removes(
        tmp_path, straight, capsys):
    out = tmp_path / "run"
    assert run(out, "--epochs", "1") == 0
    before = (out / "checkpoint.npz").read_bytes()
    env = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1"}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, *TINY, "--out", str(out), "--epochs", "2",
         "--resume"], env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    leftovers = stale_temporaries(out)
    assert [os.path.basename(p).startswith(".checkpoint.npz.") for p in leftovers] == [True]
    assert (out / "checkpoint.npz").read_bytes() == before  # the old one is untouched
    capsys.readouterr()

    assert run(out, "--epochs", "2", "--resume") == 0
    err = capsys.readouterr().err
    assert f"removed 1 temporary file(s) left by an interrupted write: " \
           f"{os.path.basename(leftovers[0])}" in err
    assert stale_temporaries(out) == []
    assert_same_weights(straight, out)


def test_a_start_removes_only_the_temporary_files_of_atomic_writes(tmp_path, capsys):
    out = tmp_path
    assert run(out, "--epochs", "1") == 0
    stale = [out / ".checkpoint.npz.k1ll3d_x.tmp", out / "samples" / ".step_000004.png.abcd1234.tmp",
             out / ".progress.gif.zz99_0aa.tmp"]
    kept = [out / "notes.tmp", out / ".hidden", out / ".x.tmp", out / "samples" / "mine.png.tmp"]
    for path in stale + kept:
        path.write_bytes(b"left over")
    capsys.readouterr()
    assert run(out, "--epochs", "2", "--resume") == 0
    assert "removed 3 temporary file(s)" in capsys.readouterr().err
    assert [p.exists() for p in stale] == [False] * 3
    assert [p.exists() for p in kept] == [True] * 4

"""Something to look at early, and an honest clock: the fixed-z grid at the start, every
--sample-every steps, at every epoch's end and wherever a run stops, the GIF in step
order, and a progress line with the epoch's and the run's time left."""
import io

import numpy as np
import pytest
from PIL import Image

from minigan.gan import DCGAN
from minigan.train import ProgressBar, build_parser
from minigan.train.trainer import SAMPLE_EVERY

from .helpers import needs_mnist, run_program

TINY = ["--train-size", "128", "--batch-size", "16", "--no-eval", "--z-dim", "16"]  # 8 steps/epoch


def run(out, *args):
    return run_program(DCGAN, out, *args, options=TINY)


def grids(out):
    return sorted(p.name for p in (out / "samples").iterdir())


def gif_frames(path):
    with Image.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.array(gif.convert("L")))
    return frames


@needs_mnist
def test_grids_at_the_start_every_n_steps_every_epoch_end_and_where_max_steps_stops(tmp_path):
    assert run(tmp_path, "--epochs", "3", "--max-steps", "13", "--sample-every", "5") == 0
    # step 0, 5, 8 (epoch 1's end), 10, and 13 where --max-steps stopped it
    assert grids(tmp_path) == ["epoch_001.png", "step_000000.png", "step_000005.png",
                               "step_000010.png", "step_000013.png"]
    frames = gif_frames(tmp_path / "progress.gif")
    in_step_order = ["step_000000.png", "step_000005.png", "epoch_001.png", "step_000010.png",
                     "step_000013.png"]
    assert len(frames) == 5
    for frame, name in zip(frames, in_step_order):
        np.testing.assert_array_equal(
            frame, np.array(Image.open(tmp_path / "samples" / name).convert("L")), err_msg=name)
    assert (tmp_path / "losses.png").exists()


@needs_mnist
def test_an_epoch_end_on_a_sampling_step_draws_one_grid_and_zero_means_no_periodic_grids(tmp_path):
    assert run(tmp_path / "a", "--epochs", "2", "--sample-every", "4") == 0
    assert grids(tmp_path / "a") == ["epoch_001.png", "epoch_002.png", "step_000000.png",
                                     "step_000004.png", "step_000012.png"]
    assert run(tmp_path / "b", "--epochs", "1", "--max-steps", "6", "--sample-every", "0") == 0
    assert grids(tmp_path / "b") == ["step_000000.png", "step_000006.png"]


@needs_mnist
def test_a_resumed_run_continues_the_pictures_without_redrawing_the_start(tmp_path):
    assert run(tmp_path, "--epochs", "2", "--max-steps", "3", "--sample-every", "5") == 0
    assert grids(tmp_path) == ["step_000000.png", "step_000003.png"]
    start = (tmp_path / "samples" / "step_000000.png").stat().st_mtime_ns
    assert run(tmp_path, "--epochs", "2", "--max-steps", "16", "--sample-every", "5",
               "--resume") == 0
    assert grids(tmp_path) == ["epoch_001.png", "epoch_002.png", "step_000000.png",
                               "step_000003.png", "step_000005.png", "step_000010.png",
                               "step_000015.png"]
    assert (tmp_path / "samples" / "step_000000.png").stat().st_mtime_ns == start
    assert len(gif_frames(tmp_path / "progress.gif")) == 7


@needs_mnist
def test_resume_removes_the_grids_of_steps_it_computes_again(tmp_path):
    assert run(tmp_path, "--epochs", "1", "--max-steps", "3") == 0
    (tmp_path / "samples" / "step_000006.png").write_bytes(b"from a run killed at step 6")
    (tmp_path / "samples" / "epoch_001.png").write_bytes(b"from a run killed at step 8")
    assert run(tmp_path, "--epochs", "1", "--max-steps", "4", "--resume") == 0
    assert grids(tmp_path) == ["step_000000.png", "step_000003.png", "step_000004.png"]


@needs_mnist
def test_the_training_progress_line_shows_the_epoch_and_the_run_eta(tmp_path, capsys):
    assert run(tmp_path, "--epochs", "2", "--max-steps", "12") == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("epoch ")]
    assert lines and all(" epoch ETA " in line and " run ETA " in line for line in lines)
    assert lines[-1].startswith("epoch 2/2 step 4/8") and lines[-1].endswith("run ETA 0:00")


def test_sample_every_defaults_to_a_first_trained_grid_within_a_minute_and_rejects_negatives(capsys):
    parser = build_parser(DCGAN)
    assert parser.parse_args([]).sample_every == SAMPLE_EVERY == 100  # about 40 s at 0.4 s/step
    assert parser.parse_args(["--sample-every", "0"]).sample_every == 0
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--sample-every", "-1"])
    assert stop.value.code == 2
    assert "--sample-every: expected 0 (never) or more steps, got -1" in capsys.readouterr().err
    assert "|loss| > 1e6" in parser.format_help() and "|w| > 1e8" in parser.format_help()


# ---- the progress bar's two clocks ----------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def bar_line(steps_done, seconds, **options):
    clock, out = FakeClock(), io.StringIO()
    bar = ProgressBar(stream=out, interactive=True, clock=clock, **options)
    clock.now += seconds
    bar.update(steps_done)
    return out.getvalue()


def test_progress_line_labels_the_epochs_and_the_whole_runs_time_left():
    # epoch 2 of 5, 100 steps each: 25 done in 10 s = 2.5 steps/s; 75 left in the
    # epoch = 30 s; the run has 500 - 100 - 25 = 375 left = 150 s
    text = bar_line(25, 10.0, total_steps=100, epoch=2, num_epochs=5,
                    run_total_steps=500, run_step_offset=100)
    assert text.rstrip().endswith("2.5 steps/s epoch ETA 0:30 run ETA 2:30")


def test_progress_line_of_a_run_stopping_mid_epoch_ends_both_clocks_there():
    # --max-steps 130 in epoch 2 (steps 101-200): 5 steps left, 2 s at 2.5 steps/s
    text = bar_line(25, 10.0, total_steps=100, epoch=2, num_epochs=5,
                    run_total_steps=130, run_step_offset=100)
    assert text.rstrip().endswith("epoch ETA 0:02 run ETA 0:02")


def test_progress_pace_of_an_epoch_resumed_mid_way_counts_only_the_steps_it_timed():
    # resumed at step 50: 10 steps in 10 s is 1 step/s, not 60 steps in 10 s
    text = bar_line(60, 10.0, total_steps=100, epoch=1, num_epochs=1, first_step=50,
                    run_total_steps=100, run_step_offset=0)
    assert text.rstrip().endswith("1 steps/s epoch ETA 0:40 run ETA 0:40")


def test_progress_line_without_a_run_total_shows_only_the_epoch_eta():
    text = bar_line(25, 10.0, total_steps=100, epoch=1, num_epochs=1)
    assert text.rstrip().endswith("epoch ETA 0:30") and "run ETA" not in text
    assert bar_line(0, 0.0, total_steps=5, epoch=1, num_epochs=1,
                    run_total_steps=5).rstrip().endswith("epoch ETA ? run ETA ?")

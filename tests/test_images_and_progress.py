"""What the training programs show: image grids, GIFs, loss plots, the progress bar, the step log."""
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from minigan.viz import make_grid, moving_average, nice_ticks, plot_losses, save_gif, save_grid
from minigan.train import format_duration, format_metric, ProgressBar, read_steplog, StepLog


# ---- make_grid -------------------------------------------------------------------------------

def constant_images(values, channels=1, size=2):
    """(N, channels, size, size) images, image i filled with values[i]."""
    return np.array(values, dtype=np.float32)[:, None, None, None] * np.ones((1, channels, size, size))


def test_make_grid_of_four_2x2_images_in_two_rows_has_padding_between_and_around():
    images = constant_images([-1.0, 0.0, 1.0, 0.5])
    grid = make_grid(images, nrow=2, padding=1, pad_value=1.0)
    # 2 rows * (2 + 1) + 1 = 7 both ways; white padding, values laid out row by row.
    assert grid.shape == (7, 7) and grid.dtype == np.uint8
    expected = np.array([
        [255, 255, 255, 255, 255, 255, 255],
        [255,   0,   0, 255, 128, 128, 255],
        [255,   0,   0, 255, 128, 128, 255],
        [255, 255, 255, 255, 255, 255, 255],
        [255, 255, 255, 255, 191, 191, 255],
        [255, 255, 255, 255, 191, 191, 255],
        [255, 255, 255, 255, 255, 255, 255],
    ], dtype=np.uint8)
    np.testing.assert_array_equal(grid, expected)


def test_make_grid_maps_minus_one_to_0_and_one_to_255_and_clips_beyond():
    grid = make_grid(constant_images([-3.0, -1.0, 1.0, 7.0]), nrow=4, padding=0)
    np.testing.assert_array_equal(grid[0, ::2], [0, 0, 255, 255])


def test_make_grid_default_padding_is_black_two_pixels():
    grid = make_grid(constant_images([1.0]), padding=2)
    assert grid.shape == (6, 6)
    assert grid[:2].max() == 0 and grid[:, :2].max() == 0 and grid[2:4, 2:4].min() == 255


def test_make_grid_with_fewer_images_than_nrow_is_one_row_as_wide_as_the_images():
    grid = make_grid(np.zeros((3, 1, 28, 28)), nrow=8, padding=2)
    assert grid.shape == (28 + 4, 3 * 30 + 2)


def test_make_grid_leaves_unused_cells_of_the_last_row_as_padding():
    grid = make_grid(constant_images([1.0, 1.0, 1.0]), nrow=2, padding=1)
    assert grid.shape == (7, 7)
    assert grid[4:6, 4:6].max() == 0  # fourth cell: no image, padding colour


def test_make_grid_of_rgb_images_puts_channels_last():
    images = np.zeros((2, 3, 4, 5), dtype=np.float32)
    images[:, 0] = 1.0  # pure red
    grid = make_grid(images, nrow=2, padding=0)
    assert grid.shape == (4, 10, 3)
    np.testing.assert_array_equal(grid[0, 0], [255, 128, 128])


def test_make_grid_draws_nan_black():
    grid = make_grid(constant_images([float("nan")]), padding=0)
    assert grid.max() == 0


@pytest.mark.parametrize("shape", [(28, 28), (4, 28, 28), (4, 2, 28, 28)])
def test_make_grid_error_names_expected_and_actual_shape(shape):
    with pytest.raises(ValueError) as error:
        make_grid(np.zeros(shape))
    assert str(error.value) == ("make_grid: expected images of shape (N, C, H, W) "
                                f"with C in (1, 3), got {shape}")


def test_make_grid_rejects_an_empty_batch_and_a_bad_nrow():
    with pytest.raises(ValueError, match="at least one image"):
        make_grid(np.zeros((0, 1, 28, 28)))
    with pytest.raises(ValueError, match="nrow >= 1"):
        make_grid(np.zeros((2, 1, 28, 28)), nrow=0)


# ---- PNG and GIF files -----------------------------------------------------------------------

def test_save_grid_writes_a_png_upscaled_by_nearest_neighbour(tmp_path):
    path = tmp_path / "samples" / "epoch_001.png"
    save_grid(constant_images([-1.0, 1.0], size=28), path, nrow=2, scale=3)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert image.size == ((2 * 30 + 2) * 3, 32 * 3)
        pixels = np.asarray(image)
    np.testing.assert_array_equal(pixels[::3, ::3], make_grid(constant_images([-1.0, 1.0], size=28)))
    assert list(tmp_path.joinpath("samples").iterdir()) == [path]  # no temporary file left


def test_save_grid_rejects_a_fractional_scale(tmp_path):
    with pytest.raises(ValueError, match="whole number scale"):
        save_grid(np.zeros((1, 1, 4, 4)), tmp_path / "x.png", scale=1.5)


def test_save_gif_has_one_frame_per_png_and_holds_the_last_longer(tmp_path):
    paths = []
    for i, value in enumerate([-1.0, 0.0, 1.0]):
        paths.append(save_grid(constant_images([value] * 4), tmp_path / f"e{i}.png", nrow=2))
    gif = save_gif(paths, tmp_path / "training.gif", duration_ms=200)
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == 3
        durations = []
        for frame in range(image.n_frames):
            image.seek(frame)
            durations.append(image.info["duration"])
    assert durations == [200, 200, 1000]


def test_save_gif_errors_on_no_frames_and_on_frames_of_different_sizes(tmp_path):
    with pytest.raises(ValueError, match="at least one PNG"):
        save_gif([], tmp_path / "a.gif")
    small = save_grid(np.zeros((1, 1, 4, 4)), tmp_path / "small.png")
    large = save_grid(np.zeros((1, 1, 8, 8)), tmp_path / "large.png")
    with pytest.raises(ValueError, match="expected every frame to be 8x8"):
        save_gif([small, large], tmp_path / "a.gif")


# ---- loss plot -------------------------------------------------------------------------------

def test_plot_losses_writes_a_png_from_records_with_nan_and_missing_values(tmp_path):
    records = [{"step": s, "loss_d": 1.0 / s, "loss_g": 2.0 + math.sin(s)} for s in range(1, 101)]
    records[10]["loss_d"] = float("nan")
    records[20]["loss_g"] = float("inf")
    del records[30]["loss_g"]
    path = plot_losses(records, tmp_path / "losses.png", title="DCGAN")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (900, 500)
        colours = {c for _, c in image.getcolors(maxcolors=100000)}
    assert (31, 119, 180) in colours and (214, 39, 40) in colours  # both lines are drawn


def test_plot_losses_draws_empty_axes_when_nothing_is_finite(tmp_path):
    path = plot_losses([{"step": 1, "loss_d": float("nan")}], tmp_path / "empty.png")
    with Image.open(path) as image:
        assert image.size == (900, 500)


def test_plot_losses_error_names_the_record_without_a_step(tmp_path):
    with pytest.raises(ValueError, match="record 1 has keys"):
        plot_losses([{"step": 1, "loss_d": 1.0}, {"loss_d": 2.0}], tmp_path / "x.png")


def test_moving_average_is_trailing_and_averages_what_exists_at_the_start():
    np.testing.assert_allclose(moving_average(np.array([2.0, 4.0, 6.0, 8.0]), 2), [2, 3, 5, 7])


def test_nice_ticks_are_round_numbers_covering_the_range():
    assert nice_ticks(0.13, 2.9) == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    assert nice_ticks(1, 1000) == pytest.approx([0, 200, 400, 600, 800, 1000])


# ---- progress bar ----------------------------------------------------------------------------

class FakeClock:
    """A clock a test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_line_shows_epoch_step_metrics_images_per_second_and_eta():
    clock, out = FakeClock(), io.StringIO()
    bar = ProgressBar(100, epoch=2, num_epochs=5, stream=out, batch_size=64,
                      interactive=True, clock=clock)
    clock.now += 10.0  # 25 steps in 10 s: 2.5 steps/s, 160 images/s, 75 steps left = 30 s
    bar.update(25, loss_d=0.693147, loss_g=np.float32(1.23456), **{"D(x)": 0.5, "D(G(z))": 0.25})
    text = out.getvalue()
    assert text.startswith("\repoch 2/5 step 25/100 [")
    for part in ["25%", "loss_d=0.6931", "loss_g=1.235", "D(x)=0.5", "D(G(z))=0.25",
                 "160 img/s", "ETA 0:30"]:
        assert part in text
    assert "\n" not in text


def test_progress_bar_rate_limits_redraws_but_always_draws_the_last_step():
    clock, out = FakeClock(), io.StringIO()
    bar = ProgressBar(10, 1, 1, stream=out, interactive=True, min_interval=0.1, clock=clock)
    for step in range(1, 11):
        clock.now += 0.01  # 100 steps per second: far faster than a terminal should redraw
        bar.update(step, loss=step)
    bar.close()
    lines = out.getvalue().split("\r")[1:]
    assert len(lines) == 2  # step 1 (first update), then step 10 (final); none between
    assert "step 1/10" in lines[0] and "step 10/10" in lines[1] and lines[1].endswith("\n")
    assert "steps/s" in lines[1]  # no batch_size given: throughput in steps


def test_progress_bar_close_shows_a_step_held_back_by_rate_limiting():
    clock, out = FakeClock(), io.StringIO()
    bar = ProgressBar(10, 1, 1, stream=out, interactive=True, clock=clock)
    bar.update(1)
    bar.update(2)  # same instant: held back
    bar.close()
    assert out.getvalue().split("\r")[-1].startswith("epoch 1/1 step 2/10")


def test_progress_bar_reads_metric_values_only_for_lines_it_shows():
    class DeviceScalar:
        """Stands in for a GPU scalar: reading it (.item()) waits for the device."""
        reads = 0

        def item(self):
            DeviceScalar.reads += 1
            return 0.5

    clock, out = FakeClock(), io.StringIO()
    bar = ProgressBar(100, 1, 1, stream=out, interactive=True, clock=clock)
    for step in range(1, 51):  # all at one instant: only the first is drawn
        bar.update(step, loss_d=DeviceScalar())
    assert DeviceScalar.reads == 1
    bar.close()
    assert DeviceScalar.reads == 2 and "step 50/100" in out.getvalue()


def test_progress_bar_blanks_the_rest_of_a_longer_previous_line():
    clock, out = FakeClock(), io.StringIO()
    bar = ProgressBar(10, 1, 1, stream=out, interactive=True, min_interval=0, clock=clock)
    bar.update(1, note="a long message here")
    first = out.getvalue()
    bar.update(2)
    second = out.getvalue()[len(first):]
    assert len(second) == len(first)


def test_progress_bar_on_a_stream_that_is_not_a_terminal_prints_plain_lines_every_n_steps():
    clock, out = FakeClock(), io.StringIO()  # StringIO.isatty() is False, as for a log file
    bar = ProgressBar(25, 1, 3, stream=out, batch_size=8, log_every=10, clock=clock)
    for step in range(1, 26):
        clock.now += 0.5
        bar.update(step, loss_d=1.0)
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert [line.split()[3] for line in lines] == ["10/25", "20/25", "25/25"]
    # 2 steps/s: 15 steps left = 7.5 s, 5 left = 2.5 s, shown rounded up.
    assert "16 img/s" in lines[0] and "ETA 0:08" in lines[0] and "ETA 0:03" in lines[1]
    assert "ETA 0:00" in lines[2]


def test_progress_bar_shows_eta_unknown_before_time_has_passed():
    out = io.StringIO()
    bar = ProgressBar(5, 1, 1, stream=out, interactive=True, clock=FakeClock())
    bar.update(0)
    assert "ETA ?" in out.getvalue()


def test_format_helpers():
    assert format_duration(41.2) == "0:42" and format_duration(3725) == "1:02:05"
    assert format_metric(0.693147) == "0.6931" and format_metric(np.int64(7)) == "7"
    assert format_metric(float("nan")) == "nan" and format_metric(np.array(2.5)) == "2.5"


# ---- step log --------------------------------------------------------------------------------

def test_step_log_round_trip_converts_numpy_scalars_and_keeps_nan_and_inf(tmp_path):
    path = tmp_path / "run" / "steps.jsonl"
    with StepLog(path) as log:
        log.append({"step": np.int64(1), "loss_d": np.float32(0.5), "real": np.bool_(True)})
        log.append({"step": 2, "loss_d": float("nan"), "loss_g": float("inf"), "phase": "warmup"})
    records = read_steplog(path)
    assert records[0] == {"step": 1, "loss_d": 0.5, "real": True}
    assert type(records[0]["step"]) is int and type(records[0]["loss_d"]) is float
    assert math.isnan(records[1]["loss_d"]) and records[1]["loss_g"] == math.inf
    assert records[1]["phase"] == "warmup"


def test_step_log_lines_are_on_disk_before_the_log_is_closed(tmp_path):
    log = StepLog(tmp_path / "steps.jsonl")
    log.append({"step": 1, "loss_d": 1.0})
    assert read_steplog(tmp_path / "steps.jsonl") == [{"step": 1, "loss_d": 1.0}]
    log.close()


def test_read_steplog_skips_a_truncated_last_line(tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"step": 1, "loss_d": 1.0}\n{"step": 2, "loss_d": 0.9}\n{"step": 3, "lo')
    assert [r["step"] for r in read_steplog(path)] == [1, 2]


def test_read_steplog_raises_on_a_broken_line_in_the_middle(tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"step": 1}\n{"step": 2\n{"step": 3}\n')
    with pytest.raises(ValueError, match="line 2 is not"):
        read_steplog(path)


def test_step_log_continues_a_log_after_removing_its_truncated_last_line(tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"st')
    with StepLog(path) as log:
        log.append({"step": 3})
    assert read_steplog(path) == [{"step": 1}, {"step": 2}, {"step": 3}]


def test_step_log_keeps_a_complete_last_line_that_only_lacks_its_newline(tmp_path):
    path = tmp_path / "steps.jsonl"
    path.write_text('{"step": 1}')
    with StepLog(path) as log:
        log.append({"step": 2})
    assert read_steplog(path) == [{"step": 1}, {"step": 2}]


def test_truncate_after_removes_steps_that_will_be_recomputed_on_resume(tmp_path):
    path = tmp_path / "steps.jsonl"
    with StepLog(path) as log:
        for step in range(1, 8):
            log.append({"step": step, "loss_d": step / 10})
        assert log.truncate_after(4) == 3
        log.append({"step": 5, "loss_d": 0.55})  # the resumed run logs step 5 again
    steps = [r["step"] for r in read_steplog(path)]
    assert steps == [1, 2, 3, 4, 5]
    assert json.loads(path.read_text().splitlines()[-1])["loss_d"] == 0.55


def test_step_log_append_error_names_the_missing_step(tmp_path):
    with StepLog(tmp_path / "steps.jsonl") as log:
        with pytest.raises(ValueError, match="expected a dict with a 'step' entry, got \\['loss_d'\\]"):
            log.append({"loss_d": 1.0})
        with pytest.raises(TypeError, match="expected numbers, strings"):
            log.append({"step": 1, "model": object()})

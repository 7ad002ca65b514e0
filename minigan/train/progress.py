"""A one-line progress bar for the training loop, written to the terminal.

In a terminal the line is redrawn in place with a carriage return:

    epoch 3/25 step 120/469 [#######-----------------------]  26% loss_d=0.6931
    loss_g=1.234 D(x)=0.5123 D(G(z))=0.4877 1523 img/s epoch ETA 0:42 run ETA 9:40

(one line on screen; wrapped here). "epoch ETA" is the time left in this epoch,
"run ETA" the time left in the whole run (every remaining epoch, or up to
--max-steps), both at the pace measured so far in this epoch. When the output is not a terminal (a log
file, CI) carriage returns would pile up into one enormous line, so a plain
line is printed every `log_every` steps instead.
"""
import math
import numbers
import sys
import time


def format_duration(seconds):
    """Seconds, rounded up, as m:ss or from one hour on h:mm:ss: 41.2 -> '0:42', 3725 -> '1:02:05'.

    Rounding up means a time left shows 0:00 only when nothing is left.
    """
    seconds = math.ceil(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def format_metric(value):
    """A number to 4 significant digits (0.69314 -> '0.6931'), an integer whole, else str."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):  # also NumPy integers, which register as Integral
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    if hasattr(value, "item"):  # 0-d arrays, CuPy scalars, one-element Tensors
        return format_metric(value.item())
    return str(value)


class ProgressBar:
    """Progress of one epoch: epoch e/E, step s/S, a bar, metrics, throughput and ETAs.

    bar = ProgressBar(total_steps=469, epoch=1, num_epochs=25, batch_size=128)
    for step, batch in enumerate(loader, start=1):
        ...
        bar.update(step, loss_d=loss_d, loss_g=loss_g, **{"D(x)": d_x, "D(G(z))": d_gz})
    bar.close()

    total_steps: steps in this epoch; `update(step)` takes the number done so far.
    first_step:  the step this bar starts from (a run resumed mid-epoch starts at
                 its checkpoint's batch): the pace counts only steps timed here.
    run_total_steps: steps in the whole run, to show its ETA (none without it).
    run_step_offset: the run's steps done before this epoch's step 0.
    batch_size:  images per step, to show images/s; without it steps/s is shown.
    stream:      where to write (default sys.stderr, so stdout stays for results).
    min_interval: seconds between redraws in a terminal; redrawing every step
                 of a fast loop would cost more than the step.
    log_every:   in plain (non-terminal) mode, print every this many steps
                 (default: about 10 lines per epoch).
    interactive: True redraws with '\\r', False prints plain lines; None asks
                 stream.isatty().
    clock:       seconds as a float; time.perf_counter unless a test injects one.
    """

    def __init__(self, total_steps, epoch, num_epochs, stream=None, batch_size=None,
                 width=30, min_interval=0.1, log_every=None, interactive=None,
                 clock=time.perf_counter, first_step=0, run_total_steps=None,
                 run_step_offset=0):
        if total_steps < 1:
            raise ValueError(f"ProgressBar: expected total_steps >= 1, got {total_steps}")
        self.total_steps = int(total_steps)
        self.first_step = int(first_step)
        self.run_total_steps = run_total_steps
        self.run_step_offset = int(run_step_offset)
        self.epoch = epoch
        self.num_epochs = num_epochs
        self.stream = sys.stderr if stream is None else stream
        self.batch_size = batch_size
        self.width = width
        self.min_interval = min_interval
        self.log_every = log_every or max(1, math.ceil(self.total_steps / 10))
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive
        self.clock = clock
        self.start_time = clock()
        self.last_draw_time = None
        self.last_line_length = 0   # to blank out the tail of a longer previous line
        self.pending = None         # (step, metrics) of an update not yet shown
        self.closed = False

    def line(self, step, metrics):
        """The text of the progress line for `step` steps done, with `metrics`."""
        fraction = min(max(step / self.total_steps, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        parts = [f"epoch {self.epoch}/{self.num_epochs}",
                 f"step {step}/{self.total_steps}",
                 f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction * 100:3.0f}%"]
        parts += [f"{name}={format_metric(value)}" for name, value in metrics.items()]

        elapsed = self.clock() - self.start_time
        timed = step - self.first_step
        epoch_left = self.total_steps - step
        run_left = None
        if self.run_total_steps is not None:
            run_left = max(0, self.run_total_steps - self.run_step_offset - step)
            epoch_left = min(epoch_left, run_left)  # a run that stops mid-epoch
        if timed > 0 and elapsed > 0:
            steps_per_second = timed / elapsed
            if self.batch_size:
                parts.append(f"{steps_per_second * self.batch_size:.0f} img/s")
            else:
                parts.append(f"{steps_per_second:.3g} steps/s")
            parts.append(f"epoch ETA {format_duration(epoch_left / steps_per_second)}")
            if run_left is not None:
                parts.append(f"run ETA {format_duration(run_left / steps_per_second)}")
        else:  # nothing measured yet to extrapolate from
            parts.append("epoch ETA ?")
            if run_left is not None:
                parts.append("run ETA ?")
        return " ".join(parts)

    def update(self, step, **metrics):
        """Record that `step` of total_steps steps are done; show metrics given by name.

        Names that are not Python identifiers, such as D(x), are passed as
        **{"D(x)": value}. Numbers are shown to 4 significant digits.
        """
        if self.closed:
            raise RuntimeError("ProgressBar.update: the bar is closed; make a new one per epoch")
        final = step >= self.total_steps
        now = self.clock()
        if self.interactive:
            due = self.last_draw_time is None or now - self.last_draw_time >= self.min_interval
        else:
            due = step % self.log_every == 0
        if not (due or final):
            # Keep the values, not the text: formatting a device scalar copies it to
            # the host and waits for the GPU, which only a line that is shown needs.
            self.pending = (step, metrics)
            return
        self.show(step, metrics)
        self.last_draw_time = now

    def show(self, step, metrics):
        """Write the line for `step`: in place in a terminal, as a new line elsewhere."""
        text = self.line(step, metrics)
        if self.interactive:
            blank = " " * max(0, self.last_line_length - len(text))
            self.stream.write("\r" + text + blank)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.last_line_length = len(text)
        self.pending = None

    def close(self):
        """Show the latest state if rate limiting held it back, and end the line."""
        if self.closed:
            return
        self.closed = True
        if self.pending is not None:
            self.show(*self.pending)
        if self.interactive and self.last_line_length:
            self.stream.write("\n")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

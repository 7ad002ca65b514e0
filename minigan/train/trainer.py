"""The one training loop that every GAN in minigan shares.

    trainer = Trainer(model, config)      # config: the command-line options as a dict
    trainer.fit()

Per step it re-seeds the random streams from (seed, step), calls
`model.train_step`, logs the step (OUT/log.jsonl), applies the
divergence guard and updates the progress bar, which shows the epoch's and the
whole run's remaining time ("epoch ETA 1:02 run ETA 9:40").

The divergence guard (guard.py) stops the run with TrainingDiverged, keeping the
last good checkpoint, as soon as a metric is NaN, infinite or |metric| > 1e6,
or a parameter is NaN, infinite or |w| > 1e8 (both checked every step; no sane
MNIST run comes near either bound, while --lr 1e6 passes them at step 1). No
checkpoint is ever written with a NaN or an infinity in it.

Pictures of the fixed z, in OUT/samples/:

    step_000000.png   at the start of a fresh run (the untrained generator)
    step_NNNNNN.png   every config["sample_every"] steps (--sample-every, 0: never),
                      and at the last step of a run however it stops
                      (--max-steps, Ctrl-C), unless that is an epoch's end
    epoch_NNN.png     at the end of every epoch

Each grid rebuilds OUT/progress.gif (every grid so far, in step order) and
OUT/losses.png. OUT/checkpoint.npz is written atomically at every epoch's end
and when the run stops; `config["resume"]` continues from it (or from
`config["checkpoint"]`) bit for bit.

Interrupts: SIGINT (Ctrl-C) and SIGTERM only set a flag. After the step in
progress the loop saves the checkpoint at that step, draws its grid and raises
TrainingInterrupted (the program exits 130 / 143 with one line). A second signal
aborts at once, the save included: the previous checkpoint stays as it was and
the aborted save's temporary file is removed. A start removes the temporary
files a killed save (kill -9) left in OUT.
"""
import os
import re
import signal
import sys
import threading
import time

import minigan as mg
from minigan._atomic import remove_stale_temporaries
from minigan.data import DataLoader, Subset
from minigan.viz import plot_losses, save_gif, save_grid

from .checkpoint import load_checkpoint, restore, save_checkpoint
from .config import OptionError, check_batch_fits, set_learning_rates
from .guard import TrainingDiverged, bad_metrics, bad_weights, diverged
from .progress import ProgressBar
from .steplog import StepLog, read_steplog

NUM_FIXED_SAMPLES = 100
SAMPLE_EVERY = 100  # DCGAN steps at batch 128: about 40 s on the 2-core machine when idle
SIGNALS = (signal.SIGINT, signal.SIGTERM)

__all__ = ["Trainer", "TrainingDiverged", "TrainingInterrupted", "NUM_FIXED_SAMPLES",
           "SAMPLE_EVERY"]


class TrainingInterrupted(Exception):
    """SIGINT or SIGTERM stopped the run; `status` is the exit status (128 + signal)."""

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum
        self.status = 128 + int(signum)


class Trainer:
    def __init__(self, model, config, stream=None, dataset=None):
        self.model = model
        self.dataset = dataset  # the training set; None: model.make_dataset()
        self.config = config
        self.out = config["out"]
        self.samples = os.path.join(self.out, "samples")
        self.stream = stream if stream is not None else sys.stderr
        self.checkpoint_path = os.path.join(self.out, "checkpoint.npz")
        self.log_path = os.path.join(self.out, "log.jsonl")
        self.sample_every = config.get("sample_every", SAMPLE_EVERY) or 0
        self.interrupt = None   # the signal that asked the loop to stop
        self.abort_signal = None  # a second one, which aborted the stop's save
        self.saved = None       # (epoch, step) of the checkpoint on disk
        # --distributed: every rank trains; rank 0 alone prints and writes files.
        self.distributed = bool(config.get("distributed"))
        self.writes = True
        if self.distributed:
            import minigan.distributed as dist
            dist.init()
            self.writes = dist.is_main()
            if not self.writes:
                self.stream = open(os.devnull, "w")

    def _say(self, message):
        print(message, file=self.stream, flush=True)

    def fit(self):
        """Train for config['epochs'] epochs (or config['max_steps'] steps in all)."""
        config, model = self.config, self.model
        if self.writes:
            os.makedirs(self.samples, exist_ok=True)
        self.interrupt = self.abort_signal = None
        self.at = (0, 0, 0)  # (epoch, batch, step) of the last step done
        previous_handlers = self._catch_signals()
        try:
            return self._fit(config, model)
        except KeyboardInterrupt:  # a second signal: give up now, the old checkpoint stays
            self._remove_stale_temporaries(quiet=True)
            raise self._aborted(*self.at) from None
        finally:
            self._release_signals(previous_handlers)

    def _fit(self, config, model):
        if self.writes:
            self._remove_stale_temporaries()
        dataset = self.dataset if self.dataset is not None else model.make_dataset()
        if config.get("train_size"):
            dataset = Subset(dataset, range(min(config["train_size"], len(dataset))))
        loader = self._loader(dataset)
        if len(loader) == 0:  # no full batch: the loop would spin without a step
            check_batch_fits(config["batch_size"], len(dataset), "")
        self.steps_per_epoch = len(loader)
        epoch, batch, step = 0, 0, 0
        if config.get("resume"):
            epoch, batch, step = self._resume()
            self.saved = (epoch, step)
            self.at = (epoch, batch, step)
        if self.distributed:
            self._go_parallel()
        log = StepLog(self.log_path) if self.writes else _NoLog()
        if config.get("resume"):
            log.truncate_after(step)
            for event in self.resume_events:  # e.g. a new --lr, from step `step` on
                log.append({"step": step, **event})
            if self.writes:
                self._remove_grids_after(step)
        elif step == 0:
            log.truncate_after(0)  # a fresh run replaces an old log in the same folder
        self.fixed = model.fixed_inputs(NUM_FIXED_SAMPLES, config["seed"])
        max_steps = config.get("max_steps")
        model.total_steps = config["epochs"] * len(loader)  # --lr-decay's length of the run
        self.run_total = min(model.total_steps, max_steps) if max_steps else model.total_steps
        try:
            if step == 0:
                self._draw(step)
            while epoch < config["epochs"] and not (max_steps and step >= max_steps):
                batch, step = self._epoch(loader, log, epoch, batch, step, max_steps)
                if batch == len(loader):
                    epoch, batch = epoch + 1, 0
                    self.at = (epoch, batch, step)
                    self._draw(step, epoch_end=epoch)
                if self.writes:
                    save_checkpoint(self.checkpoint_path, model, self._saved_config(),
                                    epoch, batch, step)
                self.saved = (epoch, step)
                if self._interrupted():
                    break
            if self.writes and not self._grid_exists(step):
                self._draw(step)  # the last step of a run that stopped mid-epoch
        finally:
            log.close()
        if self.interrupt is not None:
            raise TrainingInterrupted(
                f"interrupted at epoch {_epoch_of(epoch, batch)} step {step}; "
                "checkpoint saved; --resume continues", self.interrupt)
        self._say(f"done: {step} steps; checkpoint {self.checkpoint_path}")
        return step

    def _resume(self):
        path = self.config.get("checkpoint") or self.checkpoint_path
        state = load_checkpoint(path)
        self._check_world_size(state["config"], path)
        restore(self.model, state)
        # The optimizers' state brought the old rates; a rate given on --resume wins.
        self.resume_events = set_learning_rates(self.model, self.config)
        self._say(f"resumed from {path}: epoch {state['epoch']}, step {state['step']}")
        return state["epoch"], state.get("batch", 0), state["step"]

    def _epoch(self, loader, log, epoch, batch, step, max_steps):
        """Run epoch `epoch` from batch `batch`; return (batches done, steps done).

        Returns early, after the step in progress, when a signal has arrived."""
        config, model = self.config, self.model
        loader.set_epoch(epoch)
        bar = ProgressBar(len(loader), epoch + 1, config["epochs"], stream=self.stream,
                          batch_size=config["batch_size"], first_step=batch,
                          run_total_steps=self.run_total, run_step_offset=step - batch)
        model.train()
        start = time.perf_counter()
        try:
            for i, (real, labels) in enumerate(loader):
                if i < batch:  # resuming mid-epoch: the order is the same, skip what was done
                    continue
                if self._interrupted():
                    break
                step += 1
                mg.manual_seed((config["seed"], step))  # step s draws the same, resumed or not
                metrics = self._step(real, labels, step)
                log.append({"step": step, "epoch": epoch + 1, **metrics,
                            "time": round(time.perf_counter() - start, 4)})
                self._check(metrics, epoch, step)
                bar.update(i + 1, **{k: v for k, v in metrics.items()
                                     if k in model.progress_keys})
                batch = i + 1
                self.at = (epoch, batch, step)
                if (self.sample_every and step % self.sample_every == 0
                        and batch != len(loader)):  # an epoch's end draws its own grid
                    self._draw(step)
                if max_steps and step >= max_steps:
                    break
        except KeyboardInterrupt:
            bar.close()  # end the progress line before the message
            raise
        bar.close()
        return batch, step

    def _check(self, metrics, epoch, step):
        """The divergence guard: every metric and every parameter finite and in bounds."""
        problem = bad_metrics(metrics) or bad_weights(self.model.networks)
        if problem:
            raise diverged(f"epoch {epoch + 1}, step {step}", problem, self.checkpoint_path,
                           kept=os.path.exists(self.checkpoint_path))

    # --- the fixed-z grids -------------------------------------------------------------
    def _draw(self, step, epoch_end=None):
        """The fixed-z grid at `step` (epoch_NNN.png at an epoch's end), then the GIF of
        every grid so far and the loss curve."""
        if not self.writes:
            return
        model = self.model
        fixed_z, fixed_labels = self.fixed
        model.eval()
        with mg.no_grad():
            images = model.generate(fixed_z, fixed_labels).numpy()
            if epoch_end is not None:
                model.epoch_figures(self.out, epoch_end)
        model.train()
        name = f"epoch_{epoch_end:03d}.png" if epoch_end is not None else f"step_{step:06d}.png"
        save_grid(images, os.path.join(self.samples, name), nrow=model.grid_rows(len(images)),
                  scale=2)
        frames = [path for _, path in self._grids()]
        save_gif(frames, os.path.join(self.out, "progress.gif"))
        plot_losses(read_steplog(self.log_path), os.path.join(self.out, "losses.png"),
                    keys=model.plot_keys, title=f"{model.name} on {model.dataset_name}")

    def _grids(self):
        """[(step, path)] of every grid in OUT/samples, in step order (an epoch's grid
        after a step grid of the same step)."""
        grids = []
        for name in os.listdir(self.samples):
            match = re.fullmatch(r"(step|epoch)_(\d+)\.png", name)
            if match:
                kind, number = match.group(1), int(match.group(2))
                step = number if kind == "step" else number * self.steps_per_epoch
                grids.append(((step, kind == "epoch"), os.path.join(self.samples, name)))
        return [(key[0], path) for key, path in sorted(grids)]

    def _grid_exists(self, step):
        return any(s == step for s, _ in self._grids())

    def _remove_grids_after(self, step):
        """On resume: grids of steps the resumed run is about to compute again."""
        for s, path in self._grids():
            if s > step:
                os.unlink(path)

    # --- many processes (--distributed) -------------------------------------------------
    def _loader(self, dataset):
        """The shuffled batches; with --distributed, this rank's shard of each global batch
        of --batch-size images (the same permutation one process would draw)."""
        config = self.config
        batch_size, replicas, rank = config["batch_size"], 1, 0
        if self.distributed:
            import minigan.distributed as dist
            replicas, rank = dist.world_size(), dist.rank()
            if batch_size % replicas:
                raise OptionError(f"--batch-size {batch_size} does not split evenly over "
                                  f"{replicas} ranks: choose a multiple of {replicas}")
            batch_size //= replicas
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                          seed=config["seed"], num_replicas=replicas, rank=rank)

    def _go_parallel(self):
        from .parallel import make_data_parallel
        make_data_parallel(self.model, sync_bn=bool(self.config.get("sync_bn", True)))

    def _step(self, real, labels, step):
        with self.model.learning_rates_at(step):  # --lr-decay; most models: as set
            if not self.distributed:
                return self.model.train_step(real, labels, step)
            from .parallel import parallel_step
            return parallel_step(self.model, real, labels, step)

    def _interrupted(self):
        """Whether to stop after this step. On many ranks the signal may reach them at
        different steps, so they agree (one tiny all-reduce) and stop together."""
        if not self.distributed:
            return self.interrupt is not None
        import numpy as np

        import minigan.distributed as dist
        mine = [self.interrupt == signal.SIGINT, self.interrupt == signal.SIGTERM]
        sigint, sigterm = dist.allreduce_sum(np.array(mine, dtype=np.int64))
        if (sigint or sigterm) and self.interrupt is None:
            self.interrupt = signal.SIGTERM if sigterm else signal.SIGINT
        return bool(sigint or sigterm)

    def _saved_config(self):
        """The config the checkpoint records; a distributed run adds its number of ranks."""
        if not self.distributed:
            return self.config
        import minigan.distributed as dist
        return {**self.config, "world_size": dist.world_size()}

    def _check_world_size(self, saved, path):
        import minigan.distributed as dist
        before = saved.get("world_size", 1) if saved.get("distributed") else 1
        now = dist.world_size() if self.distributed else 1
        if before != now:
            raise OptionError(f"{path} was trained on {before} rank(s); --resume continues it "
                              f"on the same number (mpiexec -n {before} ... --distributed), "
                              f"not on {now}")

    # --- signals and leftovers ----------------------------------------------------------
    def _catch_signals(self):
        """Route SIGINT and SIGTERM to `_on_signal`; returns the handlers to put back.
        (Only the main thread may set handlers; elsewhere signals keep their defaults.)"""
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self._on_signal) for s in SIGNALS}

    def _release_signals(self, previous):
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    def _on_signal(self, signum, frame):
        # A flag only: saving from here could catch the networks halfway through a step.
        if self.interrupt is not None:
            self.abort_signal = signum
            raise KeyboardInterrupt  # a second signal: stop even a save in progress
        self.interrupt = signum

    def _aborted(self, epoch, batch, step):
        where = f"interrupted at epoch {_epoch_of(epoch, batch)} step {step}"
        if self.saved is None:
            kept = "a second interrupt stopped it before saving; no checkpoint was written"
        else:
            kept = (f"a second interrupt stopped it before saving; the previous checkpoint "
                    f"{self.checkpoint_path} (epoch {self.saved[0]}, step {self.saved[1]}) is "
                    "kept and --resume continues from it")
        return TrainingInterrupted(f"{where}; {kept}",
                                   self.abort_signal or self.interrupt or signal.SIGINT)

    def _remove_stale_temporaries(self, quiet=False):
        """Temporary files of writes killed before they finished (see minigan/_atomic.py)."""
        removed = remove_stale_temporaries(self.out) + remove_stale_temporaries(self.samples)
        if removed and not quiet:
            self._say(f"removed {len(removed)} temporary file(s) left by an interrupted write: "
                      + ", ".join(os.path.basename(p) for p in removed))
        return removed


class _NoLog:
    """The step log of a rank that writes no files."""

    def append(self, record):
        pass

    def truncate_after(self, step):
        pass

    def close(self):
        pass


def _epoch_of(epoch, batch):
    """The epoch (1-based) of the last step done: `epoch` complete, `batch` into the next."""
    return epoch + 1 if batch else max(epoch, 1)

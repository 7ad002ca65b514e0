"""The one training loop that every GAN in minigan shares.

    trainer = Trainer(model, config)      # config: the command-line options as a dict
    trainer.fit()

Per step it calls `model.train_step`, checks that every loss is finite, logs
the step (OUT/log.jsonl) and updates the progress bar. Per epoch it draws the
fixed-z sample grid (OUT/samples/epoch_NNN.png), rebuilds OUT/progress.gif and
OUT/losses.png, and writes OUT/checkpoint.npz atomically. `config["resume"]`
continues from that checkpoint, bit for bit.
"""
import math
import os
import sys
import time

import minigan as mg
from minigan.data import DataLoader, Subset
from minigan.viz import plot_losses, save_gif, save_grid

from .checkpoint import load_checkpoint, restore, save_checkpoint
from .progress import ProgressBar
from .steplog import StepLog, read_steplog

NUM_FIXED_SAMPLES = 100


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class Trainer:
    def __init__(self, model, config, stream=None, dataset=None):
        self.model = model
        self.dataset = dataset  # the training set; None: model.make_dataset()
        self.config = config
        self.out = config["out"]
        self.stream = stream if stream is not None else sys.stderr
        self.checkpoint_path = os.path.join(self.out, "checkpoint.npz")
        self.log_path = os.path.join(self.out, "log.jsonl")

    def _say(self, message):
        print(message, file=self.stream, flush=True)

    def fit(self):
        """Train for config['epochs'] epochs (or config['max_steps'] steps in all)."""
        config, model = self.config, self.model
        os.makedirs(os.path.join(self.out, "samples"), exist_ok=True)
        dataset = self.dataset if self.dataset is not None else model.make_dataset()
        if config.get("train_size"):
            dataset = Subset(dataset, range(min(config["train_size"], len(dataset))))
        loader = DataLoader(dataset, batch_size=config["batch_size"], shuffle=True,
                            drop_last=True, seed=config["seed"])
        epoch, batch, step = 0, 0, 0
        if config.get("resume"):
            epoch, batch, step = self._resume()
        log = StepLog(self.log_path)
        if config.get("resume"):
            log.truncate_after(step)
        elif step == 0:
            log.truncate_after(0)  # a fresh run replaces an old log in the same folder
        fixed_z, fixed_labels = model.fixed_inputs(NUM_FIXED_SAMPLES, config["seed"])
        max_steps = config.get("max_steps")
        try:
            while epoch < config["epochs"] and not (max_steps and step >= max_steps):
                batch, step = self._epoch(loader, log, epoch, batch, step, max_steps)
                if batch == len(loader):
                    epoch, batch = epoch + 1, 0
                    self._epoch_outputs(epoch, fixed_z, fixed_labels)
                save_checkpoint(self.checkpoint_path, model, config, epoch, batch, step)
        finally:
            log.close()
        self._say(f"done: {step} steps; checkpoint {self.checkpoint_path}")
        return step

    def _resume(self):
        state = load_checkpoint(self.checkpoint_path)
        restore(self.model, state)
        self._say(f"resumed from {self.checkpoint_path}: epoch {state['epoch']}, "
                  f"step {state['step']}")
        return state["epoch"], state.get("batch", 0), state["step"]

    def _epoch(self, loader, log, epoch, batch, step, max_steps):
        """Run epoch `epoch` from batch `batch`; return (batches done, steps done)."""
        config, model = self.config, self.model
        loader.set_epoch(epoch)
        bar = ProgressBar(len(loader), epoch + 1, config["epochs"], stream=self.stream,
                          batch_size=config["batch_size"])
        model.train()
        start = time.perf_counter()
        for i, (real, labels) in enumerate(loader):
            if i < batch:  # resuming mid-epoch: the order is the same, skip what was done
                continue
            step += 1
            metrics = model.train_step(real, labels, step)
            self._check_finite(metrics, epoch, step)
            log.append({"step": step, "epoch": epoch + 1, **metrics,
                        "time": round(time.perf_counter() - start, 4)})
            bar.update(i + 1, **{k: v for k, v in metrics.items() if k in model.progress_keys})
            batch = i + 1
            if max_steps and step >= max_steps:
                break
        bar.close()
        return batch, step

    def _check_finite(self, metrics, epoch, step):
        bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
        if bad:
            names = ", ".join(f"{k} = {v}" for k, v in bad.items())
            kept = (f"the last good checkpoint {self.checkpoint_path} is kept"
                    if os.path.exists(self.checkpoint_path) else "no checkpoint had been written yet")
            raise TrainingDiverged(
                f"training diverged at epoch {epoch + 1}, step {step}: {names}; {kept}. "
                "Try a lower --lr, or --resume from the checkpoint with another --seed.")

    def _epoch_outputs(self, epoch, fixed_z, fixed_labels):
        """Sample grid from the fixed z, the GIF of all grids so far, the loss curve."""
        model = self.model
        model.eval()
        with mg.no_grad():
            images = model.generate(fixed_z, fixed_labels).numpy()
            model.epoch_figures(self.out, epoch)
        model.train()
        samples = os.path.join(self.out, "samples")
        save_grid(images, os.path.join(samples, f"epoch_{epoch:03d}.png"),
                  nrow=model.grid_rows(len(images)), scale=2)
        frames = sorted(os.path.join(samples, f) for f in os.listdir(samples)
                        if f.startswith("epoch_") and f.endswith(".png"))
        save_gif(frames, os.path.join(self.out, "progress.gif"))
        plot_losses(read_steplog(self.log_path), os.path.join(self.out, "losses.png"),
                    keys=model.plot_keys, title=f"{model.name} on {model.dataset_name}")

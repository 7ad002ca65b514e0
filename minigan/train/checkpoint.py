"""Training checkpoints: everything needed to continue a run exactly where it stopped.

One `.npz` file (written atomically by `mg.save`) holds the networks, the
optimizers' state, where the run is (epoch, batch, step) and the run's
configuration. A run resumed from it computes bit for bit what the uninterrupted
run would have, on every backend: the data order depends only on (seed, epoch),
and the random numbers of step s only on (seed, s), because the trainer re-seeds
before every step (`mg.manual_seed((seed, step))`). No generator state is stored:
CuPy's generators keep theirs in device memory and cannot be serialized. (Older
checkpoints also hold an "rng" entry, a NumPy generator's state; it is ignored.)

Only a finite state is written: a NaN or an infinity in any weight, buffer or
optimizer moment raises the divergence guard's error and leaves the previous
checkpoint as it was, so a diverged run always keeps one it can go back to.
"""
import json
import os

import minigan as mg
from minigan.serialization import CheckpointError

from .guard import diverged, nonfinite_entries


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (a full disk, a folder gone); the previous one,
    if any, is untouched."""


def save_checkpoint(path, model, config, epoch, batch, step):
    """epoch: completed epochs; batch: batches done in the current one; step: in total.

    Raises TrainingDiverged, writing nothing, if the state holds a NaN or an infinity."""
    state = model.state_dict()
    bad = nonfinite_entries(state)
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        where = f"epoch {epoch + (batch > 0)}, step {step}"
        raise diverged(where, f"{shown} not finite, so no checkpoint is written", path,
                       kept=os.path.exists(path))
    state.update({
        "model": model.name,
        "config": json.dumps(config, sort_keys=True),
        "epoch": int(epoch),
        "batch": int(batch),
        "step": int(step),
    })
    try:
        mg.save(state, path)  # atomic: a failed write leaves the previous file as it was
    except OSError as error:
        kept = (f"the previous checkpoint {path} is kept" if os.path.exists(path)
                else "no checkpoint had been written yet")
        raise CheckpointWriteError(
            f"could not write the checkpoint {path} ({error.strerror or error}); {kept}"
        ) from error


def load_checkpoint(path):
    """The checkpoint as a dict, with `config` decoded.

    Raises FileNotFoundError if there is none, and CheckpointError (a ValueError)
    naming the path for a file that is not a readable minigan training checkpoint.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no checkpoint at {path}: train first (it is written at the end of every "
            "epoch), or pass --checkpoint PATH")
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    try:
        state = mg.load(path)
    except (CheckpointError, OSError):
        raise
    except Exception as error:  # whatever a damaged file makes the reader raise
        raise CheckpointError(f"{path} is not a readable checkpoint: "
                              f"{type(error).__name__}: {error}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a minigan training checkpoint "
                              f"(it holds a {type(state).__name__}, not a dict)")
    for key in ("model", "config", "networks", "epoch", "step"):
        if key not in state:
            raise CheckpointError(f"{path} is not a minigan training checkpoint (no {key!r} entry)")
    try:
        state["config"] = json.loads(state["config"])
    except (TypeError, ValueError):
        state["config"] = None
    if not isinstance(state["config"], dict):
        raise CheckpointError(f"{path}: its 'config' entry is not the JSON of a run's options")
    return state


def check_model(state, name, path):
    """The checkpoint `state` (from `path`) must have been written by the model `name`."""
    if state["model"] != name:
        raise CheckpointError(
            f"{path} holds a run of the model {state['model']!r}, not of this program's "
            f"{name!r}")


def restore(model, state, weights_only=False):
    """Load a checkpoint's weights (and, unless weights_only, the optimizers) into `model`."""
    check_model(state, model.name, "the checkpoint")
    model.load_state_dict(state, weights_only=weights_only)

"""Training checkpoints: everything needed to continue a run exactly where it stopped.

One `.npz` file (written atomically by `mg.save`) holds the networks, the
optimizers' state, where the run is (epoch, batch, step), the random generator's
state and the run's configuration. A run resumed from it computes bit for bit
what the uninterrupted run would have: the data order depends only on
(seed, epoch), and the generator state comes back as it was.

Only a finite state is written: a NaN or an infinity in any weight, buffer or
optimizer moment raises the divergence guard's error and leaves the previous
checkpoint as it was, so a diverged run always keeps one it can go back to.
"""
import json
import os

import minigan as mg
from minigan import backend as _backend

from .guard import diverged, nonfinite_entries


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
        "rng": _backend.get_backend().get_rng_state(),
    })
    mg.save(state, path)


def load_checkpoint(path):
    """The checkpoint as a dict, with `config` decoded; a clear error if it is missing."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no checkpoint at {path}: train first (it is written at the end of every "
            "epoch), or pass --checkpoint PATH")
    state = mg.load(path)
    for key in ("model", "config", "networks", "epoch", "step"):
        if key not in state:
            raise ValueError(f"{path} is not a minigan training checkpoint (no {key!r} entry)")
    state["config"] = json.loads(state["config"])
    return state


def restore(model, state, weights_only=False):
    """Load a checkpoint's weights (and optimizers and RNG state) into `model`."""
    if state["model"] != model.name:
        raise ValueError(
            f"the checkpoint was written by {state['model']!r}, not {model.name!r}")
    model.load_state_dict(state, weights_only=weights_only)
    if not weights_only:
        _backend.get_backend().set_rng_state(state["rng"])

"""Training checkpoints: everything needed to continue a run exactly where it stopped.

One `.npz` file (written atomically by `mg.save`) holds the networks, the
optimizers' state, where the run is (epoch, batch, step) and the run's
configuration. A run resumed from it computes bit for bit what the uninterrupted
run would have, on every backend: the data order depends only on (seed, epoch),
and the random numbers of step s only on (seed, s), because the trainer re-seeds
before every step (`mg.manual_seed((seed, step))`). No generator state is stored:
CuPy's generators keep theirs in device memory and cannot be serialized. (Older
checkpoints also hold an "rng" entry, a NumPy generator's state; it is ignored.)
"""
import json
import os

import minigan as mg


def save_checkpoint(path, model, config, epoch, batch, step):
    """epoch: completed epochs; batch: batches done in the current one; step: in total."""
    state = model.state_dict()
    state.update({
        "model": model.name,
        "config": json.dumps(config, sort_keys=True),
        "epoch": int(epoch),
        "batch": int(batch),
        "step": int(step),
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
    """Load a checkpoint's weights (and, unless weights_only, the optimizers) into `model`."""
    if state["model"] != model.name:
        raise ValueError(
            f"the checkpoint was written by {state['model']!r}, not {model.name!r}")
    model.load_state_dict(state, weights_only=weights_only)

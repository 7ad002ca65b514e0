"""Gradient averaging and starting every rank from the same weights.

    dist.broadcast_parameters(model)        # rank 0's parameters and buffers everywhere
    opt = dist.DistributedOptimizer(opt)    # step() = average the gradients, then step
    dist.broadcast_optimizer_state(opt)     # rank 0's moments everywhere (after a resume)

Each rank's gradients are those of its own slice of the batch; their mean over
the ranks is the gradient of the mean loss over the global batch (functions.py
says why). All gradients travel in ONE all-reduce per step: they are copied
into one flat buffer per dtype (one for a float32 model), summed over the ranks,
divided by the number of ranks, and each parameter's .grad becomes its slice of
the result. One call of 900,000 numbers costs one latency; 15 calls of 60,000
cost fifteen.

Every rank must reach step() with gradients for the same parameters (they run
the same program, so they do).
"""
import numpy as np

from ..autograd import no_grad
from .. import backend as _backend
from ..backend import get_array_module
from ..tensor import Tensor
from . import comm


def _grouped_by_dtype(tensors):
    groups = {}
    for t in tensors:
        groups.setdefault(np.dtype(t.dtype), []).append(t)
    return groups.values()


def _flat(arrays):
    xp = get_array_module(arrays[0])
    return xp.concatenate([xp.ravel(a) for a in arrays])


def _slices(flat, shapes):
    offset = 0
    for shape in shapes:
        n = int(np.prod(shape, dtype=np.int64))
        yield flat[offset:offset + n].reshape(shape)
        offset += n


def average_gradients(parameters):
    """Replace each parameter's .grad by its mean over every rank (one all-reduce per
    dtype). Parameters without a gradient are left alone."""
    params = [p for p in parameters if p.grad is not None]
    if not params or comm.world_size() == 1:
        return
    for group in _grouped_by_dtype(params):
        summed = comm.allreduce_sum(_flat([p.grad.data for p in group]))
        summed /= comm.world_size()
        for p, grad in zip(group, _slices(summed, [p.shape for p in group])):
            p.grad = Tensor._make(grad, False)


def broadcast_parameters(module):
    """Copy rank 0's parameters and buffers into every rank's `module` (one broadcast
    per dtype), so that all ranks start from the same weights."""
    tensors = list(module.parameters()) + [b for b in module.buffers() if b is not None]
    if comm.world_size() == 1:
        return
    for group in _grouped_by_dtype(tensors):
        flat = comm.broadcast(_flat([t.data for t in group]))
        with no_grad():
            for t, value in zip(group, _slices(flat, [t.shape for t in group])):
                t.data[...] = value


def broadcast_optimizer_state(optimizer):
    """Make every rank's optimizer state (moments, step counts, hyperparameters)
    rank 0's. Done once, after a resume, so the pickled state dict is fine."""
    if comm.world_size() == 1:
        return
    state = optimizer.state_dict() if comm.is_main() else None
    state = comm.broadcast_object(_to_host(state))
    optimizer.load_state_dict(state)


def _to_host(obj):
    """A state dict with every array or Tensor as a NumPy array (picklable anywhere)."""
    if isinstance(obj, Tensor):
        return _backend.to_numpy(obj.data)
    if isinstance(obj, dict):
        return {k: _to_host(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_host(v) for v in obj)
    if _backend.backend_of(obj) is not None and not isinstance(obj, np.generic):
        return _backend.to_numpy(obj)
    return obj


class DistributedOptimizer:
    """An optimizer whose step() first averages the gradients over every rank.

    Everything else (param_groups, state, zero_grad, state_dict, load_state_dict)
    is the wrapped optimizer's, so checkpoints look the same as one process's.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def step(self, closure=None):
        average_gradients(p for group in self.optimizer.param_groups for p in group["params"])
        return self.optimizer.step(closure)

    def __getattr__(self, name):
        return getattr(self.optimizer, name)

    def __repr__(self):
        return f"DistributedOptimizer({self.optimizer!r})"

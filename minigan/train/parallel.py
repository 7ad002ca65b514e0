"""Data-parallel training of a GANModel: what `--distributed` changes in the loop.

    model = make_data_parallel(model, sync_bn=True)   # once, after the model is built
    metrics = parallel_step(model, real, labels, step) # instead of model.train_step

make_data_parallel converts every batch norm to SyncBatchNorm (optional),
gives every rank rank 0's weights, and wraps every optimizer in a
DistributedOptimizer (one Allreduce of all its gradients per step).
parallel_step runs the model's own train_step with the per-sample random draws
sharded (`minigan.backend.sharded_draws`), then averages the logged metrics
over the ranks, so rank 0's log shows the global batch's losses.

Nothing else about a model changes: each model's train_step is the same code
in one process and on N.
"""
import numpy as np

import minigan.distributed as dist
from minigan import backend as _backend
from minigan import nn


def make_data_parallel(model, sync_bn=True):
    if sync_bn:
        for name, net in model.networks.items():
            converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
            model.networks[name] = converted
    for net in model.networks.values():
        dist.broadcast_parameters(net)
    model.optimizers = {name: dist.DistributedOptimizer(opt)
                        for name, opt in model.optimizers.items()}
    return model


def parallel_step(model, real, labels, step):
    with _backend.sharded_draws(dist.rank(), dist.world_size()):
        metrics = model.train_step(real, labels, step)
    return average_metrics(metrics)


def average_metrics(metrics):
    """The mean of each float metric over the ranks (one Allreduce of a short vector)."""
    keys = list(metrics)  # the same order on every rank: they run the same train_step
    local = np.array([float(metrics[k]) for k in keys], dtype=np.float64)
    mean = dist.allreduce_sum(local) / dist.world_size()
    return {k: float(v) for k, v in zip(keys, mean)}

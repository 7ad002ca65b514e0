"""Data-parallel training over MPI (mpi4py), in the shape ChainerMN and Horovod gave it.

    mpiexec -n 2 python examples/mnist_dcgan.py --distributed

    import minigan.distributed as dist
    dist.init(); dist.rank(); dist.world_size(); dist.is_main()
    dist.broadcast_parameters(model)             # everyone starts from rank 0's weights
    opt = dist.DistributedOptimizer(opt)         # one Allreduce of all gradients per step
    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    loader = DataLoader(data, batch_size=B // N, shuffle=True, seed=s,
                        num_replicas=N, rank=dist.rank())

    comm.py            the communicator: init, rank, world_size, allreduce_sum, broadcast
    functions.py       all_reduce as a differentiable op (its backward: an all_reduce)
    optimizer.py       average_gradients, DistributedOptimizer, broadcast_parameters,
                       broadcast_optimizer_state
    sync_batchnorm.py  SyncBatchNorm, convert_sync_batchnorm

The per-sample randomness of a step (noise, fake labels, dropout masks) is drawn
for the whole global batch on every rank, which keeps its own rows
(`minigan.backend.sharded_draws`), and each rank's DataLoader serves its slice
of the same permutation; so N ranks at batch B / N compute what one process
computes at batch B. Install with `pip install -e ".[mpi]"`: mpi4py and the
mpich wheel, no system packages.
"""
from .comm import (DistributedError, abort, allreduce_sum, barrier, broadcast, init,
                   is_initialized, is_main, rank, world_size)
from .functions import all_reduce
from .optimizer import (DistributedOptimizer, average_gradients, broadcast_optimizer_state,
                        broadcast_parameters)
from .sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm

__all__ = ["init", "is_initialized", "rank", "world_size", "is_main", "allreduce_sum",
           "broadcast", "barrier", "abort", "all_reduce", "average_gradients",
           "DistributedOptimizer", "broadcast_parameters", "broadcast_optimizer_state",
           "SyncBatchNorm", "convert_sync_batchnorm", "DistributedError"]

"""The communicator: which process this is, and the two collectives training needs.

minigan trains data-parallel on MPI through mpi4py, the way ChainerMN did for
Chainer: every rank runs the same program on its own slice of each batch, and
the ranks agree through two collectives,

    allreduce_sum(array)   every rank gets the element-wise sum over all ranks
    broadcast(array)       every rank gets rank 0's array

both on ONE buffer at a time (a flat vector of every gradient, of every
channel's batch-norm sums): a collective costs a latency per call, so fewer,
larger calls are what make data parallelism scale.

Arrays of any backend go in and come out. NumPy arrays are handed to MPI as
they are; `strict` and CuPy arrays are staged through a host copy
(`to_numpy` / `to_device`, the backend's only two crossings), unless
MINIGAN_CUDA_AWARE_MPI=1 says the MPI library reads GPU memory itself, in which
case CuPy arrays go to mpi4py directly (it takes `__cuda_array_interface__`).
The one place a NCCL communicator (cupy.cuda.nccl) would plug in is this file:
the rest of minigan.distributed calls only `allreduce_sum`, `broadcast`,
`barrier` and `abort`.

mpi4py is imported on first use, so minigan imports and trains in one process
without it.
"""
import os
import sys
import time

import numpy as np

from .. import backend as _backend

INSTALL_HINT = 'pip install -e ".[mpi]"  (mpi4py and the mpich wheel; mpiexec lands beside python)'

_COMM = None

# What the collectives cost so far (benchmarks/bench_distributed.py reads and resets it):
# calls, bytes sent by this rank, and wall-clock seconds spent inside MPI.
traffic = {"calls": 0, "bytes": 0, "seconds": 0.0}


class DistributedError(RuntimeError):
    """minigan.distributed cannot do what was asked (no MPI, not initialised, ...)."""


def _launched_by_mpiexec():
    """True when an MPI launcher started this process (it sets one of these)."""
    return any(name in os.environ for name in (
        "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
        "HYDRA_CONTROL_FD"))


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise DistributedError(f"distributed training needs mpi4py: {INSTALL_HINT}") from None
    return MPI


def init():
    """Start MPI (once) and return the communicator; safe to call again."""
    global _COMM
    if _COMM is None:
        MPI = _import_mpi()
        _COMM = MPI.COMM_WORLD
        if _COMM.Get_size() > 1:
            sys.excepthook = _abort_on_uncaught
    return _COMM


def _abort_on_uncaught(kind, error, tb):
    """An exception no one caught on one rank: print it, then end every rank (the
    others may be waiting in a collective that will never complete)."""
    import traceback
    text = "".join(traceback.format_exception(kind, error, tb))
    abort(f"rank {rank()} of {world_size()} failed:\n{text}", status=1)


def is_initialized():
    return _COMM is not None


def _comm():
    if _COMM is None:
        raise DistributedError("minigan.distributed: call dist.init() first")
    return _COMM


def rank():
    """This process's number, 0 .. world_size() - 1 (0 when MPI was never started)."""
    return _COMM.Get_rank() if _COMM is not None else 0


def world_size():
    """How many processes train together (1 when MPI was never started)."""
    return _COMM.Get_size() if _COMM is not None else 1


def is_main():
    """True on rank 0, the one that prints and writes files."""
    return rank() == 0


def _cuda_aware():
    return os.environ.get("MINIGAN_CUDA_AWARE_MPI") == "1"


def _to_host(array):
    """A contiguous buffer MPI can read: the array itself (NumPy, or CuPy when the MPI
    is CUDA-aware), or a host copy."""
    found = _backend.backend_of(array)
    if found is None or found.name == "numpy" or (found.name == "cupy" and _cuda_aware()):
        return np.ascontiguousarray(array) if found is None or found.name == "numpy" else array
    return np.ascontiguousarray(found.to_numpy(array))


def _back(host, like):
    """The reduced host buffer as an array of `like`'s backend."""
    found = _backend.backend_of(like)
    if found is None or found.name == "numpy" or host is like:
        return host
    return found.to_device(host)


def _count(nbytes, start):
    traffic["calls"] += 1
    traffic["bytes"] += int(nbytes)
    traffic["seconds"] += time.perf_counter() - start


def allreduce_sum(array):
    """Element-wise sum of `array` over every rank, as a new array of its backend."""
    send = _to_host(array)
    recv = _backend.get_array_module(send).empty_like(send)
    start = time.perf_counter()
    _comm().Allreduce(send, recv)
    _count(send.nbytes, start)
    return _back(recv, array)


def broadcast(array):
    """Rank 0's `array` on every rank (every rank passes an array of the same shape)."""
    buffer = _to_host(array).copy()
    start = time.perf_counter()
    _comm().Bcast(buffer, root=0)
    _count(buffer.nbytes, start)
    return _back(buffer, array)


def broadcast_object(obj):
    """Rank 0's small Python object (a path, a config) on every rank."""
    return _comm().bcast(obj, root=0)


def allgather_object(obj):
    """Every rank's small Python object, as a list in rank order."""
    return _comm().allgather(obj)


def barrier():
    _comm().Barrier()


def abort(message, status=1):
    """Print `message` and end every rank of the job at once (a rank that fails must
    not leave the others waiting forever in a collective)."""
    print(message, file=sys.stderr, flush=True)
    if _COMM is not None and world_size() > 1:
        _COMM.Abort(status)
    sys.exit(status)

"""Data parallelism under `mpiexec -n 2 python -m pytest -q -m mpi tests/test_distributed_mpi.py`.

Every rank runs every test; the collectives inside a test line up because the
ranks run the same code. In one process (the normal suite) they are skipped.

The exactness test is the specification of data-parallel training: 2 ranks at
batch B / 2 each, with SyncBatchNorm, a DistributedOptimizer, a sharded loader
and sharded random draws, end with the same weights, Adam moments and running
statistics as one process at batch B (float64, to 1e-10). With plain batch
norm they must differ: each rank then normalises its half batch on its own.
"""
import numpy as np
import pytest

import minigan as mg
import minigan.distributed as dist
from minigan import nn

from .distributed_gan import everything, loader, make_gan, train

try:
    import mpi4py  # noqa: F401
    dist.init()
    WORLD = dist.world_size()
except (ImportError, dist.DistributedError):
    WORLD = 1

pytestmark = [pytest.mark.mpi,
              pytest.mark.skipif(WORLD != 2, reason="run under mpiexec -n 2 (pytest -m mpi)")]


@pytest.fixture
def float64():
    mg.set_default_dtype(mg.float64)
    yield
    mg.set_default_dtype(mg.float32)


@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
def test_allreduce_and_broadcast_on_each_backend(backend_name):
    with mg.use_backend(backend_name):
        x = mg.tensor(np.arange(6.0).reshape(2, 3) * (dist.rank() + 1))
        total = dist.allreduce_sum(x.data)
        np.testing.assert_array_equal(mg.to_numpy(total), np.arange(6.0).reshape(2, 3) * 3)
        assert type(total) is type(x.data)
        got = dist.broadcast(mg.tensor(np.full(4, float(dist.rank()))).data)
        np.testing.assert_array_equal(mg.to_numpy(got), np.zeros(4))


def test_all_reduce_gradient_is_the_all_reduce_of_the_gradients():
    x = mg.tensor(np.ones(3) * (dist.rank() + 1), requires_grad=True)
    y = dist.all_reduce(x)
    (y * (dist.rank() + 1.0)).sum().backward()  # rank r's loss weighs y by r + 1
    np.testing.assert_array_equal(y.numpy(), np.full(3, 3.0))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3.0))  # 1 + 2 on every rank


def test_average_gradients_is_one_mean_over_the_ranks():
    layer = nn.Linear(3, 2)
    layer(mg.ones(1, 3) * (dist.rank() + 1)).sum().backward()
    dist.average_gradients(layer.parameters())
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.full((2, 3), 1.5), rtol=1e-6)
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.ones(2))


def test_broadcast_parameters_gives_every_rank_rank_0s_weights():
    mg.manual_seed(dist.rank())  # different weights on each rank
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model[1].running_mean.data[...] = dist.rank()
    dist.broadcast_parameters(model)
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    mg.manual_seed(0)
    reference = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).state_dict()
    np.testing.assert_array_equal(weights["0.weight"], reference["0.weight"].numpy())
    np.testing.assert_array_equal(weights["1.running_mean"], np.zeros(2))


def _one_process_run(steps):
    G, D = make_gan()
    opts = train(G, D, loader(16), steps)
    return everything(G, D, *opts)


def _two_rank_run(steps, sync_bn):
    G, D = make_gan()
    if sync_bn:
        G, D = (nn.SyncBatchNorm.convert_sync_batchnorm(m) for m in (G, D))
    dist.broadcast_parameters(G)
    dist.broadcast_parameters(D)
    opts = train(G, D, loader(8, num_replicas=2, rank=dist.rank()), steps,
                 wrap=dist.DistributedOptimizer, shard=(dist.rank(), 2))
    return everything(G, D, *opts)


def test_two_ranks_with_sync_batch_norm_equal_one_process_at_the_global_batch(float64):
    expected = _one_process_run(steps=6)
    got = _two_rank_run(steps=6, sync_bn=True)
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-10,
                                   err_msg=key)
    assert any("running_var" in k for k in expected) and any("exp_avg_sq" in k for k in expected)


def test_two_ranks_with_plain_batch_norm_do_not(float64):
    expected = _one_process_run(steps=6)
    got = _two_rank_run(steps=6, sync_bn=False)
    worst = max(float(np.max(np.abs(got[k] - expected[k]))) for k in expected)
    assert worst > 1e-4


def test_every_rank_ends_with_the_same_weights(float64):
    got = _two_rank_run(steps=3, sync_bn=True)
    flat = np.concatenate([v.ravel() for v in got.values()])
    np.testing.assert_array_equal(dist.broadcast(flat), flat)


# --- the training programs with --distributed --------------------------------------------

from .helpers import checkpoint_weights, needs_mnist, run_program  # noqa: E402

SMALL = ["--train-size", "256", "--batch-size", "32", "--no-eval", "--sample-every", "3"]


@pytest.fixture
def shared_tmp(tmp_path):
    """One folder for every rank: rank 0's tmp_path."""
    return dist.comm.broadcast_object(str(tmp_path))


def _files(folder):
    import os
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, _, names in os.walk(folder) for f in names)


@needs_mnist
def test_a_distributed_run_writes_the_files_of_a_one_process_run_from_rank_0_alone(shared_tmp):
    from minigan.gan import DCGAN
    out = f"{shared_tmp}/dcgan"
    assert run_program(DCGAN, out, "--epochs", "1", "--max-steps", "4", "--distributed",
                       options=SMALL) == 0
    dist.barrier()
    if dist.is_main():
        single = f"{shared_tmp}/single"
        with mg.use_backend("numpy"):
            from minigan.train import main
            assert main(DCGAN, SMALL + ["--epochs", "1", "--max-steps", "4", "--out",
                                        single]) == 0
        assert _files(out) == _files(single)
        assert {"checkpoint.npz", "log.jsonl", "progress.gif", "losses.png"} <= set(_files(out))
    dist.barrier()


@needs_mnist
def test_a_resumed_two_rank_run_equals_an_uninterrupted_one_bit_for_bit(shared_tmp):
    from minigan.gan import DCGAN
    straight, resumed = f"{shared_tmp}/straight", f"{shared_tmp}/resumed"
    common = ["--epochs", "1", "--distributed"]
    assert run_program(DCGAN, straight, "--max-steps", "6", *common, options=SMALL) == 0
    assert run_program(DCGAN, resumed, "--max-steps", "3", *common, options=SMALL) == 0
    assert run_program(DCGAN, resumed, "--max-steps", "6", "--resume", *common,
                       options=SMALL) == 0
    dist.barrier()
    a, b = checkpoint_weights(straight), checkpoint_weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


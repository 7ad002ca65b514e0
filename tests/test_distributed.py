"""minigan.distributed in ONE process: what must hold without mpiexec (and without
mpi4py), and the pieces of data parallelism that one process can check: the
loader's shards, the sharded random draws, SyncBatchNorm at world size 1.

The collectives themselves are tested under `mpiexec -n 2` in
tests/test_distributed_mpi.py."""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import minigan as mg
import minigan.distributed as dist
from minigan import nn
from minigan.data import DataLoader

from .distributed_gan import Pixels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python(code, env=None, timeout=60):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT, **(env or {})})


# --- without MPI ---------------------------------------------------------------------

def test_minigan_imports_and_trains_in_one_process_without_mpi4py():
    block_mpi4py = "import sys; sys.modules['mpi4py'] = None\n"
    result = python(block_mpi4py + (
        "import minigan as mg, minigan.distributed as dist\n"
        "from minigan import nn\n"
        "print(dist.rank(), dist.world_size(), dist.is_main())\n"
        "bn = nn.SyncBatchNorm(3); y = bn(mg.randn(4, 3)); y.sum().backward()\n"
        "print(bn.weight.grad.shape)\n"
        "try:\n    dist.init()\nexcept dist.DistributedError as e:\n    print('error:', e)\n"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "0 1 True"
    assert lines[1] == "(3,)"
    assert lines[2].startswith("error: distributed training needs mpi4py: pip install -e \".[mpi]\"")


# --- the loader's shards ---------------------------------------------------------------

@pytest.mark.parametrize("world", [2, 3, 4])
def test_shards_are_disjoint_and_together_are_the_one_process_batches(world):
    data = Pixels(n=50)
    one = DataLoader(data, batch_size=4 * world, shuffle=True, seed=5, drop_last=True)
    shards = [DataLoader(data, batch_size=4, shuffle=True, seed=5, drop_last=True,
                         num_replicas=world, rank=r) for r in range(world)]
    for epoch in range(3):
        one.set_epoch(epoch)
        for s in shards:
            s.set_epoch(epoch)
        order = one.order(epoch)
        assert all(len(s) == len(one) == 50 // (4 * world) for s in shards)
        for k, (whole, *parts) in enumerate(zip(one, *shards)):
            images = np.concatenate([p[0].numpy() for p in parts])
            np.testing.assert_array_equal(images, whole[0].numpy())
            seen = [shards[r].batch_indices(order, k) for r in range(world)]
            assert len(set(np.concatenate(seen).tolist())) == 4 * world  # disjoint


def test_a_partial_last_global_batch_is_split_between_the_ranks():
    data = Pixels(n=10)
    shards = [DataLoader(data, batch_size=2, num_replicas=2, rank=r) for r in range(2)]
    assert [len(s) for s in shards] == [3, 3]
    last = [list(s)[-1][0].shape[0] for s in shards]
    assert last == [1, 1]  # 10 = 4 + 4 + 2: the last global batch of 2 split 1 + 1


def test_a_rank_outside_the_replicas_is_refused():
    with pytest.raises(ValueError, match=r"expected rank in 0..1 for num_replicas=2, got 2"):
        DataLoader(Pixels(), batch_size=2, num_replicas=2, rank=2)


# --- sharded random draws ----------------------------------------------------------------

def test_ranks_draw_their_rows_of_what_one_process_draws_for_the_global_batch(backend):
    def draws():
        return [mg.randn(3, 5).numpy(), mg.rand(3, 2).numpy(), mg.randint(0, 10, 3).numpy(),
                mg.functional.dropout(mg.ones(3, 4), 0.5, training=True).numpy()]

    mg.manual_seed(7)
    with mg.backend.sharded_draws(0, 1):
        whole = [mg.randn(6, 5).numpy(), mg.rand(6, 2).numpy(), mg.randint(0, 10, 6).numpy(),
                 mg.functional.dropout(mg.ones(6, 4), 0.5, training=True).numpy()]
    parts = []
    for rank in range(2):
        mg.manual_seed(7)
        with mg.backend.sharded_draws(rank, 2):
            parts.append(draws())
    for i, expected in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([parts[0][i], parts[1][i]]), expected)


def test_draws_outside_a_step_are_not_sharded():
    mg.manual_seed(1)
    a = mg.randn(4).numpy()
    mg.manual_seed(1)
    with mg.backend.sharded_draws(1, 2):
        pass
    np.testing.assert_array_equal(mg.randn(4).numpy(), a)


# --- SyncBatchNorm in one process -------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4), (4, 3, 5, 2)])
def test_sync_batch_norm_in_one_process_is_batch_norm(backend, shape):
    x = mg.randn(*shape, dtype=mg.float64)
    mg.set_default_dtype(mg.float64)
    try:
        plain = nn.BatchNorm1d(3) if len(shape) < 4 else nn.BatchNorm2d(3)
        sync = nn.SyncBatchNorm(3)
    finally:
        mg.set_default_dtype(mg.float32)
    for module in (plain, sync):
        nn.init.normal_(module.weight)
        nn.init.normal_(module.bias)
    sync.load_state_dict(plain.state_dict())
    upstream = mg.randn(*shape, dtype=mg.float64)
    outputs = []
    for module in (plain, sync):
        xi = mg.tensor(x.numpy(), requires_grad=True)
        y = module(xi)
        (y * upstream).sum().backward()
        outputs.append((y.numpy(), xi.grad.numpy(), module.weight.grad.numpy(),
                        module.running_mean.numpy(), module.running_var.numpy()))
    for a, b in zip(*outputs):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_sync_batch_norm_statistics_are_differentiable_twice(backend):
    x = mg.randn(5, 2, 3, dtype=mg.float64, requires_grad=True)

    def statistics(t):
        mean, var, _ = dist.sync_batchnorm.sync_batch_norm_statistics(t)
        return mg.cat([mean, var])

    assert mg.gradcheck(statistics, (x,))
    assert mg.gradgradcheck(statistics, (x,))


def test_convert_sync_batchnorm_keeps_the_parameters_buffers_and_keys():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(2)))
    params, keys = list(model.parameters()), list(model.state_dict())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], nn.SyncBatchNorm)
    assert isinstance(converted[2][0], nn.SyncBatchNorm)
    assert all(a is b for a, b in zip(params, converted.parameters()))
    assert list(converted.state_dict()) == keys
    assert converted[1].running_mean is model[1].running_mean


def test_the_optimizer_wrapper_and_broadcasts_are_plain_in_one_process():
    layer = nn.Linear(2, 1)
    opt = dist.DistributedOptimizer(mg.optim.SGD(layer.parameters(), lr=0.1))
    layer(mg.ones(1, 2)).sum().backward()
    before = layer.weight.numpy().copy()
    opt.step()
    np.testing.assert_allclose(layer.weight.numpy(), before - 0.1)
    dist.broadcast_parameters(layer)
    assert opt.param_groups[0]["lr"] == 0.1 and "state" in opt.state_dict()


# --- a failing rank ends the job ----------------------------------------------------------

MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (pip install -e '.[mpi]')")
def test_a_rank_that_raises_ends_every_rank_within_seconds(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text(
        "import time, minigan.distributed as dist\n"
        "dist.init()\n"
        "if dist.rank() == 1:\n    raise RuntimeError('rank 1 broke')\n"
        "dist.barrier()  # rank 0 would wait here forever\n"
        "time.sleep(60)\n")
    start = time.monotonic()
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert time.monotonic() - start < 30
    assert result.returncode != 0
    assert "rank 1 broke" in result.stderr


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (pip install -e '.[mpi]')")
@pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"), reason="MNIST not found (set MINIGAN_DATA)")
def test_a_two_rank_run_resumes_on_two_ranks_and_is_refused_on_one(tmp_path):
    out = str(tmp_path / "run")
    program = [sys.executable, os.path.join(ROOT, "examples", "mnist_dcgan.py"), "--out", out,
               "--train-size", "128", "--batch-size", "32", "--no-eval", "--epochs", "1"]
    env = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1"}

    def run(command):
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env,
                              cwd=ROOT)

    first = run([MPIEXEC, "-n", "2"] + program + ["--distributed", "--max-steps", "2"])
    assert first.returncode == 0, first.stderr
    alone = run(program + ["--resume", "--max-steps", "4"])
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines()[-1] == (
        f"error: {out}/checkpoint.npz was trained on 2 rank(s); --resume continues it on "
        "the same number (mpiexec -n 2 ... --distributed), not on 1")
    again = run([MPIEXEC, "-n", "2"] + program + ["--distributed", "--resume", "--max-steps", "4"])
    assert again.returncode == 0, again.stderr
    assert "resumed from" in again.stderr and "done: 4 steps" in again.stderr


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec not found (pip install -e '.[mpi]')")
@pytest.mark.parametrize("model", ["dcgan", "dcgan64"])
def test_bench_distributed_times_one_process_and_two_ranks_and_counts_the_traffic(tmp_path, model):
    path = tmp_path / "dist.json"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_distributed.py"), "--model",
         model, "--batch-size", "4", "--steps", "1", "--warmup", "1", "--json", str(path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr
    import json
    report = json.loads(path.read_text())
    assert report["single"]["ranks"] == 1 and report["two_ranks"]["ranks"] == 2
    gradients = {"dcgan": 910_658, "dcgan64": 6_342_272}[model]  # G's and D's parameters
    assert report["two_ranks"]["bytes_per_step"] >= 4 * gradients
    assert report["model_ms"]["64"] > report["model_ms"]["8"] > 0
    assert "MODEL, not measured" in result.stdout

"""Data-parallel DCGAN training on this machine: 1 process on 2 threads against
2 MPI ranks on 1 thread each, and what the communication would cost on a cluster.

    python benchmarks/bench_distributed.py                  # both, batch 128, 20 steps
    python benchmarks/bench_distributed.py --model dcgan64 --batch-size 64 --steps 10
    python benchmarks/bench_distributed.py --steps 40 --json dist.json

Each configuration trains the MNIST DCGAN (minigan.gan.DCGAN, the command-line
defaults), or with --model dcgan64 the paper's 64x64 RGB DCGAN (ngf = ndf = 64), on
random images for `--warmup` + `--steps` steps at the global batch
`--batch-size`; the 2-rank run splits it 64 + 64 with SyncBatchNorm, sharded
random draws and one Allreduce of every optimizer's gradients per step
(minigan.train.parallel). Images per second count the global batch.
Communication: bytes this rank sent into collectives per step, their number,
and the seconds spent inside MPI calls per step (minigan.distributed.comm.traffic).

The cluster lines are a MODEL, not a measurement: a ring all-reduce of B bytes
over p ranks sends 2 (p - 1) / p * B bytes per rank in 2 (p - 1) messages, so
one step costs about  calls * 2 (p - 1) * latency + 2 (p - 1) / p * bytes / bandwidth
for the stated latency and bandwidth.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # minigan from this checkout, when it is not installed


MODELS = {"dcgan": (1, 28), "dcgan64": (3, 64)}  # channels, image size


def train_steps(model_name, batch_size, warmup, steps, distributed):
    """Time `steps` training steps (after `warmup`); returns a dict of the measurements."""
    import numpy as np

    import minigan as mg
    from minigan.gan import DCGAN, DCGAN64

    mg.manual_seed(0)
    config = {"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "z_dim": 100}
    channels, size = MODELS[model_name]
    if model_name == "dcgan64":
        model = DCGAN64({**config, "image_size": size, "channels": channels, "ngf": 64,
                         "ndf": 64})
    else:
        model = DCGAN(config)
    world, rank = 1, 0
    step_fn = model.train_step
    if distributed:
        import minigan.distributed as dist
        from minigan.train.parallel import make_data_parallel, parallel_step
        dist.init()
        world, rank = dist.world_size(), dist.rank()
        model = make_data_parallel(model, sync_bn=True)

        def step_fn(real, labels, step):
            return parallel_step(model, real, labels, step)
    local = batch_size // world
    rng = np.random.default_rng(rank)
    real = mg.tensor(rng.uniform(-1, 1, (local, channels, size, size)).astype(np.float32))
    labels = mg.tensor(rng.integers(0, 10, local))
    for step in range(1, warmup + 1):
        step_fn(real, labels, step)
    if distributed:
        from minigan.distributed import comm
        comm.barrier()
        comm.traffic.update(calls=0, bytes=0, seconds=0.0)
    start = time.perf_counter()
    for step in range(warmup + 1, warmup + steps + 1):
        step_fn(real, labels, step)
    seconds = time.perf_counter() - start
    result = {"ranks": world, "ms_per_step": 1000 * seconds / steps,
              "img_per_s": batch_size * steps / seconds}
    if distributed:
        result.update(bytes_per_step=comm.traffic["bytes"] / steps,
                      calls_per_step=comm.traffic["calls"] / steps,
                      comm_ms_per_step=1000 * comm.traffic["seconds"] / steps)
    return result, rank


def child(args):
    """One configuration in this process (run by main through a subprocess)."""
    result, rank = train_steps(args.model, args.batch_size, args.warmup, args.steps,
                               args.child == "mpi")
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


def run(command, threads):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


def cluster_model(bytes_per_step, calls_per_step, ranks, latency_s, bandwidth_bytes_s):
    """Seconds per step spent in ring all-reduces at `ranks` ranks (a model)."""
    p = ranks
    return (calls_per_step * 2 * (p - 1) * latency_s
            + 2 * (p - 1) / p * bytes_per_step / bandwidth_bytes_s)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="dcgan")
    parser.add_argument("--batch-size", type=int, default=128, help="global batch")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--latency-us", type=float, default=5.0,
                        help="cluster model: one message's latency")
    parser.add_argument("--bandwidth-gbit", type=float, default=25.0,
                        help="cluster model: link bandwidth")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--child", choices=("single", "mpi"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("batch_size", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.batch_size % 2:
        parser.error(f"--batch-size must be even to split over 2 ranks, got {args.batch_size}")
    if args.child:
        return child(args)
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.path.exists(mpiexec):
        print(f"error: no mpiexec beside {sys.executable}: pip install -e \".[mpi]\"",
              file=sys.stderr)
        return 2
    me = [os.path.abspath(__file__), "--model", args.model, "--batch-size", str(args.batch_size),
          "--steps",
          str(args.steps), "--warmup", str(args.warmup)]
    single = run([sys.executable] + me + ["--child", "single"], threads=2)
    double = run([mpiexec, "-n", "2", sys.executable] + me + ["--child", "mpi"], threads=1)
    print(f"{args.model}, global batch {args.batch_size}, {args.steps} steps after {args.warmup} "
          "warm-up steps, wall clock")
    print(f"{'configuration':<34} {'ms/step':>8} {'img/s':>7} {'MiB sent/step':>14} "
          f"{'calls/step':>10} {'comm ms/step':>12}")
    print(f"{'1 process, 2 BLAS threads':<34} {single['ms_per_step']:8.0f} "
          f"{single['img_per_s']:7.0f} {'-':>14} {'-':>10} {'-':>12}")
    print(f"{'2 ranks, 1 BLAS thread each':<34} {double['ms_per_step']:8.0f} "
          f"{double['img_per_s']:7.0f} {double['bytes_per_step'] / 2**20:14.2f} "
          f"{double['calls_per_step']:10.0f} {double['comm_ms_per_step']:12.1f}")
    latency, bandwidth = args.latency_us * 1e-6, args.bandwidth_gbit * 1e9 / 8
    print(f"\nMODEL, not measured: ring all-reduce of the same bytes and calls per step at "
          f"{args.latency_us:g} us latency and {args.bandwidth_gbit:g} Gbit/s")
    modelled = {}
    for ranks in (8, 64):
        seconds = cluster_model(double["bytes_per_step"], double["calls_per_step"], ranks,
                                latency, bandwidth)
        modelled[ranks] = 1000 * seconds
        print(f"  {ranks:>3} ranks: about {1000 * seconds:.2f} ms of communication per step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"single": single, "two_ranks": double, "model_ms": modelled}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

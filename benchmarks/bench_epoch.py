"""Time per epoch of the MNIST DCGAN as a user trains it: minigan's program against
the same training written as a plain PyTorch program.

    python benchmarks/bench_epoch.py                 # 1 epoch each, all cores
    python benchmarks/bench_epoch.py --threads 1 --steps 100

minigan: `examples/mnist_dcgan.py --epochs 1 --no-eval` exactly as a user runs it
(its data loader, the fixed-z grid every 100 steps and at the epoch's end, the step
log, the checkpoint), in a fresh process; the epoch's time is the step log's clock
(seconds since the epoch began) at its last step.

PyTorch: bench_dcgan.py's TorchGAN step (the same networks, losses, Adam
settings), batch 128 (the last partial batch dropped, as minigan's loader does), per-epoch shuffle and per-step logging
(`.item()` of the losses), written as the DCGAN example in PyTorch's own repository
writes its loop (its G step computes D's parameter gradients too, as PyTorch code
usually does). It reads the MNIST files with NumPy and keeps them as one tensor
(torch's DataLoader over a TensorDataset), and writes an image grid as often as
minigan's program does (torchvision is not assumed: the grid is saved with NumPy).
It runs in its own process, which never imports minigan.

With --steps N both stop after N steps and the epoch time is scaled from them.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from common import available_cores, format_machine, machine_info, set_threads  # noqa: E402
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)

BATCH, Z_DIM, SAMPLE_EVERY = 128, 100, 100
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


def read_mnist_images(folder):
    """The 60,000 training digits as uint8 (N, 28, 28), from the IDX file."""
    with gzip.open(os.path.join(folder, TRAIN_IMAGES), "rb") as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, h, w)


def mnist_folder(given):
    folder = given or os.environ.get("MINIGAN_DATA")
    if not folder or not os.path.exists(os.path.join(folder, TRAIN_IMAGES)):
        sys.exit(f"error: expected the MNIST files in --data or $MINIGAN_DATA, got {folder!r}")
    return folder


# --- PyTorch's program ------------------------------------------------------------------
def torch_program(args):
    """One epoch (or --steps) of the DCGAN in plain PyTorch; prints JSON with the time."""
    import torch
    from bench_dcgan import TorchGAN, init_dcgan_weights_torch
    set_threads(args.threads)
    torch.manual_seed(0)
    images = read_mnist_images(mnist_folder(args.data))
    data = torch.from_numpy(images).float().div_(127.5).sub_(1.0).unsqueeze(1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data),
                                         batch_size=BATCH, shuffle=True, drop_last=True)
    gan = TorchGAN(conditional=False, device="cpu")  # bench_dcgan's step: the same networks,
    gan.G.apply(init_dcgan_weights_torch)             # losses, Adam and .item() logging
    gan.D.apply(init_dcgan_weights_torch)
    G = gan.G
    fixed_z = torch.randn(64, Z_DIM)
    out = tempfile.mkdtemp()
    log = open(os.path.join(out, "log.jsonl"), "w")
    start, steps = time.perf_counter(), 0
    for step, (real,) in enumerate(loader, 1):
        metrics = gan.train_step(real, None)
        log.write(json.dumps({"step": step, **metrics,
                              "time": time.perf_counter() - start}) + "\n")
        if step % SAMPLE_EVERY == 0:
            G.eval()
            with torch.no_grad():
                grid = G(fixed_z).numpy()
            G.train()
            np.save(os.path.join(out, f"step_{step:06d}.npy"), grid)
        steps = step
        if args.steps and step >= args.steps:
            break
    seconds = time.perf_counter() - start
    torch.save({"G": G.state_dict(), "D": gan.D.state_dict()}, os.path.join(out, "checkpoint.pt"))
    print(json.dumps({"steps": steps, "seconds": seconds, "steps_per_epoch": len(loader)}))


# --- minigan's program ----------------------------------------------------------------
def minigan_program(args, threads):
    """examples/mnist_dcgan.py as a user runs it; (steps, seconds, steps per epoch)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), MINIGAN_DATA=mnist_folder(args.data))
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, os.path.join(ROOT, "examples", "mnist_dcgan.py"),
                   "--epochs", "1", "--no-eval", "--out", out]
        if args.steps:
            command += ["--max-steps", str(args.steps)]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "log.jsonl")) as f:
            records = [json.loads(line) for line in f if '"loss_d"' in line]
    last = records[-1]
    return last["step"], last["time"], (60000 // BATCH)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--steps", type=int, default=None,
                   help="stop each program after this many steps and scale to an epoch")
    p.add_argument("--data", default=None, help="MNIST folder (default: $MINIGAN_DATA)")
    p.add_argument("--_torch-child", dest="torch_child", action="store_true",
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.torch_child:
        return torch_program(args)
    threads = args.threads or available_cores()
    mnist_folder(args.data)
    print(format_machine(machine_info()))
    rows = []
    steps, seconds, per_epoch = minigan_program(args, threads)
    rows.append(("minigan examples/mnist_dcgan.py", steps, seconds, per_epoch))
    command = [sys.executable, os.path.abspath(__file__), "--_torch-child",
               "--threads", str(threads)] + (["--steps", str(args.steps)] if args.steps else []) \
        + (["--data", args.data] if args.data else [])
    result = json.loads(subprocess.run(command, check=True, capture_output=True,
                                       text=True).stdout.strip().splitlines()[-1])
    rows.append(("PyTorch, the same program", result["steps"], result["seconds"],
                 result["steps_per_epoch"]))
    print(f"\n{threads} thread(s), batch {BATCH}; epoch time = steps' time x "
          f"(steps per epoch / steps timed)\n")
    print("| program | steps timed | seconds | s per epoch | img/s |")
    print("| --- | --- | --- | --- | --- |")
    epoch = {}
    for name, steps, seconds, per_epoch in rows:
        epoch[name] = seconds * per_epoch / steps
        print(f"| {name} | {steps} | {seconds:.1f} | {epoch[name]:.1f} | "
              f"{steps * BATCH / seconds:.0f} |")
    a, b = epoch.values()
    print(f"\nratio minigan / PyTorch: {a / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

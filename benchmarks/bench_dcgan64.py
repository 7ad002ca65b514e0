"""One training step of the paper's 64x64 DCGAN: minigan against PyTorch's DCGAN example.

    python benchmarks/bench_dcgan64.py                         # ngf = ndf = 64, batch 64, RGB
    python benchmarks/bench_dcgan64.py --ngf 32 --ndf 32 --repeats 5 --threads 2 --json d64.json

The step is `minigan.gan.DCGAN64.train_step` (the DCGAN step on the networks of
minigan/gan/dcgan64.py); the PyTorch side is the networks of PyTorch's DCGAN
example (the same layers, hence the same state-dict keys, its final Sigmoid
folded into BCE-with-logits as minigan does), started from minigan's initial
weights through NumPy, with the same losses and Adam settings, on the same
random batch of images in [-1, 1]. One step with the same z runs on both sides
first and their losses are compared; then the steps are timed alternately and
the median reported (see common.py): on a machine other programs load, the two
columns see the same load.
"""
import argparse
import os
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # minigan from this checkout, when it is not installed
from bench_dcgan import BETAS, LR, Z_DIM, TorchGAN, timed_row  # noqa: E402
from common import (add_timing_arguments, check_timing_arguments, format_machine,  # noqa: E402
                    format_table, machine_info, report, set_threads)
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)


def torch_example_networks(ngf, ndf, nc):
    """PyTorch's DCGAN example's Generator.main and Discriminator.main (without the Sigmoid)."""
    import torch.nn as tnn

    class Generator(tnn.Module):
        def __init__(self):
            super().__init__()
            self.main = tnn.Sequential(
                tnn.ConvTranspose2d(Z_DIM, ngf * 8, 4, 1, 0, bias=False), tnn.BatchNorm2d(ngf * 8), tnn.ReLU(True),
                tnn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), tnn.BatchNorm2d(ngf * 4), tnn.ReLU(True),
                tnn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(ngf * 2), tnn.ReLU(True),
                tnn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), tnn.BatchNorm2d(ngf), tnn.ReLU(True),
                tnn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), tnn.Tanh())

        def forward(self, z):
            return self.main(z.reshape(z.shape[0], -1, 1, 1))

    class Discriminator(tnn.Module):
        def __init__(self):
            super().__init__()
            self.main = tnn.Sequential(
                tnn.Conv2d(nc, ndf, 4, 2, 1, bias=False), tnn.LeakyReLU(0.2, inplace=True),
                tnn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(ndf * 2),
                tnn.LeakyReLU(0.2, inplace=True),
                tnn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), tnn.BatchNorm2d(ndf * 4),
                tnn.LeakyReLU(0.2, inplace=True),
                tnn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), tnn.BatchNorm2d(ndf * 8),
                tnn.LeakyReLU(0.2, inplace=True),
                tnn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False))

        def forward(self, x):
            return self.main(x).reshape(x.shape[0], 1)

    return Generator(), Discriminator()


class TorchDCGAN64(TorchGAN):
    """bench_dcgan's PyTorch step (unconditional) on the example's 64x64 networks."""

    def __init__(self, ngf, ndf, nc, device):
        import torch
        import torch.nn.functional as F
        self.torch, self.F, self.conditional, self.device = torch, F, False, device
        self.G, self.D = (net.to(device) for net in torch_example_networks(ngf, ndf, nc))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.sample_z = lambda n: torch.randn(n, Z_DIM, device=device)


def bench(args):
    import minigan as mg
    import torch
    from minigan.gan import DCGAN64
    mg.manual_seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if args.backend == "cupy" else "cpu"
    mg_model = DCGAN64({"lr": LR, "beta1": BETAS[0], "d_steps": 1, "z_dim": Z_DIM, "ngf": args.ngf,
                        "ndf": args.ndf, "channels": args.nc, "image_size": 64})
    mg_model.skip_discarded_grads = False  # PyTorch's plain step: D's G-step gradients too
    torch_gan = TorchDCGAN64(args.ngf, args.ndf, args.nc, device)
    torch_gan.load_minigan_weights(mg_model)
    rng = np.random.default_rng(args.seed)
    images = rng.uniform(-1.0, 1.0, (args.batch_size, args.nc, 64, 64)).astype(np.float32)
    labels = np.zeros(args.batch_size, np.int64)
    return timed_row(mg_model, torch_gan, images, labels, args,
                     {"model": "dcgan64", "batch_size": args.batch_size, "ngf": args.ngf,
                      "ndf": args.ndf, "nc": args.nc})


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(p)
    p.set_defaults(batch_size=64, repeats=5)
    p.add_argument("--ngf", type=int, default=64, help="generator width (64, the example's)")
    p.add_argument("--ndf", type=int, default=64, help="discriminator width (64)")
    p.add_argument("--nc", type=int, choices=(1, 3), default=3, help="image channels (3)")
    args = p.parse_args(argv)
    check_timing_arguments(p, args)
    if args.ngf < 1 or args.ndf < 1:
        p.error(f"--ngf and --ndf must be at least 1, got {args.ngf} and {args.ndf}")
    return args


def format_report(result):
    s, r = result["settings"], result["row"]
    headers = ["model", "batch", "ngf/ndf", "minigan ms/step", "torch ms/step", "ratio",
               "minigan img/s", "torch img/s", "first-step |diff|"]
    rows = [[r["model"], r["batch_size"], f"{r['ngf']}/{r['ndf']}", r["minigan"]["ms_per_step"],
             r["torch"]["ms_per_step"], r["ratio"], r["minigan"]["images_per_s"],
             r["torch"]["images_per_s"], f"{r['first_step']['max_abs_diff']:.1e}"]]
    return "\n".join([
        format_machine(result["machine"]),
        f"one 64x64 training step (D step + G step), float32, {r['nc']} channels, backend "
        f"{s['backend']}, median of {s['repeats']} interleaved steps after {s['warmup']} warm-up "
        f"steps, {s['clock']} clock; ratio = minigan / torch",
        "", format_table(headers, rows)])


def main(argv=None):
    args = parse_args(argv)
    import minigan as mg
    import torch  # noqa: F401  (before set_threads, which sets its thread count)
    mg.get_backend(args.backend)
    threads = set_threads(args.threads)
    with mg.use_backend(args.backend):
        row = bench(args)
    result = {"benchmark": "dcgan64_step", "machine": machine_info(),
              "settings": {"batch_size": args.batch_size, "repeats": args.repeats,
                           "warmup": args.warmup, "settle_s": args.settle, "rewarm": args.rewarm,
                           "threads": threads,
                           "clock": args.clock, "backend": args.backend, "dtype": "float32"},
              "row": row}
    report(format_report(result), result, args.json)
    return result


if __name__ == "__main__":
    main()

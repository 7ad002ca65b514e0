"""One training step of the MNIST DCGAN and CGAN: minigan against PyTorch.

    python benchmarks/bench_dcgan.py                       # both models, batch 128
    python benchmarks/bench_dcgan.py --model dcgan --repeats 10 --threads 2 --json dcgan.json
    python benchmarks/bench_dcgan.py --backend cupy        # on a GPU: CuPy against torch CUDA
    python benchmarks/bench_dcgan.py --profile 3           # cProfile 3 minigan steps, no torch
    python benchmarks/bench_dcgan.py --scaling             # DCGAN at batch 32 ... 512, 64x64 DCGAN 16 ... 128
    python benchmarks/bench_dcgan.py --model dcgan64       # the paper's 64x64 DCGAN (bench_dcgan64.py's)

A step is what `minigan.gan.DCGAN.train_step` does: G makes a batch of fakes, D
takes an Adam step on real -> 1 and fake -> 0, then G takes an Adam step on
fake -> 1 (the non-saturating loss), here computing D's parameter gradients in the G step
as PyTorch's plain step does (the training programs skip them: see
GANModel.skip_discarded_grads). The PyTorch side is the same networks
(the same layers in the same order, hence the same state-dict keys), started
from minigan's initial weights copied through NumPy, with the same losses and
Adam settings. Both get the same batch of random images in [-1, 1] and random
labels: the data loader is not part of the step.

Before timing, one step runs on both sides with the same noise z, and their
losses are compared, so the two columns are known to time the same computation.
The steps are then timed alternately (see common.py). Peak memory is measured in
separate processes, one per library, so that neither sees the other's arrays.
"""
import argparse
import json
import os
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # minigan from this checkout, when it is not installed
from common import (CLOCKS, add_timing_arguments, check_timing_arguments,  # noqa: E402
                    current_rss_mb, format_machine, format_table, interleaved, machine_info,
                    median_ms, peak_rss_mb, ratio, report, set_threads)
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)

LR, BETAS, Z_DIM, NUM_CLASSES = 2e-4, (0.5, 0.999), 100, 10
SCALING_BATCHES = {"dcgan": (32, 64, 128, 256, 512), "cgan": (32, 64, 128, 256, 512),
                   "dcgan64": (16, 32, 64, 128)}
REPEATS = {"dcgan": 20, "cgan": 20, "dcgan64": 5}  # --repeats unless given: a 64x64 step is ~6x longer


# --- the minigan side ----------------------------------------------------------------
def minigan_model(model):
    """minigan's DCGAN, CGAN or 64x64 DCGAN (RGB, ngf = ndf = 64), with the command-line
    defaults of minigan.gan."""
    from minigan.gan import CGAN, DCGAN, DCGAN64
    config = {"lr": LR, "beta1": BETAS[0], "d_steps": 1, "z_dim": Z_DIM}
    if model == "dcgan64":
        gan = DCGAN64({**config, "ngf": DCGAN64_WIDTHS["ngf"], "ndf": DCGAN64_WIDTHS["ndf"],
                       "channels": DCGAN64_WIDTHS["nc"], "image_size": 64})
    else:
        gan = {"dcgan": DCGAN, "cgan": CGAN}[model](config)
    gan.skip_discarded_grads = False  # PyTorch's plain step: D's G-step gradients too
    return gan


# --- the PyTorch side: the same networks and step -------------------------------------
def torch_networks(conditional):
    """PyTorch twins of minigan.gan.dcgan's Generator and Discriminator (with the CGAN's
    extra label inputs when `conditional`), layer for layer."""
    import torch.nn as tnn

    class Generator(tnn.Module):
        def __init__(self, in_features):
            super().__init__()
            self.net = tnn.Sequential(
                tnn.Linear(in_features, 128 * 7 * 7, bias=False),
                tnn.BatchNorm1d(128 * 7 * 7),
                tnn.ReLU(),
                tnn.Unflatten(1, (128, 7, 7)),
                tnn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
                tnn.BatchNorm2d(64),
                tnn.ReLU(),
                tnn.ConvTranspose2d(64, 1, 4, 2, 1),
                tnn.Tanh(),
            )

        def forward(self, z):
            return self.net(z)

    class Discriminator(tnn.Module):
        def __init__(self, in_channels):
            super().__init__()
            self.net = tnn.Sequential(
                tnn.Conv2d(in_channels, 64, 4, 2, 1),
                tnn.LeakyReLU(0.2),
                tnn.Conv2d(64, 128, 4, 2, 1, bias=False),
                tnn.BatchNorm2d(128),
                tnn.LeakyReLU(0.2),
                tnn.Flatten(),
                tnn.Linear(128 * 7 * 7, 1),
            )

        def forward(self, x):
            return self.net(x)

    extra = NUM_CLASSES if conditional else 0
    return Generator(Z_DIM + extra), Discriminator(1 + extra)


def init_dcgan_weights_torch(module):
    """The DCGAN initialisation (as minigan.gan.base.init_dcgan_weights), for the
    memory child, which must not import minigan."""
    import torch.nn as tnn
    if isinstance(module, (tnn.Conv2d, tnn.ConvTranspose2d, tnn.Linear)):
        tnn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            tnn.init.zeros_(module.bias)
    elif isinstance(module, (tnn.BatchNorm1d, tnn.BatchNorm2d)):
        tnn.init.normal_(module.weight, 1.0, 0.02)
        tnn.init.zeros_(module.bias)


class TorchGAN:
    """The PyTorch mirror of minigan.gan.DCGAN / CGAN: the same step, written with torch."""

    def __init__(self, conditional, device):
        import torch
        import torch.nn.functional as F
        self.torch, self.F, self.conditional, self.device = torch, F, conditional, device
        self.G, self.D = (net.to(device) for net in torch_networks(conditional))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.sample_z = lambda n: torch.randn(n, Z_DIM, device=device)

    def load_minigan_weights(self, mg_model):
        """Copy minigan's G and D state dicts in, through NumPy (the keys are the same)."""
        for mine, theirs in ((self.G, mg_model.G), (self.D, mg_model.D)):
            state = {k: self.torch.from_numpy(np.array(v.numpy())).to(self.device)
                     for k, v in theirs.state_dict().items()}
            mine.load_state_dict(state)

    def generate(self, z, labels):
        if self.conditional:
            z = self.torch.cat([z, self.F.one_hot(labels, NUM_CLASSES).float()], 1)
        return self.G(z)

    def discriminate(self, images, labels):
        if self.conditional:
            n, _, h, w = images.shape
            planes = self.F.one_hot(labels, NUM_CLASSES).float().reshape(-1, NUM_CLASSES, 1, 1)
            images = self.torch.cat([images, planes.expand(-1, NUM_CLASSES, h, w)], 1)
        return self.D(images)

    def bce(self, logits, target):
        return self.F.binary_cross_entropy_with_logits(
            logits, self.torch.full_like(logits, target))

    def train_step(self, real, labels):
        fake = self.generate(self.sample_z(real.shape[0]), labels)
        real_logits = self.discriminate(real, labels)
        fake_logits = self.discriminate(fake.detach(), labels)
        loss_d = self.bce(real_logits, 1.0) + self.bce(fake_logits, 0.0)
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        metrics = {"loss_d": loss_d.item(),
                   "D(x)": self.torch.sigmoid(real_logits.detach()).mean().item(),
                   "D(G(z))": self.torch.sigmoid(fake_logits.detach()).mean().item()}
        loss_g = self.bce(self.discriminate(fake, labels), 1.0)
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        metrics["loss_g"] = loss_g.item()
        return metrics


DCGAN64_WIDTHS = {"ngf": 64, "ndf": 64, "nc": 3}  # PyTorch's DCGAN example's defaults


# --- shared inputs ---------------------------------------------------------------------
def random_batch(batch_size, seed):
    """Images uniform in [-1, 1], shape (N, 1, 28, 28) float32, and labels 0..9 (int64)."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1.0, 1.0, (batch_size, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES, batch_size).astype(np.int64)
    return images, labels


def device_sync(backend):
    """A function that waits for the GPUs of both libraries, or None on the CPU."""
    if backend != "cupy":
        return None
    import cupy
    import torch

    def sync():
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()
    return sync


def first_step_agreement(mg_model, torch_gan, batch, torch_batch, seed):
    """Run one step on both sides with the same noise z; the largest difference
    between their losses and D outputs (float32 round-off: about 1e-6 to 1e-4)."""
    import minigan as mg
    z = np.random.default_rng(seed + 1).standard_normal((batch[0].shape[0], Z_DIM))
    z = z.astype(np.float32)
    mg_model.sample_z = lambda n: mg.tensor(z)
    torch_gan_sample_z = torch_gan.sample_z
    torch_gan.sample_z = lambda n: torch_gan.torch.from_numpy(z).to(torch_gan.device)
    try:
        mine = mg_model.train_step(*batch, 1)
        theirs = torch_gan.train_step(*torch_batch)
    finally:
        del mg_model.sample_z  # back to the class's sampler
        torch_gan.sample_z = torch_gan_sample_z
    return {k: abs(mine[k] - theirs[k]) for k in theirs}, mine, theirs


def bench_model(model, args):
    if model == "dcgan64":  # the paper's 64x64 networks, RGB, ngf = ndf = 64
        import bench_dcgan64
        return bench_dcgan64.bench(argparse.Namespace(**{**vars(args), **DCGAN64_WIDTHS}))
    import minigan as mg
    import torch
    conditional = model == "cgan"
    mg.manual_seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if args.backend == "cupy" else "cpu"

    mg_model = minigan_model(model)
    torch_gan = TorchGAN(conditional, device)
    torch_gan.load_minigan_weights(mg_model)

    images, labels = random_batch(args.batch_size, args.seed)
    return timed_row(mg_model, torch_gan, images, labels, args,
                     {"model": model, "batch_size": args.batch_size})


def timed_row(mg_model, torch_gan, images, labels, args, row):
    """Check the first step agrees, then time both libraries' steps interleaved on the
    same batch (NumPy `images`, `labels`); fills `row` with the first-step check, each
    library's ms per step and images per second, and their ratio."""
    import minigan as mg
    import torch
    device = torch_gan.device
    batch = (mg.tensor(images), mg.tensor(labels))
    torch_batch = (torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device))
    diffs, mine, theirs = first_step_agreement(mg_model, torch_gan, batch, torch_batch, args.seed)

    times = interleaved({"minigan": lambda: mg_model.train_step(*batch, 1),
                         "torch": lambda: torch_gan.train_step(*torch_batch)},
                        args.repeats, args.warmup, settle=args.settle,
                        sync=device_sync(args.backend), clock=args.clock, rewarm=args.rewarm)
    row["first_step"] = {"minigan": mine, "torch": theirs, "max_abs_diff": max(diffs.values())}
    for name in ("minigan", "torch"):
        ms = median_ms(times[name])
        row[name] = {"ms_per_step": ms, "images_per_s": 1000.0 * args.batch_size / ms,
                     "samples_ms": [1000.0 * t for t in times[name]]}
    row["ratio"] = ratio(row["minigan"]["ms_per_step"], row["torch"]["ms_per_step"])
    return row


# --- memory: one child process per library ------------------------------------------
def memory_child(library, args):
    """Runs in its own process: import one library, note the resident memory, train
    a few steps, and print JSON with the peaks (host, and the GPU's on cupy)."""
    conditional = args.model == "cgan"
    if args.model == "dcgan64":
        rng = np.random.default_rng(args.seed)
        images = rng.uniform(-1.0, 1.0, (args.batch_size, DCGAN64_WIDTHS["nc"], 64, 64))
        images, labels = images.astype(np.float32), np.zeros(args.batch_size, np.int64)
    else:
        images, labels = random_batch(args.batch_size, args.seed)
    if library == "minigan":
        import minigan as mg
        mg.set_backend(args.backend)
        set_threads(args.threads)
        after_imports = current_rss_mb()
        mg.manual_seed(args.seed)
        model = minigan_model(args.model)
        batch = (mg.tensor(images), mg.tensor(labels))

        def step():
            model.train_step(*batch, 1)
    else:
        import torch
        device = "cuda" if args.backend == "cupy" else "cpu"
        if device == "cuda":
            torch.zeros(1, device=device)  # start CUDA before the baseline, as cupy's import does
        set_threads(args.threads)
        after_imports = current_rss_mb()
        torch.manual_seed(args.seed)
        if args.model == "dcgan64":
            from bench_dcgan64 import TorchDCGAN64
            model = TorchDCGAN64(**DCGAN64_WIDTHS, device=device)
        else:
            model = TorchGAN(conditional, device)
        model.G.apply(init_dcgan_weights_torch)
        model.D.apply(init_dcgan_weights_torch)
        batch = (torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device))

        def step():
            model.train_step(*batch)
    for _ in range(args.memory_steps):
        step()
    result = {"library": library, "model": args.model, "steps": args.memory_steps,
              "rss_after_imports_mb": after_imports, "peak_rss_mb": peak_rss_mb()}
    if after_imports is not None:
        result["peak_minus_imports_mb"] = result["peak_rss_mb"] - after_imports
    if args.backend == "cupy":
        if library == "minigan":
            import cupy
            pool = cupy.get_default_memory_pool()  # holds its peak: it frees to itself
            result["gpu_pool_mb"] = pool.total_bytes() / 2**20
        else:
            result["gpu_peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
            result["gpu_peak_reserved_mb"] = torch.cuda.max_memory_reserved() / 2**20
    print(json.dumps(result))


def measure_memory(model, args):
    """Peak memory of each library training `model`, each in a fresh process (the two
    run at the same time: each process's peak is its own)."""
    children = {}
    for library in ("minigan", "torch"):
        command = [sys.executable, os.path.abspath(__file__), "--_memory-child", library,
                   "--model", model, "--batch-size", str(args.batch_size),
                   "--backend", args.backend, "--seed", str(args.seed),
                   "--memory-steps", str(args.memory_steps)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        children[library] = subprocess.Popen(command, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
    results = {}
    for library, child in children.items():
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"the {library} memory process failed:\n{err}")
        results[library] = json.loads(out.strip().splitlines()[-1])
    return results


# --- profiling -------------------------------------------------------------------------
def profile_minigan(args, top=15):
    """cProfile `args.profile` minigan DCGAN steps (after warm-up); print the top entries
    by time spent in the function itself (tottime)."""
    import cProfile
    import pstats
    import minigan as mg
    threads = set_threads(args.threads)
    mg.manual_seed(args.seed)
    model = minigan_model("cgan" if args.model == "cgan" else "dcgan")
    images, labels = random_batch(args.batch_size, args.seed)
    batch = (mg.tensor(images), mg.tensor(labels))
    for _ in range(max(args.warmup, 1)):
        model.train_step(*batch, 1)
    profiler = cProfile.Profile(CLOCKS[args.clock])
    profiler.enable()
    for _ in range(args.profile):
        model.train_step(*batch, 1)
    profiler.disable()
    print(f"cProfile of {args.profile} minigan {model.name} step(s), batch {args.batch_size}, "
          f"{threads} threads, {args.clock} clock; top {top} by tottime")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


# --- the program ------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(p)
    p.set_defaults(batch_size=None, repeats=None)  # per model: see SCALING_BATCHES, REPEATS
    p.add_argument("--model", choices=("dcgan", "cgan", "dcgan64", "both"), default=None,
                   help="both = dcgan and cgan (the default); under --scaling the default "
                        "is dcgan and dcgan64 (the paper's 64x64 networks, RGB, ngf = ndf = 64)")
    p.add_argument("--memory-steps", type=int, default=None,
                   help="training steps each memory process runs (3, or 0 under --scaling; "
                        "0 skips memory)")
    p.add_argument("--scaling", nargs="?", const="", metavar="SIZES",
                   help="time the step at each batch size (comma-separated; default "
                        f"{','.join(map(str, SCALING_BATCHES['dcgan']))} for the 28x28 models, "
                        f"{','.join(map(str, SCALING_BATCHES['dcgan64']))} for dcgan64) "
                        "instead of --batch-size")
    p.add_argument("--profile", type=int, default=0, metavar="STEPS",
                   help="instead of comparing, cProfile this many minigan steps")
    p.add_argument("--_memory-child", dest="memory_child", choices=("minigan", "torch"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.model is None:
        args.model = "scaling" if args.scaling is not None else "both"
    args.models = {"both": ["dcgan", "cgan"], "scaling": ["dcgan", "dcgan64"]}.get(
        args.model, [args.model])
    args.repeats_given = args.repeats
    args.repeats = REPEATS[args.models[0]] if args.repeats is None else args.repeats
    args.batch_sizes = {}  # model -> the batch sizes it is timed at
    if args.scaling is not None:
        if args.batch_size is not None:
            p.error("--scaling times its own batch sizes: give it SIZES, not --batch-size")
        try:
            sizes = [int(b) for b in args.scaling.split(",")] if args.scaling else None
        except ValueError:
            p.error(f"--scaling expects comma-separated batch sizes, got {args.scaling!r}")
        if sizes is not None and min(sizes) < 1:
            p.error(f"--scaling: batch sizes must be at least 1, got {args.scaling!r}")
        for model in args.models:
            args.batch_sizes[model] = sizes or list(SCALING_BATCHES[model])
    else:
        for model in args.models:
            args.batch_sizes[model] = [args.batch_size or (64 if model == "dcgan64" else 128)]
    args.batch_size = args.batch_sizes[args.models[0]][0]
    if args.memory_steps is None:
        args.memory_steps = 0 if args.scaling is not None else 3
    check_timing_arguments(p, args)
    if args.memory_child and len(args.models) > 1:
        p.error("--_memory-child needs one --model")
    if args.profile and args.model not in ("dcgan", "cgan", "both"):
        p.error("--profile profiles the dcgan (or, with --model cgan, the cgan) step")
    return args


def format_report(result):
    s = result["settings"]
    repeats = " / ".join(f"{n} ({m})" for m, n in s["repeats_per_model"].items()) \
        if len(set(s["repeats_per_model"].values())) > 1 else next(iter(s["repeats_per_model"].values()))
    headers = ["model", "batch", "minigan ms/step", "torch ms/step", "ratio",
               "minigan img/s", "torch img/s", "minigan ms/img", "torch ms/img",
               "first-step |diff|"]
    rows = [[r["model"], r["batch_size"], r["minigan"]["ms_per_step"], r["torch"]["ms_per_step"],
             r["ratio"], r["minigan"]["images_per_s"], r["torch"]["images_per_s"],
             r["minigan"]["ms_per_step"] / r["batch_size"],
             r["torch"]["ms_per_step"] / r["batch_size"],
             f"{r['first_step']['max_abs_diff']:.1e}"] for r in result["models"]]
    lines = [format_machine(result["machine"]),
             f"one training step (D step + G step), float32, backend {s['backend']}, "
             f"median of {repeats} interleaved steps after {s['warmup']} warm-up "
             f"steps, {s['clock']} clock; ratio = minigan / torch; dcgan64: the paper's "
             "64x64 networks (RGB, ngf = ndf = 64)" * any(r["model"] == "dcgan64"
                                                          for r in result["models"]),
             "", format_table(headers, rows)]
    memory = [r for r in result["models"] if "memory" in r]
    if memory:
        gpu = s["backend"] == "cupy"
        headers = ["model", "library", "peak RSS MiB", "after imports MiB", "peak - imports MiB"]
        if gpu:
            headers.append("GPU MiB")
        rows = []
        for r in memory:
            for library, m in r["memory"].items():
                row = [r["model"], library, m["peak_rss_mb"], m["rss_after_imports_mb"],
                       m.get("peak_minus_imports_mb")]
                if gpu:
                    row.append(m.get("gpu_pool_mb", m.get("gpu_peak_reserved_mb")))
                rows.append(row)
        lines += ["", f"peak memory, each library in its own process running "
                      f"{s['memory_steps']} steps",
                  format_table(headers, rows, ["<", "<"] + [">"] * (len(headers) - 2))]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args)
    import minigan as mg
    if args.profile:
        with mg.use_backend(args.backend):
            return profile_minigan(args)
    import torch  # noqa: F401  (before set_threads, which sets its thread count)
    mg.get_backend(args.backend)  # loads CuPy now (with a clear error if it cannot)
    threads = set_threads(args.threads)
    result = {
        "benchmark": "dcgan_step",
        "machine": machine_info(),
        "settings": {"batch_sizes": args.batch_sizes, "repeats": args.repeats_given,
                     "repeats_per_model": {m: args.repeats_given or REPEATS[m]
                                           for m in args.models},
                     "warmup": args.warmup, "settle_s": args.settle, "rewarm": args.rewarm,
                     "threads": threads,
                     "clock": args.clock,
                     "backend": args.backend, "dtype": "float32",
                     "memory_steps": args.memory_steps,
                     "adam": {"lr": LR, "betas": list(BETAS)}},
        "models": [],
    }
    for model in args.models:
        args.model, args.repeats = model, args.repeats_given or REPEATS[model]
        for batch_size in args.batch_sizes[model]:
            args.batch_size = batch_size
            with mg.use_backend(args.backend):
                row = bench_model(model, args)
            row["repeats"] = args.repeats
            if args.memory_steps > 0:
                row["memory"] = measure_memory(model, args)
            result["models"].append(row)
    report(format_report(result), result, args.json)
    return result


if __name__ == "__main__":
    main()

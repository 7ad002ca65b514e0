"""minigan's ops against PyTorch's, at the shapes the MNIST DCGAN uses.

    python benchmarks/bench_ops.py                     # batch 128, 20 repeats, all cores
    python benchmarks/bench_ops.py --threads 2 --json ops.json
    python benchmarks/bench_ops.py --json - > ops.json # JSON on stdout, the table on stderr

For each op: the time of the forward pass (inputs that require grad, so the
graph is recorded as in training) and of forward + backward (from a fixed
random upstream gradient), then one Adam step over every DCGAN parameter (G and
D). Both libraries get the same float32 inputs, run alternately in one process
(see common.py), and their forward outputs are compared, so that the two columns
time the same computation. ratio = minigan / torch: above 1, minigan is slower.
"""
import argparse
import os
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # minigan from this checkout, when it is not installed
from common import (add_timing_arguments, check_timing_arguments, format_machine,  # noqa: E402
                    format_table, interleaved, machine_info, median_ms, ratio, report,
                    set_threads)
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)


# --- the ops --------------------------------------------------------------------
# An input is (shape, kind). kinds: "x" data that needs a gradient, "z" data that
# does not (G's noise), "w" a weight ~ N(0, 0.02), "gamma" ~ N(1, 0.02), "beta" zeros
# (all three learned), "mean"/"var" BatchNorm's running statistics (zeros/ones, not
# learned), "target" 0/1 labels.
def _inputs(kinds_and_shapes, rng):
    arrays, grads = [], []
    for shape, kind in kinds_and_shapes:
        if kind in ("x", "z"):
            a = rng.standard_normal(shape)
        elif kind == "w":
            a = 0.02 * rng.standard_normal(shape)
        elif kind == "gamma":
            a = 1.0 + 0.02 * rng.standard_normal(shape)
        elif kind in ("beta", "mean"):
            a = np.zeros(shape)
        elif kind == "var":
            a = np.ones(shape)
        elif kind == "target":
            a = rng.integers(0, 2, shape)
        else:
            raise ValueError(f"unknown input kind {kind!r}")
        arrays.append(a.astype(np.float32))
        grads.append(kind in ("x", "w", "gamma", "beta"))
    return arrays, grads


def dcgan_ops(n):
    """(name, shapes as text, inputs, call) for each op of the DCGAN at batch n.

    `call(F, *tensors)` is written once for both libraries: minigan.functional and
    torch.nn.functional take the same names and arguments.
    """
    def bn(c, x_shape):
        return [(x_shape, "x"), ((c,), "mean"), ((c,), "var"), ((c,), "gamma"), ((c,), "beta")]

    def batch_norm(F, x, mean, var, w, b):
        return F.batch_norm(x, mean, var, w, b, training=True, momentum=0.1, eps=1e-5)

    return [
        ("linear", f"({n},100) -> 6272, no bias",
         [((n, 100), "z"), ((6272, 100), "w")],
         lambda F, x, w: F.linear(x, w)),
        ("linear", f"({n},6272) -> 1",
         [((n, 6272), "x"), ((1, 6272), "w"), ((1,), "beta")],
         lambda F, x, w, b: F.linear(x, w, b)),
        ("conv2d", f"({n},1,28,28) 1->64 4x4 s2 p1",
         [((n, 1, 28, 28), "x"), ((64, 1, 4, 4), "w"), ((64,), "beta")],
         lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
        ("conv2d", f"({n},64,14,14) 64->128 4x4 s2 p1, no bias",
         [((n, 64, 14, 14), "x"), ((128, 64, 4, 4), "w")],
         lambda F, x, w: F.conv2d(x, w, None, stride=2, padding=1)),
        ("conv_transpose2d", f"({n},128,7,7) 128->64 4x4 s2 p1, no bias",
         [((n, 128, 7, 7), "x"), ((128, 64, 4, 4), "w")],
         lambda F, x, w: F.conv_transpose2d(x, w, None, stride=2, padding=1)),
        ("conv_transpose2d", f"({n},64,14,14) 64->1 4x4 s2 p1",
         [((n, 64, 14, 14), "x"), ((64, 1, 4, 4), "w"), ((1,), "beta")],
         lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)),
        ("batch_norm (1d)", f"({n},6272) training", bn(6272, (n, 6272)), batch_norm),
        ("batch_norm (2d)", f"({n},64,14,14) training", bn(64, (n, 64, 14, 14)), batch_norm),
        ("batch_norm (2d)", f"({n},128,7,7) training", bn(128, (n, 128, 7, 7)), batch_norm),
        ("leaky_relu(0.2)", f"({n},64,14,14)", [((n, 64, 14, 14), "x")],
         lambda F, x: F.leaky_relu(x, 0.2)),
        ("tanh", f"({n},1,28,28)", [((n, 1, 28, 28), "x")],
         lambda F, x: F.tanh(x)),
        ("bce_with_logits", f"({n},1), mean", [((n, 1), "x"), ((n, 1), "target")],
         lambda F, x, t: F.binary_cross_entropy_with_logits(x, t)),
    ]


# --- the two libraries, behind one small interface --------------------------------
class Minigan:
    name = "minigan"

    def __init__(self, backend):
        import minigan as mg
        import minigan.functional as F
        from minigan import optim
        self.mg, self.F, self.optim = mg, F, optim  # the backend: chosen by main()
        self.sync = None
        if backend == "cupy":
            import cupy
            self.sync = cupy.cuda.Device().synchronize

    def tensor(self, array, requires_grad=False):
        return self.mg.tensor(array, requires_grad=requires_grad)

    def to_numpy(self, t):
        return t.detach().numpy()

    def adam(self, params, lr, betas):
        return self.optim.Adam(params, lr=lr, betas=betas)


class Torch:
    name = "torch"

    def __init__(self, backend):
        import torch
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        self.device = "cuda" if backend == "cupy" else "cpu"
        self.sync = torch.cuda.synchronize if self.device == "cuda" else None

    def tensor(self, array, requires_grad=False):
        return self.torch.tensor(array, device=self.device, requires_grad=requires_grad)

    def to_numpy(self, t):
        return t.detach().cpu().numpy()

    def adam(self, params, lr, betas):
        return self.torch.optim.Adam(params, lr=lr, betas=betas)


def _sync_all(libs):
    syncs = [lib.sync for lib in libs if lib.sync is not None]
    if not syncs:
        return None

    def sync():
        for s in syncs:
            s()
    return sync


def time_cases(cases, libs, args):
    return interleaved(cases, args.repeats, args.warmup, args.min_time, args.settle,
                       _sync_all(libs), args.clock, rewarm=args.rewarm)


def op_functions(lib, arrays, grads, call, upstream):
    """(forward, forward_and_backward, output) of one op in `lib`, on copies of `arrays`."""
    tensors = [lib.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    learned = [t for t, g in zip(tensors, grads) if g]
    out = call(lib.F, *tensors)
    gradient = None if out.ndim == 0 else lib.tensor(upstream)

    def forward():
        call(lib.F, *tensors)

    def forward_and_backward():
        for t in learned:
            t.grad = None  # time one backward, not an accumulation into old gradients
        call(lib.F, *tensors).backward(gradient)

    return forward, forward_and_backward, lib.to_numpy(out)


def bench_op(libs, name, shapes, inputs, call, args, rng):
    arrays, grads = _inputs(inputs, rng)
    first = libs[0]  # the upstream gradient has the output's shape
    out = first.to_numpy(call(first.F, *[first.tensor(a) for a in arrays]))
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    fwd, fwd_bwd, outs = {}, {}, {}
    for lib in libs:
        fwd[lib.name], fwd_bwd[lib.name], outs[lib.name] = op_functions(
            lib, arrays, grads, call, upstream)
    t_fwd = time_cases(fwd, libs, args)
    t_both = time_cases(fwd_bwd, libs, args)
    a, b = (outs[lib.name] for lib in libs)
    row = {"op": name, "shapes": shapes,
           "max_abs_diff": float(np.max(np.abs(a.astype(np.float64) - b))),
           "outputs_agree": bool(np.allclose(a, b, rtol=1e-3, atol=1e-4))}
    for lib in libs:
        row[lib.name] = {"forward_ms": median_ms(t_fwd[lib.name]),
                         "forward_backward_ms": median_ms(t_both[lib.name])}
    m, t = row["minigan"], row["torch"]
    row["ratio"] = {"forward": ratio(m["forward_ms"], t["forward_ms"]),
                    "forward_backward": ratio(m["forward_backward_ms"], t["forward_backward_ms"])}
    return row


def dcgan_parameter_arrays(rng):
    """The shapes of every parameter of the DCGAN's G and D, as minigan builds them,
    filled with random numbers (values do not matter to an Adam step's speed)."""
    import minigan as mg
    from minigan.gan.dcgan import Discriminator, Generator
    with mg.use_backend("numpy"):
        params = list(Generator(100).parameters()) + list(Discriminator(1).parameters())
    return [(0.02 * rng.standard_normal(p.shape)).astype(np.float32) for p in params]


def bench_adam(libs, args, rng):
    """One Adam step (lr 2e-4, betas (0.5, 0.999), as the DCGAN) over all its parameters."""
    values = dcgan_parameter_arrays(rng)
    grads = [(0.01 * rng.standard_normal(v.shape)).astype(np.float32) for v in values]
    steps = {}
    for lib in libs:
        params = [lib.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        steps[lib.name] = lib.adam(params, lr=2e-4, betas=(0.5, 0.999)).step
    times = time_cases(steps, libs, args)
    row = {"op": "Adam step", "shapes": f"{len(values)} tensors, "
                                        f"{sum(v.size for v in values):,} numbers (G + D)"}
    for lib in libs:
        row[lib.name] = {"step_ms": median_ms(times[lib.name])}
    row["ratio"] = ratio(row["minigan"]["step_ms"], row["torch"]["step_ms"])
    return row


# --- the program -------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(p)
    p.add_argument("--min-time", type=float, default=0.01,
                   help="seconds a sample lasts at least; fast ops are called several "
                        "times per sample (0.01)")
    args = p.parse_args(argv)
    check_timing_arguments(p, args)
    return args


def format_report(result):
    headers = ["op", "shapes", "minigan fwd", "torch fwd", "ratio",
               "minigan fwd+bwd", "torch fwd+bwd", "ratio"]
    rows = []
    for r in result["ops"]:
        rows.append([r["op"] + ("" if r["outputs_agree"] else " (!)"), r["shapes"],
                     r["minigan"]["forward_ms"], r["torch"]["forward_ms"], r["ratio"]["forward"],
                     r["minigan"]["forward_backward_ms"], r["torch"]["forward_backward_ms"],
                     r["ratio"]["forward_backward"]])
    a = result["adam"]
    rows.append([a["op"], a["shapes"], a["minigan"]["step_ms"], a["torch"]["step_ms"],
                 a["ratio"], None, None, None])
    s = result["settings"]
    lines = [format_machine(result["machine"]),
             f"batch {s['batch_size']}, float32, backend {s['backend']}, median of "
             f"{s['repeats']} interleaved samples after {s['warmup']} warm-up calls; "
             f"{s['clock']}-clock times in ms; ratio = minigan / torch",
             "", format_table(headers, rows, ["<", "<"] + [">"] * 6)]
    if not all(r["outputs_agree"] for r in result["ops"]):
        lines.append("(!) the two libraries' forward outputs differ: see max_abs_diff in the JSON")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import minigan as mg
    import torch  # noqa: F401  (imported before set_threads, which sets its thread count)
    threads = set_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    with mg.use_backend(args.backend):
        libs = [Minigan(args.backend), Torch(args.backend)]
        result = {
            "benchmark": "ops",
            "machine": machine_info(),
            "settings": {"batch_size": args.batch_size, "repeats": args.repeats,
                         "warmup": args.warmup, "min_time_s": args.min_time,
                         "settle_s": args.settle, "rewarm": args.rewarm, "threads": threads,
                         "clock": args.clock,
                         "backend": args.backend, "dtype": "float32"},
            "ops": [bench_op(libs, *case, args, rng) for case in dcgan_ops(args.batch_size)],
            "adam": bench_adam(libs, args, rng),
        }
    report(format_report(result), result, args.json)
    return result


if __name__ == "__main__":
    main()

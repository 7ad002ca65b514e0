"""What the textbook twins cost: the fast ops against minigan/textbook/, interleaved.

    python benchmarks/bench_textbook.py                     # batch 64, a DCGAN step and each op
    python benchmarks/bench_textbook.py --threads 1 --clock cpu --json textbook.json

Two rows of timings for the same computation in one process, alternately (see
common.py): the fast path, and the same call under `with mg.textbook():`, which
routes F.conv2d, F.conv_transpose2d, F.batch_norm, F.max_pool2d and optim.Adam to
their twins. The DCGAN step is `minigan.gan.DCGAN.train_step` (D step and G step)
on a random batch, the two models started from the same weights; before timing,
one step of each is compared (float32: they agree to about 1e-6). The per-op rows
are the DCGAN's convolutions and batch norms (shapes as in bench_ops.py), a max
pooling, and one Adam step over the DCGAN's parameters. No PyTorch needed.
"""
import argparse
import os
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # minigan from this checkout, when it is not installed
from bench_ops import _inputs, dcgan_ops, dcgan_parameter_arrays, op_functions  # noqa: E402
from common import (add_timing_arguments, check_timing_arguments, format_machine,  # noqa: E402
                    format_table, interleaved, machine_info, median_ms, ratio, report,
                    set_threads)
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)

ROUTED = ("conv2d", "conv_transpose2d", "batch_norm", "max_pool2d")


class Minigan:
    """minigan's functional ops, fast (textbook=False) or through mg.textbook()."""

    def __init__(self, textbook):
        import minigan as mg
        import minigan.functional as F
        self.mg, self.textbook = mg, textbook
        self.name = "textbook" if textbook else "fast"
        self.F = _UnderTextbook(mg, F) if textbook else F
        self.sync = None

    def tensor(self, array, requires_grad=False):
        return self.mg.tensor(array, requires_grad=requires_grad)

    def to_numpy(self, t):
        return t.detach().numpy()


class _UnderTextbook:
    """minigan.functional with every call made inside `with mg.textbook():`."""

    def __init__(self, mg, F):
        self._mg, self._F = mg, F

    def __getattr__(self, name):
        fn = getattr(self._F, name)

        def call(*args, **kwargs):
            with self._mg.textbook():
                return fn(*args, **kwargs)
        return call


def textbook_ops(n):
    """The DCGAN's routed ops (bench_ops.dcgan_ops), and a max pooling."""
    ops = [case for case in dcgan_ops(n) if case[0].split()[0] in ROUTED]
    ops.append(("max_pool2d", f"({n},64,14,14) 2x2", [((n, 64, 14, 14), "x")],
                lambda F, x: F.max_pool2d(x, 2)))
    return ops


def bench_op(libs, name, shapes, inputs, call, args, rng):
    arrays, grads = _inputs(inputs, rng)
    out = libs[0].to_numpy(call(libs[0].F, *[libs[0].tensor(a) for a in arrays]))
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    fwd, both, outs = {}, {}, {}
    for lib in libs:
        fwd[lib.name], both[lib.name], outs[lib.name] = op_functions(
            lib, arrays, grads, call, upstream)
    t_fwd = _time(fwd, args)
    t_both = _time(both, args)
    row = {"op": name, "shapes": shapes,
           "max_abs_diff": float(np.max(np.abs(outs["fast"] - outs["textbook"])))}
    for lib in libs:
        row[lib.name] = {"forward_ms": median_ms(t_fwd[lib.name]),
                         "forward_backward_ms": median_ms(t_both[lib.name])}
    row["slowdown"] = {k: ratio(row["textbook"][f"{k}_ms"], row["fast"][f"{k}_ms"])
                       for k in ("forward", "forward_backward")}
    return row


def bench_adam(args, rng):
    """One Adam step (lr 2e-4, betas (0.5, 0.999)) over the DCGAN's parameters."""
    import minigan as mg
    from minigan import optim
    values = dcgan_parameter_arrays(rng)
    grads = [(0.01 * rng.standard_normal(v.shape)).astype(np.float32) for v in values]
    steps = {}
    for name in ("fast", "textbook"):
        params = [mg.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g)
        with mg.textbook(name == "textbook"):  # Adam chooses its update when it is made
            steps[name] = optim.Adam(params, lr=2e-4, betas=(0.5, 0.999)).step
    times = _time(steps, args)
    row = {"op": "Adam step", "shapes": f"{len(values)} tensors, "
                                        f"{sum(v.size for v in values):,} numbers (G + D)"}
    for name in steps:
        row[name] = {"step_ms": median_ms(times[name])}
    row["slowdown"] = ratio(row["textbook"]["step_ms"], row["fast"]["step_ms"])
    return row


def bench_dcgan_step(args):
    """One DCGAN training step, fast and textbook, from the same weights and batch."""
    import minigan as mg
    from minigan.gan.dcgan import DCGAN
    config = {"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "z_dim": 100}
    models = {}
    for name in ("fast", "textbook"):
        mg.manual_seed(args.seed)
        with mg.textbook(name == "textbook"):
            models[name] = DCGAN(config)
    rng = np.random.default_rng(args.seed)
    images = mg.tensor(rng.uniform(-1, 1, (args.batch_size, 1, 28, 28)).astype(np.float32))
    labels = mg.tensor(rng.integers(0, 10, args.batch_size))

    def step(name):
        with mg.textbook(name == "textbook"):
            return models[name].train_step(images, labels, 1)

    first = {}
    for name in models:  # the same noise for both: the first steps must agree
        mg.manual_seed(args.seed + 1)
        first[name] = step(name)
    diff = max(abs(first["fast"][k] - first["textbook"][k]) for k in first["fast"])
    times = _time({name: (lambda name=name: step(name)) for name in models}, args, repeats=
                  args.step_repeats, min_time=0.0)
    row = {"batch_size": args.batch_size, "first_step_max_abs_diff": diff}
    for name in models:
        row[name] = {"ms_per_step": median_ms(times[name]),
                     "samples_ms": [1000.0 * t for t in times[name]]}
    row["slowdown"] = ratio(row["textbook"]["ms_per_step"], row["fast"]["ms_per_step"])
    return row


def _time(cases, args, repeats=None, min_time=None):
    return interleaved(cases, repeats or args.repeats, args.warmup,
                       args.min_time if min_time is None else min_time, args.settle,
                       None, args.clock, rewarm=args.rewarm)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(p)
    p.set_defaults(batch_size=64, repeats=7, warmup=1)
    p.add_argument("--step-repeats", type=int, default=5,
                   help="timed DCGAN steps of each kind (5)")
    p.add_argument("--min-time", type=float, default=0.01,
                   help="seconds an op's sample lasts at least (0.01)")
    args = p.parse_args(argv)
    check_timing_arguments(p, args)
    if args.backend != "numpy":
        p.error("bench_textbook.py times the CPU twins: use --backend numpy")
    if args.step_repeats < 1:
        p.error(f"--step-repeats must be at least 1, got {args.step_repeats}")
    return args


def format_report(result):
    s, d = result["settings"], result["dcgan_step"]
    lines = [format_machine(result["machine"]),
             f"batch {s['batch_size']}, float32, {s['threads']} thread(s), {s['clock']}-clock "
             f"ms, median of interleaved samples; slowdown = textbook / fast", "",
             f"DCGAN training step (D + G): fast {d['fast']['ms_per_step']:.1f} ms, textbook "
             f"{d['textbook']['ms_per_step']:.1f} ms, slowdown {d['slowdown']:.2f}x "
             f"(median of {s['step_repeats']}; first steps agree to "
             f"{d['first_step_max_abs_diff']:.1e})", ""]
    headers = ["op", "shapes", "fast fwd", "textbook fwd", "slowdown",
               "fast fwd+bwd", "textbook fwd+bwd", "slowdown"]
    rows = [[r["op"], r["shapes"], r["fast"]["forward_ms"], r["textbook"]["forward_ms"],
             r["slowdown"]["forward"], r["fast"]["forward_backward_ms"],
             r["textbook"]["forward_backward_ms"], r["slowdown"]["forward_backward"]]
            for r in result["ops"]]
    a = result["adam"]
    rows.append([a["op"], a["shapes"], a["fast"]["step_ms"], a["textbook"]["step_ms"],
                 a["slowdown"], None, None, None])
    lines.append(format_table(headers, rows, ["<", "<"] + [">"] * 6))
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import minigan as mg
    threads = set_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    with mg.use_backend("numpy"):
        libs = [Minigan(textbook=False), Minigan(textbook=True)]
        result = {
            "benchmark": "textbook",
            "machine": machine_info(),
            "settings": {"batch_size": args.batch_size, "repeats": args.repeats,
                         "step_repeats": args.step_repeats, "warmup": args.warmup,
                         "min_time_s": args.min_time, "settle_s": args.settle,
                         "rewarm": args.rewarm, "threads": threads, "clock": args.clock, "dtype": "float32"},
            "dcgan_step": bench_dcgan_step(args),
            "ops": [bench_op(libs, *case, args, rng) for case in textbook_ops(args.batch_size)],
            "adam": bench_adam(args, rng),
        }
    report(format_report(result), result, args.json)
    return result


if __name__ == "__main__":
    main()

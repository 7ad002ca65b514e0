"""How much of a training step is matrix products: the step's GEMM floor.

    python benchmarks/bench_floor.py                   # DCGAN and CGAN, batch 128
    python benchmarks/bench_floor.py --model dcgan --threads 1

During one minigan training step (bench_dcgan.py's plain step: D's G-step
gradients included, as PyTorch's), every matrix product that minigan's ops hand
to NumPy's `matmul` is recorded: its operands' shapes and memory orders. Each
of those products is then timed alone, back to back on random float32 operands
of the same shapes and orders, and the times are added up, as many of each as
the step makes. That sum is the floor: what the step would cost if everything
but its GEMMs were free, with this BLAS on this machine. The table sets it
beside the step itself and PyTorch's whole step (timed interleaved, as
bench_dcgan.py times them), so that what is left above the floor (the window
copies and adds of the convolutions, the elementwise passes, Python) can be
compared with what PyTorch spends beyond its own products.

The products are counted where minigan makes them: `xp.matmul` in
minigan/functional/conv.py (one call per GEMM of conv2d, conv_transpose2d and
the weight gradient) and in linalg.py's Matmul (linear layers). A product run
as a broadcast multiply (Matmul at an inner size of 1) is not a GEMM and is not
counted.
"""
import argparse
import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.append(ROOT)  # minigan from this checkout, when it is not installed
from common import (add_timing_arguments, check_timing_arguments,  # noqa: E402
                    format_machine, format_table, interleaved, machine_info, median_ms,
                    report, set_threads)
import numpy as np  # noqa: E402  (after common: see common._quiet_openblas)

import bench_dcgan  # noqa: E402


def _order(array):
    """'C' or 'F' when the 2-D operand is contiguous that way, else 'strided'."""
    if array.flags.c_contiguous:
        return "C"
    if array.flags.f_contiguous:
        return "F"
    return "strided"


def record_products(step):
    """Run step() once with NumPy's matmul watched; returns a Counter of
    ((a's shape, a's order), (b's shape, b's order), dtype) -> how many calls."""
    products = collections.Counter()
    plain = np.matmul

    def watched(a, b, *args, **kwargs):
        products[((a.shape, _order(a)), (b.shape, _order(b)), a.dtype.name)] += 1
        return plain(a, b, *args, **kwargs)

    np.matmul = watched
    try:
        step()
    finally:
        np.matmul = plain
    return products


def operand(shape, order, dtype, rng):
    """A random array of `shape` in memory order 'C' or 'F' ('strided' operands are
    timed as C: the BLAS interface copies them first anyway)."""
    array = rng.standard_normal(shape).astype(dtype)
    return np.asfortranarray(array) if order == "F" else array


def time_products(products, args, rng):
    """ms per call of each recorded product, alone, back to back (no rest between
    samples: a step's GEMMs follow one another)."""
    rows = []
    for ((a_shape, a_order), (b_shape, b_order), dtype), count in products.items():
        a, b = operand(a_shape, a_order, dtype, rng), operand(b_shape, b_order, dtype, rng)
        times = interleaved({"gemm": lambda: np.matmul(a, b)}, args.repeats, args.warmup,
                            min_time=0.02)
        ms = median_ms(times["gemm"])
        m, k = a_shape[-2:]
        n = b_shape[-1]
        batch = int(np.prod(np.broadcast_shapes(a_shape[:-2], b_shape[:-2]), dtype=np.int64))
        flop = 2.0 * batch * m * k * n
        rows.append({"a": list(a_shape), "a_order": a_order, "b": list(b_shape),
                     "b_order": b_order, "dtype": dtype, "per_step": count,
                     "ms_each": ms, "ms_per_step": ms * count,
                     "gflop_per_s": flop / (ms * 1e6)})
    rows.sort(key=lambda row: -row["ms_per_step"])
    return rows


def bench(model, args):
    import minigan as mg
    import torch
    mg.manual_seed(args.seed)
    torch.manual_seed(args.seed)
    mg_model = bench_dcgan.minigan_model(model)
    torch_gan = bench_dcgan.TorchGAN(model == "cgan", "cpu")
    torch_gan.load_minigan_weights(mg_model)
    images, labels = bench_dcgan.random_batch(args.batch_size, args.seed)
    batch = (mg.tensor(images), mg.tensor(labels))
    products = record_products(lambda: mg_model.train_step(*batch, 1))
    gemms = time_products(products, args, np.random.default_rng(args.seed))
    row = bench_dcgan.timed_row(mg_model, torch_gan, images, labels, args,
                                {"model": model, "batch_size": args.batch_size})
    row["gemms"] = gemms
    row["gemm_floor_ms"] = sum(g["ms_per_step"] for g in gemms)
    row["above_floor_ms"] = row["minigan"]["ms_per_step"] - row["gemm_floor_ms"]
    return row


def format_report(result):
    lines = [format_machine(result["machine"]), ""]
    headers = ["model", "minigan step ms", "its GEMMs alone ms", "the rest ms",
               "torch step ms", "GEMMs / torch step"]
    rows = [[r["model"], r["minigan"]["ms_per_step"], r["gemm_floor_ms"],
             r["above_floor_ms"], r["torch"]["ms_per_step"],
             r["gemm_floor_ms"] / r["torch"]["ms_per_step"]] for r in result["rows"]]
    lines += [format_table(headers, rows), ""]
    for r in result["rows"]:
        lines.append(f"{r['model']}: the step's products, each timed alone")
        headers = ["a", "b", "per step", "ms each", "ms per step", "GFLOP/s"]
        body = [[f"{tuple(g['a'])} {g['a_order']}", f"{tuple(g['b'])} {g['b_order']}",
                 g["per_step"], g["ms_each"], g["ms_per_step"], g["gflop_per_s"]]
                for g in r["gemms"]]
        lines += [format_table(headers, body), ""]
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_timing_arguments(p)
    p.add_argument("--model", choices=("dcgan", "cgan", "both"), default="both")
    args = p.parse_args(argv)
    check_timing_arguments(p, args)
    if args.backend != "numpy":
        p.error("--backend: the floor is NumPy's BLAS's; on a GPU use bench_dcgan.py")
    if args.clock != "wall":
        p.error("--clock: only wall time (the GEMMs run on every BLAS thread)")
    return args


def main(argv=None):
    args = parse_args(argv)
    import minigan  # noqa: F401  (before set_threads, which sets its thread count ...)
    import torch  # noqa: F401  (... and PyTorch's)
    threads = set_threads(args.threads)
    models = ("dcgan", "cgan") if args.model == "both" else (args.model,)
    result = {"machine": machine_info(), "settings": {**vars(args), "threads": threads},
              "rows": [bench(model, args) for model in models]}
    report(format_report(result), result, args.json)
    return result


if __name__ == "__main__":
    main()

"""The README's table of training recipes: the plain DCGAN recipe, each post-DCGAN
tool alone, and --recipe modern (and the CGAN's), scored after 5 epochs.

    python benchmarks/recipes.py --commands            # the training commands, one per row
    python benchmarks/recipes.py --runs runs/recipes   # the markdown table from those runs
    python benchmarks/recipes.py --time                # s per epoch of each row, measured
    python benchmarks/recipes.py --time --only plain,modern   # of the rows so named only
    python benchmarks/recipes.py --images docs/recipes # 100 samples of plain and modern, seed 0
    python benchmarks/recipes.py --live RUN            # an --ema run scored with G's own weights
    python benchmarks/recipes.py --ema-bn RUN          # ... with G_ema's batch-norm stats recomputed
    python benchmarks/recipes.py --real-like RUN       # real digits in RUN's class proportions

Train each row first with the command `--commands` prints (each writes
RUNS/NAME/, with `--out`); then `--runs` reads every finished run:

  - quality.json   the scores the program printed at its end (10,000 samples from
                   the project's evaluator: Fréchet distance, IS analog, class
                   coverage, and the CGAN's conditional accuracy);
  - log.jsonl      only to check the run finished its 5 epochs.

Time per epoch is measured apart (`--time`), every row the same way, one at a time:
the program runs `--steps` steps with `--no-eval` and the epoch's time is the step
log's clock from step 8 to the last step, scaled to 468 steps (the 5-epoch runs
themselves trained two at a time, so their clocks compare badly). Rows whose run is missing are skipped
with a note on stderr.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS_PER_EPOCH = 60000 // 128
WARMUP_STEPS = 8  # --time: steps not timed (see time_row)

# (row name, program, options beyond --epochs 5 --seed S, seeds)
ROWS = [
    ("plain (the DCGAN paper's recipe)", "mnist_dcgan.py", "", (0, 1, 2)),
    ("+ EMA of G", "mnist_dcgan.py", "--ema 0.998", (0,)),
    ("+ spectral norm (D without batch norm)", "mnist_dcgan.py", "--spectral-norm", (0,)),
    ("+ hinge loss", "mnist_dcgan.py", "--loss hinge", (0,)),
    ("+ two time-scale rates, D faster", "mnist_dcgan.py", "--lr-d 4e-4 --lr-g 1e-4", (0,)),
    ("+ two time-scale rates, G faster", "mnist_dcgan.py", "--lr-g 8e-4", (0,)),
    ("+ augmentation", "mnist_dcgan.py", "--augment translation,cutout", (0,)),
    ("+ R1, gamma 0.1", "mnist_dcgan.py", "--r1 0.1", (0,)),
    ("+ R1, gamma 1, + EMA 0.99", "mnist_dcgan.py", "--r1 1 --ema 0.99", (0,)),
    ("+ R1, gamma 2", "mnist_dcgan.py", "--r1 2", (0,)),
    ("+ R1, gamma 5", "mnist_dcgan.py", "--r1 5", (0,)),
    ("+ R1 1, spectral norm", "mnist_dcgan.py", "--r1 1 --spectral-norm", (0,)),
    ("+ R1 1, G at 2x D's rate", "mnist_dcgan.py", "--r1 1 --lr-g 4e-4", (0,)),
    ("+ R1 1, G at 8x D's rate", "mnist_dcgan.py", "--r1 1 --lr-g 1.6e-3", (0,)),
    ("+ R1 1, G at 4x D's rate (the first modern)", "mnist_dcgan.py", "--r1 1 --lr-g 8e-4",
     (0, 1, 2)),
    # the first modern, both rates raised (G stays at 4x D's), R1's gamma tuned there
    ("+ R1 1, G 4x D, + EMA 0.999", "mnist_dcgan.py", "--r1 1 --lr-g 8e-4 --ema 0.999", (0,)),
    ("+ R1 1, D 4e-4, G 1.6e-3, + EMA 0.999", "mnist_dcgan.py",
     "--r1 1 --lr-d 4e-4 --lr-g 1.6e-3 --ema 0.999", (0,)),
    ("+ R1 2, D 4e-4, G 1.6e-3", "mnist_dcgan.py", "--r1 2 --lr-d 4e-4 --lr-g 1.6e-3", (0,)),
    ("+ R1 1, D 8e-4, G 3.2e-3", "mnist_dcgan.py", "--r1 1 --lr-d 8e-4 --lr-g 3.2e-3", (0,)),
    ("+ R1 1, D 1.6e-3, G 6.4e-3", "mnist_dcgan.py", "--r1 1 --lr-d 1.6e-3 --lr-g 6.4e-3", (0,)),
    ("+ R1 0.25, D 8e-4, G 3.2e-3", "mnist_dcgan.py", "--r1 0.25 --lr-d 8e-4 --lr-g 3.2e-3",
     (0,)),
    ("+ R1 0.5, D 1.2e-3, G 4.8e-3", "mnist_dcgan.py", "--r1 0.5 --lr-d 1.2e-3 --lr-g 4.8e-3",
     (0,)),
    # --recipe modern of the second and third rounds: R1 every 16th D step (--r1-every's
    # default), written out now that the recipe's R1 comes every 4th
    ("rounds 2-3's modern (= R1 0.5 every 16th D step, D 8e-4, G 3.2e-3)", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16", (0, 1, 2)),
    ("+ hinge loss, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --loss hinge", (0,)),
    # third round, on top of rounds 2-3's modern
    ("+ linear learning-rate decay, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --lr-decay linear", (0,)),
    ("+ linear learning-rate decay, + EMA 0.995, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --lr-decay linear --ema 0.995", (0,)),
    ("+ linear learning-rate decay, + EMA 0.999, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --lr-decay linear --ema 0.999", (0,)),
    ("+ two G steps per D step, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --g-steps 2", (0, 1, 2)),
    ("+ Adam beta1 0, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --beta1 0", (0,)),
    ("+ spectral norm (D without batch norm), on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --spectral-norm", (0,)),
    # fourth round: R1 more often, and two G steps re-tuned
    ("round 4's modern (= R1 0.5 every 4th D step, D 8e-4, G 3.2e-3)", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5", (0, 1, 2)),
    ("+ R1 every D step, on round 4's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --r1 0.5 --r1-every 1",
     (0, 1, 2)),
    ("+ R1 gamma 1, on round 4's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --r1 1", (0,)),
    ("+ two G steps, G at 1.6e-3, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --r1-every 16 --g-steps 2 --lr-g 1.6e-3", (0,)),
    ("+ two G steps, R1 gamma 0.25, on rounds 2-3's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1-every 16 --g-steps 2 --r1 0.25", (0,)),
    ("+ two G steps per D step, on round 4's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --g-steps 2 --r1-every 4", (0, 1, 2)),
    ("CGAN, plain", "mnist_cgan.py", "", (0,)),
    ("CGAN, the first modern", "mnist_cgan.py", "--r1 1 --lr-g 8e-4", (0,)),
    ("CGAN, rounds 2-3's modern", "mnist_cgan.py", "--recipe modern --r1 0.5 --r1-every 16", (0,)),
    ("CGAN, round 4's modern", "mnist_cgan.py", "--recipe modern --r1 0.5", (0,)),
    # fifth round: two more tools on round 4's modern, and R1's gamma halved (today's modern)
    ("+ top-k 0.5, on round 4's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --r1 0.5 --top-k 0.5",
     (0,)),
    ("+ relativistic loss, on round 4's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --r1 0.5 --loss relativistic", (0, 1, 2)),
    ("round 5's modern (= R1 0.25 every 4th D step, D 8e-4, G 3.2e-3)", "mnist_dcgan.py",
     "--recipe modern --clusters 0", (0, 1, 2)),
    ("+ relativistic loss, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --loss relativistic",
     (0, 1, 2)),
    ("+ two G steps per D step, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --g-steps 2",
     (0, 1, 2)),
    ("CGAN, round 5's modern", "mnist_cgan.py", "--recipe modern", (0,)),
    # sixth round: the hinge loss and a short EMA on today's modern
    ("+ hinge loss, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --loss hinge", (0, 1, 2)),
    ("+ EMA 0.99, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --ema 0.99", (0,)),
    # seventh round: InfoGAN's categorical code (--info-code), with and without R1
    ("+ a 10-way code (InfoGAN's), on plain", "mnist_dcgan.py", "--info-code 10", (0,)),
    ("D 8e-4, G 3.2e-3 alone (round 5's modern without R1)", "mnist_dcgan.py",
     "--lr-d 8e-4 --lr-g 3.2e-3", (0, 1)),
    ("+ a 10-way code, on D 8e-4, G 3.2e-3 alone", "mnist_dcgan.py",
     "--lr-d 8e-4 --lr-g 3.2e-3 --info-code 10", (0, 1)),
    ("+ a 10-way code, z 62, on D 8e-4, G 3.2e-3 alone", "mnist_dcgan.py",
     "--lr-d 8e-4 --lr-g 3.2e-3 --info-code 10 --z-dim 62", (0,)),
    ("+ a 10-way code, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 0 --info-code 10", (0, 1)),
    ("+ a 10-way code weighing 0.1, on round 5's modern", "mnist_dcgan.py",
     "--recipe modern --clusters 0 --info-code 10 --info-weight 0.1", (0, 1)),
    ("InfoGAN (z 62, a 10-way and 2 continuous codes) at round 5's modern's rates", "mnist_infogan.py",
     "--lr 8e-4 --g-lr 3.2e-3", (0, 1, 2)),
    # eighth round: self-conditioning on k-means clusters of the images (--clusters)
    ("+ 10 k-means clusters, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 10 --fine-clusters 0",
     (0, 1, 2, 3)),
    ("+ 20 k-means clusters, on round 5's modern", "mnist_dcgan.py", "--recipe modern --clusters 20 --fine-clusters 0",
     (0,)),
    # ninth round: the clusters found by spectral clustering of 200 small k-means ones
    # (--fine-clusters), which became the recipe
    ("modern (= round 5's modern + 10 clusters, spectral of 200 k-means)", "mnist_dcgan.py",
     "--recipe modern", (0, 1, 2, 3)),
]


def run_name(program, options, seed):
    """runs/recipes/<model>-<options>-s<seed>: one folder per row and seed."""
    model = program[len("mnist_"):-len(".py")]
    tag = options.replace("--", "").replace(" ", "_").replace(",", "+") or "plain"
    return f"{model}-{tag}-s{seed}"


def command(program, options, seed, out=None):
    text = f"python examples/{program} --epochs 5 --seed {seed}"
    text += f" {options}" if options else ""
    return text + (f" --out {out}" if out else "")


def scores(run_dir):
    """The run's quality.json if it finished its 5 epochs, else None."""
    path = os.path.join(run_dir, "quality.json")
    log = os.path.join(run_dir, "log.jsonl")
    if not (os.path.exists(path) and os.path.exists(log)):
        return None
    with open(log) as f:
        epochs = [json.loads(line).get("epoch", 0) for line in f if '"loss_d"' in line]
    if not epochs or max(epochs) < 5:
        return None
    with open(path) as f:
        return json.load(f)


def mean_and_spread(values, digits):
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return (f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f} "
            f"({', '.join(f'{v:.{digits}f}' for v in values)})")


def table(runs, timings):
    lines = ["| recipe | command (seed S) | seeds | Fréchet | IS analog | class coverage "
             "| cond. acc. | s per epoch |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, program, options, seeds in ROWS:
        found = [(s, scores(os.path.join(runs, run_name(program, options, s)))) for s in seeds]
        found = [(s, r) for s, r in found if r is not None]
        if not found:
            print(f"{name}: no finished run in {runs}, skipped", file=sys.stderr)
            continue
        rs = [r for _, r in found]
        acc = [r["conditional_accuracy"] * 100 for r in rs if "conditional_accuracy" in r]
        seconds = timings.get(name)
        lines.append(
            f"| {name} | `{command(program, options, 'S')}` | "
            f"{','.join(str(s) for s, _ in found)} | "
            f"{mean_and_spread([r['frechet_distance'] for r in rs], 1)} | "
            f"{mean_and_spread([r['inception_score'] for r in rs], 2)} | "
            f"{', '.join(format(r['class_coverage'], '.1f') for r in rs)} | "
            f"{mean_and_spread(acc, 1) + '%' if acc else ''} | "
            f"{'' if seconds is None else f'{seconds:.0f}'} |")
    return "\n".join(lines)


def time_row(program, options, steps):
    """Seconds per epoch of one row, from `steps` steps of its program."""
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, os.path.join(ROOT, "examples", program), "--epochs", "1",
                "--max-steps", str(steps), "--no-eval", "--out", out] + options.split()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "log.jsonl")) as f:
            clock = [json.loads(line)["time"] for line in f if '"loss_d"' in line]
    # From the end of step WARMUP_STEPS on: the first steps (fresh allocations, the
    # step-0 grid) would otherwise be scaled up with the rest.
    timed = len(clock) - WARMUP_STEPS
    return (clock[-1] - clock[WARMUP_STEPS - 1]) * STEPS_PER_EPOCH / timed


def save_samples(runs, folder):
    """100 samples (seed 0, as every run's grids: eval mode, G_ema where kept) from the
    seed-0 run of each DCGAN row named plain or modern, as FOLDER/<plain|modern>.png."""
    import minigan as mg
    from minigan.train import generate_samples
    from minigan.viz import save_grid
    os.makedirs(folder, exist_ok=True)
    for name, program, options, seeds in ROWS:
        label = name.split(" ")[0]
        if label not in ("plain", "modern") or program != "mnist_dcgan.py":
            continue
        model = load_run(os.path.join(runs, run_name(program, options, seeds[0])))
        mg.manual_seed(0)
        path = os.path.join(folder, f"{label}.png")
        save_grid(generate_samples(model, 100), path, nrow=10, scale=2)
        print(f"wrote {path}", file=sys.stderr)


def load_run(run_dir):
    from minigan.gan import CGAN, DCGAN
    from minigan.train import load_checkpoint, restore
    state = load_checkpoint(os.path.join(run_dir, "checkpoint.npz"))
    model = {"dcgan": DCGAN, "cgan": CGAN}[state["model"]]({**state["config"],
                                                           "backend": "numpy"})
    restore(model, state, weights_only=True)
    return model


def score_ema_run(run_dir, weights):
    """The quality report (seed 0) of an --ema run drawn by other weights than its
    report's G_ema: weights="live", G's own; weights="ema-bn", G_ema with batch-norm
    statistics recomputed for its own weights (optim.swa_utils.update_bn over 50
    batches of 128 z, seed 12345) instead of the averaged running statistics it carries."""
    import minigan as mg
    from minigan.optim.swa_utils import update_bn
    from minigan.train import evaluate_model
    model = load_run(run_dir)
    if getattr(model, "G_ema", None) is None:
        sys.exit(f"error: {run_dir} was not trained with --ema: its report is G's already")
    if weights == "live":
        model.G_ema = None  # generate() then draws with G
    else:
        mg.manual_seed(12345)
        update_bn([model.sample_z(128) for _ in range(50)], model.G_ema)
    mg.manual_seed(0)
    return evaluate_model(model, n=10000)


def score_real_like(run_dir, data):
    """10,000 real training digits drawn in the class proportions of RUN's samples (its
    quality.json's class_counts): what the class imbalance alone costs in the scores."""
    import numpy as np
    from minigan import metrics
    from minigan.data.mnist import MNIST
    with open(os.path.join(run_dir, "quality.json")) as f:
        counts = json.load(f)["class_counts"]
    mnist = MNIST(data, train=True)
    images, labels = mnist.images, mnist.labels
    rng = np.random.default_rng(0)
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == digit), count, replace=False)
                             for digit, count in enumerate(counts)])
    real = images[chosen].astype(np.float32)[:, None] / 127.5 - 1.0
    return {"class_counts": counts, **metrics.evaluate_samples(real)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--commands", action="store_true", help="print the training commands")
    p.add_argument("--runs", default="runs/recipes", help="the folder holding the runs")
    p.add_argument("--time", action="store_true", help="measure s per epoch of every row")
    p.add_argument("--steps", type=int, default=96, help="steps each --time run trains")
    p.add_argument("--images", default=None, metavar="FOLDER",
                   help="write 100 samples of the plain and the modern run (seed 0) there")
    p.add_argument("--live", default=None, metavar="RUN",
                   help="score an --ema run's live G instead of its average")
    p.add_argument("--ema-bn", default=None, metavar="RUN",
                   help="score an --ema run's average with batch-norm statistics of its own "
                        "(optim.swa_utils.update_bn)")
    p.add_argument("--real-like", default=None, metavar="RUN",
                   help="score real digits drawn in RUN's class proportions")
    p.add_argument("--data", default=None, help="MNIST folder (default: $MINIGAN_DATA)")
    p.add_argument("--timings", default=None,
                   help="JSON file: --time writes the timings there, the table reads them")
    p.add_argument("--only", default=None, metavar="WORDS",
                   help="--commands and --time: only the rows whose name starts with one of "
                        "these comma-separated words")
    args = p.parse_args(argv)
    rows = ROWS
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        rows = [row for row in ROWS if any(row[0].startswith(w) for w in words)]
        if not rows:
            p.error(f"--only {args.only}: no row's name starts with any of those words")
        if not (args.commands or args.time):
            p.error("--only applies to --commands and --time")
    if args.commands:
        for name, program, options, seeds in rows:
            for seed in seeds:
                out = os.path.join(args.runs, run_name(program, options, seed))
                print(command(program, options, seed, out))
        return 0
    if args.images:
        save_samples(args.runs, args.images)
        return 0
    if args.live or args.ema_bn or args.real_like:
        result = (score_ema_run(args.live, "live") if args.live
                  else score_ema_run(args.ema_bn, "ema-bn") if args.ema_bn
                  else score_real_like(args.real_like, args.data or os.environ.get("MINIGAN_DATA")))
        for key in ("frechet_distance", "inception_score", "class_coverage", "class_counts"):
            print(f"{key}: {result[key]}")
        return 0
    timings = {}
    if args.timings and os.path.exists(args.timings):
        with open(args.timings) as f:
            timings = json.load(f)  # --time --only updates its rows, keeps the others
    if args.time:
        for name, program, options, _ in rows:
            timings[name] = time_row(program, options, args.steps)
            print(f"{name}: {timings[name]:.1f} s per epoch", file=sys.stderr, flush=True)
        if args.timings:
            with open(args.timings, "w") as f:
                json.dump(timings, f, indent=2)
    print(table(args.runs, timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

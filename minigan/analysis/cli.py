"""The command line of examples/dcgan_paper.py: one subcommand per experiment.

    python examples/dcgan_paper.py features --labels 1000      # D as a feature extractor
    python examples/dcgan_paper.py arithmetic                   # vector arithmetic on z
    python examples/dcgan_paper.py filters                      # filters, guided backprop, G's maps
    python examples/dcgan_paper.py forget                       # dropping G's "hole" maps
    python examples/dcgan_paper.py walk                         # latent walks
    python examples/dcgan_paper.py neighbours                   # nearest training images

Each reads a DCGAN checkpoint (--checkpoint, default runs/dcgan/checkpoint.npz),
writes its pictures and OUT/paper/NAME.json under OUT/paper/ (--out, default the
checkpoint's folder) and prints its numbers (--json: one JSON object).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import minigan as mg
from minigan._atomic import atomic_write
from minigan.data import MNIST
from minigan.data.loader import images_to_float
from minigan.viz import save_grid, save_layout

from . import arithmetic, features, filters, forget, memorisation
from .model import load_dcgan, random_dcgan


def build_parser():
    p = argparse.ArgumentParser(
        prog="dcgan_paper.py", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="The DCGAN paper's experiments (Radford, Metz & Chintala 2015) on a "
                    "trained MNIST DCGAN.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--checkpoint", default=os.path.join("runs", "dcgan", "checkpoint.npz"))
    common.add_argument("--out", default=None,
                        help="pictures go to OUT/paper/ (default: the checkpoint's folder)")
    common.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    common.add_argument("--seed", type=int, default=0)
    common.add_argument("--backend", choices=("numpy", "cupy", "strict"), default="numpy")
    common.add_argument("--data", default=None,
                        help="folder with the MNIST files (default: $MINIGAN_DATA or the cache)")
    sub = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    kw = dict(parents=[common], formatter_class=argparse.ArgumentDefaultsHelpFormatter)

    f = sub.add_parser("features", help="D's features with few labels (paper section 5.1)", **kw)
    f.add_argument("--labels", type=int, nargs="+", default=[1000],
                   help="class-balanced training labels (60000: all 50,000 beside the held-out "
                        "set); several values share one feature extraction")
    f.add_argument("--draws", type=int, default=3, help="label draws to average over")
    f.add_argument("--holdout", type=int, default=10_000,
                   help="training images held out to choose the regularisation")
    f.add_argument("--train-size", type=int, default=60_000, help="use the first N training images")
    f.add_argument("--test-size", type=int, default=10_000, help="score on the first N test images")
    f.add_argument("--linear-steps", type=int, default=300, help="Adam steps of each linear fit")
    f.add_argument("--cnn-steps", type=int, default=400,
                   help="Adam steps of the supervised CNN (0 skips it)")

    a = sub.add_parser("arithmetic", help="vector arithmetic on z (section 6.3)", **kw)
    a.add_argument("--samples", type=int, default=5000, help="samples the concepts are found in")
    a.add_argument("--draws", type=int, default=100, help="random exemplar draws per task")
    a.add_argument("--exemplars", type=int, nargs="+", default=[1, 3],
                   help="exemplars averaged per concept")
    a.add_argument("--tasks", nargs="+", default=[":".join(map(str, t)) for t in arithmetic.TASKS],
                   help="ATTRIBUTE:SOURCE:TARGET: high SOURCE - low SOURCE + low TARGET")
    a.add_argument("--min-confidence", type=float, default=0.9,
                   help="samples the classifier names with less probability are not used")

    fl = sub.add_parser("filters", help="filters, guided backprop, G's feature maps (fig. 4-5)", **kw)
    fl.add_argument("--digits", type=int, default=8, help="real test digits explained")
    fl.add_argument("--features", type=int, default=6, help="strongest D features per digit")
    fl.add_argument("--z", type=int, default=6, help="samples whose G feature maps are shown")

    fo = sub.add_parser("forget", help="drop G's hole feature maps (section 6.2)", **kw)
    fo.add_argument("--train-samples", type=int, default=1000, help="samples the detector learns from")
    fo.add_argument("--test-samples", type=int, default=2000, help="samples drawn with and without")
    fo.add_argument("--ink-threshold", type=float, default=0.25,
                    help="a pixel is ink when (x + 1) / 2 exceeds this (the hole labeller)")
    fo.add_argument("--max-dropped", type=int, default=None,
                    help="drop only the K maps with the largest positive weights (default: all "
                         "positive ones, as the paper)")

    w = sub.add_parser("walk", help="latent walks (section 6.1)", **kw)
    w.add_argument("--rows", type=int, default=8)
    w.add_argument("--steps", type=int, default=10)

    n = sub.add_parser("neighbours", help="nearest training images (memorisation)", **kw)
    n.add_argument("--samples", type=int, default=1000, help="generated samples measured")
    n.add_argument("--test-size", type=int, default=1000, help="real test digits measured")
    n.add_argument("--train-size", type=int, default=60_000, help="training images searched")
    n.add_argument("--show", type=int, default=10, help="samples drawn with their neighbours")
    return p


def _positive(parser, args, names):
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if any(n < 1 for n in getattr(args, "labels", [1])):
        parser.error(f"--labels must all be at least 1, got {args.labels}")
    _positive(parser, args, ("draws", "holdout", "train_size", "test_size", "linear_steps",
                             "samples", "digits", "features", "z", "train_samples", "test_samples",
                             "rows", "steps", "show", "max_dropped"))
    if not 0 < getattr(args, "ink_threshold", 0.5) < 1:
        parser.error(f"--ink-threshold must be between 0 and 1, got {args.ink_threshold}")
    if getattr(args, "cnn_steps", 0) < 0:
        parser.error(f"--cnn-steps must be 0 or more, got {args.cnn_steps}")
    if any(k < 1 for k in getattr(args, "exemplars", [1])):
        parser.error(f"--exemplars must all be at least 1, got {args.exemplars}")
    mg.set_backend(args.backend)
    mg.manual_seed(args.seed)
    try:
        model, state = load_dcgan(args.checkpoint)
        out = os.path.join(args.out or os.path.dirname(os.path.abspath(args.checkpoint)), "paper")
        os.makedirs(out, exist_ok=True)
        started = time.perf_counter()
        results, written = RUNNERS[args.experiment](args, model, state, out)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = round(time.perf_counter() - started, 1)
    # features with several --labels gives one result per label count, each its own file
    runs = results if isinstance(results, list) else [results]
    for run in runs:
        run.update({"checkpoint_epoch": int(state["epoch"]), "seconds": seconds})
        name = args.experiment + (f"_{run['labels']}" if args.experiment == "features" else "")
        if args.experiment == "forget" and args.max_dropped is not None:
            name += f"_top{args.max_dropped}"
        with atomic_write(os.path.join(out, name + ".json"), "w") as f:
            json.dump(run, f, indent=1)
        written.append(os.path.join(out, name + ".json"))
        if args.json:
            print(json.dumps(run))
        else:
            REPORTS[args.experiment](run)
    if not args.json:
        for path in written:
            print(f"wrote {path}")
    return 0


def _mnist(data, train, n):
    dataset = MNIST(data, train=train)
    images, labels = dataset.arrays()
    if n > len(labels):
        raise ValueError(f"asked for {n} {'training' if train else 'test'} images, MNIST has {len(labels)}")
    return images_to_float(images[:n])[:, None], labels[:n]


def _log(message):
    print(message, file=sys.stderr, flush=True)


# --- the experiments -------------------------------------------------------------------

def run_features(args, model, state, out):
    if args.holdout >= args.train_size:
        raise ValueError(f"--holdout {args.holdout} leaves no training images of --train-size "
                         f"{args.train_size}")
    train_x, train_y = _mnist(args.data, True, args.train_size)
    test_x, test_y = _mnist(args.data, False, args.test_size)
    random_d = random_dcgan(state["config"], state["config"]["seed"]).D
    started = time.perf_counter()
    sets = {}
    for name, D in (("d_features", model.D), ("random_d", random_d)):
        sets[name] = (features.discriminator_features(D, train_x), features.discriminator_features(D, test_x))
    sets["pixels"] = (train_x.reshape(len(train_x), -1), test_x.reshape(len(test_x), -1))
    extraction = time.perf_counter() - started
    _log(f"features: {sets['d_features'][0].shape[1]} per image from D, computed in {extraction:.0f} s")
    runs = []
    for n_labels in args.labels:
        started = time.perf_counter()
        result = features.feature_experiment(
            sets, train_y, test_y, n_labels, train_x if args.cnn_steps else None, test_x,
            draws=args.draws, holdout=args.holdout, cnn_steps=args.cnn_steps,
            linear_steps=args.linear_steps, seed=args.seed, log=_log)
        result.update({"feature_size": int(sets["d_features"][0].shape[1]),
                       "seconds_feature_extraction": round(extraction, 1),
                       "seconds_classifiers": round(time.perf_counter() - started, 1)})
        runs.append(result)
    return runs if len(runs) > 1 else runs[0], []


def report_features(r):
    print(f"{r['labels']} labels ({r['labelled']} used), {r['draws']} draws, "
          f"test error (mean ± std over draws):")
    for name, error in r["test_error"].items():
        print(f"  {name:>15}: {error:.2%} ± {r['spread'][name]:.2%}")


def run_arithmetic(args, model, state, out):
    from minigan.metrics import load_classifier
    tasks = [arithmetic.parse_task(t) for t in args.tasks]
    results, figures = arithmetic.arithmetic_experiment(
        model.G, load_classifier(args.data), model.z_dim, tasks=tasks, n_samples=args.samples,
        draws=args.draws, exemplars=tuple(args.exemplars), min_confidence=args.min_confidence,
        seed=args.seed)
    path = save_layout(arithmetic.figure_rows(figures), os.path.join(out, "arithmetic.png"))
    return results, [path]


def report_arithmetic(r):
    print(f"{r['samples']} samples, {r['confident']} confidently classified")
    for task in r["tasks"]:
        print(f"  {task['task']}  (groups {task['groups']})")
        for k, m in task["by_exemplars"].items():
            print(f"    {k} exemplar(s): kept {m['kept']:.0%} added {m['added']:.0%} both {m['both']:.0%}"
                  f"  | baseline kept {m['baseline_kept']:.0%} added {m['baseline_added']:.0%} "
                  f"both {m['baseline_both']:.0%}  | {task['attribute']} change {m['mean_change']:+.3f}")


def run_filters(args, model, state, out):
    random_d = random_dcgan(state["config"], state["config"]["seed"]).D
    trained, untrained = filters.first_layer_filters(model.D), filters.first_layer_filters(random_d)
    paths = [save_grid(trained, os.path.join(out, "filters_trained.png"), nrow=8, scale=8),
             save_grid(untrained, os.path.join(out, "filters_random.png"), nrow=8, scale=8)]
    digits, _ = _mnist(args.data, False, args.digits)
    pictures, channels = filters.guided_pictures(model.D, digits, args.features)
    paths.append(save_layout([[d] + list(p) for d, p in zip(digits, pictures)],
                             os.path.join(out, "guided_backprop.png"), scale=3))
    rng = np.random.default_rng(args.seed)
    maps, samples = filters.generator_maps(model.G, rng.standard_normal((args.z, model.z_dim)))
    upsampled = maps.repeat(2, axis=-1).repeat(2, axis=-2)
    paths.append(save_layout([[s] + list(m) for s, m in zip(samples, upsampled)],
                             os.path.join(out, "generator_maps.png"), scale=3))
    results = {"filter_std_trained": float(model.D.net[0].weight.detach().numpy().std()),
               "filter_std_random": float(random_d.net[0].weight.detach().numpy().std()),
               "guided_channels": channels.tolist()}
    return results, paths


def report_filters(r):
    print(f"first-layer filter weights: std {r['filter_std_trained']:.4f} trained, "
          f"{r['filter_std_random']:.4f} random")
    print(f"strongest last-layer D features per digit: {r['guided_channels']}")


def run_forget(args, model, state, out):
    from minigan.metrics import load_classifier
    real_x, real_y = _mnist(args.data, False, 10_000)
    results, pictures = forget.forget_experiment(
        model.G, load_classifier(args.data), model.z_dim, n_train=args.train_samples,
        n_test=args.test_samples, seed=args.seed, real_images=real_x, real_labels=real_y,
        max_dropped=args.max_dropped, threshold=args.ink_threshold)
    rows = [list(pictures[k]) for k in ("before", "holes", "after", "random_drop")]
    name = "forget" if args.max_dropped is None else f"forget_top{args.max_dropped}"
    return results, [save_layout(rows, os.path.join(out, name + ".png"))]


def report_forget(r):
    print(f"hole detector: {r['hole_pixels']} hole pixels, held-out pixel accuracy "
          f"{r['pixel_accuracy']:.1%}; dropped {r['dropped']} of {r['maps']} maps")
    print(f"samples with a hole: {r['hole_rate_before']:.1%} before, {r['hole_rate_after']:.1%} after, "
          f"{r['hole_rate_random_drop']:.1%} after dropping as many random maps; "
          f"{r['hole_rate_real']:.1%} of the MNIST test digits")
    print("  test digits with a hole, by digit: "
          + " ".join(f"{d}:{v:.0%}" for d, v in enumerate(r["hole_rate_real_by_digit"])))
    for name in ("before", "after", "random_drop"):
        print(f"  digits {name:>11}: " + " ".join(f"{d}:{v:.0%}" for d, v in enumerate(r["digits_" + name])))


def run_walk(args, model, state, out):
    from minigan.train import latent_walk
    images, _ = latent_walk(model, rows=args.rows, steps=args.steps, seed=args.seed)
    path = save_grid(images, os.path.join(out, "walk.png"), nrow=args.steps, scale=2)
    steps = np.abs(np.diff(images.reshape(args.rows, args.steps, -1), axis=1))
    return {"rows": args.rows, "steps": args.steps,
            "mean_step_change": float(steps.mean()),
            "max_step_change": float(steps.mean(axis=2).max())}, [path]


def report_walk(r):
    print(f"{r['rows']} walks of {r['steps']} steps: mean absolute pixel change per step "
          f"{r['mean_step_change']:.4f}, largest step {r['max_step_change']:.4f}")


def run_neighbours(args, model, state, out):
    from minigan.train import generate_samples
    train_x, _ = _mnist(args.data, True, args.train_size)
    test_x, _ = _mnist(args.data, False, args.test_size)
    samples = generate_samples(model, args.samples)
    results, found = memorisation.neighbour_experiment(model.D, samples, test_x, train_x)
    shown = min(args.show, args.samples)
    rows = [list(samples[:shown]), list(train_x[found["pixels"][:shown]]),
            list(train_x[found["d_features"][:shown]])]
    return results, [save_layout(rows, os.path.join(out, "neighbours.png"))]


def report_neighbours(r):
    print("distance to the nearest training image (mean / median):")
    for space in ("pixels", "d_features"):
        m = r[space]
        print(f"  {space:>10}: samples {m['samples_mean']:.3f} / {m['samples_median']:.3f}, "
              f"test digits {m['test_mean']:.3f} / {m['test_median']:.3f}; "
              f"{m['samples_below_test_min']:.1%} of samples nearer than any test digit")


RUNNERS = {"features": run_features, "arithmetic": run_arithmetic, "filters": run_filters,
           "forget": run_forget, "walk": run_walk, "neighbours": run_neighbours}
REPORTS = {"features": report_features, "arithmetic": report_arithmetic, "filters": report_filters,
           "forget": report_forget, "walk": report_walk, "neighbours": report_neighbours}

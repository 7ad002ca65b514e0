"""Choosing a trained G's samples instead of training it better: does it lower the
Fréchet distance? Two well-known ways, scored by the project's evaluator on 10,000
samples as the quality report scores a run:

    python benchmarks/sample_selection.py --rejection runs/recipes/dcgan-recipe_modern-s0
    python benchmarks/sample_selection.py --truncation runs/recipes/dcgan-recipe_modern-s0

--rejection: discriminator rejection sampling (Azadi et al. 2019). Draw a pool of
  --pool samples (G in eval mode, seed 0) and D's logit l of each; then keep
    - the first 10,000 (what the report would score: the baseline),
    - the 10,000 D finds most real (a hard cut), and
    - each sample with probability exp(min(0, l - T)), T the pool's p-th percentile
      logit, p = 50, 80, 90, 99, 100 (DRS's acceptance: D's logit estimates
      log p_data/p_G up to a constant, so this keeps samples in proportion to how
      much more likely the data is there than G makes them; the paper's extra
      gamma shift is T's choice here). The first 10,000 kept are scored.
--truncation: z drawn from N(0, 1) cut to |z_i| <= t (each entry beyond t drawn again,
  the "truncation trick" of BigGAN), t = none, 2.0, 1.5, 1.0, 0.7.

Each line: what was kept, how many, the Fréchet distance, IS analog, class coverage and
the count of each digit the evaluator sees. The run is any DCGAN or CGAN run folder
(its checkpoint.npz); a CGAN is sampled with N/10 of each label.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

PERCENTILES = (50, 80, 90, 99, 100)
THRESHOLDS = (None, 2.0, 1.5, 1.0, 0.7)
SCORED = 10000


def truncated_normal(rng, shape, threshold):
    """N(0, 1) draws of `shape`, each one beyond +-threshold drawn again until inside
    (threshold None: plain N(0, 1))."""
    z = rng.standard_normal(shape)
    if threshold is None:
        return z
    while True:
        outside = np.abs(z) > threshold
        if not outside.any():
            return z
        z[outside] = rng.standard_normal(int(outside.sum()))


def accepted(logits, threshold, uniform):
    """The indices DRS keeps: sample i with probability exp(min(0, logits[i] - threshold)),
    decided by uniform[i] ~ U(0, 1)."""
    return np.flatnonzero(uniform < np.exp(np.minimum(0.0, logits - threshold)))


def labels_for(model, n):
    """A CGAN's labels, N/10 of each digit in order; None for an unconditional model."""
    return np.arange(n, dtype=np.int64) % model.num_classes if model.conditional else None


def report(tag, images):
    from minigan import metrics
    r = metrics.evaluate_samples(images[:SCORED])
    print(f"{tag:36s} n={len(images):6d}  Frechet {r['frechet_distance']:6.1f}  "
          f"IS {r['inception_score']:.2f}  coverage {r['class_coverage']:.1f}  "
          f"counts {list(r['class_counts'])}", flush=True)


def rejection(model, pool):
    import minigan as mg
    from minigan.train import generate_samples
    from minigan.train.sampling import score_samples
    mg.manual_seed(0)
    labels = labels_for(model, pool)
    images = generate_samples(model, pool, labels)
    logits = score_samples(model, images, labels).reshape(-1)
    print("D's logits, percentiles 1, 10, 50, 90, 99, 100:",
          np.round(np.percentile(logits, (1, 10, 50, 90, 99, 100)), 2), flush=True)
    report("first 10,000 (the baseline)", images[:SCORED])
    report("the 10,000 D scores most real", images[np.argsort(-logits)[:SCORED]])
    uniform = np.random.default_rng(1).random(len(logits))
    for p in PERCENTILES:
        keep = accepted(logits, np.percentile(logits, p), uniform)
        report(f"DRS, T = p{p} logit", images[keep])


def truncation(model):
    import minigan as mg
    model.eval()
    rng = np.random.default_rng(0)
    labels = labels_for(model, SCORED)
    for t in THRESHOLDS:
        noise = truncated_normal(rng, (SCORED, model.z_dim), t).astype(np.float32)
        images = []
        with mg.no_grad():
            for start in range(0, SCORED, 500):
                z = mg.tensor(noise[start:start + 500])
                y = None if labels is None else mg.tensor(labels[start:start + 500])
                images.append(model.generate(z, y).numpy())
        report(f"z truncated at {t}", np.concatenate(images))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rejection", metavar="RUN", help="discriminator rejection sampling")
    p.add_argument("--truncation", metavar="RUN", help="truncated z")
    p.add_argument("--pool", type=int, default=50000, help="--rejection's pool of samples")
    args = p.parse_args(argv)
    if not (args.rejection or args.truncation):
        p.error("give --rejection RUN or --truncation RUN")
    if args.pool < SCORED:
        p.error(f"--pool must be at least {SCORED}, the samples scored, got {args.pool}")
    from recipes import load_run
    if args.rejection:
        rejection(load_run(args.rejection), args.pool)
    if args.truncation:
        model = load_run(args.truncation)
        if getattr(model, "code_size", 0):
            p.error("--truncation draws z alone: a run with --info-code is not supported")
        truncation(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())

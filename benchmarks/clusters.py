"""How well --clusters' two ways of clustering MNIST follow the digits, and what each costs.

    python benchmarks/clusters.py                      # 20,000 images, 10 clusters, seeds 0-2
    python benchmarks/clusters.py --images 60000 --seeds 0

For each seed: k-means' own K clusters (--clusters K) and the K groups of M small k-means
clusters by spectral clustering (--clusters K --fine-clusters M), fitted as the training
program fits them (the images scaled to [-1, 1]), each scored by its purity: the share of
the images whose digit is the most common one of their cluster (1.0: one digit per
cluster; about 0.11 for random clusters). The labels are read only to score: the
programs never read them. Seconds are the fit's own, on this machine's threads.
"""
import argparse
import sys
import time

import numpy as np

from minigan.data import MNIST
from minigan.data.kmeans import kmeans
from minigan.data.loader import images_to_float
from minigan.data.spectral import spectral_kmeans


def purity(assignments, labels):
    """The share of points whose label is their cluster's most common label."""
    clusters = np.unique(assignments)
    return sum(np.bincount(labels[assignments == c]).max() for c in clusters) / len(labels)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=20000, help="the first N training images")
    p.add_argument("--k", type=int, default=10, help="clusters (--clusters K)")
    p.add_argument("--fine", type=int, default=200, help="small clusters (--fine-clusters M)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    p.add_argument("--data", default=None, help="the MNIST folder (none: $MINIGAN_DATA ...)")
    args = p.parse_args(argv)
    data = MNIST(root=args.data, train=True)
    images, labels = data.arrays()
    if not 1 <= args.images <= len(images):
        print(f"error: --images: expected 1 to {len(images)}, got {args.images}", file=sys.stderr)
        return 2
    points = images_to_float(images[:args.images]).reshape(args.images, -1)
    labels = np.asarray(labels[:args.images])
    print(f"| seed | k-means, {args.k} clusters | s | spectral, {args.k} of {args.fine} | s |")
    print("| --- | --- | --- | --- | --- |")
    for seed in [int(s) for s in args.seeds.split(",")]:
        start = time.perf_counter()
        _, by_kmeans = kmeans(points, args.k, seed=seed)
        middle = time.perf_counter()
        _, _, by_spectral = spectral_kmeans(points, args.k, fine=args.fine, seed=seed)
        end = time.perf_counter()
        print(f"| {seed} | {purity(by_kmeans, labels):.3f} | {middle - start:.1f} | "
              f"{purity(by_spectral, labels):.3f} | {end - middle:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Score generated MNIST digits saved as a NumPy file.

    python examples/mnist_dcgan.py --generate 10000          # writes runs/dcgan/samples.npy
    python examples/evaluate.py runs/dcgan/samples.npy
    python examples/evaluate.py runs/cgan/samples.npy runs/cgan/labels.npy

Prints one score per line (Fréchet distance, Inception Score, class coverage,
and conditional accuracy when labels are given), judged by the MNIST
classifier shipped with minigan; --retrain-evaluator uses your own instead,
trained once (a few minutes on a CPU) and cached. The scores are defined in
minigan/metrics.
"""
import argparse
import sys

import numpy as np

import minigan as mg
from minigan.metrics import evaluate_samples


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Score generated MNIST digits with the project's MNIST classifier.")
    parser.add_argument("samples", help=".npy file of float images (N, 1, 28, 28) in [-1, 1]")
    parser.add_argument("labels", nargs="?", default=None,
                        help=".npy file of the int digits (N,) a conditional model was asked for")
    parser.add_argument("--data", default=None,
                        help="folder with the MNIST files, if the classifier must be trained "
                             "(default: $MINIGAN_DATA, the cache, or download)")
    parser.add_argument("--retrain-evaluator", action="store_true",
                        help="use your own MNIST classifier (trained once and cached, printing its "
                             "test accuracy) instead of the shipped one")
    parser.add_argument("--backend", choices=("numpy", "cupy", "strict"), default="numpy")
    args = parser.parse_args(argv)

    mg.set_backend(args.backend)
    try:
        images = np.load(args.samples)
        labels = None if args.labels is None else np.load(args.labels)
        results = evaluate_samples(images, labels, data=args.data, retrain=args.retrain_evaluator)
    except (OSError, TypeError, ValueError) as error:  # a missing file, or bad contents
        print(f"error: {error}", file=sys.stderr)
        return 2
    for key, value in results.items():
        print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the MNIST classifier that ships in minigan/metrics/ (run once, by a maintainer).

    python benchmarks/train_evaluator.py              # writes minigan/metrics/mnist_classifier.*
    python benchmarks/train_evaluator.py --out DIR    # somewhere else, to compare

Trains minigan.metrics.MNISTClassifier from --seed (Adam, batches of 64, the
learning rate halved each epoch, until 99% test accuracy), rounds its weights
to float16, measures the rounded network's test accuracy and reference
statistics, and writes the weights, their SHA-256 and a JSON record of this
command. Every user's end-of-run report then judges samples with these weights.
"""
import argparse
import io
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minigan.data import MNIST  # noqa: E402
from minigan.metrics.classifier import (TARGET_ACCURACY, accuracy,  # noqa: E402
                                        set_reference_statistics, train_classifier)
from minigan.metrics.shipped import SHIPPED_PATH, round_weights, write_shipped  # noqa: E402


class Tee:
    """A stream that writes to `stream` and keeps a copy in `kept`."""

    def __init__(self, stream):
        self.stream, self.kept = stream, io.StringIO()

    def write(self, text):
        self.kept.write(text)
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--data", default=None, help="folder with the MNIST files")
    parser.add_argument("--out", default=None, help=f"folder to write into (default {SHIPPED_PATH.parent})")
    args = parser.parse_args(argv)
    path = SHIPPED_PATH if args.out is None else os.path.join(args.out, SHIPPED_PATH.name)

    started = time.perf_counter()
    train_set, test_set = MNIST(args.data, train=True), MNIST(args.data, train=False)
    log = Tee(sys.stderr)  # the per-epoch lines, shown and kept for the record
    classifier = train_classifier(train_set, test_set, max_epochs=args.max_epochs, seed=args.seed,
                                  log=log)
    trained_accuracy = classifier.test_accuracy
    round_weights(classifier)
    classifier.test_accuracy = accuracy(classifier, test_set)
    set_reference_statistics(classifier, test_set, train_set)
    seconds = time.perf_counter() - started
    record = {
        "command": "python benchmarks/train_evaluator.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "seed": args.seed,
        "max_epochs": args.max_epochs,
        "float32_test_accuracy": trained_accuracy,
        "test_set_frechet_distance": classifier.test_set_frechet_distance,
        "training_seconds": round(seconds, 1),
        "machine": f"{platform.machine()} {_cpu_model()}".strip(),
        "training_log": log.kept.getvalue().splitlines(),
    }
    digest = write_shipped(classifier, record, path)
    print(f"test accuracy {classifier.test_accuracy:.2%} with float16 weights "
          f"({trained_accuracy:.2%} in float32); real digits' Fréchet distance "
          f"{classifier.test_set_frechet_distance:.3f}; {seconds:.0f} s; wrote {path} (sha256 {digest})")
    if classifier.test_accuracy < TARGET_ACCURACY:
        print(f"warning: below the {TARGET_ACCURACY:.0%} aimed for", file=sys.stderr)
        return 1
    return 0


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


if __name__ == "__main__":
    sys.exit(main())

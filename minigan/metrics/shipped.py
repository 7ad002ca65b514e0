"""The evaluation classifier that ships inside the package, so every user's scores agree.

    minigan/metrics/mnist_classifier.npz          weights (float16) + reference statistics
    minigan/metrics/mnist_classifier.npz.sha256   its SHA-256, checked on every load
    minigan/metrics/mnist_classifier.json         how it was made: command, seed, accuracy, time

It was trained once by `python benchmarks/train_evaluator.py` (the command and
seed are in the .json). The weights are stored as float16, to keep the file
under 1 MB, and come back as float32; the test accuracy and the reference
statistics in the file were measured with exactly those rounded weights, so
what is loaded is what was measured.

A file whose SHA-256 is not the recorded one (a corrupt download, an edited
file) is refused with ChecksumError rather than giving scores on another scale.
"""
import hashlib
import json
import os
from pathlib import Path

import numpy as np

import minigan as mg
from minigan.data import ChecksumError

from .classifier import FORMAT_VERSION, MNISTClassifier

HERE = Path(__file__).resolve().parent
SHIPPED_PATH = HERE / "mnist_classifier.npz"
SHIPPED_DTYPE = np.float16


def checksum_path(path):
    """The file holding `path`'s SHA-256: `path` + '.sha256'."""
    return Path(os.fspath(path) + ".sha256")


def record_path(path):
    """The JSON record of how the weights at `path` were made: .npz -> .json."""
    return Path(path).with_suffix(".json")


def sha256_of(path):
    """The hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def round_weights(classifier, dtype=SHIPPED_DTYPE):
    """Round every floating-point weight to `dtype` and back, in place: the network that
    will be loaded from the shipped file, so its accuracy can be measured before writing."""
    state = classifier.state_dict()
    rounded = {}
    for name, value in state.items():
        array = value.numpy()
        if array.dtype.kind == "f":
            array = array.astype(dtype).astype(array.dtype)
        rounded[name] = array
    classifier.load_state_dict(rounded)
    return classifier


def write_shipped(classifier, record, path=SHIPPED_PATH):
    """Write the weights (as float16), statistics, accuracy, checksum and record.

    `classifier` must already be `round_weights`-ed and carry its reference
    statistics (see classifier.set_reference_statistics). `record` is a dict
    (command, seed, training time ...) written as the .json beside the weights.
    """
    from minigan._atomic import atomic_write

    weights = {name: value.numpy() for name, value in classifier.state_dict().items()}
    weights = {name: array.astype(SHIPPED_DTYPE) if array.dtype.kind == "f" else array
               for name, array in weights.items()}
    mg.save({
        "format_version": FORMAT_VERSION,
        "state_dict": weights,
        "test_accuracy": float(classifier.test_accuracy),
        "test_feature_mean": np.asarray(classifier.test_feature_mean, dtype=np.float64),
        "test_feature_cov": np.asarray(classifier.test_feature_cov, dtype=np.float64),
        "test_set_frechet_distance": float(classifier.test_set_frechet_distance),
    }, os.fspath(path))
    digest = sha256_of(path)
    with atomic_write(checksum_path(path), "w") as f:
        f.write(f"{digest}  {Path(path).name}\n")
    with atomic_write(record_path(path), "w") as f:
        json.dump({**record, "sha256": digest, "test_accuracy": float(classifier.test_accuracy),
                   "bytes": Path(path).stat().st_size}, f, indent=2)
        f.write("\n")
    return digest


def expected_sha256(path):
    """The SHA-256 recorded beside `path` (the first word of its .sha256 file)."""
    recorded = checksum_path(path)
    if not recorded.is_file():
        raise ChecksumError(f"{recorded}: missing; it holds the SHA-256 that {path} is checked against")
    return recorded.read_text().split()[0]


def read_shipped(path=SHIPPED_PATH):
    """The shipped classifier (eval mode, float32 weights), its checksum verified first.

    Raises FileNotFoundError when the file is missing (an incomplete install) and
    ChecksumError when its SHA-256 differs from the recorded one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped MNIST classifier {path} is missing (an incomplete install?); "
            "reinstall minigan, or train your own with --retrain-evaluator")
    expected, actual = expected_sha256(path), sha256_of(path)
    if actual != expected:
        raise ChecksumError(
            f"{path}: expected SHA-256 {expected}, got {actual}: the shipped classifier is "
            "corrupt or was changed; reinstall minigan, or train your own with --retrain-evaluator")
    state = mg.load(os.fspath(path), as_numpy=True)
    classifier = MNISTClassifier()
    classifier.load_state_dict({name: array.astype(np.float32) if array.dtype.kind == "f" else array
                                for name, array in state["state_dict"].items()})
    classifier.test_accuracy = float(state["test_accuracy"])
    classifier.test_feature_mean = np.asarray(state["test_feature_mean"], dtype=np.float64)
    classifier.test_feature_cov = np.asarray(state["test_feature_cov"], dtype=np.float64)
    classifier.test_set_frechet_distance = float(state["test_set_frechet_distance"])
    return classifier.eval()

"""The MNIST classifier that judges generated digits: shipped with minigan, or retrained and cached.

Every score in `minigan.metrics` looks at samples through this network: the
Fréchet distance compares its 128-d penultimate features of generated and real
digits, the Inception Score and class coverage read its class probabilities.

    classifier = load_classifier()          # the weights shipped in the package (shipped.py)
    classifier = load_classifier(retrain=True)  # your own: from the cache, or trained on first use
    classifier.features(x)                  # (N, 1, 28, 28) in [-1, 1] -> (N, 128)
    classifier(x)                           # -> logits (N, 10)
    classifier.test_accuracy                # measured on the 10,000 MNIST test digits

The shipped weights
-------------------
By default `load_classifier` reads the classifier that ships inside the package
(minigan/metrics/mnist_classifier.npz, its SHA-256 verified; see shipped.py): no
training, no MNIST files needed, and every user's scores on the same scale.

The cache (retrain=True, the programs' --retrain-evaluator)
----------------------------------------------------------
`load_classifier(retrain=True)` looks for `mnist_classifier.npz` in `cache_dir`, else in
$MINIGAN_CACHE, else in ~/.cache/minigan. When it is missing (or was written by
an older format), the classifier is trained on MNIST (Adam in batches of 64,
its learning rate halved each epoch, seeded; one progress line per epoch on
stderr) until its test accuracy reaches 99%, and saved there atomically
(`mg.save`). The file holds the weights, the measured test accuracy, the
format version, and the reference statistics that every evaluation compares
against, computed once:

    test_feature_mean, test_feature_cov   mean (128,) and covariance (128, 128)
                                          of the features of the MNIST test set
    test_set_frechet_distance             the Fréchet distance of 10,000 real
                                          training digits to those statistics:
                                          what a perfect generator would score

The cached file is a product of training on the user's machine, never part of
the repository (delete it to train anew).
"""
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import backend as _backend
from minigan import nn, optim
from minigan.data import MNIST, DataLoader
from minigan.data.loader import images_to_float

from .frechet import feature_statistics, frechet_distance

FORMAT_VERSION = 1          # bump when the network or the file's contents change
CACHE_FILE = "mnist_classifier.npz"
TARGET_ACCURACY = 0.99
NUM_REAL_REFERENCE = 10_000  # training digits scored against the test set


class MNISTClassifier(nn.Module):
    """A small CNN for 28 x 28 digits: two conv-ReLU-pool stages, then two linear layers.

        x (N, 1, 28, 28) -> Conv2d(1, 32, 3, padding=1) -> ReLU -> MaxPool2d(2)   (N, 32, 14, 14)
                         -> Conv2d(32, 64, 3, padding=1) -> ReLU -> MaxPool2d(2)  (N, 64, 7, 7)
                         -> Flatten -> Linear(3136, 128) -> ReLU                  (N, 128)  features
                         -> Dropout(0.25) -> Linear(128, 10)                      (N, 10)   logits

    Inputs are images scaled to [-1, 1], the range of real batches from
    `minigan.data.DataLoader` and of a generator's tanh output.
    """

    def __init__(self, dropout=0.25):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(128, 10))
        # Filled in by train_classifier / load_classifier (plain attributes, not weights):
        self.test_accuracy = None            # float in [0, 1]
        self.test_feature_mean = None        # NumPy float64 (128,)
        self.test_feature_cov = None         # NumPy float64 (128, 128)
        self.test_set_frechet_distance = None

    def features(self, x):
        """The penultimate activations (N, 128) that the Fréchet distance compares."""
        return self.body(x)

    def forward(self, x):
        """The class logits (N, 10)."""
        return self.head(self.body(x))


def classify(classifier, images, batch_size=500):
    """Features and class probabilities of images, computed in batches, as NumPy float64.

    images: a NumPy float array (N, 1, 28, 28) in [-1, 1].
    Returns (features (N, 128), probabilities (N, 10)). The network runs on the
    current backend in eval mode (no dropout) under `mg.no_grad()`; the softmax
    is taken on the host in float64.
    """
    classifier.eval()
    dtype = next(iter(classifier.parameters())).dtype
    features, logits = [], []
    with mg.no_grad():
        for start in range(0, len(images), batch_size):
            batch = mg.tensor(np.ascontiguousarray(images[start:start + batch_size], dtype=dtype))
            h = classifier.features(batch)
            features.append(h.numpy())
            logits.append(classifier.head(h).numpy())
    features = np.concatenate(features).astype(np.float64)
    logits = np.concatenate(logits).astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)  # softmax without overflow
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return features, probabilities


def accuracy(classifier, dataset, batch_size=500):
    """The fraction of a dataset's digits (uint8 images, labels) the classifier gets right."""
    images, labels = dataset.arrays()
    _, probabilities = classify(classifier, images_to_float(images)[:, None], batch_size)
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def train_classifier(train_set, test_set, max_epochs=8, target_accuracy=TARGET_ACCURACY,
                     batch_size=64, lr=1e-3, lr_decay=0.5, seed=0, max_steps=None,
                     log=sys.stderr):
    """Train an MNISTClassifier with minigan: Adam on the cross-entropy, from `seed`.

    train_set, test_set: datasets with `arrays()` -> (uint8 images (N, 28, 28), labels (N,)),
    such as `minigan.data.MNIST`. Epoch e (from 1) uses the learning rate
    lr * lr_decay**(e - 1): at a constant 1e-3 Adam's noisy steps keep the test
    accuracy near 98.8% for epochs; halving the step each epoch lets it settle
    at 99% in three or four.
    After each epoch the test accuracy is measured and a line is written to
    `log`; training stops once it reaches `target_accuracy`, after `max_epochs`,
    or after `max_steps` steps in all.
    Returns the classifier in eval mode, with `test_accuracy` set.

    The current backend's random generator is seeded for initialisation, data
    order and dropout, and put back as it was afterwards, so training the
    classifier in the middle of a program does not change that program's draws.
    """
    with _backend.fork_rng():
        _backend.get_backend().seed(seed)
        classifier = MNISTClassifier()
        optimizer = optim.Adam(classifier.parameters(), lr=lr)
        loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed)
        step = 0
        for epoch in range(1, max_epochs + 1):
            started = time.perf_counter()
            epoch_lr = lr * lr_decay ** (epoch - 1)
            for group in optimizer.param_groups:
                group["lr"] = epoch_lr
            classifier.train()
            losses = []
            for images, labels in loader:
                loss = F.cross_entropy(classifier(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                step += 1
                if max_steps is not None and step >= max_steps:
                    break
            classifier.test_accuracy = accuracy(classifier, test_set)
            print(f"mnist classifier: epoch {epoch}/{max_epochs}  {step} steps  lr {epoch_lr:.2g}  "
                  f"loss {np.mean(losses):.4f}  test accuracy {classifier.test_accuracy:.2%}  "
                  f"({time.perf_counter() - started:.0f} s)", file=log, flush=True)
            if classifier.test_accuracy >= target_accuracy:
                break
            if max_steps is not None and step >= max_steps:
                break
    classifier.eval()
    return classifier


def set_reference_statistics(classifier, test_set, real_set, num_real=NUM_REAL_REFERENCE):
    """Compute and attach the statistics every evaluation compares against.

    test_feature_mean / test_feature_cov: the Gaussian of the features of test_set.
    test_set_frechet_distance: the Fréchet distance of the first `num_real`
    digits of real_set (MNIST's training set) to it: the score of real data.
    """
    test_images, _ = test_set.arrays()
    features, _ = classify(classifier, images_to_float(test_images)[:, None])
    classifier.test_feature_mean, classifier.test_feature_cov = feature_statistics(features)
    real_images, _ = real_set.arrays()
    real_features, _ = classify(classifier, images_to_float(real_images[:num_real])[:, None])
    classifier.test_set_frechet_distance = frechet_distance(
        *feature_statistics(real_features), classifier.test_feature_mean, classifier.test_feature_cov)
    return classifier


def cache_path(cache_dir=None):
    """Where the classifier is cached: cache_dir, else $MINIGAN_CACHE, else ~/.cache/minigan."""
    if cache_dir is None:
        cache_dir = os.environ.get("MINIGAN_CACHE") or Path.home() / ".cache" / "minigan"
    return Path(cache_dir).expanduser() / CACHE_FILE


def save_classifier(classifier, path):
    """Write the weights, test accuracy, reference statistics and format version (atomically)."""
    missing = [name for name in ("test_accuracy", "test_feature_mean", "test_feature_cov",
                                 "test_set_frechet_distance") if getattr(classifier, name) is None]
    if missing:
        raise ValueError(f"save_classifier: the classifier has no {', '.join(missing)} yet "
                         "(train it with train_classifier, then call set_reference_statistics)")
    mg.save({
        "format_version": FORMAT_VERSION,
        "state_dict": classifier.state_dict(),
        "test_accuracy": float(classifier.test_accuracy),
        "test_feature_mean": np.asarray(classifier.test_feature_mean, dtype=np.float64),
        "test_feature_cov": np.asarray(classifier.test_feature_cov, dtype=np.float64),
        "test_set_frechet_distance": float(classifier.test_set_frechet_distance),
    }, os.fspath(path))


def read_classifier(path):
    """The cached classifier at `path` (eval mode), or None when it is missing or outdated."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        state = mg.load(os.fspath(path), as_numpy=True)
        version = int(state.get("format_version", -1))
        if version != FORMAT_VERSION:
            print(f"mnist classifier: {path} has format version {version}, this minigan writes "
                  f"{FORMAT_VERSION}; training a new one", file=sys.stderr)
            return None
        classifier = MNISTClassifier()
        classifier.load_state_dict(state["state_dict"])
        classifier.test_accuracy = float(state["test_accuracy"])
        classifier.test_feature_mean = np.asarray(state["test_feature_mean"], dtype=np.float64)
        classifier.test_feature_cov = np.asarray(state["test_feature_cov"], dtype=np.float64)
        classifier.test_set_frechet_distance = float(state["test_set_frechet_distance"])
    except (OSError, ValueError, KeyError, RuntimeError, zipfile.BadZipFile) as error:
        # A truncated or foreign file: say why, then replace it by training anew.
        print(f"mnist classifier: cannot read {path} ({type(error).__name__}: {error}); "
              "training a new one", file=sys.stderr)
        return None
    return classifier.eval()


def load_classifier(data=None, cache_dir=None, retrain=False):
    """The project's MNIST classifier.

    retrain=False: the weights shipped in the package, their SHA-256 verified
    (ChecksumError if they were changed); data and cache_dir are not used.
    retrain=True: a classifier trained on this machine: read from the cache, or
    trained and cached on first use, its test accuracy printed on stderr.
    data: the folder holding the MNIST files, used only when training
    (default: $MINIGAN_DATA, the cache, or a download; see minigan.data.MNIST).
    cache_dir: the cache folder (default $MINIGAN_CACHE, else ~/.cache/minigan).
    Training takes a few minutes on a CPU and prints one line per epoch on stderr.
    """
    if not retrain:
        from .shipped import read_shipped
        return read_shipped()
    path = cache_path(cache_dir)
    classifier = read_classifier(path)
    if classifier is not None:
        print(f"mnist classifier: your own, from {path}: test accuracy {classifier.test_accuracy:.2%} "
              "(delete the file to train anew)", file=sys.stderr)
        return classifier
    print(f"mnist classifier: no usable {path}; training it once (a few minutes on a CPU)",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    train_set, test_set = MNIST(data, train=True), MNIST(data, train=False)
    classifier = train_classifier(train_set, test_set)
    set_reference_statistics(classifier, test_set, train_set)
    save_classifier(classifier, path)
    if classifier.test_accuracy < TARGET_ACCURACY:
        print(f"mnist classifier: warning: test accuracy {classifier.test_accuracy:.2%} is below "
              f"the {TARGET_ACCURACY:.0%} aimed for; scores are less reliable", file=sys.stderr)
    print(f"mnist classifier: test accuracy {classifier.test_accuracy:.2%}, trained in "
          f"{time.perf_counter() - started:.0f} s; real training digits score Fréchet distance "
          f"{classifier.test_set_frechet_distance:.3f}; saved to {path}", file=sys.stderr, flush=True)
    return classifier


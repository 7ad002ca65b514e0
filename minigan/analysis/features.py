"""The discriminator as a feature extractor (the DCGAN paper, section 5.1).

The paper trains a DCGAN without labels, then "uses the discriminator's
convolutional features from all layers, maxpooling each layer's representation
to produce a 4 x 4 spatial grid. These features are then flattened and
concatenated", and trains a regularised linear classifier on them. Here:

    discriminator_features(D, images)    (N, 64*16 + 128*16 = 3072) for the MNIST DCGAN
    pool_to_grid(a, 4)                   adaptive max pooling (N, C, H, W) -> (N, C, 4, 4)
    label_draw(labels, L, holdout, seed) L class-balanced labels + a held-out set
    train_supervised_cnn(...)            D's architecture with 10 outputs, on the L labels only
    feature_experiment(...)              all four classifiers over several label draws
"""
import time

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.gan.base import init_dcgan_weights
from minigan.gan.dcgan import discriminator_layers

from .linear import choose_weight_decay, standardisation
from .model import discriminator_activations, in_batches

WEIGHT_DECAYS = (1e-4, 1e-3, 1e-2, 1e-1)


def pool_to_grid(activations, size=4):
    """Max-pool NumPy activations (N, C, H, W) to (N, C, size, size).

    The cells are PyTorch's adaptive_max_pool2d bins: cell i covers rows
    floor(i H / size) .. ceil((i + 1) H / size) - 1, so 14 rows give the
    overlapping bins 0-3, 3-6, 7-10, 10-13 and 7 rows give 0-1, 1-3, 3-5, 5-6.
    """
    a = np.asarray(activations)
    if a.ndim != 4 or min(a.shape[2:]) < size:
        raise ValueError(f"pool_to_grid: expected activations (N, C, H, W) with H, W >= {size}, "
                         f"got {a.shape}")
    rows = [a[:, :, (i * a.shape[2]) // size: -(-(i + 1) * a.shape[2] // size)].max(axis=2)
            for i in range(size)]                                   # size x (N, C, W)
    return np.stack([np.stack([r[:, :, (j * a.shape[3]) // size: -(-(j + 1) * a.shape[3] // size)]
                               .max(axis=2) for j in range(size)], axis=-1)
                     for r in rows], axis=-2)


def flatten_and_concatenate(activations, size=4):
    """Every layer's activations pooled to size x size, flattened per image (channel,
    row, column order) and concatenated layer after layer: (N, sum_l C_l size^2)."""
    return np.concatenate([pool_to_grid(a, size).reshape(len(a), -1) for a in activations], axis=1)


def discriminator_features(D, images, size=4, batch_size=500):
    """The paper's features of NumPy images (N, 1, 28, 28) in [-1, 1]: float32 (N, F)."""
    D.eval()
    dtype = next(iter(D.parameters())).dtype
    pieces = []
    with mg.no_grad():
        for start in range(0, len(images), batch_size):
            x = mg.tensor(np.ascontiguousarray(images[start:start + batch_size], dtype=dtype))
            pieces.append(flatten_and_concatenate(
                [a.numpy() for a in discriminator_activations(D, x)], size).astype(np.float32))
    return np.concatenate(pieces)


def class_balanced_sample(labels, n, rng, num_classes=10):
    """Indices of n rows of `labels` with n / num_classes of each class, drawn without
    replacement (n must be a multiple of num_classes with enough rows in each class)."""
    if n % num_classes:
        raise ValueError(f"class_balanced_sample: expected a multiple of {num_classes} labels, got {n}")
    per_class = n // num_classes
    chosen = []
    for c in range(num_classes):
        rows = np.flatnonzero(labels == c)
        if len(rows) < per_class:
            raise ValueError(f"class_balanced_sample: {per_class} labels of class {c} wanted, "
                             f"only {len(rows)} available")
        chosen.append(rng.choice(rows, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def label_draw(labels, n_labels, holdout, seed):
    """One draw of the labelled set: (labelled indices, held-out indices) into `labels`.

    `holdout` random rows are set aside to choose the regularisation; from the rest,
    n_labels class-balanced rows are labelled, or all of them when n_labels >= their number
    (--labels 60000 means the 50,000 left beside the 10,000 held out)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    held, pool = np.sort(order[:holdout]), order[holdout:]
    if n_labels >= len(pool):
        return np.sort(pool), held
    return pool[class_balanced_sample(labels[pool], n_labels, rng)], held


def supervised_cnn(num_classes=10):
    """D's architecture with a num_classes-way head: conv-LeakyReLU, conv-BN-LeakyReLU, linear."""
    net = nn.Sequential(*discriminator_layers(1), nn.Flatten(), nn.Linear(128 * 7 * 7, num_classes))
    net.apply(init_dcgan_weights)
    return net


def cnn_error(net, images, labels, batch_size=500):
    net.eval()
    logits = in_batches(net, images.astype(np.float32), batch_size)
    return float(np.mean(logits.argmax(axis=1) != labels))


def train_supervised_cnn(images, labels, held_images, held_labels, steps=400, batch_size=64,
                         lr=1e-3, seed=0, evaluations=4, held_rows=2000):
    """Train supervised_cnn() on the labelled images only: Adam(lr) on the cross-entropy in
    minibatches of min(batch_size, N), for `steps` steps. The held-out error is measured
    `evaluations` times along the way, on the first `held_rows` held-out images, and the
    weights with the lowest one are kept (early stopping on the held-out set, never on the
    test set). Returns (net, held-out error)."""
    held_images, held_labels = held_images[:held_rows], held_labels[:held_rows]
    mg.manual_seed(seed)
    net = supervised_cnn()
    optimizer = optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = np.random.default_rng(seed)
    batch_size = min(batch_size, len(images))
    checks = set(np.linspace(steps / evaluations, steps, evaluations).astype(int))
    best = (np.inf, None)
    order, position = rng.permutation(len(images)), 0
    for step in range(1, steps + 1):
        if position + batch_size > len(images):
            order, position = rng.permutation(len(images)), 0
        rows = order[position:position + batch_size]
        position += batch_size
        net.train()
        loss = F.cross_entropy(net(mg.tensor(images[rows].astype(np.float32))),
                               mg.tensor(labels[rows]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step in checks:
            error = cnn_error(net, held_images, held_labels)
            if error < best[0]:
                best = (error, {k: v.numpy().copy() for k, v in net.state_dict().items()})
    net.load_state_dict(best[1])
    net.eval()
    return net, best[0]


def feature_experiment(features, train_labels, test_labels, n_labels, train_images=None,
                       test_images=None, draws=3, holdout=10_000, weight_decays=WEIGHT_DECAYS,
                       cnn_steps=400, linear_steps=300, seed=0, log=None):
    """Test errors of each feature set's linear classifier, and of the supervised CNN.

    features: {"d_features": (train (N, F), test (M, F)), "random_d": ..., "pixels": ...}.
    train_images, test_images: NumPy (N, 1, 28, 28) for the supervised CNN (None skips it).
    For each draw d (seeded seed + d): label_draw, then for every feature set the
    weight decay with the lowest held-out error, scored on the test rows. Each feature
    set is standardised with the statistics of all its training rows (no labels needed).
    Returns {"labels", "draws", "test_error": {name: mean}, "spread": {name: std},
             "per_draw": {name: [errors]}, "weight_decay": {name: [chosen]}, "seconds_by_classifier": {...}}.
    """
    errors, chosen, seconds = {}, {}, {}
    statistics = {name: standardisation(train) for name, (train, _) in features.items()}
    for d in range(draws):
        labelled, held = label_draw(train_labels, n_labels, holdout, seed + d)
        for name, (train, test) in features.items():
            started = time.perf_counter()
            classifier, held_errors = choose_weight_decay(
                train[labelled], train_labels[labelled], train[held], train_labels[held],
                weight_decays, num_classes=10, steps=linear_steps, seed=seed + d,
                standardise=statistics[name])
            errors.setdefault(name, []).append(classifier.error(test, test_labels))
            chosen.setdefault(name, []).append(min(held_errors, key=held_errors.get))
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            if log:
                log(f"draw {d + 1}/{draws} {name}: test error {errors[name][-1]:.4f}")
        if train_images is not None:
            started = time.perf_counter()
            net, _ = train_supervised_cnn(train_images[labelled], train_labels[labelled],
                                          train_images[held], train_labels[held],
                                          steps=cnn_steps, seed=seed + d)
            errors.setdefault("supervised_cnn", []).append(cnn_error(net, test_images, test_labels))
            seconds["supervised_cnn"] = seconds.get("supervised_cnn", 0.0) + time.perf_counter() - started
            if log:
                log(f"draw {d + 1}/{draws} supervised_cnn: test error {errors['supervised_cnn'][-1]:.4f}")
    return {
        "labels": int(n_labels),
        "labelled": int(len(labelled)),
        "draws": int(draws),
        "test_error": {k: float(np.mean(v)) for k, v in errors.items()},
        "spread": {k: float(np.std(v)) for k, v in errors.items()},
        "per_draw": {k: [float(e) for e in v] for k, v in errors.items()},
        "weight_decay": {k: [float(w) for w in v] for k, v in chosen.items()},
        "seconds_by_classifier": {k: round(v, 1) for k, v in seconds.items()},
    }

"""Forgetting to draw an object (the DCGAN paper, section 6.2 and figure 6).

The paper labelled window bounding boxes in 150 bedroom samples, trained a
logistic regression on the second-highest convolutional layer's features to tell
activations inside a window from random ones of the same image, and dropped
every feature map with a positive weight: the generator then drew the same
rooms with the windows replaced by other objects. MNIST has no windows, but it
has holes (holes.py labels them automatically). Here:

    pixels: G's second-to-last layer (64 maps, 14 x 14) upsampled to the 28 x 28
            pixel positions (nearest: each activation covers a 2 x 2 block)
    positives: every hole pixel of every sample; negatives: as many pixels drawn
            at random from the non-hole pixels of the same samples
    classifier: the L2-regularised logistic regression of linear.py (2 classes);
            map j's weight is w_j = W[1, j] - W[0, j] (the logit of "hole")
    forgetting: every map with w_j > 0 set to zero at all positions, the same z
            drawn again (model.generator_forward's `drop`)
"""
import numpy as np

from minigan.metrics.classifier import classify

from .holes import enclosed_background, has_hole
from .linear import fit_logistic_regression
from .model import generator_forward, in_batches


def generate_with_maps(G, z, drop=None, batch_size=500):
    """(images (N, 1, 28, 28), penultimate maps (N, C, 14, 14)) as NumPy, maps in `drop` zeroed."""
    G.eval()
    return in_batches(lambda t: list(generator_forward(G, t, drop=drop)),
                      np.asarray(z, dtype=np.float32), batch_size)


def pixel_features(maps, size):
    """Maps (N, C, h, w) -> their values at each of size x size pixels, (N, size, size, C):
    nearest-neighbour upsampling by size / h."""
    factor = size // maps.shape[2]
    return maps.repeat(factor, axis=2).repeat(factor, axis=3).transpose(0, 2, 3, 1)


def hole_pixels(images, maps, rng, threshold=0.25):
    """The logistic regression's rows: (X (M, C), y (M,)), hole pixels (y = 1) and as many
    random non-hole pixels of the same images (y = 0); threshold: holes.py's ink threshold."""
    holes = enclosed_background(images, threshold)
    features = pixel_features(maps, holes.shape[1])
    positive = features[holes]
    others = np.flatnonzero(~holes.ravel())
    negative = features.reshape(-1, features.shape[-1])[rng.choice(others, len(positive), replace=False)]
    X = np.concatenate([positive, negative]).astype(np.float32)
    y = np.concatenate([np.ones(len(positive)), np.zeros(len(negative))]).astype(np.int64)
    return X, y


def hole_map_weights(X, y, weight_decay=1e-3, steps=500, seed=0):
    """Each map's weight towards "hole" (C,), and the fitted classifier."""
    classifier = fit_logistic_regression(X, y, weight_decay=weight_decay, num_classes=2,
                                         steps=steps, seed=seed)
    return classifier.weight[1] - classifier.weight[0], classifier


def forget_experiment(G, classifier, z_dim, n_train=1000, n_test=2000, seed=0,
                      real_images=None, real_labels=None, max_dropped=None, threshold=0.25):
    """Fit the hole detector on n_train samples, drop its positive maps (the paper's rule;
    max_dropped: only that many, the largest weights first), and compare n_test other
    samples with and without them. threshold: the ink threshold of holes.py.
    real_images, real_labels (optional): MNIST digits whose hole rate per digit checks
    the labeller ("hole_rate_real_by_digit").

    Returns (results, pictures): results {"maps", "dropped", "hole_pixels", "pixel_accuracy",
    "hole_rate_before", "hole_rate_after", "hole_rate_random_drop", "digits_before",
    "digits_after"} (digit histograms as fractions, 10 each; the random drop removes as
    many randomly chosen maps, the control that any removal changes the drawing);
    pictures {"before", "after", "holes"}: the first test samples.
    """
    rng = np.random.default_rng(seed)
    z_train = rng.standard_normal((n_train, z_dim)).astype(np.float32)
    z_test = rng.standard_normal((n_test, z_dim)).astype(np.float32)
    images, maps = generate_with_maps(G, z_train)
    X, y = hole_pixels(images, maps, rng, threshold)
    if len(X) == 0:
        raise ValueError("forget: no sample has a hole to learn from; draw more (--train-samples)")
    split = rng.permutation(len(X))
    fit_rows, check_rows = split[: len(X) * 4 // 5], split[len(X) * 4 // 5:]
    weights, detector = hole_map_weights(X[fit_rows], y[fit_rows], seed=seed)
    drop = np.flatnonzero(weights > 0)
    if max_dropped is not None:
        drop = np.sort(drop[np.argsort(-weights[drop])[:max_dropped]])
    random_drop = rng.choice(len(weights), len(drop), replace=False)

    before, _ = generate_with_maps(G, z_test)
    after, _ = generate_with_maps(G, z_test, drop=drop)
    control, _ = generate_with_maps(G, z_test, drop=random_drop)
    digits = [np.bincount(classify(classifier, x)[1].argmax(axis=1), minlength=10) / len(x)
              for x in (before, after, control)]
    results = {
        "maps": int(len(weights)), "dropped": int(len(drop)),
        "hole_pixels": int(y.sum()), "pixel_accuracy": 1.0 - detector.error(X[check_rows], y[check_rows]),
        "hole_rate_before": float(has_hole(before, threshold=threshold).mean()),
        "hole_rate_after": float(has_hole(after, threshold=threshold).mean()),
        "hole_rate_random_drop": float(has_hole(control, threshold=threshold).mean()),
        "digits_before": [float(v) for v in digits[0]],
        "digits_after": [float(v) for v in digits[1]],
        "digits_random_drop": [float(v) for v in digits[2]],
        "dropped_maps": [int(j) for j in drop],
    }
    if real_images is not None:
        real = has_hole(real_images, threshold=threshold)
        results["hole_rate_real"] = float(real.mean())
        results["hole_rate_real_by_digit"] = [float(real[real_labels == d].mean()) for d in range(10)]
    shown = min(len(before), 16)
    holes = np.where(enclosed_background(before[:shown], threshold)[:, None], 1.0, -1.0)
    return results, {"before": before[:shown], "after": after[:shown], "holes": holes,
                     "random_drop": control[:shown]}

"""How good are a GAN's samples? Every score at once, from an array of images.

(`minigan.train.evaluate_model` draws the samples from a model and calls this.)

    results = evaluate_samples(images)              # NumPy (N, 1, 28, 28) in [-1, 1]
    results = evaluate_samples(images, labels)      # + conditional_accuracy

`results` is a dict of plain Python values (ready for json.dump):

    frechet_distance           Fréchet distance of the samples' classifier features to the
                               MNIST test set's (lower is better; see frechet.py)
    inception_score            exp(E KL(p(y|x) || p(y))), 1 to 10 (higher is better)
    class_coverage             fraction of digits drawn at least half as often as a fair
                               share (1.0 = all ten; 0.1 = collapsed onto one)
    conditional_accuracy       (with labels) fraction classified as the digit asked for
    class_counts               samples the classifier puts in each class 0..9
    test_set_frechet_distance  what 10,000 real training digits score: the floor to compare to
    num_samples                N

The Fréchet distance is biased upwards for small N (the covariance of few
samples is noisy); compare runs at the same N, 10,000 by default.
"""
import numpy as np

import minigan as mg

from .classifier import classify, load_classifier
from .frechet import feature_statistics, frechet_distance
from .scores import class_counts, class_coverage, conditional_accuracy, inception_score

NUM_CLASSES = 10


def evaluate_samples(images, labels=None, data=None, classifier=None, batch_size=500,
                     retrain=False):
    """Score generated digits with the project's MNIST classifier.

    images: float NumPy array (or Tensor) (N, 1, 28, 28) with values in [-1, 1], N >= 2.
    labels: for a conditional generator, the int digits (N,) the samples were drawn for.
    data: the MNIST folder, needed only if the classifier must be trained first.
    classifier: an MNISTClassifier with reference statistics (default: the shipped one,
    or with retrain=True your own, load_classifier(data, retrain=True)).
    Returns the dict described in this module's docstring.
    """
    images = check_images(images)
    labels = check_labels(labels, len(images))
    if classifier is None:
        classifier = load_classifier(data, retrain=retrain)
    features, probabilities = classify(classifier, images, batch_size)
    predictions = probabilities.argmax(axis=1)
    mean, cov = feature_statistics(features)
    results = {
        "frechet_distance": frechet_distance(mean, cov, classifier.test_feature_mean,
                                             classifier.test_feature_cov),
        "inception_score": inception_score(probabilities),
        "class_coverage": class_coverage(predictions, NUM_CLASSES),
    }
    if labels is not None:
        results["conditional_accuracy"] = conditional_accuracy(predictions, labels)
    results["class_counts"] = class_counts(predictions, NUM_CLASSES).tolist()
    results["test_set_frechet_distance"] = float(classifier.test_set_frechet_distance)
    results["num_samples"] = len(images)
    return results


def check_images(images):
    """images as a NumPy float array (N, 1, 28, 28) in [-1, 1]; a clear error otherwise."""
    if isinstance(images, mg.Tensor):
        images = images.numpy()
    if not isinstance(images, np.ndarray):
        raise TypeError(
            f"evaluate_samples: expected images as a NumPy array of shape (N, 1, 28, 28), "
            f"got {type(images).__name__}")
    if images.dtype.kind != "f":
        hint = " (scale uint8 pixels with x / 127.5 - 1)" if images.dtype.kind in "ui" else ""
        raise TypeError(
            f"evaluate_samples: expected float images with values in [-1, 1]{hint}, "
            f"got dtype {images.dtype}")
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28) or len(images) < 2:
        raise ValueError(
            f"evaluate_samples: expected images of shape (N, 1, 28, 28) with N >= 2, "
            f"got shape {images.shape}")
    if not np.all(np.isfinite(images)):
        raise ValueError("evaluate_samples: images contain NaN or infinity")
    low, high = float(images.min()), float(images.max())
    if low < -1.0 or high > 1.0:
        raise ValueError(
            f"evaluate_samples: expected values in [-1, 1] (a generator's tanh range), "
            f"got values from {low:.4g} to {high:.4g}")
    return images


def check_labels(labels, n):
    """labels as a NumPy int array (n,) of digits 0..9, or None; a clear error otherwise."""
    if labels is None:
        return None
    if isinstance(labels, mg.Tensor):
        labels = labels.numpy()
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"evaluate_samples: expected integer labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(
            f"evaluate_samples: expected labels of shape ({n},), one per image, got {labels.shape}")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(
            f"evaluate_samples: expected labels in 0..{NUM_CLASSES - 1}, "
            f"got values from {labels.min()} to {labels.max()}")
    return labels

"""Scores read off the classifier's predictions for generated digits.

    inception_score       are the digits recognisable, and are all digits drawn?
    class_counts          how many samples the classifier puts in each class
    class_coverage        what fraction of the classes get a fair share (mode collapse)
    conditional_accuracy  does a conditional generator draw the digit it is asked for?

All take NumPy arrays and return Python numbers (or a NumPy count array), in float64.
"""
import numpy as np


def inception_score(probs):
    """exp(E_x KL(p(y|x) || p(y))), the Inception Score computed with the MNIST classifier.

    probs: (N, K) class probabilities p(y|x), one row per sample (rows sum to 1).
    p(y) = mean over samples of p(y|x) is the marginal class distribution.

    The score is high when each sample is classified confidently (p(y|x) peaked)
    *and* the samples spread over the classes (p(y) flat). It lies in [1, K]:
    K (10 for MNIST) for confident predictions spread evenly over the K classes,
    1 when every sample gets the same distribution (for example, one digit only).
    Terms with p(y|x) = 0 contribute 0 (the limit of p log p).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(
            f"inception_score: expected probabilities of shape (N, K) with N >= 1, got shape {probs.shape}")
    if not np.all(np.isfinite(probs)) or probs.min() < 0:
        raise ValueError(
            "inception_score: probabilities must be finite and >= 0 (pass softmax outputs, not logits)")
    row_sums = probs.sum(axis=1)
    if not np.allclose(row_sums, 1.0, atol=1e-4):
        worst = int(np.argmax(np.abs(row_sums - 1.0)))
        raise ValueError(
            f"inception_score: expected each row of probabilities to sum to 1, "
            f"row {worst} sums to {row_sums[worst]:.6g} (pass softmax outputs, not logits)")
    marginal = probs.mean(axis=0)
    positive = probs > 0
    # KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)), with 0 log 0 = 0.
    # Where p(y|x) > 0, p(y) >= p(y|x) / N > 0, so the logs are finite.
    terms = np.where(positive, probs * (np.log(np.where(positive, probs, 1.0))
                                        - np.log(np.where(positive, marginal, 1.0))), 0.0)
    mean_kl = terms.sum(axis=1).mean()
    return float(np.exp(mean_kl))


def class_counts(predictions, num_classes=10):
    """How many samples were predicted as each class: an int64 array (num_classes,)."""
    predictions = _check_predictions("class_counts", predictions, num_classes)
    return np.bincount(predictions, minlength=num_classes).astype(np.int64)


def class_coverage(predictions, num_classes=10):
    """The fraction of classes that receive at least half their fair share of the samples.

    A class is *covered* when at least N / (2 K) of the N samples are predicted as
    it: half of the N / K it would get if the generator drew every class equally
    often (1/20 of the samples for MNIST's K = 10). The score is
    (number of covered classes) / K: 1.0 when every digit appears often enough,
    0.1 when a collapsed generator draws a single digit. Half a share, not a
    share, so that the natural imbalance of MNIST itself (the rarest digit, 5,
    has 9% of the images) and sampling noise still count as covered.
    """
    counts = class_counts(predictions, num_classes)
    fair_share = len(np.asarray(predictions)) / num_classes
    return float(np.mean(counts >= fair_share / 2))


def conditional_accuracy(predictions, labels):
    """The fraction of samples whose predicted class is the label they were generated for.

    predictions, labels: integer arrays (N,). For a conditional GAN asked for
    digit `labels[i]`, a good generator scores near the classifier's own test
    accuracy (~0.99); one that ignores its label scores ~0.1.
    """
    predictions = np.asarray(predictions)
    labels = np.asarray(labels)
    if predictions.ndim != 1 or labels.shape != predictions.shape or len(labels) == 0:
        raise ValueError(
            f"conditional_accuracy: expected predictions and labels of the same shape (N,) "
            f"with N >= 1, got {predictions.shape} and {labels.shape}")
    for name, value in (("predictions", predictions), ("labels", labels)):
        if value.dtype.kind not in "iu":
            raise TypeError(f"conditional_accuracy: expected integer {name}, got dtype {value.dtype}")
    return float(np.mean(predictions == labels))


def _check_predictions(name, predictions, num_classes):
    predictions = np.asarray(predictions)
    if predictions.ndim != 1 or len(predictions) == 0:
        raise ValueError(
            f"{name}: expected predicted classes of shape (N,) with N >= 1, got shape {predictions.shape}")
    if predictions.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer class predictions, got dtype {predictions.dtype}")
    if predictions.min() < 0 or predictions.max() >= num_classes:
        raise ValueError(
            f"{name}: expected classes in 0..{num_classes - 1}, "
            f"got values from {predictions.min()} to {predictions.max()}")
    return predictions

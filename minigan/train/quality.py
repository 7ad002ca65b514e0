"""The end-of-training quality report: draw samples from a model, score them.

The scores themselves live in `minigan.metrics`, which judges arrays and knows no
model; this file is the bridge from a trained `GANModel` to them.
"""
import numpy as np

from minigan import metrics

from .sampling import generate_samples


def evaluate_model(model, n=10000, data=None, classifier=None, retrain=False):
    """Draw n samples from a generator (a `minigan.gan.GANModel`) and score them.

    Conditional models are asked for each digit equally often (n / 10 of each,
    sorted by label), and their conditional_accuracy is reported too. The
    classifier is the shipped one unless retrain=True (see metrics.load_classifier). The
    networks are put back in the train/eval mode they were in.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"evaluate_model: expected n to be an integer >= 2, got {n!r}")
    if classifier is None:
        # first, so a missing dataset (for retraining) fails before sampling
        classifier = metrics.load_classifier(data, retrain=retrain)
    labels = None
    if model.conditional:
        labels = (np.arange(n) * model.num_classes // n).astype(np.int64)
    networks = getattr(model, "networks", {})
    modes = {name: net.training for name, net in networks.items()}
    try:
        images = generate_samples(model, n, labels)
    finally:
        for name, net in networks.items():
            net.train(modes[name])
    return metrics.evaluate_samples(images, labels, classifier=classifier)

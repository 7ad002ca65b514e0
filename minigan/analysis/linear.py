"""An L2-regularised multinomial logistic regression, trained with minigan.

    classifier = fit_logistic_regression(X, y, weight_decay=1e-3)
    classifier.predict(X_test)                  # (N,) classes
    best, errors = choose_weight_decay(X, y, X_held, y_held, (1e-4, 1e-3, 1e-2))

The features are standardised (each column to mean 0, standard deviation 1,
with statistics of the features it is given, or ones it is handed), then

    loss(W, b) = cross_entropy(X W^T + b, y) + weight_decay / 2 * ||W||^2

is minimised by Adam on minibatches of `batch_size` rows (all rows at once
when there are fewer), for `steps` steps. The bias is not penalised.
"""
import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import optim


class LinearClassifier:
    """W (classes, features), b (classes,) and the standardisation, all NumPy float32."""

    def __init__(self, weight, bias, mean, scale):
        self.weight, self.bias, self.mean, self.scale = weight, bias, mean, scale

    def standardise(self, X):
        return ((X - self.mean) / self.scale).astype(np.float32)

    def decision_function(self, X, batch_size=10_000):
        """The class scores (N, classes) = standardise(X) W^T + b."""
        return np.concatenate([self.standardise(X[i:i + batch_size]) @ self.weight.T + self.bias
                               for i in range(0, len(X), batch_size)])

    def predict(self, X):
        return self.decision_function(X).argmax(axis=1)

    def error(self, X, y):
        """The fraction of rows whose predicted class is not y."""
        return float(np.mean(self.predict(X) != np.asarray(y)))


def standardisation(X):
    """Column means and standard deviations (a constant column gets scale 1)."""
    X = np.asarray(X, dtype=np.float64)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return mean.astype(np.float32), scale.astype(np.float32)


def fit_logistic_regression(X, y, weight_decay=1e-3, num_classes=None, steps=300,
                            batch_size=500, lr=1e-2, seed=0, standardise=None):
    """Train the classifier on rows X (N, D) with integer labels y (N,).

    standardise: (mean, scale) of the features (default: standardisation(X)); those of
    a larger unlabelled set can be given, since the features themselves need no labels.
    Returns a LinearClassifier.
    """
    X, y = np.asarray(X), np.asarray(y, dtype=np.int64)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"fit_logistic_regression: expected X (N, D) and y (N,), "
                         f"got {X.shape} and {y.shape}")
    num_classes = int(num_classes or y.max() + 1)
    mean, scale = standardisation(X) if standardise is None else standardise
    classifier = LinearClassifier(None, None, mean, scale)
    Xs = classifier.standardise(X)
    weight = mg.zeros(num_classes, X.shape[1], requires_grad=True)
    bias = mg.zeros(num_classes, requires_grad=True)
    optimizer = optim.Adam([weight, bias], lr=lr)
    rng = np.random.default_rng(seed)
    batch_size = min(batch_size, len(X))
    order, position = rng.permutation(len(X)), 0
    for _ in range(steps):
        if position + batch_size > len(X):
            order, position = rng.permutation(len(X)), 0
        rows = order[position:position + batch_size]
        position += batch_size
        logits = F.linear(mg.tensor(Xs[rows]), weight, bias)
        loss = F.cross_entropy(logits, mg.tensor(y[rows])) + (weight_decay / 2) * (weight * weight).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    classifier.weight = weight.detach().numpy().astype(np.float32)
    classifier.bias = bias.detach().numpy().astype(np.float32)
    return classifier


def choose_weight_decay(X, y, X_held, y_held, weight_decays=(1e-4, 1e-3, 1e-2, 1e-1), **fit):
    """Fit one classifier per weight decay; keep the one with the lowest error on the
    held-out rows (never the test set). Returns (classifier, {weight_decay: held-out error})."""
    errors, best = {}, None
    for weight_decay in weight_decays:
        classifier = fit_logistic_regression(X, y, weight_decay=weight_decay, **fit)
        errors[weight_decay] = classifier.error(X_held, y_held)
        if best is None or errors[weight_decay] < errors[best[0]]:
            best = (weight_decay, classifier)
    return best[1], errors

"""Sample quality: how good are a GAN's digits, as judged by an MNIST classifier.

    classifier.py  the MNIST CNN (written with minigan), its training, a retrained one's cache
    shipped.py     the trained weights that ship in the package, checked by their SHA-256
    frechet.py     the Fréchet distance between two Gaussians of features (FID's formula)
    scores.py      Inception Score, class counts and coverage, conditional accuracy
    evaluate.py    all of them at once, for an array of samples

    from minigan.metrics import evaluate_samples
    evaluate_samples(images)   # {'frechet_distance': ..., 'inception_score': ..., ...}

(`minigan.train.evaluate_model(model)` draws the samples from a trained model first.)
"""
from .classifier import MNISTClassifier, load_classifier, train_classifier
from .evaluate import evaluate_samples
from .frechet import feature_statistics, frechet_distance
from .scores import class_counts, class_coverage, conditional_accuracy, inception_score

__all__ = ["load_classifier", "evaluate_samples", "frechet_distance",
           "inception_score", "class_coverage", "conditional_accuracy", "class_counts",
           "feature_statistics", "MNISTClassifier", "train_classifier"]

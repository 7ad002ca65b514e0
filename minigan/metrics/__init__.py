"""Sample quality: how good are a GAN's digits, as judged by an MNIST classifier.

    classifier.py  the MNIST CNN (written with minigan), trained once and cached
    frechet.py     the Fréchet distance between two Gaussians of features (FID's formula)
    scores.py      Inception Score, class counts and coverage, conditional accuracy
    evaluate.py    all of them at once, for an array of samples or a generator

    from minigan.metrics import evaluate_model
    evaluate_model(model)   # {'frechet_distance': ..., 'inception_score': ..., ...}
"""
from .classifier import MNISTClassifier, load_classifier, train_classifier
from .evaluate import evaluate_model, evaluate_samples
from .frechet import feature_statistics, frechet_distance
from .scores import class_counts, class_coverage, conditional_accuracy, inception_score

__all__ = ["load_classifier", "evaluate_samples", "evaluate_model", "frechet_distance",
           "inception_score", "class_coverage", "conditional_accuracy", "class_counts",
           "feature_statistics", "MNISTClassifier", "train_classifier"]

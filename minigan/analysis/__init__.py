"""What trained networks learned: the DCGAN paper's experiments (Radford, Metz &
Chintala 2015, sections 5 and 6), on a trained MNIST DCGAN.

    model.py         load_dcgan(checkpoint), D's conv blocks and G's layers run one by one
    features.py      D as a feature extractor: 4x4 max-pooled activations, linear classifiers
    linear.py        the L2-regularised multinomial logistic regression (trained with minigan)
    moments.py       ink, stroke thickness and slant of digit images, from image moments
    arithmetic.py    vector arithmetic on z between automatically found concepts
    guided.py        guided backpropagation through ReLU/LeakyReLU (a Function of its own)
    filters.py       first-layer filters, guided-backprop pictures, G's feature maps
    holes.py         the holes of digits: background enclosed by ink (flood fill)
    forget.py        dropping G's "hole" feature maps
    memorisation.py  nearest training images in pixel and D-feature space

`examples/dcgan_paper.py` runs each experiment from a checkpoint and draws its pictures.
"""
from .arithmetic import arithmetic_experiment, describe
from .features import (discriminator_features, feature_experiment, flatten_and_concatenate,
                       label_draw, pool_to_grid, supervised_cnn, train_supervised_cnn)
from .filters import first_layer_filters, generator_maps, guided_pictures, strongest_features
from .forget import forget_experiment
from .guided import GuidedLeakyReLU, guided_backprop
from .holes import enclosed_background, has_hole
from .linear import LinearClassifier, choose_weight_decay, fit_logistic_regression
from .memorisation import nearest, neighbour_experiment
from .model import discriminator_activations, generator_forward, load_dcgan, random_dcgan
from .moments import image_moments, ink, slant, stroke_thickness

__all__ = [
    "load_dcgan", "random_dcgan", "discriminator_activations", "generator_forward",
    "pool_to_grid", "flatten_and_concatenate", "discriminator_features", "label_draw",
    "supervised_cnn", "train_supervised_cnn", "feature_experiment",
    "LinearClassifier", "fit_logistic_regression", "choose_weight_decay",
    "ink", "image_moments", "stroke_thickness", "slant", "describe", "arithmetic_experiment",
    "GuidedLeakyReLU", "guided_backprop", "first_layer_filters", "strongest_features",
    "guided_pictures", "generator_maps", "enclosed_background", "has_hole",
    "forget_experiment", "nearest", "neighbour_experiment",
]

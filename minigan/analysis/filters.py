"""What the networks learned (the DCGAN paper, figures 4 and 5): D's first-layer
filters trained beside random ones, guided backpropagation of D's strongest
features on real digits, and G's feature maps.

    first_layer_filters(D)                 (64, 1, 4, 4) weights, each scaled to [-1, 1]
    strongest_features(D, images, k)       (N, k) channels of D's last conv block
    guided_pictures(D, images, k)          (N, k, 1, 28, 28) guided backprop, scaled
    generator_maps(G, z, k)                (N, k, 1, 14, 14) G's strongest penultimate maps
"""
import numpy as np

import minigan as mg
from minigan.viz import scale_each

from .guided import guided_backprop
from .model import discriminator_activations, generator_forward


def first_layer_filters(D):
    """D's first Conv2d weights (out, in, kh, kw) as NumPy, each filter scaled to [-1, 1]
    by its largest absolute weight (0 is grey)."""
    weight = D.net[0].weight.detach().numpy()
    return scale_each(weight, symmetric=True)


def strongest_features(D, images, k=4, layer=-1):
    """The k channels of conv block `layer` with the largest maximum activation on each
    image, strongest first: NumPy (N, k) ints, and their maxima (N, k)."""
    D.eval()
    with mg.no_grad():
        activation = discriminator_activations(D, mg.tensor(np.asarray(images, dtype=np.float32)))[layer]
    peak = activation.numpy().reshape(*activation.shape[:2], -1).max(axis=2)
    order = np.argsort(-peak, axis=1)[:, :k]
    return order, np.take_along_axis(peak, order, axis=1)


def guided_pictures(D, images, k=4, layer=-1):
    """Guided backpropagation of each image's k strongest features:
    NumPy (N, k, 1, H, W), each picture scaled to [-1, 1] by its largest absolute value
    (0 is grey), and the channels (N, k)."""
    D.eval()
    channels, _ = strongest_features(D, images, k, layer)
    pictures = []
    for j in range(channels.shape[1]):
        x = mg.tensor(np.asarray(images, dtype=np.float32), requires_grad=True)
        pictures.append(guided_backprop(D, x, channels[:, j], layer).numpy())
    pictures = np.stack(pictures, axis=1)
    flat = pictures.reshape(-1, *pictures.shape[2:])
    return scale_each(flat, symmetric=True).reshape(pictures.shape), channels


def generator_maps(G, z, k=8):
    """G's second-to-last layer for each z: the k maps with the largest mean activation,
    NumPy (N, k, 1, 14, 14) scaled to [-1, 1] each, beside the samples (N, 1, 28, 28)."""
    G.eval()
    with mg.no_grad():
        images, maps = generator_forward(G, mg.tensor(np.asarray(z, dtype=np.float32)))
    maps = maps.numpy()
    order = np.argsort(-maps.mean(axis=(2, 3)), axis=1)[:, :k]
    chosen = np.take_along_axis(maps, order[:, :, None, None], axis=1)[:, :, None]
    return scale_each(chosen.reshape(-1, *chosen.shape[2:])).reshape(chosen.shape), images.numpy()

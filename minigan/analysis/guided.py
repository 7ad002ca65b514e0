"""Guided backpropagation (Springenberg et al. 2014), which the DCGAN paper uses to
show what a discriminator feature responds to (figure 5).

Through a ReLU or LeakyReLU, the true gradient is dL/dx = g * f'(x). Guided
backpropagation passes only positive gradients, and only to positive inputs:

    dL/dx = max(g, 0) * (x > 0)

so a picture of the input "gradient" shows what excites a feature rather than
what would inhibit it. This is not the gradient of anything: where g < 0 or
x < 0 it differs from f'(x) g on purpose. Where x > 0 and g > 0 the two agree.
"""
import numpy as np

import minigan as mg
import minigan.functional as F
from minigan.autograd import Function
from minigan.backend import get_array_module
from minigan.functional._util import constant

from .model import discriminator_activations


class GuidedLeakyReLU(Function):
    """Forward: y = leaky_relu(x, negative_slope) (negative_slope 0 is ReLU), as the network
    computes it. Backward: dL/dx = relu(g) * (x > 0), guided backpropagation's rule.

    The backward is built of differentiable ops on g (relu, and a constant mask),
    so it can itself be differentiated with respect to g."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.0):
        xp = get_array_module(x)
        ctx.positive = x > 0
        return xp.where(ctx.positive, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, g):
        return F.relu(g) * constant(ctx.positive.astype(g.dtype))


def guided(module, x):
    """Apply `module`'s LeakyReLU/ReLU with the guided backward (for discriminator_activations)."""
    return GuidedLeakyReLU.apply(x, negative_slope=getattr(module, "negative_slope", 0.0))


def guided_backprop(D, images, channels, layer=-1):
    """Guided backpropagation of one feature per image to that image.

    D: a DCGAN discriminator in eval mode; images: Tensor (N, 1, 28, 28) with
    requires_grad=True; channels: ints (N,), the feature (channel of conv block
    `layer`) explained for each image. The feature's value is its largest
    activation over positions, so the picture explains where it fires most.
    Returns the Tensor (N, 1, 28, 28) of guided input "gradients".
    """
    activation = discriminator_activations(D, images, activation=guided)[layer]
    n, c = activation.shape[:2]
    rows, channels = np.arange(n), np.asarray(channels, dtype=np.int64)
    values = activation.numpy().reshape(n, c, -1)
    select = np.zeros(values.shape, dtype=values.dtype)  # 1 at each image's chosen maximum
    select[rows, channels, values[rows, channels].argmax(axis=1)] = 1
    objective = (activation * mg.tensor(select.reshape(activation.shape))).sum()
    (gradient,) = mg.grad(objective, [images])
    return gradient

"""A trained DCGAN read from a checkpoint, and its networks run layer by layer.

    model = load_dcgan("runs/dcgan/checkpoint.npz")      # weights only, eval mode
    discriminator_activations(model.D, x)                 # each conv block's output
    generator_forward(model.G, z, layer=6, drop=[3, 9])   # G with feature maps zeroed

The experiments look inside the networks, so they run the modules of
`D.net` / `G.net` one at a time instead of calling D(x) or G(z).
"""
import numpy as np

import minigan as mg
from minigan import nn
from minigan.gan import DCGAN
from minigan.train import load_checkpoint, restore

# G.net of minigan.gan.dcgan.Generator: index 6 is the ReLU after the first
# transposed convolution, (N, 64, 14, 14): the second-to-last layer.
GENERATOR_PENULTIMATE = 6


def load_dcgan(path):
    """The DCGAN of a training checkpoint, built from its config, in eval mode.

    As `python examples/mnist_dcgan.py --generate` does: the weights are loaded,
    the optimizers and random state are not.
    The networks live on the current backend.
    Returns (model, state) where state holds the checkpoint's epoch, step and config.
    """
    state = load_checkpoint(path)
    config = {**state["config"], "backend": mg.get_backend().name}
    model = DCGAN(config)
    restore(model, state, weights_only=True)
    model.eval()
    return model, state


def random_dcgan(config, seed):
    """A DCGAN with the architecture of `config` and the paper's random initial weights."""
    mg.manual_seed(seed)
    model = DCGAN(dict(config))
    model.eval()
    return model


def discriminator_activations(D, x, activation=None):
    """The output of every convolutional block of D: after each activation that
    follows a Conv2d, up to D's final Flatten.

    D: a DCGAN Discriminator (eval mode for BatchNorm's running statistics);
    x: Tensor (N, 1, 28, 28). activation(module, x): how each LeakyReLU/ReLU is
    applied (default: the module itself; guided backpropagation swaps in its own).
    Returns a list of Tensors, [(N, 64, 14, 14), (N, 128, 7, 7)] for the MNIST DCGAN.
    """
    outputs = []
    seen_conv = False
    for module in D.net:
        if isinstance(module, nn.Flatten):
            break
        if isinstance(module, (nn.LeakyReLU, nn.ReLU)):
            x = module(x) if activation is None else activation(module, x)
            if seen_conv:
                outputs.append(x)
                seen_conv = False
        else:
            x = module(x)
            seen_conv = seen_conv or isinstance(module, nn.Conv2d)
    return outputs


def generator_forward(G, z, layer=GENERATOR_PENULTIMATE, drop=None):
    """G(z) run module by module, returning (images, activation at `layer`).

    z: Tensor (N, z_dim). layer: index into G.net whose output is returned
    (default: the second-to-last layer's ReLU, (N, 64, 14, 14)).
    drop: feature maps (channel indices) of that layer set to zero at every
    position before the rest of G runs, as the paper removes the "window" maps.
    The returned activation is the one after dropping.
    """
    x, kept = z, None
    for index, module in enumerate(G.net):
        x = module(x)
        if index == layer:
            if drop is not None and len(drop):
                mask = np.ones((1, x.shape[1]) + (1,) * (x.ndim - 2), dtype=np.float32)
                mask[:, np.asarray(drop, dtype=np.int64)] = 0
                x = x * mg.tensor(mask.astype(x.data.dtype))
            kept = x
    if kept is None:
        raise ValueError(f"generator_forward: layer {layer} is not in G.net "
                         f"(it has {len(G.net)} modules)")
    return x, kept


def in_batches(fn, array, batch_size=500):
    """fn applied to NumPy `array` in batches on the backend (no gradients);
    fn: Tensor -> Tensor or list of Tensors. Returns NumPy arrays, concatenated."""
    pieces = []
    with mg.no_grad():
        for start in range(0, len(array), batch_size):
            out = fn(mg.tensor(np.ascontiguousarray(array[start:start + batch_size])))
            pieces.append([t.numpy() for t in out] if isinstance(out, (list, tuple))
                          else out.numpy())
    if pieces and isinstance(pieces[0], list):
        return [np.concatenate(parts) for parts in zip(*pieces)]
    return np.concatenate(pieces)

"""Train a CVAE-GAN on MNIST: a conditional VAE whose generator also matches the
features of a discriminator and a classifier. It draws the digit you ask for.

    python examples/mnist_cvae_gan.py --epochs 5
    python examples/mnist_cvae_gan.py --generate 100 --digit 7
    python examples/mnist_cvae_gan.py --epochs 5 --kl-weight 1     # the loss weights are options

Sample grids have one row per digit. The model is in minigan/gan/cvae_gan.py.
"""
import sys

from minigan.gan.cvae_gan import CVAEGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(CVAEGAN))

"""Train a conditional DCGAN on MNIST: it draws the digit you ask for.

    python examples/mnist_cgan.py --epochs 5
    python examples/mnist_cgan.py --generate 100 --digit 7

Sample grids have one row per digit. The model is in minigan/gan/cgan.py.
"""
import sys

from minigan.gan import CGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(CGAN))

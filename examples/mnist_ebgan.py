"""Train a EBGAN (an autoencoder discriminator) on MNIST and watch it learn to draw digits.

    python examples/mnist_ebgan.py --epochs 5
    python examples/mnist_ebgan.py --epochs 5 --margin 0.5
    python examples/mnist_ebgan.py --generate 64 --nice

Writes runs/ebgan/: samples/epoch_NNN.png, progress.gif, losses.png, log.jsonl,
checkpoint.npz. `--help` lists every option. The model is in minigan/gan/ebgan.py.
"""
import sys

from minigan.gan.ebgan import EBGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(EBGAN))

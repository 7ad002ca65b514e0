"""Train a GAN (Goodfellow et al. 2014, two MLPs) on MNIST.

    python examples/mnist_gan.py --epochs 5
    python examples/mnist_gan.py --loss minimax

Writes runs/gan/: samples/epoch_NNN.png, progress.gif, losses.png, log.jsonl,
checkpoint.npz. `--loss minimax` plays the paper's original game, whose generator
gradient vanishes while D wins. `--help` lists every option. The model is in
minigan/gan/gan.py.
"""
import sys

from minigan.gan.gan import GAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(GAN))

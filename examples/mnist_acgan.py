"""Train an auxiliary-classifier GAN (ACGAN) on MNIST.

    python examples/mnist_acgan.py --epochs 5
    python examples/mnist_acgan.py --generate 100 --digit 3

Writes runs/acgan/: samples/epoch_NNN.png (one row per digit), progress.gif,
losses.png, log.jsonl, checkpoint.npz. `--help` lists every option. The model is
in minigan/gan/acgan.py.
"""
import sys

from minigan.gan.acgan import ACGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(ACGAN))

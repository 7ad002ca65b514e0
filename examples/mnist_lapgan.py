"""Train a LAPGAN on MNIST: a 7x7 thumbnail GAN, then two GANs that add the detail.

    python examples/mnist_lapgan.py --epochs 5
    python examples/mnist_lapgan.py --generate 64 --nice

Writes runs/lapgan/: samples/epoch_NNN.png, pyramid/epoch_NNN.png (samples at
7x7, 14x14 and 28x28), progress.gif, losses.png, log.jsonl, checkpoint.npz.
`--help` lists every option. The model is in minigan/gan/lapgan.py.
"""
import sys

from minigan.gan.lapgan import LAPGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(LAPGAN))

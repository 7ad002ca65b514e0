"""Train a WGAN with weight clipping on MNIST and watch it learn to draw digits.

    python examples/mnist_wgan.py --epochs 5
    python examples/mnist_wgan.py --epochs 5 --clip 0.02
    python examples/mnist_wgan.py --generate 64 --nice

Writes runs/wgan/: samples/epoch_NNN.png, progress.gif, losses.png, log.jsonl,
checkpoint.npz. `--help` lists every option. The model is in minigan/gan/wgan.py.
"""
import sys

from minigan.gan.wgan import WGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(WGAN))

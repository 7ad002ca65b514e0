"""Train a WGAN-GP (the gradient penalty) on MNIST and watch it learn to draw digits.

    python examples/mnist_wgan_gp.py --epochs 5
    python examples/mnist_wgan_gp.py --epochs 5 --gp-weight 10
    python examples/mnist_wgan_gp.py --generate 64 --nice

Writes runs/wgan_gp/: samples/epoch_NNN.png, progress.gif, losses.png, log.jsonl,
checkpoint.npz. `--help` lists every option. The model is in minigan/gan/wgan_gp.py.
"""
import sys

from minigan.gan.wgan_gp import WGANGP
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(WGANGP))

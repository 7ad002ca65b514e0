"""Train a variational autoencoder on MNIST, or with --conditional its class-conditional
version (the CVAE), which draws the digit you ask for.

    python examples/mnist_vae.py --epochs 5                    # writes runs/vae/
    python examples/mnist_vae.py --conditional --epochs 5      # writes runs/cvae/
    python examples/mnist_vae.py --conditional --generate 100 --digit 7

The VAE and the CVAE are two small classes (minigan/gan/vae.py); the command line is
built from the class, so --conditional is read first to choose which one. Pass it
again with --generate to sample from a CVAE run. `--help` lists every option.
"""
import argparse
import sys

from minigan.gan.vae import CVAE, VAE
from minigan.train import main

if __name__ == "__main__":
    choose = argparse.ArgumentParser(add_help=False)
    choose.add_argument("--conditional", action="store_true")
    known, _ = choose.parse_known_args()
    sys.exit(main(CVAE if known.conditional else VAE))

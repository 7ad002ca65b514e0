"""Train InfoGAN on MNIST.

    python examples/mnist_infogan.py --epochs 5
    python examples/mnist_infogan.py --generate 64

Writes runs/infogan/: samples/epoch_NNN.png, codes/epoch_NNN_{cat,c1,c2}.png
(one latent code varied, the others fixed), progress.gif, losses.png, log.jsonl,
checkpoint.npz. `--help` lists every option. The model is in minigan/gan/infogan.py.
"""
import sys

from minigan.gan.infogan import InfoGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(InfoGAN))

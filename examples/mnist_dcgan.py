"""Train a DCGAN on MNIST and watch it learn to draw digits.

    python examples/mnist_dcgan.py --epochs 5
    python examples/mnist_dcgan.py --generate 64 --nice
    python examples/mnist_dcgan.py --recipe modern --epochs 5   # R1 on D, G at 4x D's rate

Writes runs/dcgan/: samples/step_NNNNNN.png (at the start, every --sample-every
100 steps, and where the run stops), samples/epoch_NNN.png (every epoch's end),
progress.gif, losses.png, log.jsonl, checkpoint.npz. Ctrl-C saves the checkpoint
at the current step; --resume continues. `--help` lists every option. The model
is in minigan/gan/dcgan.py.
"""
import sys

from minigan.gan import DCGAN
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(DCGAN))

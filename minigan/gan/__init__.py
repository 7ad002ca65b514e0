"""GANs on minigan: the models, their losses, and the one training loop they share.

    base.py        GANModel: what a model gives the training loop
    losses.py      the adversarial losses (BCE, non-saturating, Wasserstein, gradient penalty)
    dcgan.py       the MNIST DCGAN                cgan.py   its conditional version
    trainer.py     the training loop              checkpoint.py   save/resume
    sampling.py    samples, --nice, latent walks  cli.py    the programs' command line
    images.py, plot.py, progress.py, steplog.py   what a run shows and writes
"""
from .base import GANModel, init_dcgan_weights
from .dcgan import DCGAN, Generator, Discriminator
from .cgan import CGAN
from .trainer import Trainer, TrainingDiverged
from .cli import main

"""GANs on minigan: the models, their losses, and the one training loop they share.

    base.py        GANModel: what a model gives the training loop
    losses.py      the adversarial losses (BCE, non-saturating, Wasserstein, gradient penalty)
    dcgan.py       the MNIST DCGAN                cgan.py   its conditional version
    gan.py, acgan.py, infogan.py, wgan.py, wgan_gp.py, ebgan.py, lapgan.py,
    vae.py, cvae_gan.py                           the family built on them
    trainer.py     the training loop              checkpoint.py   save/resume
    sampling.py    samples, --nice, latent walks  cli.py    the programs' command line
    images.py, plot.py, progress.py, steplog.py   what a run shows and writes
"""
from .base import GANModel, init_dcgan_weights
from .dcgan import DCGAN, Generator, Discriminator
from .cgan import CGAN
from .gan import GAN
from .acgan import ACGAN
from .infogan import InfoGAN
from .wgan import WGAN
from .wgan_gp import WGANGP
from .ebgan import EBGAN
from .lapgan import LAPGAN
from .vae import VAE, CVAE
from .cvae_gan import CVAEGAN
from .trainer import Trainer, TrainingDiverged
from .cli import main

"""GANs on minigan: the models, their networks and the adversarial losses.

Each model is one file on the `GANModel` base; the loop that trains them all is
`minigan.train`, and the pictures they draw come from `minigan.viz`.

    base.py        GANModel: what a model gives the training loop; the DCGAN initialisation
    losses.py      the adversarial losses (BCE, non-saturating, Wasserstein, gradient penalty)
    dcgan.py       the MNIST DCGAN (Radford et al. 2015)
    dcgan64.py     the paper's 64x64 networks (PyTorch's DCGAN example), on an image folder
    tools.py       its post-DCGAN options: --ema, --spectral-norm, --loss hinge, --r1, --augment ...
    cgan.py        its conditional version (Mirza & Osindero 2014)
    gan.py         Goodfellow's MLP GAN, minimax or non-saturating loss
    acgan.py, infogan.py, wgan.py, wgan_gp.py, ebgan.py, lapgan.py, vae.py, cvae_gan.py
                   the rest of the family, each built from the pieces above

    from minigan.gan import DCGAN
    from minigan.train import main
    main(DCGAN)            # the command line of examples/mnist_dcgan.py
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
from .dcgan64 import DCGAN64

"""The conditional DCGAN (Mirza & Osindero 2014 on the DCGAN): it draws the digit asked for.

The only change from `dcgan.py` is the conditioning:
    G gets [z, one_hot(label)]                       (100 + 10 inputs)
    D gets the image with 10 one-hot label planes    (1 + 10 channels)
"""
import minigan as mg
import minigan.functional as F

from .dcgan import DCGAN, Discriminator, Generator
from .planes import label_planes


class CGAN(DCGAN):
    name = "cgan"
    conditional = True
    # Every post-DCGAN tool but InfoGAN's code and --clusters: the labels already tell G
    # which digit to draw, and D which one to expect; an invented category would compete.
    common_options = tuple(o for o in DCGAN.common_options
                           if o not in DCGAN.latent_code_options)

    def make_networks(self):
        return (Generator(self.z_dim + self.num_classes),
                Discriminator(1 + self.num_classes, batch_norm=self.d_batch_norm))

    def generator_input(self, z, labels):
        return mg.cat([z, F.one_hot(labels, self.num_classes).float()], 1)

    def discriminator_input(self, images, labels):
        n, _, h, w = images.shape
        return mg.cat([images, label_planes(labels, self.num_classes, h, w)], 1)

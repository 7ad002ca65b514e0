"""The DCGAN paper's 64x64 networks (Radford et al. 2015, Figure 1), as PyTorch's DCGAN example.

    G: z (nz, 1, 1) -> ConvTranspose2d(nz, ngf*8, 4, 1, 0) -> BatchNorm2d -> ReLU     (ngf*8, 4, 4)
       -> ConvTranspose2d(ngf*8, ngf*4, 4, 2, 1) -> BatchNorm2d -> ReLU                 (ngf*4, 8, 8)
       -> ConvTranspose2d(ngf*4, ngf*2, 4, 2, 1) -> BatchNorm2d -> ReLU                 (ngf*2, 16, 16)
       -> ConvTranspose2d(ngf*2, ngf, 4, 2, 1) -> BatchNorm2d -> ReLU                   (ngf, 32, 32)
       -> ConvTranspose2d(ngf, nc, 4, 2, 1) -> Tanh                                     (nc, 64, 64)
    D: (nc, 64, 64) -> Conv2d(nc, ndf, 4, 2, 1) -> LeakyReLU(0.2)                       (ndf, 32, 32)
       -> Conv2d(ndf, ndf*2, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)                  (ndf*2, 16, 16)
       -> Conv2d(ndf*2, ndf*4, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)                (ndf*4, 8, 8)
       -> Conv2d(ndf*4, ndf*8, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)                (ndf*8, 4, 4)
       -> Conv2d(ndf*8, 1, 4, 1, 0): a logit                                            (1, 1, 1)

Every convolution is without bias (BatchNorm's beta plays its part), as in the
example. The networks are nn.Sequential named `main`, so the state-dict keys
are the example's (`main.0.weight`, `main.1.running_mean`, ...) and its
weights load as they are. The example ends D with a Sigmoid and trains with
BCELoss; here D gives the logit and the loss is BCE-with-logits: the same
numbers, without log(0) when D is sure. (A Sigmoid has no weights, so the keys
are unchanged.)

Other powers of two than 64 add or drop stride-2 layers (32: three, 128: five);
at 64 the layers are exactly the paper's.
"""
import math
import os

from minigan import nn
from minigan.data import ImageFolder

from .dcgan import DCGAN


def _num_upsamplings(image_size):
    """The stride-2 layers between 4x4 and image_size: log2(image_size) - 2 (64 -> 4)."""
    steps = math.log2(image_size) - 2 if image_size > 0 else 0
    if image_size < 8 or steps != int(steps):
        raise ValueError(f"dcgan64: expected --image-size a power of two >= 8 (64 for the paper's "
                         f"networks), got {image_size}")
    return int(steps)


class Generator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) -> images (N, nc, S, S) in [-1, 1]; S = 64 by default."""

    def __init__(self, nz=100, ngf=64, nc=3, image_size=64):
        super().__init__()
        self.nz = nz
        ups = _num_upsamplings(image_size)
        width = ngf * 2 ** (ups - 1)
        layers = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        for _ in range(ups - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU()]
            width //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z):
        if z.ndim == 2:
            z = z.reshape(z.shape[0], z.shape[1], 1, 1)
        return self.main(z)


class Discriminator(nn.Module):
    """images (N, nc, S, S) -> logits (N, 1)."""

    def __init__(self, ndf=64, nc=3, image_size=64):
        super().__init__()
        ups = _num_upsamplings(image_size)
        layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        width = ndf
        for _ in range(ups - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).reshape(x.shape[0], 1)


class DCGAN64(DCGAN):
    """The 64x64 DCGAN trained on a folder of images (examples/dcgan_images.py):
    the losses, optimizers and step of `DCGAN`, the networks above."""

    name = "dcgan64"
    program = "dcgan_images.py"
    description = ("Train the DCGAN paper's 64x64 networks on a folder of PNG/JPEG images "
                   "(--data DIR), or sample from a trained one.")
    mnist_quality_report = False  # MNIST's classifier cannot judge faces or shapes
    defaults = {"batch_size": 64, "epochs": 25}
    # Not InfoGAN's code nor --clusters: their networks are the 28x28 ones (the Q head on
    # D's 128x7x7 features, D's cluster planes), which these 64x64 networks do not build.
    common_options = tuple(o for o in DCGAN.common_options
                           if o not in DCGAN.latent_code_options)

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("the 64x64 DCGAN")
        group.add_argument("--image-size", type=int, default=64,
                           help="images are resized and centre-cropped to this (a power of two)")
        group.add_argument("--channels", type=int, choices=(1, 3), default=3,
                           help="1: grey, 3: RGB (the networks' nc)")
        group.add_argument("--ngf", type=int, default=64, help="generator width")
        group.add_argument("--ndf", type=int, default=64, help="discriminator width")

    @property
    def dataset_name(self):
        """The image folder's name, for the loss plot's title."""
        data = self.config.get("data")
        return os.path.basename(os.path.normpath(data)) if data else "images"

    def make_networks(self):
        c = self.config
        size, nc = int(c.get("image_size", 64)), int(c.get("channels", 3))
        return (Generator(self.z_dim, int(c.get("ngf", 64)), nc, size),
                Discriminator(int(c.get("ndf", 64)), nc, size))

    def make_dataset(self):
        data = self.config.get("data")
        if not data:
            raise ValueError(f"{self.program} needs --data DIR: a folder of PNG/JPEG images "
                             "(or one subfolder of them per class)")
        return ImageFolder(data, int(self.config.get("image_size", 64)), int(self.config.get("channels", 3)))


"""The Laplacian pyramid GAN (Denton, Chintala, Szlam & Fergus 2015): coarse to fine.

One GAN draws a 7x7 thumbnail; then, at each finer scale, a conditional GAN
draws only what the upsampled coarser image is missing: its Laplacian band.

The pyramids of a 28x28 image x (`gaussian_pyramid`: x7, x14, x28; `laplacian_pyramid`:
x7, h14, h28):

    x28 = x,   x14 = down(x28),   x7 = down(x14)         down = F.avg_pool2d(., 2)
    h14 = x14 - up(x7),   h28 = x28 - up(x14)           up = F.interpolate(., scale_factor=2)

and `reconstruct` adds the bands back: x14 = up(x7) + h14, x28 = up(x14) + h28.
`up` is nearest-neighbour (each pixel a 2x2 block): since down(up(y)) = y, every
band has mean zero over each 2x2 block, i.e. a band holds only detail, never
brightness the coarser level already has. (The paper blurs with a 5-tap filter;
nearest is the one exact inverse of average pooling we have, and no new op.)

The three levels are three GANs, trained independently as in the paper: the
finer levels are trained on the pyramid of *real* images, never on the output
of the coarser generator.

    level 0 (7x7):  G0: z (100) -> 7x7 image;  D0: 7x7 image -> logit
    level k (14, 28): l = up(x_coarse), the condition (a real one in training)
        Gk: [l, noise plane] (2, H, W) -> the band h (1, H, W), zero mean in every 2x2 block
        Dk: [l, h] (2, H, W) -> logit: real bands h from the pyramid vs Gk's

Sampling (`generate_pyramid`) runs coarse to fine from z:
    x7 = G0(z),  x14 = clamp(up(x7) + G1(up(x7), n1)),  x28 = clamp(up(x14) + G2(up(x14), n2))
with fresh noise planes n1, n2 ~ N(0, 1). G0 ends in tanh; the band generators
end in a plain convolution (a band is signed and can reach +-2), so each level's
sum is clamped to [-1, 1], the range of the real images at every level.
A sample grid's fixed z therefore fixes the thumbnails; the fine detail is
drawn with new noise each time.

Networks (the paper's CIFAR-10 models, scaled to MNIST; BatchNorm as in DCGAN):
    G0: Linear(z, 256, no bias) -> BN -> ReLU -> Linear(256, 256, no bias) -> BN -> ReLU
        -> Linear(256, 49) -> tanh -> (1, 7, 7)
    D0: Flatten (49) -> Linear(49, 256) -> LeakyReLU(0.2) -> Linear(256, 256, no bias) -> BN
        -> LeakyReLU(0.2) -> Linear(256, 1)   (without the BN, as DCGAN's D has, D0 stayed at
        chance, loss log 4, for a whole epoch while G0 wandered; with it D0 learns)
    Gk: Conv2d(2, c, 3, 1, 1, no bias) -> BN -> ReLU -> Conv2d(c, c, 3, 1, 1, no bias) -> BN
        -> ReLU -> Conv2d(c, 1, 3, 1, 1) -> r, the band h = r - up(down(r)) (c = 32 at 14x14,
        16 at 28x28: full-resolution convolutions are costly on a CPU; a band is simple detail)
    Dk: Conv2d(2, 32, 4, 2, 1) -> LeakyReLU(0.2) -> Conv2d(32, 64, 4, 2, 1, no bias) -> BN
        -> LeakyReLU(0.2) -> Linear(64 * H/4 * W/4, 1)       (H/4 rounded down: 3 or 7)

Losses: BCE for each D, non-saturating for each G (losses.py), Adam(2e-4, (0.5, 0.999))
and the DCGAN initialisation for all six networks (the paper used SGD with momentum).
One training step updates every level: each D once, each G every d_steps-th step.
"""
import os

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.viz import save_grid

from .base import GANModel, init_dcgan_weights
from .losses import d_loss, g_loss_non_saturating, mean_probability

SIZES = (7, 14, 28)  # the pyramid's levels, coarse to fine


def downsample(images):
    """(N, C, H, W) -> (N, C, H/2, W/2): the mean of each 2x2 block."""
    return F.avg_pool2d(images, 2)


def upsample(images):
    """(N, C, H, W) -> (N, C, 2H, 2W): each pixel copied into a 2x2 block (nearest)."""
    return F.interpolate(images, scale_factor=2, mode="nearest")


def gaussian_pyramid(images):
    """28x28 images (N, 1, 28, 28) -> [x7, x14, x28], each level the 2x2 means of the next."""
    x14 = downsample(images)
    return [downsample(x14), x14, images]


def laplacian_pyramid(images):
    """28x28 images (N, 1, 28, 28) -> [x7, h14, h28]: the 7x7 thumbnail and the two bands,
    h14 = x14 - up(x7) (N, 1, 14, 14) and h28 = x28 - up(x14) (N, 1, 28, 28)."""
    x7, x14, x28 = gaussian_pyramid(images)
    return [x7, x14 - upsample(x7), x28 - upsample(x14)]


def reconstruct(pyramid):
    """[x7, h14, h28] -> [x7, x14, x28], each level up(coarser) + its band (the inverse of
    laplacian_pyramid, up to float rounding)."""
    images = [pyramid[0]]
    for band in pyramid[1:]:
        images.append(upsample(images[-1]) + band)
    return images


class CoarseGenerator(nn.Module):
    """Level 0: z (N, z_dim) -> 7x7 images (N, 1, 7, 7) in [-1, 1]. It has no coarser
    image to condition on, so `coarse` must be None (the levels share one signature)."""

    def __init__(self, z_dim=100, hidden=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, 49), nn.Tanh(), nn.Unflatten(1, (1, 7, 7)),
        )

    def forward(self, z, coarse=None):
        return self.net(z)


class CoarseDiscriminator(nn.Module):
    """Level 0: 7x7 images (N, 1, 7, 7) -> logits (N, 1)."""

    def __init__(self, hidden=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(49, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, images, coarse=None):
        return self.net(images)


class BandGenerator(nn.Module):
    """Levels 1, 2: (noise (N, 1, H, W), coarse = up(coarser image) (N, 1, H, W))
    -> the band (N, 1, H, W) to add to `coarse`. Size-preserving 3x3 convolutions.

    The network's output r is projected onto the bands, h = r - up(down(r)), whose
    2x2-block means are 0 as every real band's are (see `laplacian_pyramid`).
    Otherwise D could tell a fake band by its block sums alone; and with it,
    down(coarse + h) is the coarser image exactly, so detail never shifts the thumbnail."""

    def __init__(self, channels=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, 1, 3, 1, 1),
        )

    def forward(self, noise, coarse):
        r = self.net(mg.cat([coarse, noise], 1))
        return r - upsample(downsample(r))


class BandDiscriminator(nn.Module):
    """Levels 1, 2: (band (N, 1, H, W), coarse (N, 1, H, W)) -> logits (N, 1):
    is this band the real detail of an image whose coarser version is `coarse`?"""

    def __init__(self, size):
        super().__init__()
        quarter = (size // 2) // 2  # two stride-2 convolutions: 14 -> 7 -> 3, 28 -> 14 -> 7
        self.net = nn.Sequential(
            nn.Conv2d(2, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * quarter * quarter, 1),
        )

    def forward(self, band, coarse):
        return self.net(mg.cat([coarse, band], 1))


class LAPGAN(GANModel):
    """Three GANs on a Laplacian pyramid 7 -> 14 -> 28 (see the module docstring).

    networks: G0, D0 (7x7 images), G1, D1 (14x14 bands), G2, D2 (28x28 bands).
    Metrics per level k: loss_dk, loss_gk, D(x)k, D(G(z))k; loss_d and loss_g are
    the sums over the levels.
    """

    name = "lapgan"
    plot_keys = ("loss_d0", "loss_g0", "loss_d1", "loss_g1", "loss_d2", "loss_g2")
    progress_keys = ("loss_d0", "loss_g0", "loss_d1", "loss_g1", "loss_d2", "loss_g2")
    band_channels = (32, 16)  # G1's and G2's width: the 28x28 level is 4x the pixels

    def build(self, config):
        self.generators = [CoarseGenerator(self.z_dim)] + [
            BandGenerator(c) for c in self.band_channels]
        self.discriminators = [CoarseDiscriminator()] + [
            BandDiscriminator(size) for size in SIZES[1:]]
        for k, (G, D) in enumerate(zip(self.generators, self.discriminators)):
            G.apply(init_dcgan_weights)
            D.apply(init_dcgan_weights)
            self.networks[f"G{k}"] = G
            self.networks[f"D{k}"] = D
        self.optimizers = {
            name: optim.Adam(net.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
            for name, net in self.networks.items()}

    def generate_pyramid(self, z):
        """z (N, z_dim) -> [x7, x14, x28], the sample at each level, coarse to fine."""
        images = [self.generators[0](z)]
        for G in self.generators[1:]:
            coarse = upsample(images[-1])
            band = G(mg.randn(*coarse.shape, dtype=coarse.dtype), coarse)
            images.append((coarse + band).clamp(-1.0, 1.0))
        return images

    def generate(self, z, labels=None):
        return self.generate_pyramid(z)[-1]

    def score(self, images, labels=None):
        """The sum of the three discriminators' logits on the image's own pyramid (N,)."""
        levels, bands = gaussian_pyramid(images), laplacian_pyramid(images)
        score = self.discriminators[0](levels[0])
        for k in (1, 2):
            score = score + self.discriminators[k](bands[k], upsample(levels[k - 1]))
        return score.flatten()

    def train_level(self, k, real, coarse, noise, update_g):
        """One D step (and a G step if update_g) of level k's GAN.

        real: what D should call real (x7 at level 0, the band hk above it);
        coarse: the condition (None at level 0, else up(real coarser image));
        noise: G's input (z at level 0, else a noise plane like `coarse`).
        """
        G, D = self.generators[k], self.discriminators[k]
        opt_g, opt_d = self.optimizers[f"G{k}"], self.optimizers[f"D{k}"]
        fake = G(noise, coarse)
        real_logits = D(real, coarse)
        fake_logits = D(fake.detach(), coarse)
        loss_d = d_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        metrics = {f"loss_d{k}": loss_d.item(), f"D(x){k}": mean_probability(real_logits),
                   f"D(G(z)){k}": mean_probability(fake_logits)}
        if update_g:
            loss_g = g_loss_non_saturating(D(fake, coarse))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics[f"loss_g{k}"] = loss_g.item()
        return metrics

    def train_step(self, real, labels, step):
        update_g = step % self.config["d_steps"] == 0
        levels, bands = gaussian_pyramid(real), laplacian_pyramid(real)
        metrics = self.train_level(0, levels[0], None, self.sample_z(real.shape[0]), update_g)
        for k in (1, 2):  # conditioned on the real coarser image: the levels train independently
            coarse = upsample(levels[k - 1])
            noise = mg.randn(*coarse.shape, dtype=coarse.dtype)
            metrics.update(self.train_level(k, bands[k], coarse, noise, update_g))
        metrics["loss_d"] = sum(metrics[f"loss_d{k}"] for k in range(3))
        if update_g:
            metrics["loss_g"] = sum(metrics[f"loss_g{k}"] for k in range(3))
        return metrics

    def epoch_figures(self, out_dir, epoch, n=10):
        """OUT/pyramid/epoch_NNN.png: n samples (columns) at 7x7, 14x14 and 28x28 (rows,
        coarse to fine), all shown at 28x28 with nearest-neighbour upscaling."""
        rng = np.random.default_rng(self.config.get("seed", 0))
        z = mg.tensor(rng.standard_normal((n, self.z_dim)).astype(np.float32))
        x7, x14, x28 = self.generate_pyramid(z)
        rows = [F.interpolate(x7, scale_factor=4), F.interpolate(x14, scale_factor=2), x28]
        images = np.concatenate([row.numpy() for row in rows])
        folder = os.path.join(out_dir, "pyramid")
        os.makedirs(folder, exist_ok=True)
        save_grid(images, os.path.join(folder, f"epoch_{epoch:03d}.png"), nrow=n, scale=2)

"""The energy-based GAN (Zhao, Mathieu & LeCun 2017), with the pull-away term (EBGAN-PT).

The discriminator is an autoencoder, and its *energy* of an image is how badly
it reconstructs it: low on the data, high elsewhere.

    energy  D(x) = mean over pixels of (Dec(Enc(x)) - x)^2          (N,), one per image

    discriminator:  L_D = D(x) + max(0, m - D(G(z)))       (batch means)
    generator:      L_G = D(G(z)) + lambda_PT * PT(Enc(G(z)))

The discriminator learns to reconstruct real digits and to reconstruct fakes
badly, but only until their energy reaches the margin m; beyond it a fake
costs nothing (the hinge), so D never spends its capacity pushing fakes ever
higher. The generator makes images the autoencoder reconstructs well.

The pull-away term keeps the generator from collapsing to one mode: it is the
mean squared cosine similarity of the encoder's embeddings s_i of the fakes,
over every pair i != j; it is 0 when they are orthogonal and 1 when they are
parallel (see `pull_away_term`).

The energy here is a per-pixel mean (the paper writes ||Dec(Enc(x)) - x||), so
its scale does not depend on the image size. On MNIST in [-1, 1] guessing the
mean digit gives energy 0.27, an all-background image 0.45 and an all-gray one
0.93; a trained autoencoder gets real digits well below that. The margin is on
this scale: m = 0.3 by default, so D pushes a fake up until it reconstructs it
no better than the mean digit, and no further. (A sum of squares over the 784
pixels is 784 times larger: the m = 10 of sum-based code would be m = 0.013
here.) Over one MNIST epoch m = 0.3 and m = 1 drew digits of about the same
quality, but with m = 1 the discriminator spent itself on the fakes and
reconstructed real digits no better than a blank guess (E(x) 0.3-0.5, against
about 0.1 with m = 0.3). The decoder has no tanh, so energies above any m can be
reached. lambda_PT = 0.1 as in the paper; Adam(2e-4, (0.5, 0.999)) as the DCGAN.

    Enc: (1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)                (64, 14, 14)
         -> Conv2d(64, 128, 4, 2, 1, no bias) -> BatchNorm2d -> LeakyReLU(0.2)  (128, 7, 7)
    Dec: -> ConvTranspose2d(128, 64, 4, 2, 1, no bias) -> BatchNorm2d -> ReLU   (64, 14, 14)
         -> ConvTranspose2d(64, 1, 4, 2, 1): the reconstruction                 (1, 28, 28)
    G: the DCGAN generator (dcgan.py).
"""
from minigan import nn, optim
import minigan.functional as F

from .base import GANModel, init_dcgan_weights
from .dcgan import Generator, discriminator_layers
from .options import nonnegative_float, positive_float


def reconstruction_energy(images, reconstructions):
    """Each image's mean squared reconstruction error. (N, C, H, W) twice -> (N,)."""
    return ((reconstructions - images) ** 2).flatten(1).mean(1)


def margin_loss(real_energy, fake_energy, margin):
    """L_D = mean D(x) + mean max(0, m - D(G(z))). Energies (N,) -> a scalar."""
    return real_energy.mean() + F.relu(margin - fake_energy).mean()


def pull_away_term(embeddings, eps=1e-12):
    """PT = 1 / (N (N - 1)) * sum over i != j of (s_i . s_j / (|s_i| |s_j|))^2.

    embeddings: (N, ...) with N >= 2, flattened to vectors s_i. With the unit
    vectors u_i = s_i / |s_i| stacked in U (N, D), all the cosines are the Gram
    matrix U U^T (N, N); its diagonal is u_i . u_i = 1 (0 for a zero vector),
    removed by subtracting the squared diagonal.
    """
    n = embeddings.shape[0]
    if n < 2:
        raise ValueError(f"pull_away_term: needs at least 2 embeddings, got {n}")
    s = embeddings.flatten(1)
    unit = s / ((s ** 2).sum(1, keepdim=True) + eps).sqrt()
    cosines = unit @ unit.transpose(0, 1)
    self_similarity = (unit ** 2).sum(1)
    return ((cosines ** 2).sum() - (self_similarity ** 2).sum()) / (n * (n - 1))


class Autoencoder(nn.Module):
    """images (N, 1, 28, 28) -> (reconstructions (N, 1, 28, 28), embeddings (N, 128, 7, 7))."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.encoder = nn.Sequential(*discriminator_layers(in_channels))
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, in_channels, 4, 2, 1),
        )

    def forward(self, x):
        embeddings = self.encoder(x)
        return self.decoder(embeddings), embeddings


class EBGAN(GANModel):
    """EBGAN-PT: an autoencoder discriminator with a margin loss, Adam(lr, (beta1, 0.999)).

    config: lr, beta1, d_steps, margin (m), pt_weight (lambda_PT), z_dim.
    Metrics: loss_d, loss_g, E(x) and E(G(z)) (mean energies), pt (the pull-away term).
    """

    name = "ebgan"
    plot_keys = ("loss_d", "loss_g", "E(x)", "E(G(z))")
    progress_keys = ("loss_d", "loss_g", "E(x)", "E(G(z))")

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--margin", type=positive_float, default=0.3,
                            help="m: fakes with energy above m cost the discriminator nothing")
        parser.add_argument("--pt-weight", type=nonnegative_float, default=0.1,
                            help="lambda_PT, the weight of the pull-away term (0: none)")

    def build(self, config):
        self.margin = float(config.get("margin", 0.3))
        self.pt_weight = float(config.get("pt_weight", 0.1))
        self.G = Generator(self.z_dim)
        self.D = Autoencoder(1)
        self.G.apply(init_dcgan_weights)
        self.D.apply(init_dcgan_weights)
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": optim.Adam(self.G.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999)),
            "D": optim.Adam(self.D.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999)),
        }

    def generate(self, z, labels=None):
        return self.G(z)

    def energy(self, images):
        """(energies (N,), embeddings (N, 128, 7, 7)) of images (N, 1, 28, 28)."""
        reconstructions, embeddings = self.D(images)
        return reconstruction_energy(images, reconstructions), embeddings

    def score(self, images, labels=None):
        """Minus the energy (N,): higher is more real."""
        return -self.energy(images)[0]

    def train_step(self, real, labels, step):
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        fake = self.generate(self.sample_z(real.shape[0]))

        # Discriminator: reconstruct the real digits, and the fakes badly up to the margin.
        real_energy, _ = self.energy(real)
        fake_energy, _ = self.energy(fake.detach())
        loss_d = margin_loss(real_energy, fake_energy, self.margin)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        metrics = {"loss_d": loss_d.item(), "E(x)": real_energy.mean().item(),
                   "E(G(z))": fake_energy.mean().item()}

        # Generator, every d_steps-th step: low energy, and embeddings spread apart.
        if step % self.config["d_steps"] == 0:
            fake_energy, embeddings = self.energy(fake)
            pt = pull_away_term(embeddings)
            loss_g = fake_energy.mean() + self.pt_weight * pt
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics.update({"loss_g": loss_g.item(), "pt": pt.item()})
        return metrics

"""The 28x28 MNIST DCGAN (Radford et al. 2015, scaled to MNIST).

    G: z (100) -> Linear(100, 128*7*7, no bias) -> BatchNorm1d -> ReLU -> (128, 7, 7)
       -> ConvTranspose2d(128, 64, 4, 2, 1, no bias) -> BatchNorm2d -> ReLU      (64, 14, 14)
       -> ConvTranspose2d(64, 1, 4, 2, 1) -> tanh                               (1, 28, 28)
    D: (1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)                  (64, 14, 14)
       -> Conv2d(64, 128, 4, 2, 1, no bias) -> BatchNorm2d -> LeakyReLU(0.2)    (128, 7, 7)
       -> Linear(128*7*7, 1): a logit

Written with nn.Sequential named `net`, so the state dict keys are those of the
same modules in PyTorch (`net.0.weight`, `net.1.running_mean`, ...).
"""
from minigan import nn, optim

from .base import GANModel, init_dcgan_weights
from .losses import d_loss, g_loss_non_saturating, mean_probability


class Generator(nn.Module):
    """z (N, in_features) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, in_features=100):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, 128 * 7 * 7, bias=False),
            nn.BatchNorm1d(128 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z)


def discriminator_layers(in_channels=1):
    """The DCGAN discriminator's convolutions, (N, in_channels, 28, 28) -> (N, 128, 7, 7).

    A list, to be unpacked into an nn.Sequential: ACGAN, InfoGAN and EBGAN build
    on the same stack, and the layers keep their Sequential indices (0-4) and so
    the state-dict names of the same modules written in PyTorch.
    """
    return [
        nn.Conv2d(in_channels, 64, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2),
    ]


class Discriminator(nn.Module):
    """images (N, in_channels, 28, 28) -> logits (N, 1)."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.net = nn.Sequential(
            *discriminator_layers(in_channels),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )

    def forward(self, x):
        return self.net(x)


class DCGAN(GANModel):
    """The DCGAN: BCE-with-logits, non-saturating G loss, Adam(2e-4, (0.5, 0.999)),
    one G step every `d_steps` D steps."""

    name = "dcgan"

    def make_networks(self):
        return Generator(self.z_dim), Discriminator(1)

    def build(self, config):
        self.G, self.D = self.make_networks()
        self.G.apply(init_dcgan_weights)
        self.D.apply(init_dcgan_weights)
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": optim.Adam(self.G.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999)),
            "D": optim.Adam(self.D.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999)),
        }

    def generator_input(self, z, labels):
        return z

    def discriminator_input(self, images, labels):
        return images

    def generate(self, z, labels=None):
        return self.G(self.generator_input(z, labels))

    def discriminate(self, images, labels=None):
        return self.D(self.discriminator_input(images, labels))

    def score(self, images, labels=None):
        return self.discriminate(images, labels).flatten()

    def train_step(self, real, labels, step):
        """One D step on (real, G(z)); then, every d_steps-th step, one G step."""
        fake = self.generate(self.sample_z(real.shape[0]), labels)
        metrics = self.discriminator_step(real, fake, labels)
        # BEGIN TASK 5.4
        if step % self.config["d_steps"] == 0:
            metrics["loss_g"] = self.generator_step(fake, labels)
        # END TASK 5.4
        return metrics

    def discriminator_step(self, real, fake, labels):
        """One Adam step of D on d_loss: real -> 1, fake -> 0. Returns the D metrics."""
        opt_d = self.optimizers["D"]
        # BEGIN TASK 5.2
        # fake.detach(): D's loss must send no gradient into G.
        real_logits = self.discriminate(real, labels)
        fake_logits = self.discriminate(fake.detach(), labels)
        loss_d = d_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # END TASK 5.2
        return {"loss_d": loss_d.item(), "D(x)": mean_probability(real_logits),
                "D(G(z))": mean_probability(fake_logits)}

    def generator_step(self, fake, labels):
        """One Adam step of G on the non-saturating loss: make D call the fakes real.
        Returns loss_g as a float."""
        opt_g = self.optimizers["G"]
        # D's parameter gradients would be discarded: skip computing them. The block
        # covers the forward too, since backward reads requires_grad when it runs.
        with self.gradients_skipped(self.D):
            # BEGIN TASK 5.3
            loss_g = g_loss_non_saturating(self.discriminate(fake, labels))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            # END TASK 5.3
        return loss_g.item()

"""WGAN-GP: the Wasserstein GAN with a gradient penalty (Gulrajani et al. 2017).

A 1-Lipschitz critic has gradients of norm at most 1 everywhere, and the
optimal critic has norm exactly 1 on the lines between real and generated
points. So instead of clipping weights (wgan.py), penalise the gradient's norm
on random points x_hat of those lines:

    x_hat = alpha x + (1 - alpha) G(z),          alpha ~ U(0, 1), one per sample
    gp    = E[(||dD(x_hat)/dx_hat||_2 - 1)^2]     (losses.gradient_penalty)

    critic loss:     D(G(z)) - D(x) + lambda gp,    lambda = 10
    generator loss:  -D(G(z))

The penalty contains a gradient, so its own gradient w.r.t. the critic's
weights is a second derivative: `mg.grad(..., create_graph=True)` records the
first backward pass as a graph, and `loss_d.backward()` differentiates it.

The critic has no BatchNorm: the penalty is on each sample's gradient on its
own, and batch norm makes every output depend on the whole batch, so the
per-sample gradient is no longer the thing the penalty means (the paper's
section 4). Without it the critic is the DCGAN discriminator minus its norm
layer. The paper's settings: Adam(lr 1e-4, betas (0.0, 0.9)), lambda = 10,
5 critic steps per generator step (its MNIST code uses beta1 = 0.5; --beta1
chooses).

    Critic: (1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)        (64, 14, 14)
            -> Conv2d(64, 128, 4, 2, 1) -> LeakyReLU(0.2)                 (128, 7, 7)
            -> Linear(128*7*7, 1): a score
"""
from minigan import nn, optim

from .base import init_dcgan_weights
from .dcgan import Generator
from .losses import critic_loss, gradient_penalty, wasserstein_g_loss
from .options import positive_float, unit_interval
from .wgan import WGAN


class Critic(nn.Module):
    """images (N, in_channels, 28, 28) -> scores (N, 1); no normalization layer."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )

    def forward(self, x):
        return self.net(x)


class WGANGP(WGAN):
    """WGAN-GP: critic loss + gp_weight * gradient penalty, Adam(lr, (beta1, beta2)).

    config: lr, beta1, beta2, d_steps, gp_weight (lambda), z_dim.
    Metrics: loss_d (with the penalty), loss_g, gp (the penalty before weighting),
    W = mean D(x) - mean D(G(z)).
    """

    name = "wgan_gp"
    defaults = {"lr": 1e-4, "beta1": 0.0, "d_steps": 5}
    plot_keys = ("loss_d", "loss_g", "W", "gp")
    progress_keys = ("loss_d", "loss_g", "W", "gp")
    common_options = ("beta1", "d_steps", "nice")  # Adam again

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--beta2", type=unit_interval, default=0.9, help="Adam's beta2")
        parser.add_argument("--gp-weight", type=positive_float, default=10.0,
                            help="lambda, the weight of the gradient penalty")

    def build(self, config):
        self.gp_weight = float(config.get("gp_weight", 10.0))
        betas = (config["beta1"], config.get("beta2", 0.9))
        self.G = Generator(self.z_dim)
        self.D = Critic(1)
        self.G.apply(init_dcgan_weights)  # the critic keeps PyTorch's default init
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": optim.Adam(self.G.parameters(), lr=config["lr"], betas=betas),
            "D": optim.Adam(self.D.parameters(), lr=config["lr"], betas=betas),
        }

    def train_step(self, real, labels, step):
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        fake = self.generate(self.sample_z(real.shape[0]))

        # Critic: the Wasserstein loss plus the penalty on interpolates (no clipping).
        real_scores = self.D(real)
        fake_scores = self.D(fake.detach())
        wasserstein = critic_loss(real_scores, fake_scores)
        gp = gradient_penalty(self.D, real, fake)
        loss_d = wasserstein + self.gp_weight * gp
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        metrics = {"loss_d": loss_d.item(), "W": -wasserstein.item(), "gp": gp.item()}

        # Generator, every d_steps-th step: raise the critic's score of the fakes.
        if step % self.config["d_steps"] == 0:
            loss_g = wasserstein_g_loss(self.D(fake))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics["loss_g"] = loss_g.item()
        return metrics

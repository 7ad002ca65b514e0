"""The Wasserstein GAN (Arjovsky, Chintala & Bottou 2017) with weight clipping.

The discriminator becomes a *critic*: its output is a score, not a logit, and
no sigmoid ever touches it. Trained to maximise

    W = E[D(x)] - E[D(G(z))]

over 1-Lipschitz functions D, the critic's W estimates the Wasserstein-1 (earth
mover's) distance between the data and the generator's distribution, and the
generator minimises it. Unlike a BCE discriminator's loss, W falls as the
samples improve, so it is worth plotting.

    critic loss:     D(G(z)) - D(x)  = -W       (losses.critic_loss)
    generator loss:  -D(G(z))                    (losses.wasserstein_g_loss)

The paper keeps D (roughly) Lipschitz by clipping every critic weight to
[-c, c] after each critic step, c = 0.01. Clipping is crude: it is what
WGAN-GP (wgan_gp.py) replaces with a gradient penalty.

Networks: the DCGAN's (dcgan.py). Its discriminator already ends in a plain
Linear layer, so it is used unchanged as the critic; the paper's DCGAN critic
keeps BatchNorm too. The paper's settings: RMSprop (momentum-based optimizers
made training unstable), lr 5e-5, 5 critic steps per generator step, c = 0.01,
batch 64 (the default here too: every critic step takes a fresh batch, so an
epoch holds only len(data) / (64 * 5) generator steps, and at lr 5e-5 the
generator needs every one of them). The authors' code also gives the
critic 100 steps for the first 25 generator steps and every 500th; this file
keeps the plain 5 to stay on the shared `d_steps` schedule.
"""
import minigan as mg
from minigan import optim
from minigan.backend import get_array_module

from .base import GANModel, init_dcgan_weights
from .dcgan import Discriminator, Generator
from .losses import critic_loss, wasserstein_g_loss
from .options import positive_float


def clip_weights_(module, clip_value):
    """Clip every parameter of `module` to [-clip_value, clip_value], in place.

    The parameters' arrays are changed where they lie, outside the graph, as an
    optimizer step changes them (no new arrays, so the optimizer's state still
    points at the same parameters).
    """
    with mg.no_grad():
        for p in module.parameters():
            xp = get_array_module(p.data)
            xp.clip(p.data, -clip_value, clip_value, out=p.data)


class WGAN(GANModel):
    """WGAN: a clipped critic, RMSprop(lr), one generator step every `d_steps` critic steps.

    config: lr, d_steps, clip (the weight-clipping bound c), z_dim.
    Metrics: loss_d (the critic loss, -W), loss_g, W = mean D(x) - mean D(G(z)).
    """

    name = "wgan"
    defaults = {"lr": 5e-5, "d_steps": 5, "batch_size": 64}
    common_options = ("d_steps", "nice")  # RMSprop: no --beta1
    plot_keys = ("loss_d", "loss_g", "W")
    progress_keys = ("loss_d", "loss_g", "W")

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--clip", type=positive_float, default=0.01,
                            help="clip every critic weight to [-clip, clip] after each critic step")

    def build(self, config):
        self.clip = float(config.get("clip", 0.01))
        if not self.clip > 0:
            raise ValueError(f"wgan: --clip must be positive, got {self.clip}")
        self.G = Generator(self.z_dim)
        self.D = Discriminator(1)  # a critic: its Linear output is used as a score
        self.G.apply(init_dcgan_weights)
        self.D.apply(init_dcgan_weights)
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": optim.RMSprop(self.G.parameters(), lr=config["lr"]),
            "D": optim.RMSprop(self.D.parameters(), lr=config["lr"]),
        }

    def generate(self, z, labels=None):
        return self.G(z)

    def score(self, images, labels=None):
        """The critic's score of each image (N,): higher is more real."""
        return self.D(images).flatten()

    def train_step(self, real, labels, step):
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        fake = self.generate(self.sample_z(real.shape[0]))

        # Critic: raise D(x), lower D(G(z)); then clip, to keep D (roughly) Lipschitz.
        real_scores = self.D(real)
        fake_scores = self.D(fake.detach())
        loss_d = critic_loss(real_scores, fake_scores)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        clip_weights_(self.D, self.clip)
        metrics = {"loss_d": loss_d.item(), "W": -loss_d.item()}

        # Generator, every d_steps-th step: raise the critic's score of the fakes.
        if step % self.config["d_steps"] == 0:
            loss_g = wasserstein_g_loss(self.D(fake))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics["loss_g"] = loss_g.item()
        return metrics

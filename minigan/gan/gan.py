"""The original GAN (Goodfellow et al. 2014): two MLPs, and the generator loss that made it train.

    G: z (100) -> Linear 256 -> LeakyReLU(0.2) -> Linear 512 -> LeakyReLU(0.2)
       -> Linear 1024 -> LeakyReLU(0.2) -> Linear 784 -> tanh -> (1, 28, 28)
    D: (1, 28, 28) -> 784 -> Linear 512 -> LeakyReLU(0.2) -> Dropout(p)
       -> Linear 256 -> LeakyReLU(0.2) -> Dropout(p) -> Linear 1: a logit

Adam(2e-4, betas (0.5, 0.999)), PyTorch's default initialisation, `--dropout p`
in D (default 0.3; the paper used dropout in D too).

Why `--loss non-saturating` is the default
------------------------------------------
The paper's game has G minimise log(1 - D(G(z))). With l = D's logit for a fake
and sigma the sigmoid, so D(G(z)) = sigma(l), the per-sample losses and their
derivatives with respect to the logit are

    minimax:         log(1 - sigma(l))     d/dl = -sigma(l)       -> 0   as l -> -inf
    non-saturating:  -log sigma(l)         d/dl = -(1 - sigma(l)) -> -1  as l -> -inf

Early in training the fakes are bad and D rejects them confidently (l very
negative, D(G(z)) near 0). There the minimax loss is flat: at l = -10 its
gradient is -sigma(-10) = -4.5e-5, so almost nothing flows back into G, exactly
when G most needs to learn. The non-saturating loss has the same fixed point
(both push D(G(z)) up) but its gradient there is -(1 - 4.5e-5), about -1: the
more confidently D rejects a fake, the harder G is pushed. The paper proposes
this switch itself ("rather than training G to minimize log(1 - D(G(z))) we can
train G to maximize log D(G(z))").

The step log records `grad_logit`, the mean of |d loss_i / d l_i| over the
batch (sigma(l) for minimax, 1 - sigma(l) for non-saturating), measured with
`mg.grad`, so a run shows how hard G is being pushed.
"""
import minigan as mg
from minigan import nn, optim

from .base import GANModel
from .losses import d_loss, g_loss_minimax, g_loss_non_saturating, mean_probability
from .options import unit_interval

GENERATOR_LOSSES = {"non-saturating": g_loss_non_saturating, "minimax": g_loss_minimax}


class MLPGenerator(nn.Module):
    """z (N, z_dim) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, z_dim=100):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(z_dim, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 1024), nn.LeakyReLU(0.2),
            nn.Linear(1024, 28 * 28), nn.Tanh(),
            nn.Unflatten(1, (1, 28, 28)),
        )

    def forward(self, z):
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> logits (N, 1). Dropout(p) after each hidden layer
    (always present, so the state-dict keys do not depend on p; p = 0 is the identity)."""

    def __init__(self, dropout=0.3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, 512), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(256, 1),
        )

    def forward(self, x):
        return self.net(x)


class GAN(GANModel):
    """The 2014 GAN with MLPs; `--loss minimax` plays the paper's original game."""

    name = "gan"
    progress_keys = ("loss_d", "loss_g", "D(x)", "D(G(z))", "grad_logit")

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("GAN")
        group.add_argument("--loss", choices=tuple(GENERATOR_LOSSES), default="non-saturating",
                           help="generator loss: -log D(G(z)) (non-saturating) or the "
                                "paper's log(1 - D(G(z))) (minimax), whose gradient vanishes "
                                "when D confidently rejects the fakes")
        group.add_argument("--dropout", type=unit_interval, default=0.3,
                           help="dropout probability after each hidden layer of D")

    def build(self, config):
        loss = config.get("loss", "non-saturating")
        if loss not in GENERATOR_LOSSES:
            raise ValueError(f"GAN: expected loss in {tuple(GENERATOR_LOSSES)}, got {loss!r}")
        self.g_loss = GENERATOR_LOSSES[loss]
        self.G = MLPGenerator(self.z_dim)
        self.D = MLPDiscriminator(float(config.get("dropout", 0.3)))
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = {
            "G": optim.Adam(self.G.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999)),
            "D": optim.Adam(self.D.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999)),
        }

    def generate(self, z, labels=None):
        return self.G(z)

    def score(self, images, labels=None):
        return self.D(images).flatten()

    def train_step(self, real, labels, step):
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        fake = self.generate(self.sample_z(real.shape[0]))

        # Discriminator: real -> 1, fake -> 0. fake.detach(): no gradient into G here.
        real_logits = self.D(real)
        fake_logits = self.D(fake.detach())
        loss_d = d_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        metrics = {"loss_d": loss_d.item(), "D(x)": mean_probability(real_logits),
                   "D(G(z))": mean_probability(fake_logits)}

        # Generator, every d_steps-th step, with the chosen loss.
        if step % self.config["d_steps"] == 0:
            logits = self.D(fake)
            loss_g = self.g_loss(logits)
            # The loss is a mean over the batch, so each logit's gradient is 1/N of its own.
            (per_logit,) = mg.grad(loss_g, logits, retain_graph=True)  # backward follows
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics["loss_g"] = loss_g.item()
            metrics["grad_logit"] = float((per_logit.abs() * logits.shape[0]).mean().item())
        return metrics

"""InfoGAN (Chen et al. 2016): a GAN whose latent codes come to mean something, unsupervised.

The latent is split into noise and codes. On MNIST (the paper's setting):

    latent = [noise (62) ~ N(0, 1) | one_hot(category) (10), category ~ uniform{0..9}
              | continuous (2) ~ U(-1, 1)]                                       (74)

A plain GAN is free to ignore any part of its input. InfoGAN adds a recognition
network Q that must read the codes back from the image, and rewards G when it
can: it maximises a lower bound on the mutual information I(codes; G(latent)),

    I(c; G(z, c)) >= E[log Q(c | G(z, c))] + H(c)

H(c) is a constant (log 10 for the category, log 2 per uniform code), so the
information loss to minimise is the negative log-likelihood of the codes under Q:

    L_info = lambda_cat * CE(Q's category logits, category)
           + lambda_cont * mean_n sum_k 0.5 * (continuous[n, k] - mu[n, k])^2

The continuous part is a Gaussian with a fixed unit variance (the paper's
choice for MNIST), whose negative log-likelihood is 0.5 * (c - mu)^2 plus the
constant 0.5 * log(2 pi), dropped here. lambda_cat = 1 and lambda_cont = 0.1 as
the paper. L_info is added to both players' losses, since G and Q both maximise
the bound:

    L_D = BCE(D(x) -> real) + BCE(D(G(latent)) -> fake) + L_info     (trains D's body, D and Q)
    L_G = BCE(D(G(latent)) -> real) + L_info                         (trains G)

Networks (the paper's shape, on the DCGAN networks of dcgan.py):

    G: latent (74) -> the DCGAN generator -> (1, 28, 28)
    D: (1, 28, 28) -> the DCGAN discriminator's convolutions -> flatten (6272)
       -> adversarial: Linear(6272, 1)                     a real/fake logit
       -> Q: Linear(6272, 128) -> BatchNorm1d -> LeakyReLU(0.2) -> Linear(128, 10 + 2)
             = 10 category logits and the 2 continuous means mu
    (The paper's D also has a shared Linear(6272, 1024) + BN + LeakyReLU layer before
    the heads; it is left out to keep the step as cheap as the DCGAN's.)

Adam with betas (0.5, 0.999), the paper's learning rates: 2e-4 for D and Q (`--lr`)
and 1e-3 for G (`--g-lr`). The DCGAN initialisation.

Each epoch `epoch_figures` writes OUT/codes/epoch_NNN_cat.png (rows: fixed noise,
columns: category 0..9), epoch_NNN_c1.png and epoch_NNN_c2.png (rows: category
0..9 with fixed noise, columns: that code from -2 to 2, past the [-1, 1] trained on,
the other continuous code at 0).
"""
import os

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.viz import save_grid

from .base import GANModel, init_dcgan_weights
from .dcgan import Generator, discriminator_layers, q_head
from .losses import d_loss, g_loss_non_saturating, mean_probability
from .options import nonnegative_float, positive_float

SWEEP_STEPS = 10      # columns of a continuous-code sweep
SWEEP_RANGE = 2.0     # a continuous code goes from -2 to 2 across a sweep


def information_loss(category_logits, categories, continuous_means, continuous,
                     lambda_cat=1.0, lambda_cont=0.1):
    """The negative mutual-information lower bound, up to constants (a scalar Tensor).

    category_logits: (N, C) Q's logits for the category; categories: (N,) int64 drawn.
    continuous_means: (N, K) Q's means mu; continuous: (N, K) the codes drawn.

        lambda_cat * CE(category_logits, categories)
        + lambda_cont * mean_n sum_k 0.5 * (continuous[n, k] - continuous_means[n, k])^2

    CE is F.cross_entropy: one fused log-softmax, so the logits go in unnormalised.
    """
    categorical = F.cross_entropy(category_logits, categories)
    gaussian = 0.5 * ((continuous - continuous_means) ** 2).sum(1).mean()
    return lambda_cat * categorical + lambda_cont * gaussian


class InfoGANDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> (adversarial logits (N, 1), category logits (N, C),
    continuous means (N, K)); `realness(x)` gives the adversarial logits alone.

    D and Q share the body: Q costs one small head, not a second network."""

    def __init__(self, num_categories=10, num_continuous=2):
        super().__init__()
        self.num_categories = num_categories
        self.body = nn.Sequential(*discriminator_layers(1), nn.Flatten())
        self.adversarial = nn.Linear(128 * 7 * 7, 1)
        self.q = q_head(num_categories + num_continuous)  # the DCGAN's --info-code head too

    def forward(self, x):
        features = self.body(x)
        codes = self.q(features)
        c = self.num_categories
        return self.adversarial(features), codes[:, :c], codes[:, c:]

    def realness(self, x):
        """The adversarial logits (N, 1) alone: D without Q."""
        return self.adversarial(self.body(x))


class InfoGAN(GANModel):
    """InfoGAN on MNIST: 62 noise + a 10-way category + 2 continuous codes."""

    name = "infogan"
    defaults = {"z_dim": 62}       # --z-dim is the noise size; the codes come on top
    learning_rates = {"lr": ("D",), "g_lr": ("G",)}
    num_categories = 10
    num_continuous = 2
    plot_keys = ("loss_d", "loss_g", "loss_info")
    progress_keys = ("loss_d", "loss_g", "loss_info", "D(x)", "D(G(z))", "acc_category")

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("InfoGAN")
        group.add_argument("--g-lr", type=positive_float, default=1e-3,
                           help="the generator's learning rate (the paper's; --lr is D's and Q's)")
        group.add_argument("--lambda-cat", type=nonnegative_float, default=1.0,
                           help="weight of the categorical code's information loss")
        group.add_argument("--lambda-cont", type=nonnegative_float, default=0.1,
                           help="weight of the continuous codes' information loss")

    @property
    def latent_dim(self):
        """Width of G's input: noise, then the one-hot category, then the continuous codes."""
        return self.z_dim + self.num_categories + self.num_continuous

    def build(self, config):
        self.lambda_cat = float(config.get("lambda_cat", 1.0))
        self.lambda_cont = float(config.get("lambda_cont", 0.1))
        self.G = Generator(self.latent_dim)
        self.D = InfoGANDiscriminator(self.num_categories, self.num_continuous)
        self.G.apply(init_dcgan_weights)
        self.D.apply(init_dcgan_weights)
        self.networks = {"G": self.G, "D": self.D}
        betas = (config["beta1"], 0.999)
        self.optimizers = {
            "G": optim.Adam(self.G.parameters(), lr=config.get("g_lr", 1e-3), betas=betas),
            "D": optim.Adam(self.D.parameters(), lr=config["lr"], betas=betas),
        }

    # --- the latent -----------------------------------------------------------------
    def make_latent(self, noise, categories, continuous):
        """(N, z_dim) noise, (N,) int64 categories, (N, K) continuous -> (N, latent_dim)."""
        onehot = F.one_hot(categories, self.num_categories).float()
        return mg.cat([noise, onehot, continuous], 1)

    def sample_latent(self, n):
        """n latents with random codes: (latent (n, latent_dim), categories (n,), continuous (n, K))."""
        noise = mg.randn(n, self.z_dim)
        categories = mg.randint(0, self.num_categories, n)
        continuous = mg.rand(n, self.num_continuous) * 2.0 - 1.0
        return self.make_latent(noise, categories, continuous), categories, continuous

    def sample_z(self, n):
        """The full latent, codes drawn at random (what --generate uses)."""
        return self.sample_latent(n)[0]

    def _latent_from_numpy(self, noise, categories, continuous):
        return self.make_latent(mg.tensor(noise.astype(np.float32)),
                                mg.tensor(categories.astype(np.int64)),
                                mg.tensor(continuous.astype(np.float32)))

    def walk_inputs(self, noise, rows):
        """A latent walk moves the noise only: category = the row, continuous codes 0."""
        categories = rows % self.num_categories
        return self._latent_from_numpy(noise, categories,
                                       np.zeros((len(noise), self.num_continuous))), None

    def fixed_inputs(self, n, seed):
        """Fixed latents for the epoch grids: noise and continuous codes from `seed`, and
        the category = the column (i % 10), so each column of the 10-wide grid is one code."""
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n, self.z_dim))
        categories = np.arange(n) % self.num_categories
        continuous = rng.uniform(-1.0, 1.0, (n, self.num_continuous))
        return self._latent_from_numpy(noise, categories, continuous), None

    def code_sweeps(self, seed, rows=10):
        """The latents of the three code figures, each (rows * 10, latent_dim), row-major:

            "cat": row r: noise r, category = column 0..9, continuous codes 0
            "c1", "c2": row r: noise r, category r % 10, that code = linspace(-2, 2, 10)
                  across the columns, the other continuous code 0
        """
        rng = np.random.default_rng(seed)
        noise = np.repeat(rng.standard_normal((rows, self.z_dim)), self.num_categories, 0)
        categories = np.tile(np.arange(self.num_categories), rows)
        sweeps = {"cat": self._latent_from_numpy(
            noise, categories, np.zeros((len(noise), self.num_continuous)))}
        values = np.tile(np.linspace(-SWEEP_RANGE, SWEEP_RANGE, SWEEP_STEPS), rows)
        noise = np.repeat(noise[::self.num_categories], SWEEP_STEPS, 0)
        row_categories = np.repeat(np.arange(rows) % self.num_categories, SWEEP_STEPS)
        for k in range(self.num_continuous):
            continuous = np.zeros((len(values), self.num_continuous))
            continuous[:, k] = values
            sweeps[f"c{k + 1}"] = self._latent_from_numpy(noise, row_categories, continuous)
        return sweeps

    def epoch_figures(self, out_dir, epoch):
        """OUT/codes/epoch_NNN_cat.png, _c1.png, _c2.png: one code varied, the rest fixed."""
        folder = os.path.join(out_dir, "codes")
        os.makedirs(folder, exist_ok=True)
        for code, latent in self.code_sweeps(self.config.get("seed", 0)).items():
            images = self.generate(latent).numpy()
            save_grid(images, os.path.join(folder, f"epoch_{epoch:03d}_{code}.png"),
                      nrow=self.num_categories if code == "cat" else SWEEP_STEPS, scale=2)

    # --- what the training loop calls ---------------------------------------------------
    def generate(self, z, labels=None):
        """z: the full latent (N, latent_dim) as `make_latent` builds it. InfoGAN is
        unconditional: its category is a code it invented, not a digit label."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"InfoGAN.generate: expected a latent of shape (N, {self.latent_dim}) = noise "
                f"{self.z_dim} + one-hot category {self.num_categories} + continuous "
                f"{self.num_continuous} (see make_latent), got {tuple(z.shape)}")
        return self.G(z)

    def score(self, images, labels=None):
        return self.D.realness(images).flatten()

    def train_step(self, real, labels, step):
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        latent, categories, continuous = self.sample_latent(real.shape[0])
        fake = self.G(latent)

        # D and Q: real -> 1, fake -> 0, and read the codes back from the (detached) fakes.
        real_logits = self.D.realness(real)
        fake_logits, category_logits, means = self.D(fake.detach())
        loss_info = information_loss(category_logits, categories, means, continuous,
                                     self.lambda_cat, self.lambda_cont)
        loss_d = d_loss(real_logits, fake_logits) + loss_info
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        predicted = category_logits.detach().argmax(1)
        metrics = {"loss_d": loss_d.item(), "loss_info": loss_info.item(),
                   "D(x)": mean_probability(real_logits),
                   "D(G(z))": mean_probability(fake_logits),
                   "acc_category": float((predicted == categories).float().mean().item())}

        # G: fakes D calls real, whose codes Q can read back.
        if step % self.config["d_steps"] == 0:
            logits, category_logits, means = self.D(fake)
            loss_g = g_loss_non_saturating(logits) + information_loss(
                category_logits, categories, means, continuous, self.lambda_cat,
                self.lambda_cont)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics["loss_g"] = loss_g.item()
        return metrics

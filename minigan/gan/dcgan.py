"""The 28x28 MNIST DCGAN (Radford et al. 2015, scaled to MNIST).

    G: z (100) -> Linear(100, 128*7*7, no bias) -> BatchNorm1d -> ReLU -> (128, 7, 7)
       -> ConvTranspose2d(128, 64, 4, 2, 1, no bias) -> BatchNorm2d -> ReLU      (64, 14, 14)
       -> ConvTranspose2d(64, 1, 4, 2, 1) -> tanh                               (1, 28, 28)
    D: (1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)                  (64, 14, 14)
       -> Conv2d(64, 128, 4, 2, 1, no bias) -> BatchNorm2d -> LeakyReLU(0.2)    (128, 7, 7)
       -> Linear(128*7*7, 1): a logit

Written with nn.Sequential named `net`, so the state dict keys are those of the
same modules in PyTorch (`net.0.weight`, `net.1.running_mean`, ...).

The paper's recipe is the default. The options of the post-DCGAN tools (tools.py:
--ema, --spectral-norm, --loss hinge|relativistic, --lr-d/--lr-g, --top-k, --r1,
--augment, --info-code, --clusters, --recipe modern) change the networks in `build` and
take the `regularised_*_step`s below; the plain `discriminator_step`/`generator_step` stay
the paper's, as the course has them written.
"""
import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import nn, optim

from minigan.data.loader import images_to_float

from . import tools
from .base import GANModel, init_dcgan_weights
from .clusters import Clusters
from .planes import label_planes, planes_conv2d
from .losses import d_loss, g_loss_non_saturating, mean_probability, r1_penalty, top_k


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


def discriminator_layers(in_channels=1, batch_norm=True):
    """The DCGAN discriminator's convolutions, (N, in_channels, 28, 28) -> (N, 128, 7, 7).

    A list, to be unpacked into an nn.Sequential: ACGAN, InfoGAN and EBGAN build
    on the same stack, and the layers keep their Sequential indices (0-4) and so
    the state-dict names of the same modules written in PyTorch.
    batch_norm=False (--spectral-norm): an Identity at index 3 instead of the batch
    norm, so the indices stay. The second convolution stays without a bias either way:
    a seeded run then draws the same G (the layers' default init draws from the same
    stream, D's after G's) whether or not D is normalised.
    """
    return [
        nn.Conv2d(in_channels, 64, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False),
        nn.BatchNorm2d(128) if batch_norm else nn.Identity(),
        nn.LeakyReLU(0.2),
    ]


def q_head(outputs, in_features=128 * 7 * 7):
    """InfoGAN's recognition head Q on D's flattened features: (N, in_features) ->
    (N, outputs), the logits (and means) of the codes it reads back from an image.
    A small MLP, so Q costs one head on D's body, not a second network."""
    return nn.Sequential(
        nn.Linear(in_features, 128, bias=False),
        nn.BatchNorm1d(128),
        nn.LeakyReLU(0.2),
        nn.Linear(128, outputs),
    )


class Discriminator(nn.Module):
    """images (N, in_channels, 28, 28) -> logits (N, 1).

    code_size C > 0 (--info-code C): also a head `q` on the same features, and
    `forward_with_code(x)` gives (logits (N, 1), code logits (N, C))."""

    def __init__(self, in_channels=1, batch_norm=True, code_size=0):
        super().__init__()
        self.net = nn.Sequential(
            *discriminator_layers(in_channels, batch_norm),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),
        )
        self.code_size = code_size
        if code_size:
            self.q = q_head(code_size)

    def forward(self, x):
        return self.net(x)

    def forward_conditioned(self, x, labels):
        """D(cat[x, one-hot planes of labels]) for a D built with in_channels = 1 + K, the
        planes never built: their part of the first layer is one fixed map per label
        (planes.py, the trick). Where a hook recomputes the first layer's weight before
        its forward (spectral norm), the planes are written out and the layer called."""
        first = self.net[0]
        if first._forward_pre_hooks:
            h = first(mg.cat([x, label_planes(labels, first.in_channels - x.shape[1],
                                              *x.shape[2:])], 1))
        else:
            h = planes_conv2d(x, labels, first.weight, first.bias, first.stride,
                              first.padding, first.dilation)
        return self.net[1:](h)

    def forward_with_code(self, x):
        """(realness logits, Q's code logits), the body run once for both."""
        if not self.code_size:
            raise RuntimeError("Discriminator.forward_with_code: this D has no code head "
                               "(build it with code_size=C, as --info-code C does)")
        features = self.net[:-1](x)
        return self.net[-1](features), self.q(features)


class DCGAN(GANModel):
    """The DCGAN: BCE-with-logits, non-saturating G loss, Adam(2e-4, (0.5, 0.999)),
    one G step every `d_steps` D steps."""

    name = "dcgan"
    common_options = GANModel.common_options + tools.OPTIONS
    # The tools that put a one-hot code after z and build networks for it (D's Q head, D's
    # cluster planes): the 28x28 unconditional DCGAN's own (CGAN and DCGAN64 drop them).
    latent_code_options = ("info_code", "info_weight", "clusters", "fine_clusters")
    progress_keys = GANModel.progress_keys + ("loss_info", "acc_code")  # --info-code's
    # --lr sets both; --lr-d / --lr-g, when given, set one each (config.set_learning_rates).
    learning_rates = {"lr": None, "lr_d": ("D",), "lr_g": ("G",)}

    def make_networks(self):
        k = self.cluster_count  # --clusters K: K one-hot inputs to G, K planes to D
        return (Generator(self.z_dim + self.code_size + k),
                Discriminator(1 + k, batch_norm=self.d_batch_norm, code_size=self.code_size))

    @property
    def code_size(self):
        """--info-code C: the categories of InfoGAN's code on G's input (0: none)."""
        return int(self.config.get("info_code") or 0)

    @property
    def cluster_count(self):
        """--clusters K: the k-means clusters G and D are conditioned on (0: none)."""
        return int(self.config.get("clusters") or 0)

    @property
    def d_batch_norm(self):
        """D keeps its batch norm unless --spectral-norm (see tools.py for why)."""
        return not self.config.get("spectral_norm")

    def build(self, config):
        self.G, self.D = self.make_networks()
        self.G.apply(init_dcgan_weights)
        self.D.apply(init_dcgan_weights)
        if config.get("spectral_norm"):
            tools.spectral_norm_layers(self.D)  # after the init: it normalises those weights
        self.networks = {"G": self.G, "D": self.D}
        if self.cluster_count:  # a network of buffers only, so checkpoints keep them
            self.clusters = self.networks["clusters"] = Clusters(
                self.cluster_count, fine=config.get("fine_clusters"))
        self.G_ema = tools.ema_generator(self.G, config)  # None without --ema
        if self.G_ema is not None:
            self.networks["G_ema"] = self.G_ema
        lr_g, lr_d = tools.learning_rates(config)
        self.optimizers = {
            "G": optim.Adam(self.G.parameters(), lr=lr_g, betas=(config["beta1"], 0.999)),
            "D": optim.Adam(self.D.parameters(), lr=lr_d, betas=(config["beta1"], 0.999)),
        }

    def generator_input(self, z, labels):
        return z

    def discriminator_input(self, images, labels):
        return images

    def make_dataset(self):
        """MNIST's training images; with --clusters K, first the K clusters of the ones
        the run trains on (the first --train-size, if given) are fitted (clusters.py)."""
        dataset = super().make_dataset()
        if self.cluster_count:
            images = dataset.arrays()[0][:self.config.get("train_size") or None]
            self.clusters.fit(images_to_float(images), seed=self.config.get("seed", 0))
        return dataset

    def generate(self, z, labels=None):
        """G(z); in eval mode (sample grids, --generate, the quality report) the EMA
        generator instead, when --ema keeps one."""
        G = self.G_ema if getattr(self, "G_ema", None) is not None and not self.G.training \
            else self.G
        return G(self.generator_input(z, labels))

    def discriminate(self, images, labels=None):
        """D's logits; in train mode with --augment, of the augmented images: every
        D evaluation of a training step, real or fake, D step or G step. With --clusters,
        D reads the images' clusters (labels; None: their nearest centroids) as the
        CGAN reads its digits, by the planes trick (planes.py) instead of
        discriminator_input's written-out planes: the same numbers up to round-off."""
        if not self.cluster_count:
            return self.D(self.d_input(images, labels))
        if labels is None:
            labels = self.clusters.assign(images)
        images = self.augmented(images)
        return self.D.forward_conditioned(images, labels)

    def discriminate_with_code(self, images, labels=None):
        """--info-code: (D's logits, Q's code logits) of the same (augmented) images."""
        return self.D.forward_with_code(self.d_input(images, labels))

    def d_input(self, images, labels):
        """What D reads: the images (augmented in train mode with --augment), with the
        labels where the model is conditional (discriminator_input)."""
        return self.discriminator_input(self.augmented(images), labels)

    def augmented(self, images):
        """The images, augmented in train mode with --augment (real and fake alike)."""
        if self.D.training and self.config.get("augment"):
            images = tools.augment_images(images, self.config["augment"])
        return images

    def information_loss(self, code_logits):
        """--info-code: InfoGAN's categorical information loss, the cross-entropy of Q's
        logits against the codes G was given (train_step keeps them in self.codes)
        times --info-weight (the paper's lambda, 1 by default). Both players add it:
        Q learns to read the code, G to draw it readably (minigan/gan/infogan.py)."""
        return self.config.get("info_weight", 1.0) * F.cross_entropy(code_logits, self.codes)

    def score(self, images, labels=None):
        return self.discriminate(images, labels).flatten()

    # --- the latent: z, or with --info-code C, [z | one_hot(c)] --------------------
    def sample_z(self, n):
        """G's input for n samples: z ~ N(0, 1) (n, z_dim) and, with --info-code C, a code
        c drawn uniformly from 0..C-1, one-hot after it: (n, z_dim + C); with --clusters K,
        a cluster drawn with its share of the training images, likewise (n, z_dim + K)."""
        z = mg.randn(n, self.z_dim)
        if self.cluster_count:
            return self.with_code(z, self.clusters.sample(n))
        if not self.code_size:
            return z
        return self.with_code(z, mg.randint(0, self.code_size, n))

    @property
    def one_hot_size(self):
        """How many one-hot inputs follow z on G's input: --info-code's C or --clusters' K."""
        return self.code_size or self.cluster_count

    def with_code(self, z, codes):
        """[z | one_hot(codes)]: the generator's input with --info-code C (codes: InfoGAN's)
        or --clusters K (codes: clusters)."""
        return mg.cat([z, F.one_hot(codes, self.one_hot_size).float()], 1)

    def code_of(self, z):
        """The codes or clusters (n,) int64 that G's inputs z carry (the one-hot's argmax);
        None with neither."""
        return z[:, self.z_dim:].argmax(1) if self.one_hot_size else None

    def fixed_inputs(self, n, seed):
        """The epoch grids' fixed inputs; with --info-code C, code i % C for sample i,
        so each of a grid's columns (when C divides its width) keeps one code."""
        z, labels = super().fixed_inputs(n, seed)
        if not self.one_hot_size:
            return z, labels
        return self.with_code(z, mg.tensor(np.arange(n) % self.one_hot_size,
                                           dtype=mg.int64)), labels

    def walk_inputs(self, noise, rows):
        """A latent walk moves the noise; with --info-code C, row r keeps code r % C."""
        z, labels = super().walk_inputs(noise, rows)
        if not self.one_hot_size:
            return z, labels
        return self.with_code(z, mg.tensor((rows % self.one_hot_size).astype(np.int64))), labels

    def fresh_fakes(self, n, labels):
        """G(z) for n fresh z; with --info-code, self.codes keeps the codes those z carry,
        for Q's loss in the steps that follow (None without a code). With --clusters,
        labels are the real batch's clusters, and the fakes are drawn for them."""
        if self.cluster_count:
            z = self.with_code(mg.randn(n, self.z_dim), labels)
        else:
            z = self.sample_z(n)
        self.codes = self.code_of(z) if self.code_size else None
        return self.generate(z, labels)

    def train_step(self, real, labels, step):
        """One D step on (real, G(z)); then, every d_steps-th step, one G step (and
        --g-steps K: K - 1 more, each on fresh z). With --clusters, the real images'
        clusters take the place of the labels, which are never read."""
        if self.cluster_count:
            labels = self.clusters.assign(real)
        fake = self.fresh_fakes(real.shape[0], labels)
        self.step = step  # --r1 --r1-every K regularises the D steps with step % K == 0
        self.real = real  # --loss relativistic: the G step reads D on the reals too
        metrics = self.discriminator_step(real, fake, labels)
        # BEGIN TASK 5.4
        if step % self.config["d_steps"] == 0:
            metrics["loss_g"] = self.generator_step(fake, labels)
        # END TASK 5.4
        if "loss_g" in metrics:  # G stepped
            self.update_ema()
            for _ in range(self.config.get("g_steps", 1) - 1):  # --g-steps K: K - 1 more
                fake = self.fresh_fakes(real.shape[0], labels)
                metrics["loss_g"] = self.generator_step(fake, labels)
                self.update_ema()
        return metrics

    def discriminator_step(self, real, fake, labels):
        """One Adam step of D on d_loss: real -> 1, fake -> 0. Returns the D metrics.
        (--loss hinge or --r1: `regularised_discriminator_step` instead.)"""
        if tools.regularised_d(self.config):
            return self.regularised_discriminator_step(real, fake, labels)
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
        Returns loss_g as a float. (Another --loss, or --top-k: `regularised_generator_step`.)"""
        if tools.regularised_g(self.config):
            return self.regularised_generator_step(fake, labels)
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

    # --- the post-DCGAN tools (tools.py) ------------------------------------------------
    def learning_rates_at(self, step):
        """--lr-decay linear: G's and D's rates for step `step`, falling to zero."""
        return tools.decayed_learning_rates(self, step)

    def update_ema(self):
        """--ema: fold G's new weights into G_ema, after every G step."""
        if getattr(self, "G_ema", None) is not None:
            self.G_ema.update_parameters(self.G)

    def regularised_discriminator_step(self, real, fake, labels):
        """The D step with --loss's D loss (BCE, or hinge) and, on the steps where
        step % --r1-every == 0, StyleGAN2's lazy R1 penalty on the reals:

            loss = d_loss + K * gamma / 2 * E ||dD(x)/dx||^2     (K = --r1-every)

        (the penalty K times as strong, K times as rarely: the same on average, for
        1/K of its cost, a double backward)."""
        opt_d = self.optimizers["D"]
        loss_fn = tools.D_LOSSES[self.config.get("loss", "bce")]
        penalty = None
        if tools.r1_due(self.config, getattr(self, "step", 1)):
            penalty, real_logits = r1_penalty(self.discriminate, real, labels)
        else:
            real_logits = self.discriminate(real, labels)
        loss_info = None
        if self.code_size:  # --info-code: Q reads the code back from the same fakes
            fake_logits, code_logits = self.discriminate_with_code(fake.detach(), labels)
            loss_info = self.information_loss(code_logits)
        else:
            fake_logits = self.discriminate(fake.detach(), labels)
        loss_d = loss_fn(real_logits, fake_logits)
        total = loss_d
        if penalty is not None:
            total = loss_d + (self.config["r1_every"] * self.config["r1"] / 2) * penalty
        if loss_info is not None:
            total = total + loss_info
        opt_d.zero_grad()
        total.backward()
        opt_d.step()
        metrics = {"loss_d": loss_d.item(), "D(x)": mean_probability(real_logits),
                   "D(G(z))": mean_probability(fake_logits)}
        if penalty is not None:
            metrics["r1"] = penalty.item()
        if loss_info is not None:
            metrics["loss_info"] = loss_info.item()
            metrics["acc_code"] = float(
                (code_logits.detach().argmax(1) == self.codes).float().mean().item())
        return metrics

    def regularised_generator_step(self, fake, labels):
        """The G step with --loss's G loss (-log sigma(D(G(z))), hinge's -D(G(z)), or the
        relativistic one, which also reads D on the step's real images), over every fake
        or, with --top-k, over the k that D scores most real. Returns loss_g as a float."""
        opt_g = self.optimizers["G"]
        loss_fn = tools.G_LOSSES[self.config.get("loss", "bce")]
        with self.gradients_skipped(self.D):  # as generator_step: D's would be discarded
            loss_info = None
            if self.code_size:  # --info-code: and draw the code so that Q reads it back
                logits, code_logits = self.discriminate_with_code(fake, labels)
                loss_info = self.information_loss(code_logits)
            else:
                logits = self.discriminate(fake, labels)
            if self.config.get("top_k"):
                logits = top_k(logits, tools.top_k_count(self.config, logits.shape[0]))
            if self.config.get("loss") == "relativistic":  # its G loss reads D on the reals
                real = getattr(self, "real", None)
                if real is None:
                    raise RuntimeError("--loss relativistic: the G step reads D on the real "
                                       "images; train_step sets model.real to its batch")
                with mg.no_grad():  # a constant for G: no graph through D on the reals
                    real_logits = self.discriminate(real, labels)
                loss_g = loss_fn(logits, real_logits)
            else:
                loss_g = loss_fn(logits)
            if loss_info is not None:
                loss_g = loss_g + loss_info
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        return loss_g.item()

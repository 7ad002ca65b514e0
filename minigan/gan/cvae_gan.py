"""CVAE-GAN (Bao, Chen, Wen, Li & Hua 2017): a conditional VAE whose generator also learns
from a discriminator and a classifier, through their features rather than their verdicts.

Four networks, for an image x and its digit c (one-hot):

    E (x, c) -> (mu, logvar)        the CVAE's encoder: q(z | x, c)
    G (z, c) -> x'                  the generator / decoder
    C (x) -> class logits, f_C(x)   a classifier, with its last hidden layer's features
    D (x) -> a real/fake logit, f_D(x)

"Asymmetric training" (the paper's Algorithm 1): D and C are trained with cross-entropy
as usual, but G is never asked to fool D directly. It matches features instead, which
gives it useful gradients even when D wins easily. For a batch (x, c), with
z ~ q(z | x, c) (reparameterised), the reconstruction x_f = G(z, c), and a prior
sample x_p = G(z_p, c), z_p ~ N(0, I):

    L_D  = -[log D(x) + log(1 - D(x_f)) + log(1 - D(x_p))]       (three BCE batch means)
    L_C  = -log P(c | x)                                           (cross-entropy, reals only)
    L_KL = KL(q(z | x, c) || N(0, I))                              (vae.kl_divergence)
    L_G  = 1/2 (||x - x_f||^2 + ||f_D(x) - f_D(x_f)||^2 + ||f_C(x) - f_C(x_f)||^2)
                the reconstruction, in pixels and pairwise in D's and C's features
    L_GD = 1/2 ||mean_x f_D(x) - mean_p f_D(x_p)||^2               (`mean_feature_matching`)
    L_GC = 1/2 sum_c ||mean_{x of class c} f_C(x) - mean_{x_p of class c} f_C(x_p)||^2
                                                                   (`class_mean_feature_matching`)
    E minimises  lambda1 L_KL + lambda2 L_G
    G minimises  lambda2 L_G + lambda3 L_GD + lambda4 L_GC

with the paper's weights lambda1 = 3, lambda2 = 1, lambda3 = lambda4 = 1e-3 (options
--kl-weight, --recon-weight, --gd-weight, --gc-weight). Since L_GD and L_GC do not
depend on E, one backward pass of lambda1 L_KL + lambda2 L_G + lambda3 L_GD +
lambda4 L_GC gives both E and G their gradients. The squared norms are sums over
pixels or features of one image, averaged over the batch (the paper's per-sample
||.||^2); the mean-feature terms are norms of differences of batch means. Prior samples
are drawn for the batch's own labels c, so both per-class means of L_GC are over the
same classes (a class missing from the batch is left out).

The paper updates D, C, G and E every iteration. Here D and C step every call and
E and G every `d_steps`-th call (default 1: the same), after D and C, on the same
x_f and x_p, with the targets f_D(x) and f_C(x) recomputed by the updated D and C.

Networks (MNIST-sized; the paper's were Inception-like at 128x128):
    E: [x, 10 label planes] (11, 28, 28) -> Conv2d(11, 32, 4, 2, 1) -> LeakyReLU(0.2)
       -> Conv2d(32, 64, 4, 2, 1, no bias) -> BatchNorm2d -> LeakyReLU(0.2)
       -> Linear(64*7*7, 2 * z_dim): (mu, logvar)
    G: the conditional DCGAN generator, [z, one_hot(c)] -> (1, 28, 28) in [-1, 1] (cgan.py)
    D and C (`FeatureNetwork`): Conv2d(1, 32, 4, 2, 1) -> LeakyReLU(0.2)
       -> Conv2d(32, 64, 4, 2, 1) -> LeakyReLU(0.2) -> Linear(64*7*7, 256) -> LeakyReLU(0.2):
       the features f (256), then Linear(256, 1) for D, Linear(256, 10) for C.
D and C have no BatchNorm: normalising each batch would pin part of the batch mean of
their features, the very thing L_GD and L_GC compare. Adam(2e-4, (0.5, 0.999)) for all
four and the DCGAN initialisation, z_dim 100.
"""
import minigan as mg
import minigan.functional as F
from minigan import nn, optim

from .base import GANModel, init_dcgan_weights
from .planes import label_planes
from .dcgan import Generator
from .losses import d_loss, mean_probability
from .options import nonnegative_float
from .vae import kl_divergence, reparameterize

FEATURES = 256


def mean_feature_matching(real_features, fake_features):
    """L_GD = 1/2 ||mean_n f(x_n) - mean_m f(x'_m)||^2.

    real_features: (N, F); fake_features: (M, F) -> a scalar Tensor. Only the batch
    means are compared: the fakes as a whole must look like the reals as a whole.
    """
    difference = real_features.mean(0) - fake_features.mean(0)
    return 0.5 * (difference ** 2).sum()


def class_means(features, labels, num_classes):
    """The mean feature vector of each class, and how many rows each mean is over.

    features: (N, F); labels: (N,) int64 -> (means (num_classes, F), counts (num_classes,)).
    With the one-hot matrix Y (N, num_classes): sums = Y^T features, counts = column sums
    of Y; a class with no rows gets the mean 0 (its count is clamped to 1 for the division).
    """
    onehot = F.one_hot(labels, num_classes).type_as(features)
    counts = onehot.sum(0)
    sums = onehot.transpose(0, 1) @ features
    return sums / counts.clamp(min=1.0).reshape(-1, 1), counts


def class_mean_feature_matching(real_features, real_labels, fake_features, fake_labels,
                                num_classes):
    """L_GC = 1/2 sum_c ||mean of f(x) over reals of class c - the same over fakes of c||^2,
    over the classes present in both batches (the others add 0).

    real_features: (N, F), real_labels: (N,); fake_features: (M, F), fake_labels: (M,).
    """
    real_means, real_counts = class_means(real_features, real_labels, num_classes)
    fake_means, fake_counts = class_means(fake_features, fake_labels, num_classes)
    present = ((real_counts > 0).type_as(real_means) * (fake_counts > 0).type_as(real_means))
    difference = (real_means - fake_means) * present.reshape(-1, 1)
    return 0.5 * (difference ** 2).sum()


def pairwise_distance(a, b):
    """1/2 ||a_n - b_n||^2 summed over everything but the batch, then averaged: (N, ...) -> ()."""
    return 0.5 * ((a - b) ** 2).flatten(1).sum(1).mean()


class ConditionalEncoder(nn.Module):
    """(images (N, 1, 28, 28), labels (N,)) -> (mu, logvar), each (N, z_dim)."""

    def __init__(self, z_dim=100, num_classes=10):
        super().__init__()
        self.num_classes = num_classes
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.Conv2d(1 + num_classes, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 2 * z_dim),
        )

    def forward(self, images, labels):
        planes = label_planes(labels, self.num_classes, *images.shape[2:])
        stats = self.net(mg.cat([images, planes], 1))
        return stats[:, :self.z_dim], stats[:, self.z_dim:]


class FeatureNetwork(nn.Module):
    """images (N, 1, 28, 28) -> (outputs (N, out_features), features (N, 256)).

    D is FeatureNetwork(1) (a real/fake logit), C is FeatureNetwork(10) (class logits);
    `features` is the last hidden layer, the f_D or f_C the generator matches."""

    def __init__(self, out_features):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURES), nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(FEATURES, out_features)

    def forward(self, images):
        features = self.body(images)
        return self.head(features), features


class CVAEGAN(GANModel):
    """CVAE-GAN: networks E, G, C, D (see the module docstring), one Adam each.

    Metrics: loss_d, loss_c, loss_g (E's and G's weighted objective), kl, recon (the pixel
    term of L_G), loss_gd, loss_gc, D(x), D(G(z)) (prior samples), acc_real (C on reals).
    """

    name = "cvae_gan"
    conditional = True
    plot_keys = ("loss_d", "loss_c", "D(x)", "D(G(z))")
    progress_keys = ("loss_d", "loss_c", "loss_g", "kl", "recon", "D(x)", "D(G(z))")

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("CVAE-GAN loss weights (the paper's defaults)")
        group.add_argument("--kl-weight", type=nonnegative_float, default=3.0, help="lambda1, of L_KL")
        group.add_argument("--recon-weight", type=nonnegative_float, default=1.0, help="lambda2, of L_G")
        group.add_argument("--gd-weight", type=nonnegative_float, default=1e-3,
                           help="lambda3, of L_GD (D's mean features)")
        group.add_argument("--gc-weight", type=nonnegative_float, default=1e-3,
                           help="lambda4, of L_GC (C's per-class mean features)")

    def build(self, config):
        self.weights = {key: float(config.get(key, default)) for key, default in (
            ("kl_weight", 3.0), ("recon_weight", 1.0), ("gd_weight", 1e-3), ("gc_weight", 1e-3))}
        self.E = ConditionalEncoder(self.z_dim, self.num_classes)
        self.G = Generator(self.z_dim + self.num_classes)
        self.C = FeatureNetwork(self.num_classes)
        self.D = FeatureNetwork(1)
        self.networks = {"E": self.E, "G": self.G, "C": self.C, "D": self.D}
        for name, net in self.networks.items():
            net.apply(init_dcgan_weights)
        self.optimizers = {
            name: optim.Adam(net.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
            for name, net in self.networks.items()}

    def generate(self, z, labels=None):
        return self.G(mg.cat([z, F.one_hot(labels, self.num_classes).float()], 1))

    def score(self, images, labels=None):
        """D's logit plus log P(label | image) from C: real-looking and clearly the digit."""
        logits, _ = self.D(images)
        score = logits.flatten()
        if labels is None:
            return score
        class_logits, _ = self.C(images)
        picked = F.one_hot(labels, self.num_classes).float() * F.log_softmax(class_logits, 1)
        return score + picked.sum(1)

    def train_step(self, real, labels, step):
        n = real.shape[0]
        mu, logvar = self.E(real, labels)
        reconstructed = self.generate(reparameterize(mu, logvar), labels)   # x_f
        prior = self.generate(self.sample_z(n), labels)                     # x_p

        # D: reals -> 1, reconstructions and prior samples -> 0. One forward for all three
        # (D has no BatchNorm, so batching them changes nothing).
        logits, _ = self.D(mg.cat([real, reconstructed.detach(), prior.detach()], 0))
        real_logits, recon_logits, prior_logits = logits[:n], logits[n:2 * n], logits[2 * n:]
        loss_d = d_loss(real_logits, recon_logits) + F.binary_cross_entropy_with_logits(
            prior_logits, mg.zeros(*prior_logits.shape, dtype=prior_logits.dtype))
        self._step("D", loss_d)
        # C: the digit of the real images.
        class_logits, _ = self.C(real)
        loss_c = F.cross_entropy(class_logits, labels)
        self._step("C", loss_c)
        metrics = {"loss_d": loss_d.item(), "loss_c": loss_c.item(),
                   "D(x)": mean_probability(real_logits),
                   "D(G(z))": mean_probability(prior_logits),
                   "acc_real": float((class_logits.detach().argmax(1) == labels)
                                     .float().mean().item())}

        # E and G: reconstruct (in pixels and in D's and C's features), stay near the
        # prior, and match D's and C's mean features with the prior samples.
        if step % self.config["d_steps"] == 0:
            with mg.no_grad():  # the targets, from the updated D and C
                _, real_fd = self.D(real)
                _, real_fc = self.C(real)
            fakes = mg.cat([reconstructed, prior], 0)
            _, fake_fd = self.D(fakes)
            _, fake_fc = self.C(fakes)
            kl = kl_divergence(mu, logvar)
            recon = pairwise_distance(real, reconstructed)
            loss_rec = (recon + pairwise_distance(real_fd, fake_fd[:n])
                        + pairwise_distance(real_fc, fake_fc[:n]))
            loss_gd = mean_feature_matching(real_fd, fake_fd[n:])
            loss_gc = class_mean_feature_matching(real_fc, labels, fake_fc[n:], labels,
                                                  self.num_classes)
            w = self.weights
            loss_g = (w["kl_weight"] * kl + w["recon_weight"] * loss_rec
                      + w["gd_weight"] * loss_gd + w["gc_weight"] * loss_gc)
            self.optimizers["E"].zero_grad()
            self.optimizers["G"].zero_grad()
            loss_g.backward()
            self.optimizers["E"].step()
            self.optimizers["G"].step()
            metrics.update({"loss_g": loss_g.item(), "kl": kl.item(), "recon": recon.item(),
                            "loss_gd": loss_gd.item(), "loss_gc": loss_gc.item()})
        return metrics

    def _step(self, name, loss):
        self.optimizers[name].zero_grad()
        loss.backward()
        self.optimizers[name].step()

"""The variational autoencoder (Kingma & Welling 2014) and its conditional version, the CVAE
(Sohn, Lee & Yan 2015): a generator trained without a discriminator.

An encoder maps an image x to a Gaussian over latent codes, q(z | x) = N(mu, diag(sigma^2)),
and a decoder maps a code back to an image. Training maximises the evidence lower bound,
i.e. minimises per image

    loss = recon + kl
    recon = -log p(x | z) = sum over pixels of BCE(decoder logits, (x + 1) / 2)
    kl    = KL(q(z | x) || N(0, I)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)

averaged over the batch (`kl_divergence`). z is drawn by the reparameterisation
z = mu + exp(logvar / 2) * eps with eps ~ N(0, I) (`reparameterize`): the randomness
sits in eps, so the gradient reaches mu and logvar through ordinary ops.

The decoder gives one Bernoulli logit per pixel, as the paper's MNIST models: the pixels,
mapped from [-1, 1] to [0, 1], are the targets of the binary cross-entropy. To
generate, the decoder's mean image sigmoid(logits) is mapped back to [-1, 1]:
2 sigmoid(a) - 1 = tanh(a / 2), so `generate` is a tanh of the halved logits.
Generation draws z ~ N(0, I), the prior the KL term pulls the codes towards.

The CVAE conditions both networks on the digit: one_hot(label) is concatenated to
the encoder's input [x, y] and to the decoder's [z, y], so the decoder learns
p(x | z, y) and generate(z, labels) draws the digit asked for.

Networks (the paper's MLPs, one hidden layer wider; ReLU):
    encoder: [flatten(x) (784), one_hot(y) (10, CVAE only)] -> Linear 512 -> ReLU
             -> Linear 256 -> ReLU -> Linear 2 * latent: (mu, logvar), latent = 20
    decoder: [z (20), one_hot(y) (10, CVAE only)] -> Linear 256 -> ReLU -> Linear 512
             -> ReLU -> Linear 784: logits (1, 28, 28)

Adam(1e-3, (0.9, 0.999)), batch 128, latent 20 (the defaults here). There is no
discriminator: `score` returns None, so --nice says it needs one; --d-steps is unused
(every step is one encoder+decoder update).

    python examples/mnist_vae.py                    # VAE
    python examples/mnist_vae.py --conditional      # CVAE (one class each, chosen there)
"""
import minigan as mg
import minigan.functional as F
from minigan import nn, optim

from .base import GANModel

PIXELS = 28 * 28


def reparameterize(mu, logvar, eps=None):
    """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) drawn here unless given.

    mu, logvar: (N, latent). dz/dmu = 1 and dz/dlogvar = exp(logvar / 2) * eps / 2, both
    from the ops (exp, mul, add); eps is a constant of the graph.
    """
    if eps is None:
        eps = mg.randn(*mu.shape, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def kl_divergence(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per sample, averaged over the batch:

        mean_n  -1/2 sum_j (1 + logvar[n, j] - mu[n, j]^2 - exp(logvar[n, j]))

    mu, logvar: (N, latent) -> a scalar Tensor. 0 exactly when mu = 0 and logvar = 0.
    """
    return (-0.5 * (1.0 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()


def bernoulli_reconstruction_loss(logits, images):
    """-log p(x | z) per image, averaged over the batch: the BCE of every pixel's logit
    against the pixel in [0, 1], summed over the image.

    logits: (N, 1, 28, 28) decoder outputs; images: (N, 1, 28, 28) in [-1, 1].
    """
    targets = (images + 1.0) * 0.5
    per_pixel = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return per_pixel.flatten(1).sum(1).mean()


class Encoder(nn.Module):
    """(images (N, 1, 28, 28), extra (N, E) or None) -> (mu, logvar), each (N, latent)."""

    def __init__(self, latent=20, extra=0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(PIXELS + extra, 512), nn.ReLU(),
            nn.Linear(512, 256), nn.ReLU(),
            nn.Linear(256, 2 * latent),
        )
        self.latent = latent

    def forward(self, images, extra=None):
        x = images.flatten(1)
        if extra is not None:
            x = mg.cat([x, extra], 1)
        stats = self.net(x)
        return stats[:, :self.latent], stats[:, self.latent:]


class Decoder(nn.Module):
    """(z (N, latent), extra (N, E) or None) -> pixel logits (N, 1, 28, 28)."""

    def __init__(self, latent=20, extra=0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent + extra, 256), nn.ReLU(),
            nn.Linear(256, 512), nn.ReLU(),
            nn.Linear(512, PIXELS), nn.Unflatten(1, (1, 28, 28)),
        )

    def forward(self, z, extra=None):
        if extra is not None:
            z = mg.cat([z, extra], 1)
        return self.net(z)


class VAE(GANModel):
    """The VAE: networks `encoder` and `decoder`, one Adam over both.
    Metrics: loss (= recon + kl), recon, kl; all per image, batch means."""

    name = "vae"
    defaults = {"lr": 1e-3, "beta1": 0.9, "z_dim": 20}
    common_options = ("beta1",)    # one optimizer, no discriminator: no --d-steps, no --nice
    plot_keys = ("loss", "recon", "kl")
    progress_keys = ("loss", "recon", "kl")

    @classmethod
    def add_arguments(cls, parser):
        # examples/mnist_vae.py reads this flag before parsing to pick VAE or CVAE; it is
        # declared here too so that --help lists it and the parser accepts it.
        parser.add_argument("--conditional", action="store_true",
                            help="train the CVAE: encoder and decoder also get one_hot(digit)")

    def condition(self, labels):
        """What the networks get besides their input: nothing for the VAE."""
        return None

    def build(self, config):
        extra = self.num_classes if self.conditional else 0
        self.encoder = Encoder(self.z_dim, extra)
        self.decoder = Decoder(self.z_dim, extra)
        self.networks = {"encoder": self.encoder, "decoder": self.decoder}
        params = list(self.encoder.parameters()) + list(self.decoder.parameters())
        self.optimizers = {"vae": optim.Adam(params, lr=config["lr"],
                                             betas=(config["beta1"], 0.999))}

    def generate(self, z, labels=None):
        """z (N, latent) -> the decoder's mean images in [-1, 1]: tanh(logits / 2)."""
        return (0.5 * self.decoder(z, self.condition(labels))).tanh()

    def train_step(self, real, labels, step):
        y = self.condition(labels)
        mu, logvar = self.encoder(real, y)
        logits = self.decoder(reparameterize(mu, logvar), y)
        recon = bernoulli_reconstruction_loss(logits, real)
        kl = kl_divergence(mu, logvar)
        loss = recon + kl
        opt = self.optimizers["vae"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "recon": recon.item(), "kl": kl.item()}


class CVAE(VAE):
    """The conditional VAE: one_hot(label) joins the encoder's and the decoder's input."""

    name = "cvae"
    conditional = True

    def condition(self, labels):
        return F.one_hot(labels, self.num_classes).float()

"""The auxiliary-classifier GAN (Odena, Olah & Shlens 2017): D also says which digit it sees.

The conditional GAN (cgan.py) shows D the label as input. ACGAN moves the label
to D's output instead: D gets the image alone and has two heads on one body,

    G: [z, one_hot(label)] (100 + 10) -> the DCGAN generator (dcgan.py) -> (1, 28, 28)
    D: (1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2)                 (64, 14, 14)
       -> Conv2d(64, 128, 4, 2, 1, no bias) -> BatchNorm2d -> LeakyReLU(0.2)   (128, 7, 7)
       -> flatten (6272) -> adversarial: Linear(6272, 1)    a real/fake logit
                         -> classifier:  Linear(6272, 10)   class logits

With BCE the adversarial loss and CE the cross-entropy of the class logits,
for real images x with labels y and fakes G(z, c) drawn for labels c ~ uniform:

    L_D = BCE(D(x) -> real) + BCE(D(G(z, c)) -> fake) + CE(class(x), y) + CE(class(G(z, c)), c)
    L_G = BCE(D(G(z, c)) -> real) + CE(class(G(z, c)), c)

Both players minimise the class loss: D learns to classify, G learns to draw
digits D classifies as the one asked for. The class loss is `F.cross_entropy`,
which is log_softmax followed by the negative log-likelihood in one stable
function: the logits go in as they are, never through a softmax first.
Adam(2e-4, (0.5, 0.999)) and the DCGAN initialisation, as the paper.
"""
import minigan as mg
import minigan.functional as F
from minigan import nn

from .base import GANModel
from .cgan import CGAN
from .dcgan import Generator, discriminator_layers
from .losses import d_loss, g_loss_non_saturating, mean_probability


def auxiliary_class_loss(class_logits, labels):
    """The mean negative log-likelihood of the labels under softmax(class_logits).

    class_logits: (N, C) raw scores; labels: (N,) int64 in [0, C).
    Returns -mean_n log_softmax(class_logits)[n, labels[n]], a scalar Tensor, via
    F.cross_entropy (one fused, stable log-softmax; d/dlogits = (softmax - one_hot) / N).
    """
    return F.cross_entropy(class_logits, labels)


def accuracy(class_logits, labels):
    """The fraction of rows whose largest logit is at their label, as a float."""
    predicted = class_logits.detach().argmax(1)
    return float((predicted == labels).float().mean().item())


class AuxiliaryClassifierDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> (adversarial logits (N, 1), class logits (N, num_classes)).

    The body is the DCGAN discriminator's convolutions; the two heads share it."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.body = nn.Sequential(*discriminator_layers(1), nn.Flatten())
        self.adversarial = nn.Linear(128 * 7 * 7, 1)
        self.classifier = nn.Linear(128 * 7 * 7, num_classes)

    def forward(self, x):
        features = self.body(x)
        return self.adversarial(features), self.classifier(features)


class ACGAN(CGAN):
    """CGAN's generator input [z, one_hot(label)]; D classifies instead of being told."""

    name = "acgan"
    # Its own train_step: none of the post-DCGAN tools DCGAN offers (tools.py).
    common_options = GANModel.common_options
    learning_rates = GANModel.learning_rates
    plot_keys = ("loss_d", "loss_g", "class_loss_real", "class_loss_fake")
    progress_keys = ("loss_d", "loss_g", "D(x)", "D(G(z))", "acc_real", "acc_fake")

    def make_networks(self):
        return (Generator(self.z_dim + self.num_classes),
                AuxiliaryClassifierDiscriminator(self.num_classes))

    def discriminator_input(self, images, labels):
        return images  # the label is what D must find out, not what it is told

    def score(self, images, labels=None):
        """log-odds of real, plus log p(label | image) when labels are given: for --nice,
        the samples D finds both most real and most clearly the digit asked for."""
        adversarial, class_logits = self.D(images)
        score = adversarial.flatten()
        if labels is None:
            return score
        picked = F.one_hot(labels, self.num_classes).float() * F.log_softmax(class_logits, 1)
        return score + picked.sum(1)

    def train_step(self, real, labels, step):
        opt_g, opt_d = self.optimizers["G"], self.optimizers["D"]
        n = real.shape[0]
        fake_labels = mg.randint(0, self.num_classes, n)  # c ~ uniform, as the paper
        fake = self.generate(self.sample_z(n), fake_labels)

        # Discriminator: real/fake, and the class of both. fake.detach(): G is not updated here.
        real_logits, real_classes = self.D(real)
        fake_logits, fake_classes = self.D(fake.detach())
        class_loss_real = auxiliary_class_loss(real_classes, labels)
        class_loss_fake = auxiliary_class_loss(fake_classes, fake_labels)
        loss_d = d_loss(real_logits, fake_logits) + class_loss_real + class_loss_fake
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        metrics = {"loss_d": loss_d.item(), "D(x)": mean_probability(real_logits),
                   "D(G(z))": mean_probability(fake_logits),
                   "class_loss_real": class_loss_real.item(),
                   "class_loss_fake": class_loss_fake.item(),
                   "acc_real": accuracy(real_classes, labels),
                   "acc_fake": accuracy(fake_classes, fake_labels)}

        # Generator: fakes that D calls real and classifies as the label they were drawn for.
        if step % self.config["d_steps"] == 0:
            logits, classes = self.D(fake)
            loss_g = g_loss_non_saturating(logits) + auxiliary_class_loss(classes, fake_labels)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            metrics["loss_g"] = loss_g.item()
        return metrics

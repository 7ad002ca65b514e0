"""The adversarial losses, written once and shared by the models.

With D(x) a logit (no sigmoid in the network) and sigma the sigmoid:

    discriminator (all BCE GANs):  -log sigma(D(x)) - log(1 - sigma(D(G(z))))
    generator, minimax (the 2014 paper's game):   log(1 - sigma(D(G(z))))
    generator, non-saturating (the paper's trick): -log sigma(D(G(z)))
    critic (WGAN):     D(G(z)) - D(x)        generator (WGAN):  -D(G(z))

BCE-with-logits computes each log-sigmoid stably from the logit.
"""
import minigan as mg
import minigan.functional as F


def _full_like(logits, value):
    return mg.full(logits.shape, value, dtype=logits.dtype)


def d_loss(real_logits, fake_logits):
    """The discriminator's binary cross-entropy: real -> 1, fake -> 0."""
    # BEGIN TASK 5.1
    return (F.binary_cross_entropy_with_logits(real_logits, _full_like(real_logits, 1.0))
            + F.binary_cross_entropy_with_logits(fake_logits, _full_like(fake_logits, 0.0)))
    # END TASK 5.1


def g_loss_non_saturating(fake_logits):
    """-log sigma(D(G(z))): strong gradients when D confidently rejects the fakes."""
    # BEGIN TASK 5.1
    return F.binary_cross_entropy_with_logits(fake_logits, _full_like(fake_logits, 1.0))
    # END TASK 5.1


def g_loss_minimax(fake_logits):
    """log(1 - sigma(D(G(z)))) = -BCE(D(G(z)), 0): the original game, whose gradient
    vanishes when D wins, which it does early in training."""
    return -F.binary_cross_entropy_with_logits(fake_logits, _full_like(fake_logits, 0.0))


def critic_loss(real_scores, fake_scores):
    """WGAN critic: minimise D(G(z)) - D(x), an estimate of minus the Wasserstein-1 distance."""
    # BEGIN TASK 6.2
    return fake_scores.mean() - real_scores.mean()
    # END TASK 6.2


def wasserstein_g_loss(fake_scores):
    # BEGIN TASK 6.2
    return -fake_scores.mean()
    # END TASK 6.2


def gradient_penalty(critic, real, fake, *critic_args):
    """WGAN-GP: E[(||d critic(x_hat) / d x_hat||_2 - 1)^2] on random interpolates x_hat.

    The gradient is taken with create_graph=True, so the penalty itself can be
    differentiated w.r.t. the critic's weights (a second derivative).
    """
    # BEGIN TASK 6.1
    n = real.shape[0]
    alpha = mg.rand(n, 1, 1, 1, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_()
    scores = critic(x_hat, *critic_args)
    (grads,) = mg.grad(scores.sum(), x_hat, create_graph=True)
    norms = (grads.flatten(1) ** 2).sum(1).add(1e-12).sqrt()
    return ((norms - 1.0) ** 2).mean()
    # END TASK 6.1


def mean_probability(logits):
    """The mean of sigma(logits) as a float: D(x) or D(G(z)) for the progress bar."""
    return float(F.sigmoid(logits.detach()).mean().item())

"""The adversarial losses, written once and shared by the models.

With D(x) a logit (no sigmoid in the network) and sigma the sigmoid:

    discriminator (all BCE GANs):  -log sigma(D(x)) - log(1 - sigma(D(G(z))))
    generator, minimax (the 2014 paper's game):   log(1 - sigma(D(G(z))))
    generator, non-saturating (the paper's trick): -log sigma(D(G(z)))
    critic (WGAN):     D(G(z)) - D(x)        generator (WGAN):  -D(G(z))
    hinge (D):  relu(1 - D(x)) + relu(1 + D(G(z)))      hinge (G):  -D(G(z))
    relativistic average (D):  BCE(D(x) - mean D(G(z)), 1) + BCE(D(G(z)) - mean D(x), 0)
    relativistic average (G):  BCE(D(G(z)) - mean D(x), 1) + BCE(D(x) - mean D(G(z)), 0)
    R1 penalty on real images:  gamma / 2 * ||grad_x D(x)||^2
    top-k (G):  the G loss over only the k fakes D scores most real

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


# --- the hinge loss and the R1 penalty (--loss hinge, --r1) ------------------------------

def d_hinge_loss(real_logits, fake_logits):
    """The hinge loss of geometric GAN / SN-GAN / BigGAN for D:
    mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))). D stops pushing a sample once
    it is beyond the margin (D(x) >= 1, D(G(z)) <= -1), so it cannot run away."""
    return (1.0 - real_logits).relu().mean() + (1.0 + fake_logits).relu().mean()


def g_hinge_loss(fake_logits):
    """The generator's side of the hinge game: -mean(D(G(z)))."""
    return -fake_logits.mean()


def d_relativistic_loss(real_logits, fake_logits):
    """The relativistic average GAN's D loss (RaSGAN, Jolicoeur-Martineau 2018): D is
    asked not whether an image is real, but whether it is more real than the other
    side's images are on average:
        BCE(D(x) - mean D(G(z)), 1) + BCE(D(G(z)) - mean D(x), 0)."""
    return (F.binary_cross_entropy_with_logits(real_logits - fake_logits.mean(),
                                               _full_like(real_logits, 1.0))
            + F.binary_cross_entropy_with_logits(fake_logits - real_logits.mean(),
                                                 _full_like(fake_logits, 0.0)))


def g_relativistic_loss(fake_logits, real_logits):
    """RaSGAN's G loss, D's with the labels swapped: the fakes should look more real
    than the reals do on average, and the reals less real than the fakes,
        BCE(D(G(z)) - mean D(x), 1) + BCE(D(x) - mean D(G(z)), 0).
    Unlike the other G losses it reads D on real images too; G's gradient reaches both
    terms through mean D(G(z))."""
    return d_relativistic_loss(fake_logits, real_logits)


def top_k(fake_logits, k):
    """Top-k training (Sinha et al. 2020): of a batch of D's logits on fakes, the k that D
    scores most real (the largest), for the G loss, which then sends no gradient into the
    other fakes. The fakes D rejects most are far from any real digit, and the gradient
    D gives them points to wherever D's surface happens to rise, not towards the
    nearest digit: the paper finds it can push them further from it.

    fake_logits: (N, 1) or (N,). Returns those rows, highest logit first (ties: the
    earlier row first)."""
    xp = fake_logits.xp
    scores = fake_logits.data.reshape(fake_logits.shape[0])
    best = xp.argsort(-scores, kind="stable")[:k]
    return fake_logits[best]


def r1_penalty(discriminator, real, *discriminator_args):
    """R1 (Mescheder et al. 2018): E[ ||d D(x) / d x||^2 ] on real images, to be scaled by
    gamma / 2. It pushes D's surface flat where the data is, so that the game has a
    stable equilibrium there. The gradient is taken with create_graph=True, so the
    penalty's own gradient w.r.t. D's weights is a second derivative.

    Returns (penalty, logits of the real images): the logits serve the D loss too, so
    D runs once on the reals."""
    x = real.detach().requires_grad_()
    logits = discriminator(x, *discriminator_args)
    (grads,) = mg.grad(logits.sum(), x, create_graph=True)
    return (grads.flatten(1) ** 2).sum(1).mean(), logits

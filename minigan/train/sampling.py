"""Drawing from a trained generator: batches of samples, the best of many, latent walks."""
import numpy as np

import minigan as mg


def generate_samples(model, n, labels=None, batch_size=500):
    """n images (n, C, H, W) float32 in [-1, 1] ((n, 1, 28, 28) for MNIST), as a NumPy
    array, generator in eval mode.

    labels: an int array (n,) for conditional models (None otherwise).
    """
    model.eval()
    images = []
    with mg.no_grad():
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            z = model.sample_z(stop - start)
            y = None if labels is None else mg.tensor(labels[start:stop])
            images.append(model.generate(z, y).numpy())
    return np.concatenate(images).astype(np.float32)


def score_samples(model, images, labels=None, batch_size=500):
    """The discriminator's realness score of each image (higher = more real), or None."""
    model.eval()
    scores = []
    with mg.no_grad():
        for start in range(0, len(images), batch_size):
            stop = min(len(images), start + batch_size)
            y = None if labels is None else mg.tensor(labels[start:stop])
            s = model.score(mg.tensor(images[start:stop]), y)
            if s is None:
                return None
            scores.append(s.numpy())
    return np.concatenate(scores)


def nicest_samples(model, n, labels=None, oversample=20):
    """The best n of oversample * n samples as ranked by the discriminator.

    For conditional models the ranking is within each label, so the label
    proportions asked for are kept.
    """
    if labels is None:
        images = generate_samples(model, oversample * n)
        scores = score_samples(model, images)
        if scores is None:
            raise ValueError(f"--nice needs a discriminator to rank samples; {model.name} has none")
        return images[np.argsort(-scores)[:n]], None
    many = np.repeat(labels, oversample)
    images = generate_samples(model, len(many), many)
    scores = score_samples(model, images, many)
    if scores is None:
        raise ValueError(f"--nice needs a discriminator to rank samples; {model.name} has none")
    chosen = []
    for label in np.unique(labels):
        wanted = int((labels == label).sum())
        candidates = np.flatnonzero(many == label)
        chosen.extend(candidates[np.argsort(-scores[candidates])[:wanted]])
    chosen = np.array(sorted(chosen))
    return images[chosen], many[chosen]


def slerp(z0, z1, t):
    """Spherical interpolation between latent vectors (NumPy, (d,) each), t in [0, 1].

    Gaussian latents concentrate near a sphere; walking along the great circle
    keeps every point at a typical norm, unlike a straight line through the middle.
    """
    cos = np.dot(z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def latent_walk(model, rows=8, steps=10, seed=0):
    """A grid of `rows` walks, each `steps` images slerping between two random z.
    Conditional models keep one digit per row. Returns (images, labels or None)."""
    rng = np.random.default_rng(seed)
    noise = np.stack([slerp(a, b, t)
                      for a, b in zip(rng.standard_normal((rows, model.z_dim)),
                                      rng.standard_normal((rows, model.z_dim)))
                      for t in np.linspace(0, 1, steps)])
    z, labels = model.walk_inputs(noise, np.repeat(np.arange(rows), steps))
    model.eval()
    with mg.no_grad():
        images = model.generate(z, labels)
    return images.numpy(), None if labels is None else labels.numpy()

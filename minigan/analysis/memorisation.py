"""Is the generator copying its training set? (the DCGAN paper, section 6.1)

The paper walks the latent space (smooth transitions mean no memorisation) and
shows nearest training neighbours. Here, for generated samples and, as the
yardstick, for real test digits the generator never saw, the nearest MNIST
training image in two spaces:

    pixels      Euclidean distance between images in [-1, 1] (784 numbers)
    D features  Euclidean distance between discriminator_features (3072 numbers)

A generator that copied training digits would sit far below the test digits'
distances (a copy is at distance 0); one that draws new digits sits near them.
"""
import numpy as np

from .features import discriminator_features


def nearest(queries, references, batch_size=500):
    """For each query row, (index, Euclidean distance) of its nearest reference row.

    queries (N, D), references (M, D): distances from |q|^2 + |r|^2 - 2 q.r in float64
    in blocks of batch_size queries. Returns (indices (N,), distances (N,))."""
    queries = np.asarray(queries, dtype=np.float64).reshape(len(queries), -1)
    references = np.asarray(references, dtype=np.float64).reshape(len(references), -1)
    r2 = (references ** 2).sum(axis=1)
    indices, distances = [], []
    for start in range(0, len(queries), batch_size):
        q = queries[start:start + batch_size]
        d2 = (q ** 2).sum(axis=1)[:, None] + r2[None] - 2 * q @ references.T
        best = d2.argmin(axis=1)
        indices.append(best)
        distances.append(np.sqrt(np.maximum(d2[np.arange(len(q)), best], 0)))
    return np.concatenate(indices), np.concatenate(distances)


def neighbour_experiment(D, samples, test_images, train_images):
    """Nearest training images of samples and of test digits, in pixels and D features.

    samples, test_images, train_images: NumPy (N, 1, 28, 28) in [-1, 1].
    Returns (results, found): results {"pixels": {...}, "d_features": {...}} each with
    "samples_mean", "samples_median", "test_mean", "test_median" (nearest distances) and
    "samples_below_test_min" (the fraction of samples nearer than any test digit gets);
    found {"pixels": indices (N,), "d_features": indices (N,)} of the samples' neighbours.
    """
    spaces = {"pixels": lambda x: x.reshape(len(x), -1),
              "d_features": lambda x: discriminator_features(D, x)}
    results, found = {}, {}
    for name, embed in spaces.items():
        reference = embed(train_images)
        index, d_samples = nearest(embed(samples), reference)
        _, d_test = nearest(embed(test_images), reference)
        found[name] = index
        results[name] = {
            "samples_mean": float(d_samples.mean()), "samples_median": float(np.median(d_samples)),
            "test_mean": float(d_test.mean()), "test_median": float(np.median(d_test)),
            "samples_below_test_min": float(np.mean(d_samples < d_test.min())),
            "samples_distances": [float(d) for d in d_samples],
        }
    return results, found

"""k-means: split a set of points into k clusters, each around its mean (Lloyd's algorithm).

    centroids, assignments = kmeans(points, k, seed=0)

points (N, D) float; centroids (k, D) float32, the mean of each cluster's points;
assignments (N,) int64, the cluster of each point: the index of its nearest centroid.

Lloyd's algorithm alternates two steps until no point changes cluster:
    assign  each point to its nearest centroid (squared Euclidean distance),
    update  each centroid to the mean of the points assigned to it.
Each step can only lower the sum of squared distances, so it stops, at a local
minimum. Which one depends on the start: k-means++ (Arthur & Vassilvitskii 2007)
picks the first centroid uniformly among the points and each next one with
probability proportional to a point's squared distance to the nearest centroid
picked so far, so the starts are spread out.

Both steps are matrix products over all points at once: the squared distances are
    ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2      (one (N, D) @ (D, k) product)
and the sums of each cluster's points are one_hot(assignments)^T @ points.

The GAN programs use it for --clusters (minigan/gan/dcgan.py): k clusters of the
training images' pixels, found without their labels, that the generator and the
discriminator are then conditioned on, as the conditional GAN is on the digits.
"""
import numpy as np

__all__ = ["kmeans", "nearest_centroid"]


def squared_distances(points, centroids):
    """(N, k): ||points[n] - centroids[j]||^2, by the expansion above (clipped at 0,
    which round-off can cross for a point on a centroid)."""
    d = ((points * points).sum(1)[:, None] - 2.0 * (points @ centroids.T)
         + (centroids * centroids).sum(1)[None, :])
    return np.maximum(d, 0.0)


def nearest_centroid(points, centroids):
    """(N,) int64: the index of the centroid nearest to each point (the lowest index
    on a tie)."""
    points, centroids = _as_float32(points, "points"), _as_float32(centroids, "centroids")
    if points.shape[1] != centroids.shape[1]:
        raise ValueError(f"nearest_centroid: expected points with {centroids.shape[1]} "
                         f"features, as the centroids have, got {points.shape[1]}")
    return squared_distances(points, centroids).argmin(1).astype(np.int64)


def kmeans_plus_plus(points, k, rng):
    """k starting centroids (k, D) chosen among the points by k-means++ (docstring)."""
    n = len(points)
    chosen = [int(rng.integers(n))]
    nearest = squared_distances(points, points[chosen]).ravel()
    for _ in range(k - 1):
        total = nearest.sum()
        if total <= 0:  # every point sits on a centroid already: take any other one
            index = int(rng.integers(n))
        else:
            index = int(rng.choice(n, p=nearest / total))
        chosen.append(index)
        nearest = np.minimum(nearest, squared_distances(points, points[index:index + 1]).ravel())
    return points[chosen].copy()


def kmeans(points, k, seed=0, max_iterations=100):
    """Cluster points (N, D) into k clusters: (centroids (k, D) float32, assignments (N,)).

    Starts from k-means++ with numpy.random.default_rng(seed), so the same points and
    seed give the same clusters; runs Lloyd's steps until no assignment changes or
    for max_iterations. A cluster left empty keeps its previous centroid.
    """
    points = _as_float32(points, "points")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(points):
        raise ValueError(f"kmeans: expected k to be an integer from 1 to the number of "
                         f"points ({len(points)}), got {k!r}")
    rng = np.random.default_rng(seed)
    centroids = kmeans_plus_plus(points, k, rng)
    assignments = None
    for _ in range(max_iterations):
        new = squared_distances(points, centroids).argmin(1)  # assign
        if assignments is not None and np.array_equal(new, assignments):
            break
        assignments = new
        one_hot = np.zeros((len(points), k), dtype=np.float32)
        one_hot[np.arange(len(points)), assignments] = 1.0
        counts = one_hot.sum(0)
        sums = one_hot.T @ points  # update: each cluster's sum of points ...
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]  # ... over its count
    return centroids, assignments.astype(np.int64)


def _as_float32(array, name):
    array = np.asarray(array)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number) or len(array) == 0:
        raise ValueError(f"kmeans: expected {name} as a non-empty 2-D array of numbers "
                         f"(N, D), got shape {array.shape} of {array.dtype}")
    return array.astype(np.float32, copy=False)

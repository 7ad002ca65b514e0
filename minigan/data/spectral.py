"""Spectral clustering of k-means clusters: k groups of points that k-means alone would cut badly.

    centroids, groups, assignments = spectral_kmeans(points, k, fine=200, seed=0)

points (N, D) float; centroids (fine, D) float32, the mean of each of `fine` small
k-means clusters; groups (fine,) int64, the group (0..k-1) each small cluster joins;
assignments (N,) int64, each point's group: groups[its nearest centroid].

k-means (kmeans.py) cuts space into k convex cells around k means. On MNIST's
pixels that cuts across digits: with k = 10 the digit most common in each cluster
covers only about 60% of its images. A digit's images are not a round blob around
one mean but a curved sheet of images that shade into one another by small changes
of stroke; what holds a digit together is that each of its images has near
neighbours of the same digit.
Spectral clustering groups points by that: points joined by chains of near
neighbours go together, however far apart the chain's ends are.

On N points it would need an N x N graph. The approximation here (KASP, Yan, Huang
& Jordan 2009, "Fast approximate spectral clustering") makes the graph's nodes
`fine` small k-means clusters instead, each small enough to hold one digit:

  1. k-means into `fine` small clusters (many more than k: 200 for 10 digits);
  2. the k-nearest-neighbour graph of the points (`neighbours` each, Euclidean),
     counted between clusters: W[i, j] = the edges from a point of cluster i to one
     of cluster j, symmetrised. Two clusters are near when their points are;
  3. the normalised affinity A = D^-1/2 W D^-1/2 (D: W's row sums); the top k
     eigenvectors of A place each cluster in R^k (rows scaled to unit length: Ng,
     Jordan & Weiss 2002), where clusters chained by many edges sit together;
  4. k-means of those k-dimensional rows into k groups (the best of a few starts).

On MNIST's first 20,000 training images (fine = 200, neighbours = 10) the most
common digit of each of the 10 groups covers 78-79% of the images (k-means
alone: 57-61%), in 13-15 s on two cores (`python benchmarks/clusters.py`, seeds 0-3).
"""
import numpy as np

from .kmeans import _as_float32, kmeans, squared_distances

__all__ = ["spectral_kmeans", "cluster_graph", "spectral_groups"]

ROWS_PER_BLOCK = 2000  # the kNN search's distance matrix, (block, N), one block at a time


def cluster_graph(points, assignments, clusters, neighbours=10):
    """W (clusters, clusters) float64: for each point, its `neighbours` nearest other
    points, each such edge counted between the two points' clusters, then W + W.T.

    The distances are computed ROWS_PER_BLOCK points at a time (a (block, N) matrix)
    so the memory stays O(block * N), not O(N^2)."""
    points = _as_float32(points, "points")
    n = len(points)
    if not 1 <= neighbours < n:
        raise ValueError(f"cluster_graph: expected neighbours from 1 to {n - 1} "
                         f"(fewer than the points), got {neighbours!r}")
    W = np.zeros((clusters, clusters))
    for start in range(0, n, ROWS_PER_BLOCK):
        stop = min(n, start + ROWS_PER_BLOCK)
        d = squared_distances(points[start:stop], points)
        d[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
        nearest = np.argpartition(d, neighbours, axis=1)[:, :neighbours]
        np.add.at(W, (np.repeat(assignments[start:stop], neighbours),
                      assignments[nearest].ravel()), 1.0)
    return W + W.T


def spectral_groups(W, k, seed=0, starts=5):
    """Group the nodes of a graph W (M, M) into k: (M,) int64 (steps 3-4 above)."""
    degree = W.sum(1)
    if np.any(degree <= 0):
        raise ValueError("spectral_groups: every node needs an edge (a cluster with no "
                         "points has none); give fewer clusters")
    scale = 1.0 / np.sqrt(degree)
    A = W * scale[:, None] * scale[None, :]
    _, vectors = np.linalg.eigh(A)  # eigenvalues ascending: the top k are the last k
    rows = vectors[:, -k:]
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    best, best_inertia = None, np.inf
    for start in range(starts):  # k-means from a few starts, the tightest kept
        centres, groups = kmeans(rows, k, seed=seed * starts + start)
        inertia = float(((rows - centres[groups]) ** 2).sum())
        if inertia < best_inertia:
            best, best_inertia = groups, inertia
    return best


def spectral_kmeans(points, k, fine=200, neighbours=10, seed=0):
    """k groups of points (N, D), steps 1-4 above: (centroids (fine, D), groups (fine,),
    assignments (N,)). The same points and seed give the same groups."""
    points = _as_float32(points, "points")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"spectral_kmeans: expected k to be a positive integer, got {k!r}")
    if isinstance(fine, bool) or not isinstance(fine, (int, np.integer)) \
            or not k < fine <= len(points):
        raise ValueError(f"spectral_kmeans: expected fine (the small clusters) to be an "
                         f"integer above k ({k}) and at most the number of points "
                         f"({len(points)}), got {fine!r}")
    centroids, fine_assignments = kmeans(points, fine, seed=seed)
    used = np.flatnonzero(np.bincount(fine_assignments, minlength=fine) > 0)
    renumbered = np.full(fine, -1)
    renumbered[used] = np.arange(len(used))  # a small cluster left empty has no edges:
    W = cluster_graph(points, renumbered[fine_assignments], len(used), neighbours)
    groups = np.empty(fine, dtype=np.int64)
    groups[used] = spectral_groups(W, k, seed=seed)
    empty = np.flatnonzero(renumbered < 0)  # ... it joins its nearest used one's group
    if len(empty):
        nearest = squared_distances(centroids[empty], centroids[used]).argmin(1)
        groups[empty] = groups[used[nearest]]
    return centroids, groups, groups[fine_assignments]

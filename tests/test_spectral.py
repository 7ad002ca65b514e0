"""minigan.data.spectral: k groups of points from the nearest-neighbour graph of small
k-means clusters (KASP), for --fine-clusters. Checked by hand on tiny graphs, on two
shapes k-means cannot split (concentric rings), and for bad input."""
import numpy as np
import pytest

from minigan.data.kmeans import kmeans
from minigan.data.spectral import cluster_graph, spectral_groups, spectral_kmeans


def rings(per_ring=150, seed=0):
    """Two concentric rings in 2-D, radii 1 and 4 (their means coincide): (points, ring)."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, 2 * per_ring)
    ring = np.repeat([0, 1], per_ring)
    radius = np.where(ring == 0, 1.0, 4.0) + rng.normal(0, 0.05, 2 * per_ring)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return points.astype(np.float32), ring


def same_partition(a, b):
    """a and b put the same points together (group numbers may differ)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_the_graph_counts_each_points_nearest_neighbours_between_clusters():
    # four points on a line, 0 1 | 10 11, clusters [0, 0, 1, 1]; one neighbour each:
    # 0 -> 1, 1 -> 0, 10 -> 11, 11 -> 10, all within their cluster; symmetrised: 4 each
    points = np.array([[0.0], [1.0], [10.0], [11.0]])
    W = cluster_graph(points, np.array([0, 0, 1, 1]), 2, neighbours=1)
    np.testing.assert_array_equal(W, [[4, 0], [0, 4]])
    # clusters [0, 1, 1, 0]: the edges 0-1 and 10-11 now join the two clusters
    W = cluster_graph(points, np.array([0, 1, 1, 0]), 2, neighbours=1)
    np.testing.assert_array_equal(W, [[0, 4], [4, 0]])


def test_the_graph_is_the_same_when_searched_in_blocks(monkeypatch):
    from minigan.data import spectral
    points, _ = rings(40)
    assignments = np.arange(80) % 7
    whole = cluster_graph(points, assignments, 7, neighbours=3)
    monkeypatch.setattr(spectral, "ROWS_PER_BLOCK", 9)  # 80 rows in blocks of 9
    np.testing.assert_array_equal(cluster_graph(points, assignments, 7, neighbours=3), whole)
    assert whole.sum() == 2 * 80 * 3  # every edge counted once each way


def test_a_graph_of_separate_blocks_is_split_into_its_blocks():
    W = np.zeros((6, 6))
    for block in ([0, 2, 4], [1, 3], [5]):
        W[np.ix_(block, block)] = 1.0
    W[0, 1] = W[1, 0] = 0.01  # a weak tie between two blocks does not join them
    groups = spectral_groups(W, 3)
    assert same_partition(groups, np.array([0, 1, 0, 1, 0, 2]))


def test_rings_that_kmeans_cuts_in_half_are_found_whole():
    points, ring = rings()
    _, by_kmeans = kmeans(points, 2, seed=0)
    assert not same_partition(by_kmeans, ring)  # k-means splits the plane by a line
    centroids, groups, assignments = spectral_kmeans(points, 2, fine=30, neighbours=10)
    assert same_partition(assignments, ring)
    assert centroids.shape == (30, 2) and groups.shape == (30,)
    # each point's group is the group of its small cluster: its nearest centroid's
    nearest = ((points[:, None] - centroids[None]) ** 2).sum(2).argmin(1)
    np.testing.assert_array_equal(assignments, groups[nearest])


def test_the_same_points_and_seed_give_the_same_groups():
    points, _ = rings(60)
    a = spectral_kmeans(points, 2, fine=12, neighbours=4, seed=3)
    b = spectral_kmeans(points, 2, fine=12, neighbours=4, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_an_empty_small_cluster_joins_the_group_of_its_nearest_centroid():
    # three blobs of ten identical points: k-means++ runs out of distinct starts after
    # three, so some of the eight small clusters start on a duplicate and stay empty
    points = np.repeat(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), 10, 0)
    centroids, groups, assignments = spectral_kmeans(points, 3, fine=8, neighbours=3)
    counts = np.bincount(((points[:, None] - centroids[None]) ** 2).sum(2).argmin(1),
                         minlength=8)
    assert (counts == 0).any()  # the case this test is about
    assert same_partition(assignments, np.repeat([0, 1, 2], 10))
    for empty in np.flatnonzero(counts == 0):
        used = np.flatnonzero(counts > 0)
        nearest = used[((centroids[used] - centroids[empty]) ** 2).sum(1).argmin()]
        assert groups[empty] == groups[nearest]


@pytest.mark.parametrize("k, fine, message", [
    (3, 3, "an integer above k"), (2, 500, "at most the number of points"),
    (0, 10, "k to be a positive integer"), (2, 5.0, "an integer above k")])
def test_bad_sizes_say_what_was_expected(k, fine, message):
    points, _ = rings(20)
    with pytest.raises(ValueError, match=message):
        spectral_kmeans(points, k, fine=fine)


def test_too_many_neighbours_say_what_was_expected():
    points, _ = rings(5)
    with pytest.raises(ValueError, match="neighbours from 1 to 9"):
        cluster_graph(points, np.zeros(10, dtype=np.int64), 1, neighbours=10)

"""minigan.data.kmeans: Lloyd's k-means from a k-means++ start, the clusters of --clusters."""
import numpy as np
import pytest

from minigan.data.kmeans import kmeans, kmeans_plus_plus, nearest_centroid


def blobs(seed=0, per_blob=50):
    """Three tight, far-apart blobs in 2-D: (points (150, 2), which blob (150,))."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    which = np.repeat(np.arange(3), per_blob)
    return centres[which] + 0.1 * rng.standard_normal((3 * per_blob, 2)), which


def test_two_pairs_on_a_line_by_hand():
    centroids, assignments = kmeans(np.array([[0.0], [1.0], [10.0], [11.0]]), 2)
    order = np.argsort(centroids[:, 0])
    np.testing.assert_allclose(centroids[order, 0], [0.5, 10.5])
    assert assignments[0] == assignments[1] != assignments[2] == assignments[3]


def test_far_apart_blobs_are_found_whatever_the_seed():
    points, which = blobs()
    for seed in range(5):
        centroids, assignments = kmeans(points, 3, seed=seed)
        # the same partition, up to the clusters' numbering
        pairs = set(zip(assignments.tolist(), which.tolist()))
        assert len(pairs) == 3 and len({a for a, _ in pairs}) == 3
        for a, b in pairs:
            np.testing.assert_allclose(centroids[a], points[which == b].mean(0), rtol=1e-5,
                                       atol=1e-6)


def test_the_result_is_a_fixed_point_of_lloyds_two_steps():
    rng = np.random.default_rng(3)
    points = rng.standard_normal((400, 5)).astype(np.float32)
    centroids, assignments = kmeans(points, 7, seed=1)
    assert centroids.shape == (7, 5) and centroids.dtype == np.float32
    assert assignments.shape == (400,) and assignments.dtype == np.int64
    # assign: each point is in the cluster of its nearest centroid (brute force)
    distances = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
    np.testing.assert_array_equal(assignments, distances.argmin(1))
    np.testing.assert_array_equal(nearest_centroid(points, centroids), assignments)
    # update: each centroid is the mean of its points
    for j in range(7):
        np.testing.assert_allclose(centroids[j], points[assignments == j].mean(0), rtol=1e-5,
                                   atol=1e-6)


def test_the_same_seed_gives_the_same_clusters():
    points = np.random.default_rng(4).random((300, 3))
    first, second = kmeans(points, 5, seed=2), kmeans(points, 5, seed=2)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_kmeans_plus_plus_never_picks_a_point_twice_while_others_are_farther():
    points = np.array([[0.0], [0.0], [0.0], [5.0]], dtype=np.float32)
    start = kmeans_plus_plus(points, 2, np.random.default_rng(0))
    assert sorted(start[:, 0].tolist()) == [0.0, 5.0]  # the second pick is the far point


def test_a_tie_goes_to_the_lowest_index():
    assert nearest_centroid(np.array([[1.0]]), np.array([[0.0], [2.0]])).tolist() == [0]


@pytest.mark.parametrize("points, k, match", [
    (np.zeros((4, 2)), 0, "k to be an integer from 1 to the number of points"),
    (np.zeros((4, 2)), 5, "k to be an integer from 1 to the number of points"),
    (np.zeros((4, 2)), 2.0, "k to be an integer"),
    (np.zeros(4), 2, r"points as a non-empty 2-D array"),
    (np.zeros((0, 2)), 1, r"points as a non-empty 2-D array"),
])
def test_bad_input_is_one_clear_error(points, k, match):
    with pytest.raises(ValueError, match=match):
        kmeans(points, k)


def test_nearest_centroid_checks_the_feature_count():
    with pytest.raises(ValueError, match="expected points with 3 features"):
        nearest_centroid(np.zeros((2, 2)), np.zeros((4, 3)))

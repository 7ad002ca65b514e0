"""--clusters K on the DCGAN: a self-conditioned GAN (Liu et al. 2020) on k-means clusters.

The training images' pixels are clustered once (minigan/data/kmeans.py); G gets
[z | one_hot(c)] and D the image with K one-hot cluster planes, c being a real image's
nearest centroid, and for a sample a cluster drawn with its share of the data. No
label is read. These tests check each part, and that a run resumes bit for bit.

Runs are tiny (--train-size 256 at batch 32, 4 steps, no evaluation)."""
import numpy as np
import pytest

import minigan as mg
from minigan.data.kmeans import kmeans
from minigan.gan import CGAN, DCGAN, InfoGAN
from minigan.gan.dcgan import Discriminator
from minigan.gan.planes import label_planes, planes_conv2d, planes_conv2d_written_out
from minigan.gan.dcgan64 import DCGAN64
from minigan.train import main

from minigan.data.loader import images_to_float

from .helpers import needs_mnist, resumed_in_halves, run_program
from .test_training_tools import SMALL, config_for, flags, images


def clustered(k=3, *argv, seed=0, fit=True):
    """A small DCGAN (z 8) with --clusters k, in train mode, its clusters fitted to 60 images
    of three kinds: all -0.9, all 0, all 0.9 (k=3 finds exactly those)."""
    mg.manual_seed(seed)
    model = DCGAN(config_for(DCGAN, "--z-dim", "8", "--clusters", str(k), *argv))
    if fit:
        model.clusters.fit(three_kinds())
    model.train()
    return model


def three_kinds(per_kind=20):
    levels = np.repeat([-0.9, 0.0, 0.9], per_kind).astype(np.float32)
    noise = np.random.default_rng(0).uniform(-0.05, 0.05, (3 * per_kind, 1, 28, 28))
    return (levels[:, None, None, None] + noise).astype(np.float32)


def test_clusters_are_offered_to_the_28x28_dcgan_only():
    assert "--clusters" in flags(DCGAN)
    for model_cls in (CGAN, InfoGAN, DCGAN64):  # labels; codes of its own; 64x64 networks
        assert "--clusters" not in flags(model_cls)
    assert not {"--info-code", "--info-weight"} & flags(DCGAN64)  # its D has no Q head


def test_clusters_with_an_info_code_is_one_error_line(tmp_path, capsys):
    argv = [*SMALL, "--out", str(tmp_path / "run"), "--clusters", "3", "--info-code", "3"]
    assert main(DCGAN, argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --clusters K and --info-code C would both put a one-hot code "
                   "after z on G's input: choose one (--clusters 0 turns off --recipe "
                   "modern's)"]


def test_g_reads_z_then_the_cluster_and_d_reads_k_more_planes():
    model = clustered(3)
    assert model.G.net[0].in_features == 8 + 3
    assert model.D.net[0].in_channels == 1 + 3
    state = model.networks["clusters"].state_dict()
    assert set(state) == {"centroids", "shares"} and state["centroids"].shape == (3, 784)
    x = images(4)
    clusters = mg.tensor(np.array([2, 0, 1, 2], dtype=np.int64))
    expected = model.D(mg.cat([x, label_planes(clusters, 3, 28, 28)], 1))  # written out
    np.testing.assert_allclose(model.discriminate(x, clusters).numpy(), expected.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_fitting_finds_the_kmeans_clusters_and_their_shares():
    data = three_kinds()
    model = clustered(3, fit=False)
    assert not model.clusters.fitted
    assignments = model.clusters.fit(data, seed=4)
    centroids, expected = kmeans(data.reshape(60, -1), 3, seed=4)
    np.testing.assert_array_equal(assignments, expected)
    np.testing.assert_array_equal(model.clusters.centroids.numpy(), centroids)
    np.testing.assert_allclose(model.clusters.shares.numpy(), [1 / 3] * 3, rtol=1e-6)
    # assign: the nearest centroid, the k-means assignment of the same images
    np.testing.assert_array_equal(model.clusters.assign(mg.tensor(data)).numpy(), expected)


def test_an_unfitted_model_says_how_to_fit_it():
    model = clustered(3, fit=False)
    with pytest.raises(RuntimeError, match="make_dataset.. fits them"):
        model.train_step(images(4), None, 1)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.sample_z(4)


def test_samples_draw_each_cluster_with_its_share():
    model = clustered(3)
    model.clusters.shares.copy_(mg.tensor(np.array([0.7, 0.0, 0.3], dtype=np.float32)))
    z = model.sample_z(4000)
    assert z.shape == (4000, 11)
    drawn = model.code_of(z).numpy()
    np.testing.assert_array_equal(z.numpy()[:, 8:], np.eye(3, dtype=np.float32)[drawn])
    counts = np.bincount(drawn, minlength=3)
    assert counts[1] == 0  # a cluster with no image is never drawn
    assert abs(counts[0] / 4000 - 0.7) < 0.03, counts


def test_a_step_conditions_on_the_real_images_clusters_and_never_reads_the_labels(monkeypatch):
    seen = []
    real = mg.tensor(three_kinds()[::6])  # 10 images: clusters of all three kinds
    modern = ("--recipe", "modern", "--fine-clusters", "0")  # k-means of the 60 images
    a, b = clustered(3, *modern), clustered(3, *modern)
    original = Discriminator.forward_conditioned

    def spy(self, images, labels):
        seen.append(labels.numpy().copy())
        return original(self, images, labels)
    monkeypatch.setattr(Discriminator, "forward_conditioned", spy)
    mg.manual_seed(9)
    a.train_step(real, mg.tensor(np.zeros(10, dtype=np.int64)), 4)  # a D step with R1
    mg.manual_seed(9)
    b.train_step(real, mg.tensor(np.arange(10) % 3), 4)  # other labels: the same step
    clusters = a.clusters.assign(real).numpy()
    assert len(seen) == 2 * 3  # each step: real (with R1's gradient), fake, fake (G step)
    for labels in seen:  # every D evaluation, real or fake, reads the reals' clusters
        np.testing.assert_array_equal(labels, clusters)
    for (name, p), (_, q) in zip(a.G.named_parameters(), b.G.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    # and the fakes were drawn for them: G's input carried the same one-hot
    z = a.with_code(mg.randn(10, 8), a.clusters.assign(real))
    assert a.code_of(z).numpy().tolist() == clusters.tolist()


def test_the_grids_keep_one_cluster_per_column_and_a_walk_one_per_row():
    model = clustered(3)
    z, labels = model.fixed_inputs(12, seed=0)
    assert labels is None and z.shape == (12, 11)
    np.testing.assert_array_equal(z.numpy()[:, 8:].argmax(1), np.arange(12) % 3)
    z, _ = model.walk_inputs(np.zeros((6, 8)), np.repeat(np.arange(2), 3))
    np.testing.assert_array_equal(z.numpy()[:, 8:].argmax(1), [0, 0, 0, 1, 1, 1])


def test_scoring_an_image_without_clusters_uses_its_nearest_centroid():
    model = clustered(3)
    model.eval()
    x = mg.tensor(three_kinds()[::7])
    expected = model.D(mg.cat([x, label_planes(model.clusters.assign(x), 3, 28, 28)], 1))
    np.testing.assert_allclose(model.score(x).numpy(), expected.numpy().ravel(), rtol=1e-5,
                               atol=1e-6)


def test_with_spectral_norm_d_writes_the_planes_out_so_its_hook_runs():
    model = clustered(3, "--spectral-norm")
    model.eval()  # so that each forward uses the stored power-iteration vectors
    x, clusters = images(4), mg.tensor(np.array([0, 1, 2, 1], dtype=np.int64))
    expected = model.D(mg.cat([x, label_planes(clusters, 3, 28, 28)], 1))
    np.testing.assert_array_equal(model.discriminate(x, clusters).numpy(), expected.numpy())


@needs_mnist
def test_a_run_fits_its_clusters_to_its_training_images_and_resumes_bit_for_bit(tmp_path):
    argv = ["--recipe", "modern", "--clusters", "5", "--fine-clusters", "0"]  # k-means
    a, _ = resumed_in_halves(DCGAN, tmp_path, argv, SMALL)
    straight = tmp_path / "straight"
    from minigan.data import MNIST
    first = MNIST(train=True, download=False, root=None).images[:256]  # --train-size 256
    pixels = images_to_float(first.reshape(256, -1))  # as the loader scales them
    centroids, assignments = kmeans(pixels, 5, seed=0)
    np.testing.assert_array_equal(a["clusters.centroids"], centroids)
    np.testing.assert_allclose(a["clusters.shares"], np.bincount(assignments) / 256, rtol=1e-6)
    # --generate samples with the checkpoint's clusters, fitting nothing again
    assert run_program(DCGAN, straight, "--generate", "8") == 0
    assert np.load(straight / "samples.npy").shape == (8, 1, 28, 28)


# --- the planes trick (minigan/gan/planes.py) --------------------------------------------

# (images, labels' count K, weight (C_out, C + K, kh, kw), geometry): varied shapes,
# strides, paddings and dilations, the DCGAN discriminator's first layer among them
PLANE_CASES = [
    ((3, 1, 6, 6), 2, (2, 3, 4, 4), dict(stride=2, padding=1)),  # the DCGAN D's
    ((2, 2, 5, 4), 3, (3, 5, 3, 2), dict(stride=1, padding=(1, 0))),
    ((4, 1, 7, 5), 1, (2, 2, 3, 3), dict(stride=(2, 1), padding=2, dilation=(1, 2))),
    ((2, 1, 4, 4), 4, (1, 5, 1, 1), dict(stride=3)),
]


def plane_inputs(case, seed=0):
    from .helpers import randn
    x_shape, k, w_shape, geometry = case
    labels = mg.tensor(np.random.default_rng(seed).integers(0, k, x_shape[0]))
    return (randn(*x_shape, seed=seed), labels, randn(*w_shape, seed=seed + 1),
            randn(w_shape[0], seed=seed + 2), geometry)


@pytest.mark.parametrize("case", PLANE_CASES, ids=range(len(PLANE_CASES)))
def test_the_planes_trick_gives_the_written_out_convolution_and_its_gradients(backend, case):
    x, labels, w, b, geometry = plane_inputs(case)
    fast = planes_conv2d(x, labels, w, b, **geometry)
    slow = planes_conv2d_written_out(x, labels, w, b, **geometry)
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-12, atol=1e-12)
    g = mg.tensor(np.random.default_rng(5).standard_normal(fast.shape))
    grads_fast = mg.autograd.grad(fast, (x, w, b), g)
    grads_slow = mg.autograd.grad(slow, (x, w, b), g)
    for name, a, e in zip("xwb", grads_fast, grads_slow):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("case", PLANE_CASES, ids=range(len(PLANE_CASES)))
def test_the_planes_trick_passes_gradcheck_and_gradgradcheck(backend, case):
    x, labels, w, b, geometry = plane_inputs(case, seed=3)

    def fn(x, w, b):
        return planes_conv2d(x, labels, w, b, **geometry)
    assert mg.gradcheck(fn, (x, w, b))
    assert mg.gradgradcheck(fn, (x, w, b))  # R1's gradient of a gradient goes through it


# --- --fine-clusters M: the K clusters by spectral clustering of M small ones ------------

def test_fine_clusters_are_offered_with_clusters_only():
    assert "--fine-clusters" in flags(DCGAN)
    for model_cls in (CGAN, InfoGAN, DCGAN64):
        assert "--fine-clusters" not in flags(model_cls)


@pytest.mark.parametrize("argv, line", [
    (["--fine-clusters", "6"], "--fine-clusters M says how --clusters K are found: add "
                               "--clusters K"),
    (["--clusters", "3", "--fine-clusters", "3"], "--fine-clusters 3: expected more small "
                                                  "clusters than --clusters (3)")])
def test_fine_clusters_without_fewer_clusters_is_one_error_line(tmp_path, capsys, argv, line):
    assert main(DCGAN, [*SMALL, "--out", str(tmp_path / "run"), *argv]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {line}"]


def test_fitting_fine_clusters_groups_them_by_spectral_clustering():
    from minigan.data.spectral import spectral_kmeans
    data = three_kinds()
    model = clustered(3, "--fine-clusters", "6", fit=False)
    state = model.clusters.state_dict()
    assert set(state) == {"centroids", "groups", "shares"}
    assert state["centroids"].shape == (6, 784) and state["groups"].shape == (6,)
    assignments = model.clusters.fit(data, seed=2)
    centroids, groups, expected = spectral_kmeans(data.reshape(60, -1), 3, fine=6, seed=2)
    np.testing.assert_array_equal(assignments, expected)
    np.testing.assert_array_equal(model.clusters.centroids.numpy(), centroids)
    np.testing.assert_array_equal(model.clusters.groups.numpy(), groups)
    np.testing.assert_array_equal(np.sort(np.bincount(assignments)), [20, 20, 20])
    # an image's cluster: the group of its nearest small centroid, as the fit found
    np.testing.assert_array_equal(model.clusters.assign(mg.tensor(data)).numpy(), expected)
    assert model.G.net[0].in_features == 8 + 3 and model.D.net[0].in_channels == 1 + 3


def test_the_fit_reads_at_most_fit_images_and_assigns_the_rest(monkeypatch):
    from minigan.gan import clusters
    monkeypatch.setattr(clusters, "FIT_IMAGES", 30)
    data = three_kinds()[np.random.default_rng(1).permutation(60)]
    model = clustered(3, "--fine-clusters", "6", fit=False)
    assignments = model.clusters.fit(data, seed=0)
    assert len(assignments) == 60  # all of them, 30 by the fit and 30 by their centroid
    kinds = np.round(data.reshape(60, -1).mean(1) / 0.9).astype(int)
    assert len(set(zip(assignments.tolist(), kinds.tolist()))) == 3


@needs_mnist
def test_a_run_with_fine_clusters_resumes_bit_for_bit(tmp_path):
    a, halves = resumed_in_halves(DCGAN, tmp_path, ["--clusters", "3", "--fine-clusters", "12"],
                                  SMALL)
    assert a["clusters.centroids"].shape == (12, 784)
    assert set(a["clusters.groups"].tolist()) == {0, 1, 2}
    assert run_program(DCGAN, halves, "--generate", "8") == 0

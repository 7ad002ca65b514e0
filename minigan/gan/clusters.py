"""--clusters K: the DCGAN conditioned on clusters of its training images, found without labels.

An unconditional G must choose, from z alone, which digit to draw, and between two
digits' regions of z it draws shapes halfway between them (a 4 that is half a 9),
which the conditional GAN, told the digit, does not. Self-conditioned GANs (Liu et
al. 2020, "Diverse Image Generation via Self-Conditioned GANs") give an
unconditional GAN the same help without labels: cluster the training images, then
train G and D as the conditional GAN on the cluster of each image in place of its
label. Liu et al. cluster D's features and re-cluster as D learns; here the clusters
are k-means of the images' pixels (minigan/data/kmeans.py), fitted once when the run
starts, which on MNIST already groups mostly one digit per cluster (the digit most
common in each cluster covers 63% of the images with 10 clusters, 80% with 50).

    real images:  cluster c = the nearest centroid of the image's pixels
    G's input:    [z | one_hot(c)]                                  (as --info-code's)
    D's input:    the image with K one-hot cluster planes          (as the CGAN's labels)
    fakes:        drawn for the clusters of the step's real batch, so their clusters
                  come as often as the data's; a sample (grids, --generate, the
                  quality report) draws c with each cluster's share of the images

--fine-clusters M (with --clusters K) groups the images better than k-means does:
M small k-means clusters, joined into K by spectral clustering of their points'
nearest-neighbour graph (minigan/data/spectral.py; the digit most common in each of
10 groups covers about 79% of its images, k-means' own 10 clusters 61%). An image's
cluster is then the group of its nearest small centroid. The fit reads at most
FIT_IMAGES training images (the kNN graph grows as their square); the rest are
assigned by their nearest centroid like every image of a step.

`Clusters` keeps the centroids, each centroid's group and the shares as buffers, so
checkpoints hold them: --resume and --generate use the run's clusters without
fitting again.
"""
import numpy as np

import minigan as mg
from minigan import nn
from minigan.data.kmeans import kmeans, nearest_centroid
from minigan.data.spectral import spectral_kmeans

FIT_IMAGES = 20000  # --fine-clusters: the most training images the fit reads


class Clusters(nn.Module):
    """K clusters of images (N, C, H, W): `centroids` (K, C*H*W), the mean image of each,
    and `shares` (K,), the fraction of the training images in each (zero until `fit`).

    fine=M > K: M small k-means clusters grouped into K by spectral clustering;
    `centroids` is then (M, C*H*W) and `groups` (M,) the cluster of each."""

    def __init__(self, k, features=28 * 28, fine=0):
        super().__init__()
        self.k = int(k)
        self.fine = int(fine or 0)
        if self.fine and self.fine <= self.k:
            raise ValueError(f"--fine-clusters {self.fine}: expected more small clusters "
                             f"than --clusters ({self.k})")
        self.register_buffer("centroids", mg.zeros(self.fine or self.k, features))
        if self.fine:
            self.register_buffer("groups", mg.zeros(self.fine, dtype=mg.int64))
        self.register_buffer("shares", mg.zeros(self.k))
        self._seen_fitted = False  # once seen, not asked again: a .item() is a device sync

    @property
    def fitted(self):
        return float(self.shares.sum().item()) > 0

    def _require_fitted(self):
        if not self._seen_fitted:
            if not self.fitted:
                raise RuntimeError("--clusters: the clusters are not fitted yet; "
                                   "model.make_dataset() fits them to the training images")
            self._seen_fitted = True

    def fit(self, images, seed=0):
        """k-means of images (N, C, H, W) or (N, H, W) as float NumPy arrays scaled as the
        model sees them; sets both buffers and returns each image's cluster (N,)."""
        points = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
        if points.shape[1] != self.centroids.shape[1]:
            raise ValueError(f"--clusters: expected images of {self.centroids.shape[1]} "
                             f"pixels, got {points.shape[1]}")
        needed = self.fine or self.k
        if len(points) < needed:
            option = f"--fine-clusters {self.fine}" if self.fine else f"--clusters {self.k}"
            raise ValueError(f"{option}: needs at least {needed} training images, got "
                             f"{len(points)}")
        if self.fine:
            centroids, groups, _ = spectral_kmeans(points[:FIT_IMAGES], self.k,
                                                   fine=self.fine, seed=seed)
            self.groups.copy_(mg.tensor(groups))
            assignments = groups[nearest_centroid(points, centroids)]
        else:
            centroids, assignments = kmeans(points, self.k, seed=seed)
        shares = np.bincount(assignments, minlength=self.k) / len(assignments)
        self.centroids.copy_(mg.tensor(centroids))
        self.shares.copy_(mg.tensor(shares.astype(np.float32)))
        return assignments

    def assign(self, images):
        """The nearest centroid of each image (N,) int64 Tensor: argmin over j of
        ||x - c_j||^2 = ||x||^2 - 2 x.c_j + ||c_j||^2, whose ||x||^2 is the same for
        every j, so argmax of 2 x.c_j - ||c_j||^2 (one matrix product)."""
        self._require_fitted()  # once per run, not once per step
        with mg.no_grad():
            x = images.reshape(images.shape[0], -1)
            c = self.centroids
            nearest = (2 * (x @ c.T) - (c * c).sum(1)).argmax(1)
            return self.groups[nearest] if self.fine else nearest

    def sample(self, n):
        """n clusters (n,) int64 Tensor, each drawn with its share of the training images
        (by inverting the shares' cumulative sum at n uniform numbers of mg.rand)."""
        self._require_fitted()
        cumulative = np.cumsum(self.shares.numpy().astype(np.float64))
        u = mg.rand(n).numpy() * cumulative[-1]
        drawn = np.minimum(np.searchsorted(cumulative, u, side="right"), self.k - 1)
        return mg.tensor(drawn.astype(np.int64))

    def extra_repr(self):
        fine = f", fine={self.fine}" if self.fine else ""
        return f"k={self.k}, features={self.centroids.shape[1]}{fine}"

"""The Fréchet distance between two Gaussians: how far generated features lie from real ones.

FID (Heusel et al., 2017) fits a Gaussian to the features a classifier gives
real images and another to the features it gives generated images, and reports
the Fréchet (2-Wasserstein) distance between them:

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2))

The first term sees a shift of the average image, the others a difference in
spread: a generator that draws one perfect digit over and over has the right
kind of features but far too small a covariance, and scores badly.

Here the features are the 128-d penultimate activations of the project's MNIST
classifier (`classifier.py`), not Inception's 2048-d ones, so the numbers are
comparable with each other but not with FID values published for other models.

Everything is NumPy on the host in float64: the sums over 128 x 128 matrices
lose too much in float32, and a 128 x 128 eigendecomposition costs nothing.
"""
import numpy as np


def feature_statistics(features):
    """The mean (D,) and covariance (D, D) of features (N, D), in float64.

    The covariance is the unbiased one (divides by N - 1), as np.cov and the
    reference FID code use; it needs N >= 2.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"feature_statistics: expected features of shape (N, D) with N >= 2, "
            f"got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """The Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), a float >= 0.

    mu1, mu2: (D,) means; sigma1, sigma2: (D, D) symmetric positive semi-definite
    covariances.

        d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2))

    tr(sqrtm(S1 S2)) without scipy: with R = sqrt(S1) (the symmetric square root,
    from the eigendecomposition S1 = V diag(l) V^T as V diag(sqrt l) V^T),

        S1 S2 = R (R S2)   has the same eigenvalues as   (R S2) R = R S2 R,

    and R S2 R is symmetric positive semi-definite, so its eigenvalues e_i are
    real and >= 0 and tr(sqrtm(S1 S2)) = sum_i sqrt(e_i). Rounding can make
    tiny eigenvalues (of S1, and of R S2 R) slightly negative; they are clipped
    to 0, which is also what makes singular covariances (fewer samples than
    feature dimensions) work. The result is clipped at 0 for the same reason.

    (The usual code calls scipy.linalg.sqrtm(S1 @ S2), a non-symmetric matrix
    whose square root can come back complex from rounding alone; the symmetric
    route needs only `eigh` and stays real.)

    One dimension: d^2 = (m1 - m2)^2 + (s1 - s2)^2 for standard deviations s1, s2.
    """
    mu1, sigma1, mu2, sigma2 = _check_gaussians(mu1, sigma1, mu2, sigma2)
    mean_term = np.sum((mu1 - mu2) ** 2)
    root1 = symmetric_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    distance = mean_term + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def symmetric_sqrt(matrix):
    """The symmetric positive semi-definite square root R of a symmetric PSD matrix (R @ R = matrix).

    From matrix = V diag(l) V^T: R = V diag(sqrt(max(l, 0))) V^T.
    """
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def _check_gaussians(mu1, sigma1, mu2, sigma2):
    mu1, mu2 = (np.atleast_1d(np.asarray(m, dtype=np.float64)) for m in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in (sigma1, sigma2))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(
            f"frechet_distance: expected means of one shape (D,), got {mu1.shape} and {mu2.shape}")
    d = len(mu1)
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (d, d):
            raise ValueError(
                f"frechet_distance: expected {name} of shape ({d}, {d}) for means of shape ({d},), "
                f"got {sigma.shape}")
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"frechet_distance: {name} contains NaN or infinity")
    return mu1, sigma1, mu2, sigma2

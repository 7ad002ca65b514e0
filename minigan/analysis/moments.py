"""Measurable attributes of digit images: ink, stroke thickness, slant, from image moments.

Images are NumPy arrays (N, 1, H, W) or (N, H, W) in [-1, 1] (-1 background, 1 ink).

    ink(images)               p = (x + 1) / 2, the ink density in [0, 1]
    stroke_thickness(images)  2 A / P of the thresholded digit, in pixels
    slant(images)             -mu11 / mu02 from the ink's second moments

Thickness without a skeleton: a stroke of length l and width w covers A = l w
pixels and has a boundary of P = 2 (l + w) ~ 2 l pixel edges, so w ~ 2 A / P.
A is the number of ink pixels (p > 0.5) and P the number of unit edges between
an ink pixel and a background pixel (4-neighbours, outside the image counts as
background). Thick strokes have more area per edge.

Slant: with the ink density as a mass, centroid (x0, y0) and central moments
mu11 = sum p (x - x0)(y - y0), mu02 = sum p (y - y0)^2 (x to the right, y down),
the shear x -> x - s (y - y0) that makes mu11 zero (the classic deskew) has
s = mu11 / mu02. A digit whose top leans right has x falling as y grows, so
mu11 < 0; slant = -mu11 / mu02 is positive for a right lean (a horizontal shift
per row of height: 0.3 means 3 pixels right per 10 pixels up).
"""
import numpy as np


def _planes(images):
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"expected images (N, 1, H, W) or (N, H, W), got {images.shape}")
    return images


def ink(images):
    """The ink density p = (clip(x, -1, 1) + 1) / 2 of each pixel, (N, H, W) in [0, 1]."""
    return (np.clip(_planes(images), -1.0, 1.0) + 1.0) / 2.0


def binarise(images, threshold=0.5):
    """Ink pixels, (N, H, W) bool: p > threshold."""
    return ink(images) > threshold


def stroke_thickness(images, threshold=0.5):
    """2 A / P per image (N,), in pixels; 0 for an image without ink."""
    b = np.pad(binarise(images, threshold), ((0, 0), (1, 1), (1, 1)))
    area = b.sum(axis=(1, 2))
    edges = (b[:, 1:, :] != b[:, :-1, :]).sum(axis=(1, 2)) + (b[:, :, 1:] != b[:, :, :-1]).sum(axis=(1, 2))
    return np.where(edges > 0, 2.0 * area / np.maximum(edges, 1), 0.0)


def image_moments(images):
    """(mass, x0, y0, mu20, mu11, mu02) per image, each (N,), of the ink density."""
    p = ink(images)
    h, w = p.shape[1:]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    mass = p.sum(axis=(1, 2))
    safe = np.maximum(mass, 1e-12)
    x0 = (p * x).sum(axis=(1, 2)) / safe
    y0 = (p * y).sum(axis=(1, 2)) / safe
    dx, dy = x[None] - x0[:, None, None], y[None] - y0[:, None, None]
    mu20 = (p * dx * dx).sum(axis=(1, 2)) / safe
    mu11 = (p * dx * dy).sum(axis=(1, 2)) / safe
    mu02 = (p * dy * dy).sum(axis=(1, 2)) / safe
    return mass, x0, y0, mu20, mu11, mu02


def slant(images):
    """-mu11 / mu02 per image (N,): > 0 leans right, < 0 leans left, 0 upright or empty."""
    _, _, _, _, mu11, mu02 = image_moments(images)
    return np.where(mu02 > 1e-12, -mu11 / np.maximum(mu02, 1e-12), 0.0)

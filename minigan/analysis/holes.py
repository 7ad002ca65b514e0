"""The holes of digits: background pixels enclosed by ink (the loops of 0, 6, 8, 9).

    enclosed_background(images)   (N, H, W) bool: inside a closed loop of ink
    has_hole(images, min_area=4)  (N,) bool: at least min_area enclosed pixels

The image is thresholded (ink: p = (x + 1) / 2 > 0.25, below the usual 0.5 because a
generator's strokes fade to grey where a loop closes thinly), then the background is
flood-filled from the border: a background pixel is reachable when a path of
background pixels through 4-neighbours joins it to the image's edge. Background
joined through 4-neighbours and ink through 8-neighbours is the pairing that
makes a diagonal line of ink a closed wall. What the fill never reaches is a hole.
The fill grows all images at once, one pixel ring per pass (vectorised over the
batch, at most H * W passes and in practice about half the image's width).
"""
import numpy as np

from .moments import binarise


def enclosed_background(images, threshold=0.25):
    """Background pixels that the border's background cannot reach: (N, H, W) bool."""
    background = ~binarise(images, threshold)
    reached = np.zeros_like(background)
    for edge in (np.s_[:, 0, :], np.s_[:, -1, :], np.s_[:, :, 0], np.s_[:, :, -1]):
        reached[edge] = background[edge]
    while True:
        grown = reached.copy()
        grown[:, 1:, :] |= reached[:, :-1, :]
        grown[:, :-1, :] |= reached[:, 1:, :]
        grown[:, :, 1:] |= reached[:, :, :-1]
        grown[:, :, :-1] |= reached[:, :, 1:]
        grown &= background
        if np.array_equal(grown, reached):
            return background & ~reached
        reached = grown


def has_hole(images, min_area=4, threshold=0.25):
    """(N,) bool: at least `min_area` enclosed background pixels (a speck of one or two
    pixels between noisy strokes is not a loop)."""
    return enclosed_background(images, threshold).sum(axis=(1, 2)) >= min_area

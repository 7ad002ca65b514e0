"""Pictures laid out as a paper's figures: rows of images with blank cells, and
per-image contrast for filters and feature maps.

    save_layout([[a, b, None, c], [d, None, None, e]], "figure.png", scale=2)
    scale_each(weights)          # every filter or map to [-1, 1] by its own range

A cell is an image (C, H, W) or (H, W) in [-1, 1], or None for a gap drawn in
grey, so that a gap is not mistaken for a black image.
"""
import numpy as np
from PIL import Image

from minigan._atomic import atomic_write

from .images import make_grid, upscale

GAP = 0.0  # mid grey on the [-1, 1] scale


def make_layout(rows, padding=2, gap_value=GAP):
    """The uint8 picture of rows of cells; every image has the same shape.

    rows: a list of rows, each a list of cells (images or None); shorter rows are
    padded with gaps. Returns what make_grid returns for the same cells in a grid
    of max(len(row)) columns, with gaps and borders in gap_value.
    """
    images = [np.asarray(c) for row in rows for c in row if c is not None]
    if not images:
        raise ValueError("make_layout: expected at least one image, got only gaps")
    shape = images[0].shape if images[0].ndim == 3 else (1,) + images[0].shape
    columns = max(len(row) for row in rows)
    cells = []
    for row in rows:
        for c in list(row) + [None] * (columns - len(row)):
            if c is None:
                cells.append(np.full(shape, gap_value))
                continue
            c = np.asarray(c, dtype=np.float64).reshape(-1, *np.asarray(c).shape[-2:])
            if c.shape != shape:
                raise ValueError(f"make_layout: expected every image of shape {shape}, got {c.shape}")
            cells.append(c)
    return make_grid(np.stack(cells), nrow=columns, padding=padding, pad_value=gap_value)


def save_layout(rows, path, scale=2, padding=2, gap_value=GAP):
    """Write make_layout(rows) to `path` as a PNG (atomically), upscaled. Returns path."""
    pixels = upscale(make_layout(rows, padding, gap_value), scale)
    with atomic_write(path) as f:
        Image.fromarray(pixels).save(f, format="PNG")
    return path


def scale_each(arrays, symmetric=False):
    """Each of arrays (N, ...) scaled to [-1, 1] by its own extremes: a -> 2 (a - min) /
    (max - min) - 1 (a constant one becomes 0, grey); symmetric: a -> a / max |a|, so that
    0 is mid grey in every picture (for weights and gradients of either sign).
    Returns float64, same shape."""
    a = np.asarray(arrays, dtype=np.float64)
    flat = a.reshape(len(a), -1)
    low, high = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    if symmetric:
        high = np.maximum(np.abs(low), np.abs(high))
        low = -high
    span = high - low
    scaled = np.where(span > 0, 2 * (flat - low) / np.where(span > 0, span, 1) - 1, 0.0)
    return scaled.reshape(a.shape)

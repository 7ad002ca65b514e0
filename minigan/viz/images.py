"""Image grids of generated samples: arrays to PNG files and animated GIFs.

A generator with a tanh output produces images in [-1, 1] with shape
(N, C, H, W). `make_grid` tiles them into one picture as
`torchvision.utils.make_grid` followed by `save_image` would, so a grid made
here and one made with PyTorch from the same numbers are the same pixels.

Everything here works on NumPy arrays on the CPU: move samples off the device
first (`backend.to_numpy`, or `tensor.numpy()`).
"""
import os

import numpy as np
from PIL import Image

from minigan._atomic import atomic_write


def make_grid(images, nrow=8, padding=2, pad_value=-1.0):
    """Tile a batch of images into one uint8 picture.

    images:    (N, C, H, W) floats in [-1, 1], C = 1 (grey) or 3 (RGB).
    nrow:      images per row; the grid has ceil(N / nrow) rows.
    padding:   pixels of border around and between the images.
    pad_value: border colour on the same [-1, 1] scale (-1 is black).

    Returns (H', W') uint8 for C = 1, (H', W', 3) uint8 for C = 3, with
        H' = rows * (H + padding) + padding
        W' = min(nrow, N) * (W + padding) + padding.
    A value v becomes the pixel floor((clip(v, -1, 1) + 1) / 2 * 255 + 0.5),
    so -1 -> 0, 0 -> 128 and 1 -> 255 (torchvision's rounding).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            "make_grid: expected images of shape (N, C, H, W) with C in (1, 3), "
            f"got {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise ValueError("make_grid: expected at least one image, got a batch of 0")
    if not np.issubdtype(images.dtype, np.number) or np.iscomplexobj(images):
        raise ValueError(f"make_grid: expected real numbers, got dtype {images.dtype}")
    if int(nrow) < 1 or int(padding) < 0:
        raise ValueError(
            f"make_grid: expected nrow >= 1 and padding >= 0, got nrow={nrow}, padding={padding}")
    nrow, padding = int(nrow), int(padding)

    n, c, h, w = images.shape
    columns = min(nrow, n)
    rows = -(-n // columns)  # ceil(n / columns) without floats
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, rows * cell_h + padding, columns * cell_w + padding),
                   pad_value, dtype=np.float64)
    for i in range(n):
        top = (i // columns) * cell_h + padding
        left = (i % columns) * cell_w + padding
        grid[:, top:top + h, left:left + w] = images[i]

    # A diverged generator produces NaN; draw it black rather than crash the
    # program that is about to show the user what went wrong.
    grid = np.nan_to_num(grid, nan=-1.0)
    pixels = np.floor((np.clip(grid, -1.0, 1.0) + 1.0) / 2.0 * 255.0 + 0.5).astype(np.uint8)
    if c == 1:
        return pixels[0]
    return pixels.transpose(1, 2, 0)  # (3, H', W') -> (H', W', 3), the layout images use


def upscale(pixels, scale):
    """Nearest-neighbour upscale of (H, W) or (H, W, 3) pixels by an integer factor.

    Each pixel becomes a scale x scale block, so 28x28 digits stay sharp
    instead of being blurred by interpolation.
    """
    if int(scale) != scale or scale < 1:
        raise ValueError(f"upscale: expected a whole number scale >= 1, got {scale!r}")
    scale = int(scale)
    return pixels.repeat(scale, axis=0).repeat(scale, axis=1)


def save_grid(images, path, nrow=8, scale=1, padding=2):
    """Write `make_grid(images, nrow, padding)` to `path` as a PNG, atomically.

    images: (N, C, H, W) floats in [-1, 1], as for make_grid.
    scale:  whole-number nearest-neighbour upscale (e.g. 4 makes 28 pixels 112).
    Returns `path`.
    """
    pixels = upscale(make_grid(images, nrow=nrow, padding=padding), scale)
    with atomic_write(path) as f:
        Image.fromarray(pixels).save(f, format="PNG")
    return path


def save_gif(png_paths, path, duration_ms=300, last_frame_ms=None):
    """Assemble PNG frames (e.g. one grid per epoch) into a looping animated GIF.

    png_paths:     frames in order; all must have the same size.
    duration_ms:   how long each frame is shown.
    last_frame_ms: how long the final frame is held, so the result of training
                   can be seen before the loop restarts (default 5 x duration_ms).
    Returns `path`.
    """
    png_paths = [os.fspath(p) for p in png_paths]
    if not png_paths:
        raise ValueError("save_gif: expected at least one PNG path, got none")
    if last_frame_ms is None:
        last_frame_ms = 5 * duration_ms

    frames = []
    for p in png_paths:
        with Image.open(p) as frame:
            frames.append(frame.copy())  # copy: the file closes when `with` ends
    size = frames[0].size
    for p, frame in zip(png_paths, frames):
        if frame.size != size:
            raise ValueError(
                f"save_gif: expected every frame to be {size[0]}x{size[1]} like "
                f"{png_paths[0]}, got {frame.size[0]}x{frame.size[1]} for {p}")
    # GIF frames share one mode: grey stays grey, anything with colour becomes RGB.
    mode = "L" if all(f.mode in ("L", "1") for f in frames) else "RGB"
    frames = [f.convert(mode) for f in frames]

    durations = [duration_ms] * (len(frames) - 1) + [last_frame_ms]
    with atomic_write(path) as f:
        frames[0].save(f, format="GIF", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0)
    return path

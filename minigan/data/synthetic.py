"""A small synthetic image set to train on when no faces or bedrooms are at hand.

    write_shapes("data/shapes", n=2000, size=64, seed=0)

writes n PNG files, root/<shape>/<index>.png, each a coloured circle, square or
triangle (one subfolder per shape, so ImageFolder gives them as classes) of
random size, position and colour, on a textured background: stripes of two
random colours at a random angle and period, plus a little noise. Everything is
drawn from numpy.random.default_rng(seed), so a seed gives the same files.
"""
from pathlib import Path

import numpy as np

from minigan._atomic import atomic_write

SHAPES = ("circle", "square", "triangle")


def shape_image(rng, size=64):
    """One picture: (shape name, uint8 (size, size, 3) RGB)."""
    from PIL import Image, ImageDraw

    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(size / 10, size / 3)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / period)
    a, b = rng.uniform(0, 255, size=(2, 3)) * 0.6  # darker background colours, so shapes stand out
    background = a + (b - a) * wave[..., None] + rng.normal(0, 8, size=(size, size, 3))
    image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    shape = SHAPES[rng.integers(len(SHAPES))]
    radius = rng.uniform(size * 0.15, size * 0.32)
    cx, cy = rng.uniform(radius, size - radius, size=2)
    colour = tuple(int(c) for c in rng.integers(96, 256, size=3))
    if shape == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
    elif shape == "square":
        turn = rng.uniform(0, np.pi / 2)
        corners = [(cx + radius * np.cos(turn + k * np.pi / 2), cy + radius * np.sin(turn + k * np.pi / 2))
                   for k in range(4)]
        draw.polygon(corners, fill=colour)
    else:
        turn = rng.uniform(0, 2 * np.pi)
        corners = [(cx + radius * np.cos(turn + k * 2 * np.pi / 3), cy + radius * np.sin(turn + k * 2 * np.pi / 3))
                   for k in range(3)]
        draw.polygon(corners, fill=colour)
    return shape, np.asarray(image)


def write_shapes(root, n=2000, size=64, seed=0):
    """Write n shape pictures as PNG files under root/<shape>/; return their paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    root = Path(root)
    paths = []
    for i in range(n):
        shape, pixels = shape_image(rng, size)
        path = root / shape / f"{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as f:
            Image.fromarray(pixels).save(f, format="PNG")
        paths.append(path)
    return paths

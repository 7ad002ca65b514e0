"""Differentiable augmentation (Zhao et al. 2020, "DiffAugment"): the same random
transformations applied to real AND fake images before D sees them.

    augment(images, "translation,cutout,color")

D then has to tell real from fake through random shifts, holes and colour
changes, so it cannot memorise the few thousand real images it has seen, and
since every transformation is differentiable, G's gradient flows back through
it: G is trained to fool D on augmented images, which makes it draw unaugmented
ones (the transformations are random per image, so no single shifted picture
fools D more than the real one).

Each transformation draws its own random parameters per image (from the
backend's seeded stream, so training stays reproducible):

    translation  shift by up to 1/8 of the size in x and y, zeros shifted in
    cutout       one square of half the size set to zero, at a random place
    color        brightness x + U(-0.5, 0.5); saturation (RGB only) and contrast:
                 (x - mean) * U(0, 2) or U(0.5, 1.5) + mean

translation is the only one that needs a Function of its own: the rest are
sums and products of existing ops.
"""
import minigan as mg
from minigan.autograd import Function
from minigan.backend import get_array_module

POLICIES = ("translation", "cutout", "color")


class Translate(Function):
    """y[n, c, i, j] = x[n, c, i - dy[n], j - dx[n]], zero where that is outside x.

    x: (N, C, H, W); dy, dx: int arrays (N,). Its adjoint, and so its backward, is
    the translation by the opposite shift:  dL/dx = Translate(dL/dy, -dy, -dx).
    """

    @staticmethod
    def forward(ctx, x, dy, dx):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        rows = xp.arange(h)[None, :, None] - dy[:, None, None]        # (N, H, 1)
        cols = xp.arange(w)[None, None, :] - dx[:, None, None]        # (N, 1, W)
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)  # (N, H, W)
        batch = xp.arange(n)[:, None, None]
        # Advanced indices around a slice: the result is (N, H, W, C); move C back.
        picked = x[batch, :, xp.clip(rows, 0, h - 1), xp.clip(cols, 0, w - 1)]
        ctx.shift = (dy, dx)
        return xp.moveaxis(picked, -1, 1) * inside[:, None].astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        dy, dx = ctx.shift
        return Translate.apply(grad, dy=-dy, dx=-dx)


def translate(x, dy, dx):
    """x (N, C, H, W) shifted by dy[n] rows and dx[n] columns, zeros shifted in."""
    return Translate.apply(x, dy=dy, dx=dx)


def random_translation(x, ratio=0.125):
    """Shift each image by a random whole number of pixels in [-s, s], s = ratio * size."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = mg.randint(-sy, sy + 1, n).data
    dx = mg.randint(-sx, sx + 1, n).data
    return translate(x, dy, dx)


def cutout_mask(n, h, w, size_y, size_x, centre_y, centre_x, dtype):
    """(N, 1, H, W) of ones with a size_y x size_x square of zeros around each
    image's (centre_y[n], centre_x[n]), clipped at the border."""
    xp = get_array_module(centre_y)
    rows = xp.arange(h)[None, :, None]
    cols = xp.arange(w)[None, None, :]
    top = centre_y[:, None, None] - size_y // 2
    left = centre_x[:, None, None] - size_x // 2
    hole = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return mg.tensor((~hole)[:, None].astype(dtype))


def random_cutout(x, ratio=0.5):
    """Zero one square of ratio * size per image, its centre anywhere in the image."""
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    centre_y = mg.randint(0, h + (1 - size_y % 2), n).data
    centre_x = mg.randint(0, w + (1 - size_x % 2), n).data
    return x * cutout_mask(n, h, w, size_y, size_x, centre_y, centre_x, x.dtype)


def random_color(x):
    """Brightness, saturation (more than one channel only) and contrast, per image."""
    n, c = x.shape[:2]
    x = x + (mg.rand(n, 1, 1, 1, dtype=x.dtype) - 0.5)
    if c > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (mg.rand(n, 1, 1, 1, dtype=x.dtype) * 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (mg.rand(n, 1, 1, 1, dtype=x.dtype) + 0.5) + mean


_TRANSFORMS = {"color": random_color, "translation": random_translation,
               "cutout": random_cutout}


def parse_policy(policy):
    """'translation,cutout' -> ('translation', 'cutout'); a clear error for unknown names."""
    if isinstance(policy, (tuple, list)):
        names = tuple(policy)
    else:
        names = tuple(p.strip() for p in str(policy).split(",") if p.strip())
    unknown = [p for p in names if p not in _TRANSFORMS]
    if unknown:
        raise ValueError(f"augment: unknown augmentation {unknown[0]!r}: expected a "
                         f"comma-separated list of {', '.join(POLICIES)}")
    return names


def augment(x, policy):
    """Apply the policy's transformations in the order color, translation, cutout
    (DiffAugment's), each with fresh random parameters per image."""
    names = parse_policy(policy)
    for name in POLICIES:
        if name in names:
            x = _TRANSFORMS[name](x)
    return x

"""Pooling and resizing: max_pool2d, avg_pool2d and interpolate (nearest).

A pooling op looks at windows of the image as a convolution does (kernel_size,
stride, padding) and sums each window's elements, or picks one of them:

    avg_pool2d  y = WindowSum(x) / (kh*kw)
    max_pool2d  y = WindowSum(x, pick=winner): only the window's largest element,
                where `winner` (its offset in the window) is found first, without
                gradient, so the gradient goes to that element alone.

WindowSum and WindowSpread are each other's adjoints, so each is the other's
backward and double backward works with no extra code. Both are a short loop
over the kh*kw kernel offsets with one strided slice each (the windows of one
offset never overlap, so no scatter-add is needed).
"""
import math
import numbers

import numpy as np

from .. import backend as _backend
from ..autograd import Function
from ..backend import get_array_module as _xp
from . import _twins
from .conv import int_pair
from .shape import broadcast_to, getitem, reshape

__all__ = ["max_pool2d", "avg_pool2d", "interpolate"]


def _window_slices(i, j, grid_size, stride):
    """The index of offset (i, j)'s element of every window: x_pad[:, :, s*h + i, s*w + j]
    for all window positions (h, w) of an (Ho, Wo) grid."""
    (ho, wo), (sh, sw) = grid_size, stride
    return (slice(None), slice(None),
            slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))


def _pad(x, padding, value):
    xp = _xp(x)
    (ph, pw), (n, c, h, w) = padding, x.shape
    if not (ph or pw):
        return x
    padded = xp.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    return padded


class WindowSum(Function):
    """y[n, c, h, w] = sum_{i, j} x_pad[n, c, s*h + i, s*w + j]   (the sum over each window),
    or, when `pick` is given, only the term with i*kw + j = pick[n, c, h, w].

    x: (N, C, H, W) -> y: (N, C, Ho, Wo), x_pad = x with `padding` zeros around H and W.
    dL/dx = WindowSpread(g)   (its adjoint, with the same windows and pick)
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, pick):
        xp = _xp(x)
        ctx.windows = dict(kernel_size=kernel_size, stride=stride, padding=padding, pick=pick)
        grid = pool_output_size(x.shape[2:], kernel_size, stride, padding)
        x = _pad(x, padding, 0)
        y = xp.zeros(x.shape[:2] + grid, dtype=x.dtype)
        kh, kw = kernel_size
        for i in range(kh):
            for j in range(kw):
                window = x[_window_slices(i, j, grid, stride)]
                if pick is None:
                    y += window
                else:  # exactly one offset is picked per window
                    y = xp.where(pick == i * kw + j, window, y)
        return y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return WindowSpread.apply(g, image_size=x.shape[2:], **ctx.windows)


class WindowSpread(Function):
    """The adjoint of WindowSum: each window's g is added onto the window's elements,
        dx_pad[n, c, s*h + i, s*w + j] += g[n, c, h, w]   for every offset (i, j)
    (only the picked offset when `pick` is given), then the padding is cut off.

    g: (N, C, Ho, Wo) -> (N, C, H, W) with (H, W) = image_size.
    dL/dg = WindowSum(gg)
    """

    @staticmethod
    def forward(ctx, g, image_size, kernel_size, stride, padding, pick):
        xp = _xp(g)
        ctx.windows = dict(kernel_size=kernel_size, stride=stride, padding=padding, pick=pick)
        (h, w), (ph, pw), (kh, kw) = image_size, padding, kernel_size
        grid = g.shape[2:]
        image = xp.zeros(g.shape[:2] + (h + 2 * ph, w + 2 * pw), dtype=g.dtype)
        zero = g.dtype.type(0)
        for i in range(kh):
            for j in range(kw):
                pixels = image[_window_slices(i, j, grid, stride)]
                pixels += g if pick is None else xp.where(pick == i * kw + j, g, zero)
        return image[:, :, ph:ph + h, pw:pw + w]

    @staticmethod
    def backward(ctx, g):
        return WindowSum.apply(g, **ctx.windows)


def _window_argmax(x, kernel_size, stride, padding):
    """The offset i*kw + j of each window's largest element (the first one on ties; a
    NaN wins, as in PyTorch), found with a running max over the kernel offsets."""
    xp = _xp(x)
    grid = pool_output_size(x.shape[2:], kernel_size, stride, padding)
    x = _pad(x, padding, -np.inf)
    kh, kw = kernel_size
    best = x[_window_slices(0, 0, grid, stride)]
    winner = xp.zeros(best.shape, dtype=xp.int32)
    for k in range(1, kh * kw):
        window = x[_window_slices(k // kw, k % kw, grid, stride)]
        better = (window > best) | xp.isnan(window)
        best = xp.where(better, window, best)
        winner = xp.where(better, xp.int32(k), winner)
    return winner


# --- what users call ---------------------------------------------------------------------

def pool_output_size(image_size, kernel_size, stride, padding):
    """A pooling's output (Ho, Wo):  Ho = floor((H + 2p - kh) / s) + 1."""
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in
                 zip(image_size, kernel_size, stride, padding))


def check_pool2d_arguments(op, x, kernel_size, stride, padding):
    """A pooling's arguments checked; returns (kernel_size, stride, padding) as (H, W)
    pairs, stride defaulting to kernel_size. Shared with the textbook twin."""
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    kernel_size = int_pair(op, "kernel_size", kernel_size, minimum=1)
    stride = kernel_size if stride is None else int_pair(op, "stride", stride, minimum=1)
    padding = int_pair(op, "padding", padding, minimum=0)
    if any(2 * p > k for p, k in zip(padding, kernel_size)):
        raise ValueError(
            f"{op}: padding must be at most half of the kernel size, got padding={padding} "
            f"for kernel_size={kernel_size}")
    size = pool_output_size(x.shape[2:], kernel_size, stride, padding)
    if min(size) <= 0:
        shown = "x".join(str(max(n, 0)) for n in size)
        raise ValueError(
            f"{op}: the output would be empty ({shown}): the input's {x.shape[2]}x{x.shape[3]} "
            f"pixels, padded by {padding}, are fewer than the kernel's "
            f"{kernel_size[0]}x{kernel_size[1]}")
    return kernel_size, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The largest element of each window. x: (N, C, H, W) -> (N, C, Ho, Wo),
        Ho = floor((H + 2*padding - kh) / stride) + 1;  stride defaults to kernel_size;
    padding counts as -inf. The gradient goes to each window's largest element (the
    first one on ties, as PyTorch's)."""
    textbook = _twins.twin("max_pool2d")
    if textbook is not None:  # under mg.textbook(): minigan/textbook/pool.py
        return textbook(x, kernel_size, stride, padding)
    kernel_size, stride, padding = check_pool2d_arguments("max_pool2d", x, kernel_size,
                                                          stride, padding)
    winner = _window_argmax(x.data, kernel_size, stride, padding)
    return WindowSum.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                           pick=winner)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each window, padding counted as zeros (count_include_pad=True).
    x: (N, C, H, W) -> (N, C, Ho, Wo), sizes as in max_pool2d."""
    kernel_size, stride, padding = check_pool2d_arguments("avg_pool2d", x, kernel_size,
                                                          stride, padding)
    total = WindowSum.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                            pick=None)
    return total * (1.0 / (kernel_size[0] * kernel_size[1]))


def interpolate(x, size=None, scale_factor=None, mode="nearest"):
    """Resize a batch of images, nearest neighbour: y[n, c, h, w] = x[n, c, src_h(h), src_w(w)]
    with src(h) = min(floor(h * scale), H - 1), as PyTorch computes it: scale = 1 / scale_factor
    when scale_factor is given (then Ho = floor(H * scale_factor)), else H / Ho (float32).

    x: (N, C, H, W); size: Ho or (Ho, Wo); scale_factor: a number or a pair.
    An integer ratio (scale_factor=2) is a broadcast and a reshape, whose backward sums
    each block of copies; other ratios index x with the source rows and columns.
    """
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is supported, got {mode!r}")
    if x.ndim != 4:
        raise ValueError(f"interpolate: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: expected exactly one of size and scale_factor, got "
                         + ("both" if size is not None else "neither"))
    in_size = x.shape[2:]
    if size is not None:
        out_size = int_pair("interpolate", "size", size, minimum=1)
        scales = [np.float32(n) / np.float32(m) for n, m in zip(in_size, out_size)]
    else:
        factors = _factor_pair(scale_factor)
        out_size = tuple(math.floor(n * f) for n, f in zip(in_size, factors))
        if min(out_size) <= 0:
            raise ValueError(
                f"interpolate: scale_factor {scale_factor} makes the {in_size[0]}x{in_size[1]} "
                f"input empty ({out_size[0]}x{out_size[1]})")
        scales = [np.float32(1.0 / f) for f in factors]
    sources = [_nearest_sources(n, m, scale) for n, m, scale in zip(in_size, out_size, scales)]
    repeats = [m // n if m % n == 0 and np.array_equal(src, np.arange(m) // (m // n)) else None
               for src, n, m in zip(sources, in_size, out_size)]
    n, c, h, w = x.shape
    if None not in repeats:  # each pixel becomes an rh x rw block
        rh, rw = repeats
        blocks = broadcast_to(reshape(x, (n, c, h, 1, w, 1)), (n, c, h, rh, w, rw))
        return reshape(blocks, (n, c, h * rh, w * rw))
    device = _backend.backend_of(x.data)
    rows, cols = (device.to_device(src) for src in sources)
    y = getitem(x, (slice(None), slice(None), rows))
    return getitem(y, (slice(None), slice(None), slice(None), cols))


def _factor_pair(scale_factor):
    factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * 2
    if len(factors) != 2 or not all(
            isinstance(f, numbers.Real) and not isinstance(f, bool) and f > 0 for f in factors):
        raise ValueError(f"interpolate: scale_factor must be a positive number or a pair of "
                         f"them, got {scale_factor!r}")
    return tuple(float(f) for f in factors)


def _nearest_sources(in_size, out_size, scale):
    """The source index of every output index along one axis, in PyTorch's arithmetic
    (float32, and exact halving for a doubled size). Host-side constants from sizes."""
    if out_size == in_size:
        return np.arange(out_size)
    if out_size == 2 * in_size:
        return np.arange(out_size) // 2
    index = np.floor(np.arange(out_size, dtype=np.float32) * np.float32(scale))
    return np.minimum(index.astype(np.int64), in_size - 1)

"""Max pooling as the lessons derive it: im2col, then the largest entry of each window.

    x: (N, C, H, W) -> y: (N, C, Ho, Wo),  Ho = floor((H + 2p - kh) / s) + 1

    windows[n, c, (i, j), h, w] = x_pad[n, c, s h + i, s w + j]   (x padded with -inf)
    winner[n, c, h, w]          = argmax_(i, j) windows[n, c, (i, j), h, w]
    y[n, c, h, w]               = windows[n, c, winner, h, w]

Only the winner of a window moved y, so dL/dx is dL/dy sent back to the winners
(col2im of a one-hot column, MaxPool2dGrad); and that is linear in dL/dy, with
the picking of the winners (MaxPool2d with the winners given) as its adjoint.

The fast twin is minigan/functional/pool.py (a running max over kernel offsets).
"""
import math

from ..autograd import Function
from ..backend import get_array_module
from ..functional.pool import check_pool2d_arguments, pool_output_size
from .conv import col2im, im2col, pad

__all__ = ["max_pool2d", "MaxPool2d", "MaxPool2dGrad"]


class MaxPool2d(Function):
    """y = max_pool2d(x): the largest element of every kh x kw window.

    x: (N, C, H, W) -> y: (N, C, Ho, Wo); padding counts as -inf, so it never wins.
    winner: (N, C, Ho, Wo), the offset i*kw + j of the element to pick in each window;
        None (the forward pass) picks the largest, the first of equal ones.
    backward: dL/dx = MaxPool2dGrad(g, winner), g sent back to each window's winner.
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, winner=None):
        ctx.pooling = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        (n, c), (kh, kw) = x.shape[:2], kernel_size
        ho, wo = pool_output_size(x.shape[2:], kernel_size, stride, padding)
        x_pad = pad(x, padding, -math.inf)
        windows = im2col(x_pad, kernel_size, (ho, wo), stride, (0, 0), (1, 1))
        windows = windows.reshape(n, c, kh * kw, ho, wo)
        if winner is None:
            winner = windows.argmax(axis=2)
        ctx.winner = winner
        xp = get_array_module(x)
        return xp.take_along_axis(windows, winner[:, :, None], axis=2)[:, :, 0]

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return MaxPool2dGrad.apply(g, winner=ctx.winner, image_size=x.shape[2:], **ctx.pooling)


class MaxPool2dGrad(Function):
    """dL/dx of max pooling, for g = dL/dy: each window's g goes to its winner,
        dx_pad[n, c, s h + i, s w + j] += g[n, c, h, w]   where i*kw + j = winner[n, c, h, w]

    g: (N, C, Ho, Wo) -> (N, C, H, W) with (H, W) = image_size: col2im of columns that
    hold g at the winner's row and 0 elsewhere.
    backward (linear in g): dL/dg = MaxPool2d(gg, winner), gg picked at the same winners.
    """

    @staticmethod
    def forward(ctx, g, winner, image_size, kernel_size, stride, padding):
        ctx.pooling = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        ctx.winner = winner
        xp = get_array_module(g)
        (n, c, ho, wo), (kh, kw) = g.shape, kernel_size
        offsets = xp.arange(kh * kw).reshape(1, 1, kh * kw, 1, 1)
        one_hot = offsets == winner[:, :, None]                      # (N, C, kh*kw, Ho, Wo)
        cols = xp.where(one_hot, g[:, :, None], g.dtype.type(0))
        return col2im(cols.reshape(n, c * kh * kw, ho * wo), image_size, kernel_size,
                      (ho, wo), stride, padding, (1, 1))

    @staticmethod
    def backward(ctx, gg):
        return MaxPool2d.apply(gg, winner=ctx.winner, **ctx.pooling)


# --- what users call (and F.max_pool2d under mg.textbook()) ------------------------------

def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The largest element of each window, as F.max_pool2d. x: (N, C, H, W) ->
    (N, C, Ho, Wo),  Ho = floor((H + 2 padding - kh) / stride) + 1; stride defaults
    to kernel_size; padding counts as -inf."""
    kernel_size, stride, padding = check_pool2d_arguments("max_pool2d", x, kernel_size,
                                                          stride, padding)
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)

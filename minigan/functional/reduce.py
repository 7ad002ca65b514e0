"""Reductions: sum, mean, max, min, var, std, argmax; softmax, log_softmax, logsumexp.

A reduction's backward spreads the gradient back over the reduced axes: sum
copies it to every element, mean divides by the count, max sends it to the
element that won.
"""
from collections import namedtuple

from ..autograd import Function
from ..backend import get_array_module as _xp
from ._util import constant, floating, normalize_dim
from .elementwise import exp, log
from .shape import broadcast_to, reshape

__all__ = [
    "sum", "mean", "max", "min", "var", "std", "argmax", "argmin",
    "logsumexp", "softmax", "log_softmax",
]

MaxResult = namedtuple("MaxResult", ["values", "indices"])  # as torch.return_types.max


def _axes(x, dim, name):
    return tuple(range(x.ndim)) if dim is None else normalize_dim(dim, x.ndim, name)


def _kept_shape(shape, axes):
    """The shape of a keepdim=True reduction over `axes`."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over `axes`;  dL/dx = g broadcast back to x's shape"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes = axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return broadcast_to(reshape(g, _kept_shape(x.shape, ctx.axes)), x.shape)


def sum(x, dim=None, keepdim=False):
    """Sum over `dim` (an int, a tuple, or None for all)."""
    return Sum.apply(x, axes=_axes(x, dim, "sum"), keepdim=keepdim)


def _reciprocal(count):
    """1 / count, or NaN for a count of 0 (PyTorch's mean of nothing is NaN, not an error)."""
    return 1.0 / count if count > 0 else float("nan")


def mean(x, dim=None, keepdim=False):
    """Mean over `dim`; an integer input gives the default float dtype."""
    x = floating(x)
    axes = _axes(x, dim, "mean")
    count = 1
    for a in axes:
        count *= x.shape[a]
    return sum(x, axes, keepdim) * _reciprocal(count)


class Max(Function):
    """y = the largest (or smallest) x over `axes`;  dL/dx = g at the winning elements.

    Reducing a single `dim` (torch.max(x, dim)) sends the gradient to the one
    element at the returned index; reducing everything (torch.max(x)) shares it
    evenly between tied elements. Both as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim, pick, share_ties):
        xp = _xp(x)
        y = getattr(x, pick)(axis=axes, keepdims=True)
        if share_ties:
            winners = (x == y).astype(x.dtype)
            winners /= winners.sum(axis=axes, keepdims=True)
        else:
            (axis,) = axes
            index = getattr(x, "arg" + pick)(axis=axis)
            ctx.indices = index
            winners = (xp.arange(x.shape[axis]).reshape(
                (-1,) + (1,) * (x.ndim - axis - 1)) == xp.expand_dims(index, axis))
            winners = winners.astype(x.dtype)
        ctx.axes = axes
        ctx.winners = winners
        return y if keepdim else y.reshape(tuple(n for i, n in enumerate(y.shape) if i not in axes))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        spread = broadcast_to(reshape(g, _kept_shape(x.shape, ctx.axes)), x.shape)
        return spread * constant(ctx.winners)


def _max_or_min(x, dim, keepdim, pick):
    if x.dtype.kind != "f" and dim is None:  # nothing to differentiate: the value, in x's dtype
        return constant(getattr(x.data, pick)())
    if dim is None:
        return Max.apply(x, axes=tuple(range(x.ndim)), keepdim=False, pick=pick, share_ties=True)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{pick}: dim must be one int, as in torch.{pick}(x, dim); got {dim!r}")
    axes = normalize_dim(dim, x.ndim, pick)
    values = Max.apply(x, axes=axes, keepdim=keepdim, pick=pick, share_ties=False)
    index = getattr(x.data, "arg" + pick)(axis=axes[0])
    if keepdim:
        index = _xp(index).expand_dims(index, axes[0])
    return MaxResult(values, constant(index))


def max(x, dim=None, keepdim=False):
    """torch.max: the largest element, or (values, indices) along `dim`."""
    return _max_or_min(x, dim, keepdim, "max")


def min(x, dim=None, keepdim=False):
    """torch.min: the smallest element, or (values, indices) along `dim`."""
    return _max_or_min(x, dim, keepdim, "min")


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return constant(x.data.argmax())
    (axis,) = normalize_dim(dim, x.ndim, "argmax")
    index = x.data.argmax(axis=axis)
    return constant(_xp(index).expand_dims(index, axis) if keepdim else index)


def argmin(x, dim=None, keepdim=False):
    if dim is None:
        return constant(x.data.argmin())
    (axis,) = normalize_dim(dim, x.ndim, "argmin")
    index = x.data.argmin(axis=axis)
    return constant(_xp(index).expand_dims(index, axis) if keepdim else index)


def var(x, dim=None, unbiased=True, keepdim=False):
    """Variance over `dim`: sum((x - mean)^2) / (n - 1), or / n when unbiased=False."""
    x = floating(x)
    axes = _axes(x, dim, "var")
    count = 1
    for a in axes:
        count *= x.shape[a]
    centered = x - mean(x, axes, keepdim=True)
    return sum(centered * centered, axes, keepdim) * _reciprocal(count - 1 if unbiased else count)


def std(x, dim=None, unbiased=True, keepdim=False):
    return var(x, dim, unbiased, keepdim).sqrt()


# --- softmax family ------------------------------------------------------------------

def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x), dim)), computed stably by shifting by the (constant) max."""
    x = floating(x)
    axes = normalize_dim(dim, x.ndim, "logsumexp")
    shift = constant(x.data.max(axis=axes, keepdims=True))
    y = log(sum(exp(x - shift), axes, keepdim=True)) + shift
    return y if keepdim else reshape(y, tuple(n for i, n in enumerate(y.shape) if i not in axes))


class Softmax(Function):
    """y = exp(x) / sum(exp(x), dim);  dL/dx = y * (g - sum(g * y, dim))"""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        e = _xp(x).exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, g):
        y = ctx.output
        return y * (g - sum(g * y, ctx.axis, keepdim=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x, dim);  dL/dx = g - exp(y) * sum(g, dim)"""

    @staticmethod
    def forward(ctx, x, axis):
        # BEGIN TASK 2.2
        ctx.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        xp = _xp(x)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        # END TASK 2.2

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 2.2
        return g - exp(ctx.output) * sum(g, ctx.axis, keepdim=True)
        # END TASK 2.2


def softmax(x, dim):
    (axis,) = normalize_dim(dim, x.ndim, "softmax")
    return Softmax.apply(floating(x), axis=axis)


def log_softmax(x, dim):
    (axis,) = normalize_dim(dim, x.ndim, "log_softmax")
    return LogSoftmax.apply(floating(x), axis=axis)

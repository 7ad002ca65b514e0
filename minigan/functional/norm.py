"""Normalization and dropout: batch_norm, dropout, dropout2d.

Batch norm standardises each channel with statistics over everything but the
channel axis: for x of shape (N, C) or (N, C, d1, d2, ...), channel c's
statistics are over x[:, c, ...], m = N * d1 * d2 * ... values.

    training:   y = (x - mean) / sqrt(var + eps) * weight + bias
                (batch mean, biased batch variance; the running statistics move
                 towards the batch's: running = (1 - momentum) running + momentum stat,
                 with the UNBIASED variance for running_var, as in PyTorch)
    evaluation: the same with running_mean and running_var in place of the batch's.

Dropout zeroes each element with probability p and scales the rest by 1/(1 - p)
("inverted" dropout), so evaluation needs no rescaling.
"""
import numpy as np

from .. import _threads
from ..autograd import Function, is_grad_enabled
from ..backend import backend_of
from ..backend import get_array_module as _xp
from ..tensor import Tensor
from . import _twins
from ._util import constant
from .elementwise import MaskedGrad
from .reduce import mean, sum
from .shape import reshape

__all__ = ["batch_norm", "dropout", "dropout2d"]


# --- batch norm --------------------------------------------------------------------

def _stat_axes(ndim):
    """Every axis but the channel axis 1: (0,) for (N, C), (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, ndim))


def _stat_shape(x_shape):
    """Where a per-channel (C,) vector broadcasts against x: (1, C, 1, 1) for NCHW."""
    return (1, x_shape[1]) + (1,) * (len(x_shape) - 2)


def _channels_last_merged(a):
    """a: (N, C, d1, ...) as (N, C, L), so one einsum sums any input over all but C."""
    return a.reshape(a.shape[0], a.shape[1], -1)


class ChannelDot(Function):
    """y[c] = sum of a * b over every axis but 1, as shape (1, C, 1, ...);
    dL/da = g * b,  dL/db = g * a  (g broadcast back over those axes).

    One einsum, so the product a * b is never stored: batch norm's sum(g * x_hat)
    at a fraction of the cost of a multiply and a sum.
    """

    @staticmethod
    def forward(ctx, a, b):
        xp = _xp(a)
        y = xp.einsum("ncl,ncl->c", _channels_last_merged(a), _channels_last_merged(b))
        return y.reshape(_stat_shape(a.shape))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


def _centered_and_inv_std(x, eps):
    """x - mean and 1 / sqrt(var + eps) per channel, from differentiable ops."""
    count = x.numel() // x.shape[1]
    centered = x - mean(x, _stat_axes(x.ndim), keepdim=True)
    var = ChannelDot.apply(centered, centered) * (1.0 / count)
    return centered, (var + eps) ** -0.5


class BatchNorm(Function):
    """Training-mode batch norm over the batch's own statistics.

    x: (N, C, ...); weight, bias: (C,) or both absent. Sums run over every axis
    but 1, m values per channel. With x_hat = (x - mean) * inv_std and
    inv_std = 1 / sqrt(var + eps):

        y       = x_hat * weight + bias
        dL/dx   = weight * inv_std * (g - sum(g) / m - x_hat * sum(g * x_hat) / m)
        dL/dw   = sum(g * x_hat)
        dL/db   = sum(g)

    Backward works with x - mean rather than x_hat (x_hat = (x - mean) * inv_std is
    folded into the per-channel factors), which saves a pass over x. It keeps no array
    of x's size: x itself (the graph holds it anyway), the mean and inv_std, as
    PyTorch's batch norm keeps; backward subtracts the mean again (the same
    subtraction, so the same bits) rather than a second x-sized array living from
    forward to backward (116 MiB of the 64x64 DCGAN's step at batch 128).
    Forward also moves running_mean / running_var (backend arrays or None) in place.

    The trick (numpy backend, inputs of BLOCKS_FROM numbers or more): every channel
    is independent of the others, so forward, and backward when no graph is
    recorded, run by blocks of channels (see _channel_passes; minigan/_threads.py
    shares the blocks out between threads). Batch-last input (a convolution's output) goes through all the
    passes block by block, each block read from memory once; as each block is
    reduced by the same calls whatever the thread count, the results are the same
    bits on one thread as on many.
    """

    @staticmethod
    def forward(ctx, x, *affine, running_mean, running_var, momentum, eps):
        xp = _xp(x)
        channels = x.shape[1]
        count = x.size // channels
        per_count = x.dtype.type(1 / count)
        eps_ = x.dtype.type(eps)
        batch_mean, var, inv_std, scale = (xp.empty(channels, dtype=x.dtype) for _ in range(4))
        y = xp.empty_like(x)
        centered = y  # y holds x - mean until `normalise` scales it in place

        def mean_of(c):  # c: a slice of channels
            batch_mean[c] = xp.einsum("ncl->c", _channels_last_merged(x[:, c])) * per_count

        def center(i, per_channel):  # i: an index of x; per_channel(v): v shaped against it
            xp.subtract(x[i], per_channel(batch_mean), out=centered[i])

        def var_of(c):
            merged = _channels_last_merged(centered[:, c])
            var[c] = xp.einsum("ncl,ncl->c", merged, merged) * per_count
            inv_std[c] = 1 / xp.sqrt(var[c] + eps_)
            scale[c] = inv_std[c] * affine[0][c] if affine else inv_std[c]

        def normalise(i, per_channel):
            xp.multiply(centered[i], per_channel(scale), out=y[i])  # in place
            if affine:
                y[i] += per_channel(affine[1])

        _channel_passes(x, (mean_of, None), (None, center), (var_of, None), (None, normalise))
        ctx.count, ctx.eps = count, eps
        ctx.batch_mean, ctx.inv_std = batch_mean, inv_std.reshape(_stat_shape(x.shape))
        if running_mean is not None:
            _update(running_mean, batch_mean, momentum)
            _update(running_var, var * x.dtype.type(count / (count - 1)), momentum)
        return y

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        if is_grad_enabled():
            # The gradient is itself being recorded (create_graph=True, e.g. for a
            # gradient penalty): x - mean and inv_std depend on x, so they are rebuilt
            # from x as graph nodes, for the second derivative to see that dependence.
            centered, inv_std = _centered_and_inv_std(x, ctx.eps)
        elif backend_of(g.data).name == "numpy":  # no graph: blocks of channels (below)
            return _batch_norm_backward_fused(ctx, g)
        else:  # CuPy, strict: whole-array ops, a few large kernels
            centered = constant(_xp(x.data).subtract(
                x.data, ctx.batch_mean.reshape(_stat_shape(x.shape))))
            inv_std = constant(ctx.inv_std)
        sum_g = sum(g, _stat_axes(x.ndim), keepdim=True)
        sum_g_x_hat = ChannelDot.apply(g, centered) * inv_std
        affine = len(ctx.inputs) == 3
        grads = [None] * len(ctx.inputs)
        if ctx.needs_input_grad[0]:
            scale = inv_std * reshape(ctx.inputs[1], inv_std.shape) if affine else inv_std
            per_count = scale * (1.0 / ctx.count)
            # x_hat * k = (x - mean) * (inv_std * k): one pass over x instead of two
            grads[0] = g * scale - (centered * (inv_std * sum_g_x_hat * per_count)
                                    + sum_g * per_count)
        if affine:
            channels = (x.shape[1],)
            grads[1] = reshape(sum_g_x_hat, channels) if ctx.needs_input_grad[1] else None
            grads[2] = reshape(sum_g, channels) if ctx.needs_input_grad[2] else None
        return tuple(grads)


def _batch_norm_backward_fused(ctx, g):
    """BatchNorm's backward on arrays, when no graph is recorded (the gradient is a
    constant): the formulas of BatchNorm's docstring, in the graph version's order of
    operations, in three passes over the channels (see _channel_passes): x - mean
    again (into dL/dx's memory), sum(g) and sum(g * (x - mean)) with the per-channel
    factors, then dL/dx in place."""
    xp = _xp(g.data)
    g, x = g.data, ctx.inputs[0].data
    inv_std = ctx.inv_std.reshape(-1)
    channels = x.shape[1]
    affine = len(ctx.inputs) == 3
    weight = ctx.inputs[1].data if affine else None
    sum_g, sum_g_x_hat, scale, k_centered, k_one = (
        xp.empty(channels, dtype=g.dtype) for _ in range(5))
    centered = xp.empty_like(x)  # x - mean, then dL/dx over it (in x's memory order)
    grad_x = centered if ctx.needs_input_grad[0] else None

    def center(i, per_channel):  # as BatchNorm.forward's, so the same bits
        xp.subtract(x[i], per_channel(ctx.batch_mean), out=centered[i])

    def sums_of(c):  # c: a slice of channels
        merged_g = _channels_last_merged(g[:, c])
        sum_g[c] = xp.einsum("ncl->c", merged_g)
        sum_g_x_hat[c] = xp.einsum("ncl,ncl->c", merged_g, _channels_last_merged(centered[:, c]))
        sum_g_x_hat[c] *= inv_std[c]
        scale[c] = inv_std[c] * weight[c] if affine else inv_std[c]
        per_count = scale[c] * (1.0 / ctx.count)
        k_centered[c] = inv_std[c] * sum_g_x_hat[c] * per_count
        k_one[c] = sum_g[c] * per_count

    def input_grad(i, per_channel):  # i: an index of x; per_channel(v): v shaped against it
        # x_hat * k = (x - mean) * (inv_std * k): one pass over x instead of two
        shifted = centered[i] * per_channel(k_centered)
        shifted += per_channel(k_one)
        out = grad_x[i]  # centered's memory: read above, overwritten now
        xp.multiply(g[i], per_channel(scale), out=out)
        out -= shifted

    passes = [(None, center), (sums_of, None)]
    passes += [(None, input_grad)] if grad_x is not None else []
    _channel_passes(centered, *passes)
    grads = [None if grad_x is None else constant(grad_x)]
    if affine:
        grads.append(constant(sum_g_x_hat) if ctx.needs_input_grad[1] else None)
        grads.append(constant(sum_g) if ctx.needs_input_grad[2] else None)
    return tuple(grads)


# Below this many numbers batch norm makes each pass once over the whole array, on one
# thread. Measured (a scratch loop, the three variants alternating call by call, this
# 2-core AMD EPYC): for the MNIST GANs' layers, (128, 128, 7, 7), (128, 64, 14, 14)
# and (128, 6272), whole-array forwards took 0.69-0.99, 1.40-1.46 and 0.76-0.99 ms
# against 1.50-1.54, 1.77-2.05 and 1.49-1.93 in channel blocks on two threads, and
# the backwards about the same or less; from about 2M numbers on the blocks on two
# threads win ((128, 64, 32, 32) of the 64x64 DCGAN: 21.8 against 28.8 ms forward and
# backward, two threads against one): there the passes are long enough to share.
BLOCKS_FROM = 1 << 21


def _channel_passes(x, *passes):
    """Run `passes` over the channels of x (N, C, ...), one after the other. A pass
    is (reduce, None): reduce(c) fills per-channel (C,) vectors for a slice c of
    channels; or (None, elementwise): elementwise(i, per_channel) writes arrays of
    x's shape at index i, per_channel(v) giving a (C,) vector v shaped to broadcast
    against x[i].

    The trick, two orders for two memory layouts (numpy backend: threads):
    - channels outermost in memory (a convolution's batch-last output): every
      pass runs block by block of channels, a block's numbers read from memory
      once for all the passes, the blocks shared out between threads;
    - otherwise ((N, C) from a linear layer, NCHW): each pass in turn, the
      reductions by blocks of channels, the elementwise passes by blocks of rows
      of the outermost axis (channel blocks of such memory are short strided runs).
    Reductions always go by the same fixed blocks of channels (_threads.block_rows),
    so that the bits do not depend on the number of threads. On CuPy and strict,
    every pass runs once over the whole array (blocks would only add kernel launches),
    and so it does on NumPy below BLOCKS_FROM numbers: the choice depends on the
    shape alone, never on the thread count, so the bits still do not either.
    """
    if backend_of(x).name != "numpy" or x.size < BLOCKS_FROM:
        whole = _stat_shape(x.shape)
        for reduce, elementwise in passes:
            if reduce is not None:
                reduce(slice(None))
            else:
                elementwise(..., lambda v: v.reshape(whole))
        return
    channels = x.shape[1]
    block = _threads.block_rows(channels, x)
    axis = _threads.outer_axis(x)
    least = _threads.HEAVY_MIN_ELEMENTS
    if axis == 1:
        def channel_block(start, stop):
            c = slice(start, stop)
            shape = _stat_shape((1, stop - start) + x.shape[2:])
            for reduce, elementwise in passes:
                if reduce is not None:
                    reduce(c)
                else:
                    elementwise((slice(None), c), lambda v: v[c].reshape(shape))

        _threads.split_blocks(channel_block, channels, block, x, least)
        return
    shape = _stat_shape(x.shape)
    for reduce, elementwise in passes:
        if reduce is not None:
            _threads.split_blocks(lambda start, stop: reduce(slice(start, stop)),
                                  channels, block, x, least)
        else:
            _threads.split_along(lambda i: elementwise(i, lambda v: v.reshape(shape)),
                                 x, axis, least)


def _update(running, batch_stat, momentum):
    """running = (1 - momentum) * running + momentum * batch_stat, in place."""
    running *= running.dtype.type(1 - momentum)
    running += (batch_stat.reshape(running.shape) * batch_stat.dtype.type(momentum)).astype(
        running.dtype, copy=False)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, num_batches_tracked=None):
    """Batch normalization as torch.nn.functional.batch_norm.

    input: (N, C) or (N, C, d1, d2, ...) (e.g. (N, C, H, W)).
    running_mean, running_var: (C,) Tensors without grad, or None (then training
        must be True, and nothing is tracked). In training they are updated IN PLACE:
        running = (1 - momentum) * running + momentum * batch_stat, with the unbiased
        (m - 1) variance of the batch for running_var. In evaluation they are used.
    weight, bias: (C,) or None (gamma = 1, beta = 0).
    momentum: a number, or None for a cumulative average over every batch seen:
        then pass `num_batches_tracked`, the number of batches counted INCLUDING
        this one (what nn.BatchNorm holds after adding 1), and the factor is
        1 / num_batches_tracked.
    Returns a Tensor of input's shape and dtype.
    """
    textbook = _twins.twin("batch_norm")
    if textbook is not None:  # under mg.textbook(): minigan/textbook/norm.py
        return textbook(input, running_mean, running_var, weight, bias, training, momentum,
                        eps, num_batches_tracked=num_batches_tracked)
    momentum = check_batch_norm_arguments(input, running_mean, running_var, weight, bias,
                                          training, momentum, num_batches_tracked)
    if not training:
        return _batch_norm_eval(input, running_mean, running_var, weight, bias, eps)
    affine = ()
    if weight is not None or bias is not None:
        affine = _weight_and_bias(input, weight, bias)
    return BatchNorm.apply(
        input, *affine,
        running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data,
        momentum=momentum, eps=eps)


def check_batch_norm_arguments(input, running_mean, running_var, weight, bias, training,
                               momentum, num_batches_tracked):
    """batch_norm's arguments checked (one clear error for bad ones); returns the
    momentum to use (1 / num_batches_tracked for momentum=None). Shared with the
    textbook twin."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(
            "batch_norm: expected input of shape (N, C) or (N, C, d1, ...), got "
            + (f"shape {input.shape}" if isinstance(input, Tensor) else type(input).__name__))
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (channels,)):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(
                f"batch_norm: expected {name} of shape ({channels},) for an input of "
                f"shape {input.shape}, got {got}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"batch_norm: expected {name} of input's dtype {input.dtype}, got {t.dtype}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training:
        if running_mean is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed in evaluation mode "
                "(training=False)")
        return momentum

    if input.numel() // channels <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input "
            f"of shape {input.shape}")
    if momentum is None and running_mean is not None:
        if num_batches_tracked is None:
            raise ValueError(
                "batch_norm: momentum=None (a cumulative average) needs num_batches_tracked, "
                "the number of batches seen including this one")
        count = int(num_batches_tracked.item() if isinstance(num_batches_tracked, Tensor)
                    else num_batches_tracked)
        if count < 1:
            raise ValueError(
                f"batch_norm: num_batches_tracked must count this batch too (>= 1), got {count}")
        momentum = 1.0 / count
    return momentum


def _weight_and_bias(input, weight, bias):
    """(weight, bias), a missing one as a constant of ones (weight) or zeros (bias)."""
    channels = input.shape[1]
    ones_or_zeros = input.xp.ones if weight is None else input.xp.zeros
    missing = constant(ones_or_zeros((channels,), dtype=input.dtype))
    return (weight if weight is not None else missing,
            bias if bias is not None else missing)


def _batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    """y = x * scale + shift with scale = weight / sqrt(running_var + eps) and
    shift = bias - running_mean * scale: two passes over x, gradients from the ops."""
    shape = _stat_shape(x.shape)

    def stat(t):  # in x's dtype, so float64 running stats never promote a float32 x
        return constant(t.data.astype(x.dtype, copy=False))

    scale = (stat(running_var) + eps) ** -0.5
    if weight is not None:
        scale = weight * scale
    shift = -(stat(running_mean) * scale)
    if bias is not None:
        shift = bias + shift
    return x * reshape(scale, shape) + reshape(shift, shape)


# --- dropout ---------------------------------------------------------------------------

class Dropout(MaskedGrad):
    """y = x * mask, mask = (u >= p) / (1 - p) with u uniform in [0, 1);
    dL/dx = g * mask.

    mask_shape: x.shape for dropout; (N, C, 1, 1) for dropout2d (whole channels).
    The mask comes from the seeded generator of x's backend.
    """

    @staticmethod
    def forward(ctx, x, p, mask_shape):
        u = backend_of(x).rand(mask_shape, x.dtype)
        keep = x.dtype.type(0 if p == 1 else 1 / (1 - p))
        ctx.slope = (u >= x.dtype.type(p)).astype(x.dtype)
        ctx.slope *= keep
        return x * ctx.slope


def _check_p(p, name):
    if not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1 - p).

    Returns input itself when not training or p == 0; zeros when p == 1.
    """
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=float(p), mask_shape=input.shape)


def dropout2d(input, p=0.5, training=True):
    """Zero whole channels of an (N, C, H, W) input with probability p, scale the rest
    by 1/(1 - p) (channel dropout, as torch.nn.functional.dropout2d)."""
    _check_p(p, "dropout2d")
    if input.ndim != 4:
        raise ValueError(f"dropout2d: expected input of shape (N, C, H, W), got {input.shape}")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=float(p), mask_shape=input.shape[:2] + (1, 1))

"""Batch norm as lesson 4 derives it, the formulas line for line.

For x of shape (N, C) or (N, C, H, W), channel c is normalized over its
m = N (or N H W) values x[:, c, ...]; every sum and mean below runs over them:

    mu    = (1/m) sum x
    var   = (1/m) sum (x - mu)^2              (biased: the batch's own spread)
    sigma = sqrt(var + eps)
    x_hat = (x - mu) / sigma
    y     = gamma x_hat + beta

    dL/dbeta  = sum dy
    dL/dgamma = sum dy x_hat
    dL/dx     = (1/m) gamma / sigma (m dy - sum dy - x_hat sum(dy x_hat))

Evaluation uses running estimates of mu and var, which training moves towards
each batch's (with the unbiased variance, var m / (m - 1), as PyTorch does).

The fast twin is minigan/functional/norm.py (folded factors, one einsum per sum).
"""
from ..autograd import Function
from ..backend import get_array_module
from ..functional._util import constant
from ..functional.norm import check_batch_norm_arguments

__all__ = ["batch_norm", "BatchNorm"]


def channel_axes(ndim):
    """The axes every statistic sums over, all but the channel axis 1: (0, 2, 3) for NCHW."""
    return (0,) + tuple(range(2, ndim))


def per_channel(vector, ndim):
    """A (C,) vector shaped to broadcast along x's channel axis: (1, C, 1, 1) for NCHW."""
    return vector.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNorm(Function):
    """Training-mode batch norm, normalizing with the batch's own statistics.

    x: (N, C, ...), gamma, beta: (C,) -> y: x's shape. Sums over the m values of a channel:
        x_hat = (x - mu) / sigma,  sigma = sqrt(var + eps),  y = gamma x_hat + beta
    backward:
        dL/dx     = (1/m) gamma / sigma (m dy - sum dy - x_hat sum(dy x_hat))
        dL/dgamma = sum dy x_hat
        dL/dbeta  = sum dy
    running_mean, running_var: (C,) arrays moved in place (or None, then not tracked):
        running_mean = (1 - momentum) running_mean + momentum mu
        running_var  = (1 - momentum) running_var  + momentum var m / (m - 1)
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean, running_var, momentum, eps):
        # BEGIN TASK 4.1
        xp = get_array_module(x)
        axes, m = channel_axes(x.ndim), x.size // x.shape[1]
        mu = x.mean(axis=axes, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        sigma = xp.sqrt(var + eps)
        x_hat = (x - mu) / sigma
        y = per_channel(gamma, x.ndim) * x_hat + per_channel(beta, x.ndim)
        if running_mean is not None:
            mu, var = mu.reshape(-1), var.reshape(-1)
            running_mean[...] = (1 - momentum) * running_mean + momentum * mu
            running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
        ctx.eps = eps
        return y
        # END TASK 4.1

    @staticmethod
    def backward(ctx, dy):
        x, gamma, beta = ctx.inputs
        # BEGIN TASK 4.2
        axes, m = channel_axes(x.ndim), x.numel() // x.shape[1]
        # x_hat and sigma again, from the Tensor x: a second derivative (a gradient
        # penalty through a batch norm) must see how they depend on x
        mu = x.mean(axes, keepdim=True)
        sigma = (((x - mu) ** 2).mean(axes, keepdim=True) + ctx.eps).sqrt()
        x_hat = (x - mu) / sigma
        sum_dy = dy.sum(axes, keepdim=True)
        sum_dy_x_hat = (dy * x_hat).sum(axes, keepdim=True)
        dx = (1 / m) * per_channel(gamma, x.ndim) / sigma * (
            m * dy - sum_dy - x_hat * sum_dy_x_hat)
        dgamma = sum_dy_x_hat.reshape(-1)
        dbeta = sum_dy.reshape(-1)
        return dx, dgamma, dbeta
        # END TASK 4.2


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps):
    """y = gamma (x - running_mean) / sqrt(running_var + eps) + beta: the statistics are
    constants now, so y is an affine map of x and its gradients come from the ops."""
    # BEGIN TASK 4.1
    def stat(t):  # a constant in x's dtype (float64 running stats never promote float32 x)
        return constant(t.data.astype(x.dtype, copy=False))

    mu = per_channel(stat(running_mean), x.ndim)
    sigma = per_channel((stat(running_var) + eps).sqrt(), x.ndim)
    y = (x - mu) / sigma
    if weight is not None:
        y = per_channel(weight, x.ndim) * y
    if bias is not None:
        y = y + per_channel(bias, x.ndim)
    return y
    # END TASK 4.1


# --- what users call (and F.batch_norm under mg.textbook()) -------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, num_batches_tracked=None):
    """Batch normalization, as F.batch_norm (PyTorch's torch.nn.functional.batch_norm).

    input: (N, C) or (N, C, d1, ...); running_mean, running_var: (C,) Tensors or None
    (updated in place when training); weight, bias: (C,) or None (gamma = 1, beta = 0);
    momentum=None: a cumulative average, 1 / num_batches_tracked.
    """
    momentum = check_batch_norm_arguments(input, running_mean, running_var, weight, bias,
                                          training, momentum, num_batches_tracked)
    if not training:
        return batch_norm_eval(input, running_mean, running_var, weight, bias, eps)
    xp, channels = input.xp, input.shape[1]
    gamma = weight if weight is not None else constant(xp.ones(channels, dtype=input.dtype))
    beta = bias if bias is not None else constant(xp.zeros(channels, dtype=input.dtype))
    return BatchNorm.apply(
        input, gamma, beta,
        running_mean=None if running_mean is None else running_mean.data,
        running_var=None if running_var is None else running_var.data,
        momentum=momentum, eps=eps)

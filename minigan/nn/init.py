"""Weight initialisation, as torch.nn.init: fill a tensor in place and return it.

    nn.init.normal_(layer.weight, 0.0, 0.02)      # DCGAN's initialisation
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))   # what Linear and Conv2d do by default

Every function writes into `tensor.data` (the backend array) directly, so no
graph is recorded, as under torch's no_grad, and moves the tensor's version
(`Tensor._version`): a graph that saved the old values refuses to backward.
Random numbers come from the seeded generator of the tensor's backend
(`mg.manual_seed` seeds it), in the tensor's dtype.

Fans (`_calculate_fan_in_and_fan_out`) follow PyTorch: for a weight of shape
(d0, d1, k...) with receptive field r = prod(k...), fan_in = d1 * r and
fan_out = d0 * r. So a Conv2d weight (out, in, kh, kw) has fan_in = in*kh*kw and
a ConvTranspose2d weight (in, out, kh, kw) has fan_in = out*kh*kw.
"""
import math

from .. import backend as _backend
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]

_LINEAR_FUNCTIONS = ("linear", "conv1d", "conv2d", "conv3d",
                     "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance steady through `nonlinearity`:

    linear, conv*, sigmoid: 1     tanh: 5/3     relu: sqrt(2)     selu: 3/4
    leaky_relu: sqrt(2 / (1 + negative_slope^2)), negative_slope = param or 0.01
    """
    if nonlinearity in _LINEAR_FUNCTIONS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (d0, d1, k...): (d1 * prod(k), d0 * prod(k))."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tensor.shape})")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported, use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor, who):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{who}: expected a minigan Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{who}: expected a floating tensor, got dtype {tensor.dtype}")


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples from U(a, b)."""
    _check(tensor, "uniform_")
    scalar = tensor.dtype.type
    u = _backend.backend_of(tensor.data).rand(tensor.shape, tensor.dtype)
    tensor.data[...] = u * scalar(b - a) + scalar(a)
    tensor._bump_version()
    return tensor


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples from N(mean, std^2)."""
    _check(tensor, "normal_")
    scalar = tensor.dtype.type
    z = _backend.backend_of(tensor.data).randn(tensor.shape, tensor.dtype)
    tensor.data[...] = z * scalar(std) + scalar(mean)
    tensor._bump_version()
    return tensor


def constant_(tensor, val):
    """Fill with the value `val`."""
    _check(tensor, "constant_")
    tensor.data[...] = tensor.dtype.type(val)
    tensor._bump_version()
    return tensor


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor, gain=1.0):
    """U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std)


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al.);
    gain = calculate_gain(nonlinearity, a), fan = fan_in or fan_out by `mode`.

    With a = sqrt(5) (Linear's and Conv2d's default) bound = 1 / sqrt(fan_in).
    """
    if 0 in tensor.shape:
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al.)."""
    if 0 in tensor.shape:
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))

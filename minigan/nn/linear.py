"""`Linear` (y = x W^T + b) and `Identity` (y = x)."""
import math

from .. import backend as _backend
from .. import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _empty_parameter(*shape):
    """An uninitialised Parameter in the default dtype on the current backend
    (the layer's reset_parameters fills it)."""
    return Parameter(_backend.xp().empty(shape, dtype=_backend.get_default_dtype()))


def _init_weight_and_bias(weight, bias):
    """PyTorch's default for Linear, Conv2d and ConvTranspose2d:
    weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in computed from the weight."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x @ weight^T + bias.

    x: (..., in_features) -> y: (..., out_features)
    weight: (out_features, in_features), bias: (out_features,), both drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_parameter(out_features, in_features)
        if bias:
            self.bias = _empty_parameter(out_features)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _init_weight_and_bias(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x (a placeholder; arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x

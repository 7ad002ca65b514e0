"""Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax (wrapping F.relu, ...).

`inplace` is accepted for compatibility with PyTorch code (nn.ReLU(True)) and
shown in the repr, but minigan always computes a new tensor: the result is the
same, and autograd never has to worry about a value changing under it.
"""
import warnings

from .. import functional as F
from .module import Module


class ReLU(Module):
    """y = max(x, 0)"""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x (DCGAN's discriminator uses 0.2)"""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    """y = tanh(x), in (-1, 1): the generator's last layer for images scaled to [-1, 1]"""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)), in (0, 1)"""

    def forward(self, x):
        return F.sigmoid(x)


def _softmax_dim(name, ndim):
    """PyTorch's legacy choice when no dim is given (with its warning): 0 for 0-, 1- and
    3-d inputs, 1 otherwise (the class axis of (N, C) and (N, C, H, W))."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """y = exp(x) / sum(exp(x)) along `dim`: probabilities that sum to 1 (F.softmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        dim = self.dim if self.dim is not None else _softmax_dim("softmax", x.ndim)
        return F.softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = x - logsumexp(x) along `dim`: log-probabilities, stable (F.log_softmax);
    the input NLLLoss expects."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        dim = self.dim if self.dim is not None else _softmax_dim("log_softmax", x.ndim)
        return F.log_softmax(x, dim)

    def extra_repr(self):
        return f"dim={self.dim}"

"""Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid (wrapping F.relu, ...).

`inplace` is accepted for compatibility with PyTorch code (nn.ReLU(True)) and
shown in the repr, but minigan always computes a new tensor: the result is the
same, and autograd never has to worry about a value changing under it.
"""
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

"""Neural-network modules, as torch.nn: `Module`, `Parameter`, the layers, `init`.

    from minigan import nn
    G = nn.Sequential(nn.Linear(100, 6272, bias=False), nn.BatchNorm1d(6272), nn.ReLU(), ...)

    module.py      Module: registration, traversal, train/eval, state dicts, to()
    parameter.py   Parameter: a Tensor that modules register
    container.py   Sequential, ModuleList
    linear.py      Linear, Identity
    conv.py        Conv2d, ConvTranspose2d
    norm.py        BatchNorm1d, BatchNorm2d
    activation.py  ReLU, LeakyReLU, Tanh, Sigmoid
    dropout.py     Dropout
    flatten.py     Flatten, Unflatten
    embedding.py   Embedding
    pooling.py     MaxPool2d, AvgPool2d
    upsampling.py  Upsample
    init.py        uniform_, normal_, xavier_*, kaiming_*, ... (PyTorch's default inits)
    utils/         spectral_norm, ... (as torch.nn.utils)
"""
from . import init, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d
from .parameter import Parameter
from .pooling import AvgPool2d, MaxPool2d
from .upsampling import Upsample

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Conv2d",
    "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
    "Dropout", "Flatten", "Unflatten", "Embedding", "MaxPool2d", "AvgPool2d", "Upsample", "init", "utils",
]

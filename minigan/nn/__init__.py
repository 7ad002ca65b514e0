"""Neural-network modules, as torch.nn: `Module`, `Parameter`, the layers, `init`.

    from minigan import nn
    G = nn.Sequential(nn.Linear(100, 6272, bias=False), nn.BatchNorm1d(6272), nn.ReLU(), ...)

    module.py      Module: registration, traversal, train/eval, state dicts, to()
    parameter.py   Parameter: a Tensor that modules register
    container.py   Sequential, ModuleList
    linear.py      Linear, Identity
    conv.py        Conv2d, ConvTranspose2d
    norm.py        BatchNorm1d, BatchNorm2d
    activation.py  ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, LogSoftmax
    dropout.py     Dropout, Dropout2d
    loss.py        BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss, MSELoss, L1Loss
    flatten.py     Flatten, Unflatten
    embedding.py   Embedding
    pooling.py     MaxPool2d, AvgPool2d
    upsampling.py  Upsample
    init.py        uniform_, normal_, xavier_*, kaiming_*, ... (PyTorch's default inits)
    utils/         spectral_norm, clip_grad_norm_, clip_grad_value_, parameters_to_vector, ...
"""
from . import init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .norm import BatchNorm1d, BatchNorm2d
from .parameter import Parameter
from .pooling import AvgPool2d, MaxPool2d
from .upsampling import Upsample
from . import utils  # noqa: E402  (after the modules: utils works on their parameters)

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "Conv2d",
    "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
    "Dropout", "Flatten", "Unflatten", "Embedding", "MaxPool2d", "AvgPool2d", "Upsample", "init",
    "Softmax", "LogSoftmax", "Dropout2d", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "MSELoss", "L1Loss", "utils",
]

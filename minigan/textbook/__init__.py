"""Textbook twins of the fast ops: the same functions, written as the lessons derive them.

    conv.py   im2col, col2im, conv2d, conv_transpose2d and conv2d's weight gradient (lesson 3)
    norm.py   batch_norm, training and evaluation (lesson 4)
    pool.py   max_pool2d (im2col, then each window's largest entry)
    adam.py   the Adam update (lesson 4)

Each twin gives the fast op's results (tested equal in float64, forward, backward
and double backward); it is slower, and says nothing but the math.

    with mg.textbook():          # F.conv2d, F.conv_transpose2d, F.batch_norm, F.max_pool2d
        train(...)               # and optim.Adam (made inside) run the twins
    mg.textbook(True)            # or as a switch: on until mg.textbook(False)
    mg.textbook.enabled()        # is it on?
    mg.textbook.conv2d(x, w)     # a twin called directly, switch or not

`mg.textbook` is this module, callable: calling it flips the switch in
minigan/functional/_twins.py, which the five entry points read.
"""
import sys
import types

from ..functional import _twins
from .adam import adam_update
from .conv import (Conv2d, Conv2dWeightGrad, ConvTranspose2d, col2im, conv2d,
                   conv_transpose2d, im2col)
from .norm import BatchNorm, batch_norm
from .pool import MaxPool2d, MaxPool2dGrad, max_pool2d

__all__ = ["conv2d", "conv_transpose2d", "batch_norm", "max_pool2d", "adam_update",
           "im2col", "col2im", "Conv2d", "ConvTranspose2d", "Conv2dWeightGrad", "BatchNorm",
           "MaxPool2d", "MaxPool2dGrad", "enabled"]

for _name, _twin in (("conv2d", conv2d), ("conv_transpose2d", conv_transpose2d),
                     ("batch_norm", batch_norm), ("max_pool2d", max_pool2d),
                     ("adam_update", adam_update)):
    _twins.register(_name, _twin)

enabled = _twins.enabled


class _Switch:
    """What mg.textbook(on) returns. The switch is set at once (so a plain call turns it
    on or off); used in a `with`, it goes back to its previous setting at the end."""

    def __init__(self, on):
        self._previous = _twins.set_enabled(on)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _twins.set_enabled(self._previous)
        return False


class _CallableModule(types.ModuleType):
    def __call__(self, on=True):
        """mg.textbook(on=True): route the fast ops to their twins (see the module doc)."""
        return _Switch(on)


# mg.textbook must be both this package (mg.textbook.conv2d, `import minigan.textbook`)
# and the switch (mg.textbook()): a module of a class that can be called is both.
sys.modules[__name__].__class__ = _CallableModule

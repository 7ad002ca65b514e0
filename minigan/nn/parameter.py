"""`Parameter`: a Tensor that a Module learns.

A Parameter is an ordinary leaf Tensor (requires_grad=True by default) whose type
tells a Module to register it when it is assigned as an attribute:

    self.weight = Parameter(mg.zeros(3, 4))     # now in self.parameters()

Optimizers update `p.data` (the backend array) in place, under no graph:
`p.data -= lr * p.grad.data`. Moving a module to another backend or dtype
replaces `p.data` on the same Parameter object, so a list of parameters held by
an optimizer stays valid.
"""
import numpy as np

from .. import backend as _backend
from ..tensor import Tensor


class Parameter(Tensor):
    """Parameter(data, requires_grad=True): a Tensor registered by Modules.

    data: a Tensor, or an array of the current backend, is wrapped without
    copying (as PyTorch's Parameter shares its tensor's storage); anything else
    `mg.tensor` accepts (numbers, lists, NumPy arrays on a device backend) is
    copied onto the current backend.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _backend.xp().empty((0,), dtype=_backend.get_default_dtype())
        if isinstance(data, Tensor):
            array = data.data
        elif _backend.backend_of(data) is _backend.get_backend() \
                and not isinstance(data, np.generic):
            array = data
        else:
            array = Tensor(data).data
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"Parameter: only floating tensors can require grad, got dtype {array.dtype}")
        self._start(array, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

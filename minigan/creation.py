"""Making tensors: tensor, zeros, ones, full, arange, randn, rand, randint, *_like.

New tensors live on the current backend (see `minigan.backend`) and, for floats,
have the default dtype (float32) unless a dtype is given.
"""
import numpy as np

from . import backend as _backend
from .tensor import Tensor


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor holding a copy of `data` (numbers, lists, arrays, tensors)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"expected a shape of non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else _backend.get_default_dtype()


def _new(array, requires_grad):
    return Tensor._make(array, requires_grad)


def zeros(*shape, dtype=None, requires_grad=False):
    return _new(_backend.xp().zeros(_shape(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return _new(_backend.xp().ones(_shape(shape), dtype=_float(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    return _new(_backend.xp().full(_shape((shape,)), fill_value, dtype=_float(dtype)),
                requires_grad)


def arange(start, end=None, step=1, dtype=None):
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _backend.get_default_dtype()
    return _new(_backend.xp().arange(start, end, step, dtype=np.dtype(dtype)), False)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from the current backend's seeded generator."""
    return _new(_backend.get_backend().randn(_shape(shape), _float(dtype)), requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) from the current backend's seeded generator."""
    return _new(_backend.get_backend().rand(_shape(shape), _float(dtype)), requires_grad)


def randint(low, high, size):
    """Integers in [low, high) of shape `size` (int64), as torch.randint."""
    return _new(_backend.get_backend().randint(low, high, _shape((size,))), False)


def zeros_like(t, dtype=None):
    return _new(t.xp.zeros(t.shape, dtype=dtype or t.dtype), False)


def ones_like(t, dtype=None):
    return _new(t.xp.ones(t.shape, dtype=dtype or t.dtype), False)


def randn_like(t):
    return _new(_backend.backend_of(t.data).randn(t.shape, t.dtype), False)


def rand_like(t):
    return _new(_backend.backend_of(t.data).rand(t.shape, t.dtype), False)


def from_numpy(array):
    """A tensor from a NumPy array, keeping its dtype, as torch.from_numpy.

    On the numpy backend it shares memory with `array` (writes to one show in the
    other, as in PyTorch); on strict or cupy it is a copy on that device.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"from_numpy: expected an array of floats, integers or bools, got dtype {array.dtype}")
    return Tensor._make(_backend.to_device(array), False)

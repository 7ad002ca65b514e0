"""Small helpers shared by the ops: turning numbers into tensors, constants."""
import numpy as np

from .. import backend as _backend
from ..tensor import Tensor


def constant(array):
    """A tensor that never needs a gradient (masks, indices, running statistics)."""
    return Tensor._make(array, False)


def as_tensor(value, like):
    """`value` as a Tensor on `like`'s backend and, for Python numbers, in its dtype.

    x + 2.0 on a float32 tensor stays float32 (2.0 becomes a 0-d float32 array).
    A NumPy array added to a strict or CuPy tensor is refused, as CuPy refuses it.
    """
    if isinstance(value, Tensor):
        return value
    xp = like.xp
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        # A number takes the tensor's dtype (x * 2 stays float32), unless a float
        # meets an integer tensor, which then gives the default float dtype.
        integral = isinstance(value, (bool, int, np.bool_, np.integer))
        dtype = like.dtype if like.dtype.kind == "f" or integral else _backend.get_default_dtype()
        return constant(xp.asarray(value, dtype=dtype))
    found = _backend.backend_of(value)
    mine = _backend.backend_of(like.data)
    if found is not None and found is not mine:
        raise TypeError(
            f"cannot combine a {found.name} array with a {mine.name} tensor; "
            "make it a tensor on the same backend first")
    if found is None:
        value = np.asarray(value)
        if mine.name != "numpy":
            raise TypeError(
                f"cannot combine a Python sequence with a {mine.name} tensor; "
                "make it a tensor first")
    return constant(value)


def floating(x):
    """x if it is floating, else x in the default float dtype: PyTorch's promotion for
    ops whose result is not an integer (exp, sigmoid, mean, ...: 1 -> 1.0, never 0)."""
    if x.dtype.kind == "f":
        return x
    return constant(x.data.astype(_backend.get_default_dtype()))


def promote_pair(a, b):
    """Two tensors in one dtype category, as PyTorch promotes: an integer or bool tensor
    meeting a floating one takes the floating one's dtype (int64 + float32 -> float32,
    where NumPy would give float64)."""
    if a.dtype.kind == "f" and b.dtype.kind != "f":
        b = constant(b.data.astype(a.dtype))
    elif b.dtype.kind == "f" and a.dtype.kind != "f":
        a = constant(a.data.astype(b.dtype))
    return a, b


def check_broadcast(name, *shapes):
    """Raise `name: cannot broadcast shapes (3, 4) and (5,)` if the shapes do not broadcast."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: cannot broadcast shapes "
                         + " and ".join(str(tuple(s)) for s in shapes)) from None


def normalize_dim(dim, ndim, name):
    """A dim (or tuple of dims), possibly negative, as a tuple of positive axes."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(
                f"{name}: dimension {d} out of range for a tensor with {ndim} dimensions")
        out.append(d % max(ndim, 1))
    return tuple(out)

"""safetensors files: weights for PyTorch (and anything else) with no pickle at all.

    mg.save_safetensors(G.state_dict(), "generator.safetensors")
    # in PyTorch:  G.load_state_dict(safetensors.torch.load_file("generator.safetensors"))
    sd = mg.load_safetensors("generator.safetensors")    # name -> NumPy array
    G.load_state_dict(sd)

A safetensors file is a JSON header (each tensor's name, dtype, shape and byte
range) followed by the raw bytes: reading one can never run code. minigan's
state-dict names are PyTorch's (`net.0.weight`, `net.1.running_mean`, ...), so a
file written here loads into the same module tree in PyTorch, and back.

Uses the `safetensors` package's NumPy API, an optional extra:
`pip install safetensors` (or `pip install -e .[safetensors]`).
"""
import os
from collections import OrderedDict

import numpy as np

from .. import backend as _backend
from .._atomic import atomic_write
from ..tensor import Tensor
from .npz import CheckpointError

__all__ = ["save_safetensors", "load_safetensors"]


def _safetensors_numpy(name):
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(f"{name}: needs the safetensors package: pip install safetensors "
                          "(or pip install -e .[safetensors])") from None
    return safetensors.numpy


def _host_array(value, key):
    if isinstance(value, Tensor):
        value = value.data
    found = _backend.backend_of(value)
    if found is None:
        raise TypeError(
            f"save_safetensors: expected a tensor or an array for {key!r}, got "
            f"{type(value).__name__} (a safetensors file holds only a flat dict name -> "
            "tensor: save each model's state_dict() to its own file)")
    array = found.to_numpy(value)
    return array if array.flags.c_contiguous else np.array(array, order="C")  # keeps 0-d


def save_safetensors(state_dict, path, metadata=None):
    """Write a flat dict name -> Tensor (or array), e.g. `model.state_dict()`, to
    `path` as a safetensors file, atomically. metadata: an optional dict of
    string -> string stored in the header."""
    st = _safetensors_numpy("save_safetensors")
    if not hasattr(state_dict, "items"):
        raise TypeError(f"save_safetensors: expected a dict name -> tensor, got "
                        f"{type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save_safetensors: keys must be strings, got {key!r}")
        arrays[key] = _host_array(value, key)
    if metadata is not None and not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    data = st.save(arrays, metadata=metadata)
    with atomic_write(path, "wb") as f:
        f.write(data)


def load_safetensors(path):
    """Read a safetensors file: an OrderedDict name -> NumPy array (in the file's
    order), ready for `module.load_state_dict`."""
    st = _safetensors_numpy("load_safetensors")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_safetensors: no such file: {path!r}")
    with open(path, "rb") as f:
        data = f.read()
    try:
        arrays = st.load(data)
    except Exception as error:  # safetensors' own error type for a malformed header
        raise CheckpointError(
            f"load_safetensors: {path!r} is not a readable safetensors file: "
            f"{type(error).__name__}: {error}") from None
    return OrderedDict(arrays)

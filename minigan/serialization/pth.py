"""`load_pth(path)`: a PyTorch state-dict file -> NumPy arrays, without PyTorch and
without running any code from the file.

    sd = mg.load_pth("generator.pth")         # written by torch.save(G.state_dict(), ...)
    G.load_state_dict(sd)                     # PyTorch's key names are minigan's

What torch.save writes (since PyTorch 1.6) is a zip archive:

    <name>/data.pkl       a pickle of the object (protocol 2)
    <name>/byteorder      "little" or "big"
    <name>/data/0, 1 ...  the raw bytes of each storage (one flat buffer per tensor
                          family: a view such as w.t() or x[3:7] shares its base's)
    <name>/version, ...   bookkeeping this reader does not need

In the pickle, a tensor is a call `torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, hooks)`, and each storage a *persistent id*
`('storage', torch.FloatStorage, key, location, numel)` naming the member
`data/<key>`. A state dict is a `collections.OrderedDict` of such tensors.

Unpickling an arbitrary pickle can run any code: a pickle may name any function
(`os.system`) and call it. So this reader's unpickler allows exactly the globals
a state dict of tensors needs (the table `_ALLOWED` and the storage types) and
refuses every other one with CheckpointError before it is looked up, let alone
called. The tensor rebuilder is minigan's own, checks every offset and stride
against its storage's size, and returns a NumPy copy.

What comes back: the pickled structure (dicts, OrderedDicts, lists, tuples,
numbers, strings) with each tensor as a C-contiguous NumPy array of its dtype
(int64 `num_batches_tracked` as a 0-d int64 array; bfloat16, which NumPy lacks,
as float32, which holds every bfloat16 exactly).
"""
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from .npz import CheckpointError

__all__ = ["load_pth", "CheckpointError"]

# torch.<Name>Storage -> the NumPy dtype of its elements ("bfloat16": stored as
# uint16, widened to float32 when read).
STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
}


class _StorageType:
    """What the unpickler gives for `torch.FloatStorage` etc.: just the dtype's name."""

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


def _check_ints(values, what, allow_negative=False):
    if not isinstance(values, tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise CheckpointError(f"load_pth: a tensor's {what} is not a tuple of ints: {values!r}")
    if not allow_negative and any(v < 0 for v in values):
        raise CheckpointError(f"load_pth: a tensor has a negative {what}: {values!r}")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """minigan's stand-in for torch._utils._rebuild_tensor_v2: the elements
    storage[offset + sum_i index_i * stride_i] as an array of shape `size`, copied.

    Every element must lie inside the storage: a file could otherwise make a view
    read memory past the buffer's end."""
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise CheckpointError("load_pth: a tensor's storage is not a storage from the file")
    if isinstance(storage_offset, bool) or not isinstance(storage_offset, int) \
            or storage_offset < 0:
        raise CheckpointError(f"load_pth: a tensor has a bad storage offset {storage_offset!r}")
    size, stride = tuple(size), tuple(stride)
    _check_ints(size, "size")
    _check_ints(stride, "stride")
    if len(size) != len(stride):
        raise CheckpointError(
            f"load_pth: a tensor's size {size} and stride {stride} differ in length")
    if 0 in size:
        return np.empty(size, dtype=storage.dtype)
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.size:
        raise CheckpointError(
            f"load_pth: a tensor of size {size}, stride {stride} and offset {storage_offset} "
            f"reaches element {last} of a storage of {storage.size} elements")
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:], shape=size,
        strides=tuple(s * storage.itemsize for s in stride), writeable=False)
    return np.array(view, order="C")  # a copy that owns its memory (also for 0-d)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """torch._utils._rebuild_parameter (an nn.Parameter saved as such): its array."""
    if not isinstance(data, np.ndarray):
        raise CheckpointError("load_pth: a parameter's data is not a tensor from the file")
    return data


# Every global a state-dict pickle may name, and what it means here. Anything else
# (os.system, builtins.eval, a model class from torch.save(model)) is refused.
_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _StateDictUnpickler(pickle.Unpickler):
    """An unpickler that knows only state dicts: see the module docstring."""

    def __init__(self, file, read_storage, path):
        super().__init__(file)
        self._read_storage = read_storage
        self._path = path
        self._storages = {}

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        hint = ""
        if module.startswith("torch.nn") or module == "__main__":
            hint = " (a whole model saved with torch.save(model)? save model.state_dict())"
        raise CheckpointError(
            f"load_pth: {self._path!r} asks to load {module}.{name}, which is not part of a "
            f"state dict of tensors; refused without running it, since unpickling it could "
            f"run any code{hint}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)):
            raise CheckpointError(
                f"load_pth: {self._path!r} refers to an object {pid!r} that is not a "
                "tensor storage")
        storage_type, key = pid[1], pid[2]
        if key not in self._storages:
            self._storages[key] = self._read_storage(key, storage_type.dtype)
        storage = self._storages[key]
        if storage.dtype != _numpy_dtype(storage_type.dtype):
            raise CheckpointError(
                f"load_pth: storage {key} of {self._path!r} is used as two dtypes")
        return storage


def _numpy_dtype(name):
    return np.dtype("float32" if name == "bfloat16" else name)


def _decode_storage(raw, dtype_name, byteorder):
    """The bytes of one storage as a flat NumPy array of its dtype (native byte order)."""
    stored = np.dtype("uint16" if dtype_name == "bfloat16" else dtype_name)
    if len(raw) % stored.itemsize:
        raise CheckpointError(
            f"load_pth: a {dtype_name} storage of {len(raw)} bytes is not a whole number of "
            f"{stored.itemsize}-byte elements")
    array = np.frombuffer(raw, dtype=stored.newbyteorder("<" if byteorder == "little" else ">"))
    array = array.astype(stored.newbyteorder("="), copy=False)
    if dtype_name == "bfloat16":  # the top half of a float32: shift it back into place
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _archive_prefix(archive, path):
    """The folder inside the zip that holds data.pkl ('archive/' or the file's stem)."""
    names = archive.namelist()
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pickles) == 1:
        return pickles[0][:-len("data.pkl")]
    if any(n.endswith("/constants.pkl") for n in names):
        raise CheckpointError(
            f"load_pth: {path!r} is a TorchScript archive (torch.jit.save), not a state dict "
            "written by torch.save(model.state_dict(), path)")
    raise CheckpointError(
        f"load_pth: {path!r} is a zip but not one torch.save wrote: expected one "
        f"<name>/data.pkl, found {len(pickles)}")


def load_pth(path):
    """Read a state dict (or any nesting of dicts of tensors) that torch.save wrote.

    Returns its structure with every tensor as a NumPy array (see the module
    docstring). Raises FileNotFoundError for a missing file and CheckpointError
    (a ValueError) for anything else: not a torch.save zip (including the legacy
    pre-1.6 format), a pickle naming a global beyond a state dict's (refused
    without running it), or tensors that do not fit their storages.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_pth: no such file: {path!r}")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"load_pth: {path!r} is not a zip archive: the legacy torch.save format (before "
            "PyTorch 1.6) and other pickles are not read; re-save it with a current torch.save")
    try:
        with zipfile.ZipFile(path) as archive:
            prefix = _archive_prefix(archive, path)
            names = set(archive.namelist())
            byteorder = "little"
            if prefix + "byteorder" in names:
                byteorder = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
                if byteorder not in ("little", "big"):
                    raise CheckpointError(
                        f"load_pth: {path!r} has an unknown byteorder {byteorder!r}")

            def read_storage(key, dtype_name):
                member = prefix + "data/" + key
                if member not in names:
                    raise CheckpointError(f"load_pth: {path!r} lacks the storage {member}")
                return _decode_storage(archive.read(member), dtype_name, byteorder)

            with archive.open(prefix + "data.pkl") as f:
                return _StateDictUnpickler(f, read_storage, path).load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, OSError, ValueError,
            TypeError, KeyError, AttributeError, IndexError) as error:
        raise CheckpointError(
            f"load_pth: {path!r} is not a readable PyTorch state dict (corrupt or "
            f"truncated?): {type(error).__name__}: {error}") from None

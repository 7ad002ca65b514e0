"""Checkpoint files: `save(obj, path)` and `load(path)`, in NumPy's .npz format.

    mg.save({"G": G.state_dict(), "opt_G": opt_G.state_dict(), "epoch": 3}, "ckpt.npz")
    G.load_state_dict(mg.load("ckpt.npz")["G"])

`obj` is any nesting of dicts, lists and tuples whose leaves are Tensors,
arrays (NumPy or backend), NumPy scalars, Python numbers, strings, bools or
None. Dict keys may be strings, numbers, bools or None (an optimizer's state is
keyed by integers). The file is a zip of `.npy` arrays, one per array leaf,
named by its path in `obj` ("G/0.weight"), plus `__structure__`: a JSON string
describing the nesting, so `np.load(path)` shows everything without minigan.

What `load` gives back is what was saved, arrays moved to the current backend:

    Tensor (or Parameter)          -> Tensor (Parameter) on the current backend,
                                      same dtype and requires_grad
    NumPy array / NumPy scalar     -> NumPy array / NumPy scalar
    CuPy or strict array           -> array of the current backend
    tuple                          -> tuple (JSON alone would make it a list)

With `load(path, as_numpy=True)` every array comes back as a NumPy array.
A plain .npz that mg.save did not write (e.g. `np.savez(path, **numpy_state_dict)`)
loads as a dict of NumPy arrays.

Safety: files are read with `allow_pickle=False` and the structure is plain
JSON, so loading a file from anywhere can never run code (torch.load of a
pickle can). Writing goes to a temporary name that is renamed when complete
(`_atomic.atomic_write`), so an interrupted save leaves the old file intact.
"""
import json
import math
import os
import zipfile

import numpy as np

from .. import backend as _backend
from .._atomic import atomic_write
from ..nn.parameter import Parameter
from ..tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

_STRUCTURE = "__structure__"
_FORMAT = "minigan.save"
_VERSION = 1


# --- saving ----------------------------------------------------------------------------

def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of Tensors, arrays, numbers, strings,
    bools, None) to `path` as an .npz file, atomically. `path` is used as given
    (no ".npz" is added)."""
    arrays = {}
    root = _encode(obj, [], arrays)
    structure = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root})
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            _write_array(archive, _STRUCTURE, np.array(structure))
            for key, array in arrays.items():
                _write_array(archive, key, array)


def _write_array(archive, key, array):
    """One array as `key`.npy inside the zip, as np.savez writes it."""
    with archive.open(key + ".npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, array, allow_pickle=False)


def _encode(value, path, arrays):
    """`value` as JSON: scalars as themselves, lists as lists, everything else as a
    {"type": ...} object; arrays go into `arrays` under a key made from `path`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value  # JSON keeps every digit of a float, and nan and inf as Python writes them
    if isinstance(value, dict):
        keys, values = [], []
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float, bool))):
                raise TypeError(
                    f"save: dict keys must be strings, numbers, bools or None; "
                    f"got a {type(key).__name__} key at {_where(path)}")
            keys.append(key)
            values.append(_encode(item, path + [key], arrays))
        return {"type": "dict", "keys": keys, "values": values}
    if isinstance(value, list):
        return [_encode(item, path + [i], arrays) for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return {"type": "tuple",
                "items": [_encode(item, path + [i], arrays) for i, item in enumerate(value)]}
    if isinstance(value, Tensor):
        kind = "parameter" if isinstance(value, Parameter) else "tensor"
        key = _store(value.numpy(), path, arrays)
        return {"type": kind, "key": key, "requires_grad": bool(value.requires_grad)}
    if isinstance(value, np.generic):
        return {"type": "numpy_scalar", "key": _store(np.asarray(value), path, arrays)}
    if isinstance(value, np.ndarray):
        return {"type": "numpy", "key": _store(value, path, arrays)}
    found = _backend.backend_of(value)
    if found is not None:
        return {"type": "device_array", "key": _store(found.to_numpy(value), path, arrays)}
    hint = (" (save its state dict: mg.save(model.state_dict(), path))"
            if hasattr(value, "state_dict") else "")
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at {_where(path)}: expected dicts, "
        f"lists, tuples, Tensors, arrays, numbers, strings, bools or None{hint}")


def _store(array, path, arrays):
    if array.dtype.hasobject:
        raise TypeError(
            f"save: the array at {_where(path)} holds Python objects (dtype object); only "
            "arrays of numbers, bools or strings can be stored without pickle")
    key = base = "/".join(str(part) for part in path) or "root"
    n = 1
    while key in arrays or key == _STRUCTURE:
        n += 1
        key = f"{base}#{n}"
    arrays[key] = array
    return key


def _where(path):
    return "the top level" if not path else "'" + "/".join(str(part) for part in path) + "'"


# --- loading ---------------------------------------------------------------------------

class CheckpointError(ValueError):
    """A file that is not a readable minigan checkpoint (or .npz) file."""


# A compressed member can hold at most about 1032 times its size (deflate's limit):
# a member that claims more is lying, and believing it would allocate the claim.
_MAX_EXPANSION = 1100


def load(path, as_numpy=False):
    """Read a file written by `save`; see the module docstring for what comes back.

    Raises FileNotFoundError for a missing file and CheckpointError (a ValueError)
    naming the path for anything else that is not a minigan .npz (or a plain one
    from np.savez): a PyTorch file, an .npy, random bytes, a truncated file, pickled
    object arrays (never loaded), a member declaring a larger array than it holds,
    or a malformed or absurdly nested structure. Nothing else escapes: no raw
    bytes come back, and no MemoryError or RecursionError.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    try:
        arrays = _read_npz(path)
        if _STRUCTURE not in arrays:
            return arrays  # an .npz from np.savez: its arrays by name
        header = json.loads(str(arrays.pop(_STRUCTURE)))
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError("unknown format "
                             f"{header.get('format') if isinstance(header, dict) else header!r}")
        if header.get("version") != _VERSION:
            raise ValueError(f"unsupported version {header.get('version')!r}")
        return _decode(header["root"], arrays, as_numpy)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(
            f"load: {path!r} has a {_STRUCTURE} nested too deeply to be a checkpoint") from None
    except MemoryError:
        raise CheckpointError(
            f"load: {path!r} declares more data than this machine can hold") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(
            f"load: {path!r} is not a readable .npz file (corrupt or truncated?): "
            f"{type(error).__name__}: {error}") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise CheckpointError(
            f"load: {path!r} has a malformed {_STRUCTURE}: {type(error).__name__}: {error}"
        ) from None


def _read_npz(path):
    """{name: array} of every member of the .npz at `path`, each checked before it is
    read: only .npy members, no pickled objects, no more bytes claimed than held."""
    with open(path, "rb") as f:
        start = f.read(8)
    if start.startswith(b"\x93NUMPY"):
        raise CheckpointError(f"load: {path!r} is an .npy file, not an .npz checkpoint")
    if not zipfile.is_zipfile(path):
        if start[:1] == b"\x80":  # pickle's opcode PROTO: e.g. an old torch.save file
            raise CheckpointError(
                f"load: {path!r} is not an .npz file but a pickle (an old torch.save file?); "
                "minigan never unpickles: that can run arbitrary code")
        raise CheckpointError(
            f"load: {path!r} is not a readable .npz file (corrupt or truncated?): it has no "
            "zip directory")
    size = os.path.getsize(path)
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if any(name.endswith("data.pkl") for name in names):
            raise CheckpointError(
                f"load: {path!r} is a PyTorch file (torch.save's zip, holding a pickle), not "
                "a minigan .npz; minigan never unpickles (that can run arbitrary code)")
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise CheckpointError(
                    f"load: {path!r} is not an .npz file: its member {info.filename!r} is "
                    "not an .npy array")
            arrays[info.filename[:-4]] = _read_member(archive, info, size, path)
    return arrays


def _read_member(archive, info, archive_size, path):
    where = f"load: {path!r}, member {info.filename!r}"
    if info.compress_size > archive_size or info.file_size > _MAX_EXPANSION * max(
            info.compress_size, 1) + 4096:
        raise CheckpointError(f"{where} claims {info.file_size} bytes, more than the "
                              f"{archive_size}-byte file can hold")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member)
        if dtype.hasobject:
            raise CheckpointError(
                f"{where} is an array of pickled Python objects, which minigan never loads "
                "(unpickling can run arbitrary code); only arrays of numbers, bools and "
                "strings can be read")
        nbytes = math.prod(shape) * dtype.itemsize
        held = info.file_size - member.tell()
        if nbytes > held:
            raise CheckpointError(
                f"{where} declares an array of shape {shape} and dtype {dtype} "
                f"({nbytes} bytes) but holds {held} bytes")
        buffer = bytearray(nbytes)  # writable, so the array is too
        view, done = memoryview(buffer), 0
        while done < nbytes:
            n = member.readinto(view[done:])
            if not n:
                raise CheckpointError(f"{where} ends after {done} of {nbytes} bytes")
            done += n
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _decode(node, arrays, as_numpy):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(item, arrays, as_numpy) for item in node]
    kind = node["type"]
    if kind == "dict":
        keys = node["keys"]
        values = [_decode(item, arrays, as_numpy) for item in node["values"]]
        if len(keys) != len(values):
            raise ValueError("a dict with different numbers of keys and values")
        return dict(zip(keys, values))
    if kind == "tuple":
        return tuple(_decode(item, arrays, as_numpy) for item in node["items"])
    if kind not in ("tensor", "parameter", "numpy", "numpy_scalar", "device_array"):
        raise ValueError(f"unknown entry type {kind!r}")
    array = arrays[node["key"]]
    if kind == "numpy_scalar":
        return array[()]
    if as_numpy or kind == "numpy":
        return array
    data = _backend.get_backend().to_device(array)
    if kind == "device_array":
        return data
    if kind == "parameter":
        return Parameter(data, requires_grad=node["requires_grad"])
    return Tensor._make(data, bool(node["requires_grad"]))

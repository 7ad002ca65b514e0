"""The array backend: which array module (`xp`) holds the numbers.

    numpy   NumPy on the CPU.
    cupy    CuPy on an NVIDIA GPU (imported only when chosen).
    strict  NumPy wrapped so that it obeys a GPU's rules (see `_strict.py`);
            the test suite runs on it to keep the CuPy path honest without a GPU.

Ops never import numpy for computing: they ask `get_array_module(array)` for the
module that owns their inputs. Creating new arrays (`mg.zeros`, `mg.randn`, ...)
uses the current backend, chosen with `set_backend` or the `use_backend` context.
Each backend has its own seeded random generator (`manual_seed` seeds them all).
"""
import contextlib
import json

import numpy as np

from ._strict import StrictArray, strict_numpy

BACKENDS = ("numpy", "cupy", "strict")

_default_dtype = np.dtype("float32")


class Backend:
    """One array module with its random generator and host transfers."""

    def __init__(self, name, xp, array_type):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self.seed(0)

    # Moving arrays across the host boundary: the only two explicit crossings.
    def to_device(self, array):
        """A NumPy array (or anything array-like) -> an array of this backend."""
        if isinstance(array, self.array_type):
            return array
        other = backend_of(array)
        if other is not None and other is not self:  # another backend: through the host
            array = other.to_numpy(array)
        return self.xp.asarray(array)

    def to_numpy(self, array):
        """An array of this backend -> a NumPy array (a copy unless already NumPy)."""
        if self.name == "numpy":
            return np.asarray(array)
        if self.name == "strict":
            return np.array(array._a)
        return self.xp.asnumpy(array)

    # Random numbers. numpy and strict draw from the same kind of generator,
    # so the same seed gives the same numbers on both.
    def seed(self, seed):
        if self.name == "cupy":
            self.rng = self.xp.random.default_rng(seed)
        else:
            self.rng = np.random.default_rng(seed)

    def _from_rng(self, array):
        return StrictArray(array) if self.name == "strict" else array

    def randn(self, shape, dtype):
        return self._draw(lambda s: self.rng.standard_normal(s, dtype=np.dtype(dtype)), shape)

    def rand(self, shape, dtype):
        return self._draw(lambda s: self.rng.random(s, dtype=np.dtype(dtype)), shape)

    def randint(self, low, high, shape):
        return self._draw(lambda s: self.rng.integers(low, high, size=s, dtype=np.int64), shape)

    def _draw(self, draw, shape):
        """draw(shape); inside `sharded_draws(rank, world)` the rows of the global batch."""
        shape = tuple(shape)
        if _shard is None or not shape:
            return self._from_rng(draw(shape))
        rank, world = _shard
        rows = shape[0]
        every_rank = draw((rows * world,) + shape[1:])
        return self._from_rng(every_rank[rank * rows:(rank + 1) * rows])

    def get_rng_state(self):
        """The generator's state as a JSON string (storable in an .npz without pickle)."""
        return json.dumps(self.rng.bit_generator.state)

    def set_rng_state(self, state):
        self.rng.bit_generator.state = json.loads(state)

    def __repr__(self):
        return f"<minigan backend {self.name!r}>"


# Data-parallel training: (rank, world) while a training step runs on one of
# `world` processes, each holding rows [rank * n, (rank + 1) * n) of the global batch.
_shard = None


@contextlib.contextmanager
def sharded_draws(rank, world):
    """with sharded_draws(r, N): every random draw is per-sample (its first axis the
    batch): rank r draws the global batch's numbers, world * n rows, from the same
    seeded stream as every other rank, and keeps its own n rows. So N ranks draw
    exactly the noise, labels and dropout masks one process draws for the global
    batch, and a data-parallel run can equal a one-process run number for number."""
    global _shard
    previous, _shard = _shard, (int(rank), int(world))
    try:
        yield
    finally:
        _shard = previous


_backends = {
    "numpy": Backend("numpy", np, np.ndarray),
    "strict": Backend("strict", strict_numpy, StrictArray),
}
_current = _backends["numpy"]


def _load_cupy():
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # ImportError, or CUDA present but no usable GPU
        raise RuntimeError(
            "backend 'cupy' needs CuPy and an NVIDIA GPU: "
            f"{type(error).__name__}: {error}. Install it with `pip install -e .[cuda]` "
            "on a machine with a GPU, or use set_backend('numpy')."
        ) from None
    return Backend("cupy", cupy, cupy.ndarray)


def get_backend(name=None):
    """The current backend, or the one called `name`."""
    if name is None:
        return _current
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")
    if name not in _backends:
        _backends[name] = _load_cupy()
    return _backends[name]


def set_backend(name):
    """Make `name` ('numpy', 'cupy' or 'strict') the backend for new arrays."""
    global _current
    _current = get_backend(name)
    return _current


@contextlib.contextmanager
def use_backend(name):
    """with use_backend("strict"): ...  -- the backend for the duration of the block."""
    global _current
    previous = _current
    set_backend(name)
    try:
        yield _current
    finally:
        _current = previous


def backend_of(array):
    """The backend an array belongs to, or None for non-arrays (Python numbers)."""
    kind = type(array)
    if kind is np.ndarray or isinstance(array, np.generic):
        return _backends["numpy"]
    if kind is StrictArray:
        return _backends["strict"]
    cupy = _backends.get("cupy")
    if cupy is not None and isinstance(array, cupy.array_type):
        return cupy
    return None


def get_array_module(array):
    """The array module (`xp`) that owns `array`: numpy, cupy or the strict module."""
    found = backend_of(array)
    return found.xp if found is not None else _current.xp


def xp():
    """The current backend's array module."""
    return _current.xp


def to_device(array):
    return _current.to_device(array)


def to_numpy(array):
    found = backend_of(array)
    return found.to_numpy(array) if found is not None else np.asarray(array)


def manual_seed(seed):
    """Seed the random generator of every backend (as torch.manual_seed does)."""
    for backend in _backends.values():
        backend.seed(seed)


def get_default_dtype():
    return _default_dtype


def set_default_dtype(dtype):
    """float32 (the default, for training) or float64 (for gradient checks)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype

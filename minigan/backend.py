"""The array backend: which array module (`xp`) holds the numbers.

    numpy   NumPy on the CPU.
    cupy    CuPy on an NVIDIA GPU (imported only when chosen).
    strict  NumPy wrapped so that it obeys a GPU's rules (see `_strict.py`);
            the test suite runs on it to keep the CuPy path honest without a GPU.

Ops never import numpy for computing: they ask `get_array_module(array)` for the
module that owns their inputs. Creating new arrays (`mg.zeros`, `mg.randn`, ...)
uses the current backend, chosen with `set_backend` or the `use_backend` context.
Each backend has its own seeded random generator (`manual_seed` seeds them all;
`fork_rng` keeps them unchanged across a block).
"""
import contextlib
import numbers

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

    # Random numbers. Every backend has one generator, made by its own module's
    # default_rng (strict's is CuPy's Generator, emulated: see `_strict.py`).
    # numpy and strict draw from the same kind of bit generator, so the same seed
    # gives the same numbers on both. A generator's state is never read or stored:
    # CuPy's lives in device memory and cannot be serialized. Reproducibility comes
    # from seeds instead: a run re-seeds before each step from (seed, step), see
    # `manual_seed`.
    def seed(self, seed):
        """A fresh generator seeded by `seed`: an int or a tuple of ints (one stream per tuple)."""
        if self.name == "numpy":
            self.rng = np.random.default_rng(seed)
        else:  # cupy, and strict standing in for it
            # Philox is counter-based: seeding it is cheap, which matters when a
            # run re-seeds every step (CuPy's default_rng, XORWOW, initialises its
            # per-thread states by skip-ahead).
            self.rng = self.xp.random.Generator(self.xp.random.Philox4x3210(seed))

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
            return draw(shape)
        rank, world = _shard
        rows = shape[0]
        every_rank = draw((rows * world,) + shape[1:])
        return every_rank[rank * rows:(rank + 1) * rows]

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
    """Seed the random generator of every backend (as torch.manual_seed does).

    seed: a non-negative int, or a tuple of them naming one of many independent
    streams (NumPy's SeedSequence mixes the tuple): the trainer calls
    manual_seed((seed, step)) before each step, so step s draws the same numbers
    whether or not the run was stopped and resumed before it, on every backend,
    with no generator state to save.
    """
    parts = seed if isinstance(seed, tuple) else (seed,)
    if not parts or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool)
                            and p >= 0 for p in parts):
        raise ValueError(f"manual_seed: expected a non-negative int or a tuple of them, "
                         f"got {seed!r}")
    seed = tuple(int(p) for p in parts) if isinstance(seed, tuple) else int(seed)
    for backend in _backends.values():
        backend.seed(seed)


@contextlib.contextmanager
def fork_rng():
    """with fork_rng(): ...  -- draws inside the block leave every backend's generator
    as it was (as torch.random.fork_rng): the generator objects themselves are put
    back, so nothing is serialized (CuPy's generators cannot be)."""
    saved = {name: backend.rng for name, backend in _backends.items()}
    try:
        yield
    finally:
        for name, rng in saved.items():
            _backends[name].rng = rng


def get_default_dtype():
    return _default_dtype


def set_default_dtype(dtype):
    """float32 (the default, for training) or float64 (for gradient checks)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype

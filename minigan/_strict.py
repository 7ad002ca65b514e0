"""The `strict` backend: NumPy arrays that obey a GPU's rules.

CuPy arrays live on the device. They refuse to be mixed with NumPy arrays in
one expression and refuse implicit conversion to host memory: `np.asarray`,
`float()` of a many-element array and iterating to Python all raise. A library
that only ever passes NumPy arrays around would never find out it breaks those
rules until somebody runs it on a GPU. `StrictArray` wraps a NumPy array and
raises `TypeError` exactly there, so the CuPy code path is exercised on any CPU.

Only `to_device` (NumPy -> strict) and `to_numpy` (strict -> NumPy) cross.
`strict_numpy` is the array module (`xp`) of this backend: `strict_numpy.exp`
calls `numpy.exp` on the wrapped arrays and wraps the result again.
"""
import threading
import types

import numpy as np


def _refuse(what):
    raise TypeError(
        f"strict backend: {what} is not allowed (as on a GPU with CuPy). "
        "Move arrays explicitly with minigan.backend.to_numpy / to_device."
    )


def _unwrap(value):
    """StrictArray -> ndarray; plain ndarray -> TypeError; containers recursively."""
    if type(value) is StrictArray:
        return value._a
    if isinstance(value, np.ndarray):
        _refuse(f"mixing a NumPy array of shape {value.shape} with a strict (device) array")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    """ndarray or NumPy scalar -> StrictArray (CuPy returns 0-d arrays, not scalars)."""
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _binary(name):
    op = getattr(np.ndarray, name)

    def method(self, other):
        return _wrap(op(self._a, _unwrap(other)))

    method.__name__ = name
    return method


def _inplace(name):
    op = getattr(np.ndarray, name)

    def method(self, other):
        op(self._a, _unwrap(other))
        return self

    method.__name__ = name
    return method


class StrictArray:
    """A NumPy array that behaves like a device array. See the module docstring."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, array):
        self._a = np.asarray(array)  # a NumPy scalar becomes a 0-d array, as in CuPy

    # Crossing to the host must be explicit.
    def __array__(self, dtype=None, copy=None):
        _refuse("implicit conversion to a NumPy array (np.asarray, np.array, ...)")

    def __iter__(self):
        _refuse("iterating over a device array element by element")

    def __bool__(self):
        if self._a.size != 1:
            _refuse(f"bool() of an array of shape {self._a.shape}")
        return bool(self._a)

    def __float__(self):
        if self._a.size != 1:
            _refuse(f"float() of an array of shape {self._a.shape}")
        return float(self._a.reshape(()))

    def __int__(self):
        if self._a.size != 1:
            _refuse(f"int() of an array of shape {self._a.shape}")
        return int(self._a.reshape(()))

    def __index__(self):
        if self._a.ndim != 0 or self._a.dtype.kind not in "iu":
            _refuse("using a device array as a Python index")
        return int(self._a)

    # NumPy's protocols: numpy functions on strict arrays return strict arrays,
    # and any NumPy array among the arguments is refused, as CuPy does.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _unwrap(inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    # Attributes and methods of the wrapped array, results wrapped again.
    def __getattr__(self, name):
        if name.startswith("__"):  # __array_interface__, __array_struct__, __dlpack__ ...
            raise AttributeError(name)
        value = getattr(self._a, name)
        if callable(value):
            def method(*args, **kwargs):
                return _wrap(value(*_unwrap(args), **_unwrap(kwargs)))
            return method
        return _wrap(value) if name in ("T", "real", "imag", "flat") else value

    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    def __len__(self):
        return len(self._a)

    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index)])

    def __setitem__(self, index, value):
        self._a[_unwrap(index)] = _unwrap(value)

    def __repr__(self):
        return "strict" + repr(self._a)[5:] if repr(self._a).startswith("array") else repr(self._a)

    def __neg__(self):
        return StrictArray(-self._a)

    def __pos__(self):
        return self

    def __abs__(self):
        return StrictArray(abs(self._a))

    def __invert__(self):
        return StrictArray(~self._a)

    __hash__ = None

    for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
                  "and", "or", "xor", "lt", "le", "gt", "ge", "eq", "ne"):
        for _full in (f"__{_name}__", f"__r{_name}__"):
            if hasattr(np.ndarray, _full):
                locals()[_full] = _binary(_full)
        if hasattr(np.ndarray, f"__i{_name}__"):
            locals()[f"__i{_name}__"] = _inplace(f"__i{_name}__")
    del _name, _full


class _StrictUfunc:
    """A NumPy ufunc (`exp`, `add`, ...) with its methods (`.at`, `.reduce`) for strict arrays."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs)

    def __getattr__(self, name):
        method = getattr(self._ufunc, name)
        if not callable(method):
            return method
        return lambda *args, **kwargs: _call(method, args, kwargs)


def _call(func, args, kwargs):
    out = kwargs.get("out")
    result = func(*_unwrap(args), **_unwrap(kwargs))
    if out is not None:
        return out
    return _wrap(result)


class StrictModule:
    """The array module of the strict backend: `numpy` with every function wrapped."""

    def __init__(self, module):
        self._module = module
        self.__name__ = "strict_" + module.__name__
        self._cache = {}

    def __getattr__(self, name):
        if name in self._cache:
            return self._cache[name]
        value = getattr(self._module, name)
        if isinstance(value, type):
            pass  # dtypes and classes: np.float32, np.ndarray ...
        elif isinstance(value, np.ufunc):
            value = _StrictUfunc(value)
        elif isinstance(value, types.ModuleType):
            value = StrictModule(value)
        elif callable(value):
            func = value

            def value(*args, **kwargs):
                return _call(func, args, kwargs)

            value.__name__ = name
        self._cache[name] = value
        return value

    # Creating an array from host data is the explicit way onto the device,
    # as `cupy.asarray(numpy_array)` is; passing a strict array through is free.
    def asarray(self, data, dtype=None):
        if type(data) is StrictArray:
            return data if dtype is None or data.dtype == dtype else StrictArray(data._a.astype(dtype))
        return StrictArray(np.array(data, dtype=dtype))  # host -> device always copies

    def array(self, data, dtype=None, copy=True):
        if type(data) is StrictArray:
            return StrictArray(np.array(data._a, dtype=dtype, copy=copy))
        return StrictArray(np.array(data, dtype=dtype))

    @property
    def ndarray(self):
        return StrictArray


strict_numpy = StrictModule(np)


# --- random numbers: CuPy's Generator, as it really is ---------------------------------
#
# cupy.random.default_rng(seed) gives a cupy.random.Generator over a cuRAND bit
# generator whose state lives in device memory. It has no `state` dict to read
# or set (`bit_generator.state` is a *method* returning a device pointer, so
# json.dumps of it raises TypeError), it cannot be pickled or deep-copied (the
# bit generator holds a threading.Lock), and it has fewer methods than NumPy's
# Generator: no normal, choice, permutation, shuffle, bytes. The classes below
# are exactly that surface, drawing from NumPy's PCG64 (so numpy and strict give
# the same numbers from the same seed), and every draw is a device (strict) array.

class StrictBitGenerator:
    """cupy.random.BitGenerator's surface: random_raw and a state() device pointer."""

    def __init__(self, seed=None):
        self.lock = threading.Lock()  # as CuPy's: what makes pickling fail
        self._numpy = np.random.default_rng(seed)

    def __setattr__(self, name, value):
        if name == "state":
            raise TypeError(
                "strict backend: a CuPy bit generator has no settable state (its state "
                "is device memory); re-seed with default_rng(seed) instead")
        object.__setattr__(self, name, value)

    def state(self):
        """A pointer to the device memory holding the state, as in CuPy (not its contents)."""
        return id(self._numpy)

    def random_raw(self, size=None, output=True):
        raw = self._numpy.integers(0, 2**31, size=() if size is None else size, dtype=np.int32)
        return StrictArray(raw) if output else None


def _device_parameter(value, name, error=TypeError):
    """CuPy's distributions take device arrays or Python ints and floats (checked as
    `type(value) in (float, int)`: not NumPy scalars, not NumPy arrays)."""
    if type(value) is StrictArray:
        return value._a
    if type(value) in (float, int):
        return value
    raise error(f"{name} is required to be a cupy.ndarray or a scalar")


class StrictGenerator:
    """cupy.random.Generator(bit_generator): CuPy's methods and signatures only."""

    def __init__(self, bit_generator):
        self.bit_generator = bit_generator

    def _numpy(self):
        return self.bit_generator._numpy

    def random(self, size=None, dtype=np.float64, out=None):
        return _into(self._numpy().random(_size(size), dtype=np.dtype(dtype)), out)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        # CuPy passes low and high through cupy.asarray: host values are copied over.
        low, high = (v._a if type(v) is StrictArray else np.asarray(v) for v in (low, high))
        return StrictArray(np.asarray(self._numpy().uniform(low, high, size)).astype(dtype))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return StrictArray(np.asarray(self._numpy().integers(
            int(low), None if high is None else int(high), _size(size), dtype=dtype,
            endpoint=endpoint)))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        if np.dtype(dtype).char not in "fd":
            raise TypeError(f"Unsupported dtype {np.dtype(dtype).name} for standard_normal")
        return _into(self._numpy().standard_normal(_size(size), dtype=np.dtype(dtype)), out)

    def standard_exponential(self, size=None, dtype=np.float64, method="inv", out=None):
        if method == "zig":
            raise NotImplementedError("Ziggurat method is not supported")
        return _into(self._numpy().standard_exponential(
            _size(size), dtype=np.dtype(dtype), method="inv"), out)

    def standard_gamma(self, shape, size=None, dtype=np.float64, out=None):
        shape = _device_parameter(shape, "shape", error=ValueError)  # CuPy's ValueError
        return _into(np.asarray(self._numpy().standard_gamma(shape, size)).astype(dtype), out)

    def beta(self, a, b, size=None, dtype=np.float64):
        return self._distribution("beta", (a, "a"), (b, "b"), size=size, dtype=dtype)

    def binomial(self, n, p, size=None):
        return self._distribution("binomial", (n, "n"), (p, "p"), size=size)

    def chisquare(self, df, size=None):
        return self._distribution("chisquare", (df, "df"), size=size)

    def dirichlet(self, alpha, size=None):
        return self._distribution("dirichlet", (alpha, "alpha"), size=size)

    def exponential(self, scale=1.0, size=None):
        return self._distribution("exponential", (scale, "scale"), size=size)

    def f(self, dfnum, dfden, size=None):
        return self._distribution("f", (dfnum, "dfnum"), (dfden, "dfden"), size=size)

    def gamma(self, shape, scale=1.0, size=None):
        _device_parameter(shape, "shape", error=ValueError)  # checked by standard_gamma in CuPy
        return self._distribution("gamma", (shape, "shape"), (scale, "scale"), size=size)

    def geometric(self, p, size=None):
        return self._distribution("geometric", (p, "p"), size=size)

    def hypergeometric(self, ngood, nbad, nsample, size=None):
        return self._distribution("hypergeometric", (ngood, "ngood"), (nbad, "nbad"),
                                  (nsample, "nsample"), size=size)

    def logseries(self, p, size=None):
        return self._distribution("logseries", (p, "p"), size=size)

    def poisson(self, lam=1.0, size=None):
        return self._distribution("poisson", (lam, "lam"), size=size)

    def power(self, a, size=None):
        return self._distribution("power", (a, "a"), size=size)

    def _distribution(self, name, *params, size=None, dtype=None):
        values = [_device_parameter(value, label) for value, label in params]
        result = np.asarray(getattr(self._numpy(), name)(*values, size=size))
        return StrictArray(result if dtype is None else result.astype(dtype))


def _size(size):
    return () if size is None else size  # CuPy draws a 0-d array, never a Python scalar


def _into(array, out):
    array = np.asarray(array)
    if out is None:
        return StrictArray(array)
    out._a[...] = array
    return out


def default_rng(seed=None):
    """cupy.random.default_rng: a Generator over a fresh bit generator seeded by `seed`
    (an int, a sequence of ints, or a numpy.random.SeedSequence)."""
    return StrictGenerator(StrictBitGenerator(seed))


class _StrictRandomModule(StrictModule):
    """`strict_numpy.random`: NumPy's legacy functions wrapped, CuPy's Generator API."""

    default_rng = staticmethod(default_rng)
    Generator = StrictGenerator
    BitGenerator = StrictBitGenerator
    XORWOW = MRG32k3a = Philox4x3210 = StrictBitGenerator  # CuPy's three, one stand-in


strict_numpy._cache["random"] = _StrictRandomModule(np.random)

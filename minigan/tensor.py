"""`Tensor`: an array of the current backend plus what autograd needs.

    data           the backend array (numpy.ndarray, cupy.ndarray or StrictArray)
    requires_grad  whether gradients flow to this tensor
    grad           dL/d(this) after backward(), a Tensor of the same shape
    _ctx           the Function (op) that made it, holding its inputs: the graph
    _version       how many times it was changed in place (as PyTorch's): an op
                   records its inputs' versions, and a backward that finds one
                   changed raises instead of computing a wrong gradient

Operators and methods (x + y, x.sum(1), x.relu(), x[idx] ...) are thin calls to
`minigan.functional`, where every op's forward and backward live.
"""
import numpy as np

from . import _device
from . import backend as _backend


def _dtype_of(data, dtype):
    """The dtype a new tensor gets: the one asked for, the array's own, or a default
    (Python floats -> the default float dtype, ints -> int64, as in PyTorch)."""
    if dtype is not None:
        return np.dtype(dtype)
    found = getattr(data, "dtype", None)
    if found is not None:
        return np.dtype(found)
    kind = np.asarray(data).dtype.kind
    if kind == "f":
        return _backend.get_default_dtype()
    if kind in "iu":
        return np.dtype("int64")
    if kind == "b":
        return np.dtype("bool")
    raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__}")


class Tensor:
    """A multi-dimensional array that records the ops applied to it.

    Tensor(data, requires_grad=False, dtype=None): data is a number, a nested
    list, a NumPy array, a backend array or another Tensor; it is copied onto
    the current backend.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_version", "__weakref__")
    __array_priority__ = 1000  # numpy_array * tensor -> Tensor.__rmul__

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        dtype = _dtype_of(data, dtype)
        backend = _backend.get_backend()
        if _backend.backend_of(data) is backend:
            array = backend.xp.array(data, dtype=dtype)  # a copy; NumPy scalars -> 0-d arrays
        else:
            if _backend.backend_of(data) is None:
                data = np.asarray(data, dtype=dtype)
            array = backend.to_device(data)
            if array.dtype != dtype:
                array = array.astype(dtype)
        if requires_grad and dtype.kind != "f":
            raise TypeError(f"tensor: only floating tensors can require grad, got dtype {dtype}")
        self._start(array, requires_grad)

    def _start(self, array, requires_grad):
        """A fresh tensor's fields: no gradient, no graph, version 0."""
        self._data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._version = 0

    @classmethod
    def _make(cls, data, requires_grad=False):
        """Wrap a backend array without copying (used by ops)."""
        t = cls.__new__(cls)
        t._start(np.asarray(data) if isinstance(data, np.generic) else data,  # scalars -> 0-d
                 requires_grad)
        return t

    # --- the numbers, and changing them in place --------------------------------
    @property
    def data(self):
        """The backend array. Assigning a new one is an in-place change (the version moves)."""
        return self._data

    @data.setter
    def data(self, array):
        self._data = array
        self._version += 1

    def _bump_version(self):
        """Record an in-place change made to `self.data`'s numbers (optimizer steps,
        nn.init, load_state_dict call this after writing into the array)."""
        self._version += 1

    def __setitem__(self, index, value):
        """x[index] = value, in place, as in PyTorch (the version moves).

        On a tensor that is part of a graph the write is recorded as an op
        (`IndexPut`): x takes the new value's history, gradients flow to the old x
        everywhere but `index`, and to `value` at `index`."""
        F.setitem_(self, index, value)

    # --- what it is -------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def xp(self):
        """The array module that holds this tensor's data."""
        return _backend.get_array_module(self.data)

    @property
    def backend(self):
        """'numpy', 'cupy' or 'strict'."""
        return _backend.backend_of(self.data).name

    @property
    def grad_fn(self):
        """The op that made this tensor (None for leaves), as in PyTorch."""
        return self._ctx

    @property
    def is_leaf(self):
        return self._ctx is None

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", precision=4, threshold=50)
        extra = []
        if self.dtype != _backend.get_default_dtype():
            extra.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extra.append(f"grad_fn={type(self._ctx).__name__}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # --- autograd -----------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into leaf.grad for every leaf that requires grad.

        The arrays the graph saved for backward are freed as it goes (as in PyTorch),
        so a second backward through the same graph raises unless retain_graph=True;
        retain_graph defaults to create_graph."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph)

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._make(self.data, False)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require grad, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # --- moving and converting ------------------------------------------------
    def numpy(self):
        """The data as a NumPy array: the explicit way to the host. On the numpy
        backend it shares memory with the tensor (as torch's .numpy() does);
        from a device it is a copy."""
        return _backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): expected a tensor with one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def to(self, *args, device=None, dtype=None):
        """tensor.to(device), .to(dtype), .to(device, dtype), .to(other), as in PyTorch.

        device: a backend name ('numpy', 'cupy', 'strict') or a device name ('cpu' is
        numpy, 'cuda' is cupy); the tensor itself when it is already there, else a copy
        there. dtype: casts it (as F.cast). other: a Tensor whose backend and dtype to take.
        """
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.backend, arg.dtype
            elif isinstance(arg, str) and _device.backend_name(arg) is not None:
                device = arg
            else:
                dtype = arg
        result = self
        if device is not None:
            name = _device.backend_name(device)
            if name is None:
                raise ValueError(
                    f"to: expected a device ('cpu', 'cuda') or a backend "
                    f"({', '.join(_backend.BACKENDS)}), got {device!r}")
            dest = _backend.get_backend(name)
            source = _backend.backend_of(self.data)
            if source is not dest:
                result = Tensor._make(dest.to_device(source.to_numpy(self.data)),
                                      self.requires_grad)
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise ValueError(
                    f"to: expected a device ('cpu', 'cuda'), a backend "
                    f"({', '.join(_backend.BACKENDS)}) or a dtype, got {dtype!r}") from None
            result = F.cast(result, dtype)
        return result

    def float(self):
        return F.cast(self, np.float32)

    def double(self):
        return F.cast(self, np.float64)

    def long(self):
        return F.cast(self, np.int64)

    def type_as(self, other):
        return F.cast(self, other.dtype)

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    __hash__ = object.__hash__  # tensors are identified by object, as in PyTorch

    # --- arithmetic (broadcasting like NumPy) -------------------------------------
    def __add__(self, other):
        return F.add(self, other)

    def __radd__(self, other):
        return F.add(other, self)

    def __sub__(self, other):
        return F.sub(self, other)

    def __rsub__(self, other):
        return F.sub(other, self)

    def __mul__(self, other):
        return F.mul(self, other)

    def __rmul__(self, other):
        return F.mul(other, self)

    def __truediv__(self, other):
        return F.div(self, other)

    def __rtruediv__(self, other):
        return F.div(other, self)

    def __pow__(self, other):
        return F.pow(self, other)

    def __rpow__(self, other):
        return F.pow(other, self)

    def __neg__(self):
        return F.neg(self)

    def __matmul__(self, other):
        return F.matmul(self, other)

    def __rmatmul__(self, other):
        return F.matmul(other, self)

    def __getitem__(self, index):
        return F.getitem(self, index)

    # Comparisons give bool tensors with no gradient.
    def __lt__(self, other):
        return F.compare(self, other, "less")

    def __le__(self, other):
        return F.compare(self, other, "less_equal")

    def __gt__(self, other):
        return F.compare(self, other, "greater")

    def __ge__(self, other):
        return F.compare(self, other, "greater_equal")

    def __eq__(self, other):
        return F.compare(self, other, "equal")

    def __ne__(self, other):
        return F.compare(self, other, "not_equal")

    # --- methods that mirror torch.Tensor's ----------------------------------
    def add(self, other):
        return F.add(self, other)

    def sub(self, other):
        return F.sub(self, other)

    def mul(self, other):
        return F.mul(self, other)

    def div(self, other):
        return F.div(self, other)

    def pow(self, exponent):
        return F.pow(self, exponent)

    def matmul(self, other):
        return F.matmul(self, other)

    def exp(self):
        return F.exp(self)

    def log(self):
        return F.log(self)

    def sqrt(self):
        return F.sqrt(self)

    def abs(self):
        return F.abs(self)

    def tanh(self):
        return F.tanh(self)

    def sigmoid(self):
        return F.sigmoid(self)

    def relu(self):
        return F.relu(self)

    def clamp(self, min=None, max=None):
        return F.clamp(self, min, max)

    def sum(self, dim=None, keepdim=False):
        return F.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return F.mean(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return F.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return F.min(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False):
        return F.var(self, dim, unbiased, keepdim)

    def std(self, dim=None, unbiased=True, keepdim=False):
        return F.std(self, dim, unbiased, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return F.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return F.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return F.logsumexp(self, dim, keepdim)

    def softmax(self, dim):
        return F.softmax(self, dim)

    def log_softmax(self, dim):
        return F.log_softmax(self, dim)

    def reshape(self, *shape):
        return F.reshape(self, *shape)

    def view(self, *shape):
        return F.reshape(self, *shape)

    def permute(self, *dims):
        return F.permute(self, *dims)

    def transpose(self, dim0, dim1):
        return F.transpose(self, dim0, dim1)

    @property
    def T(self):
        return F.permute(self, *reversed(range(self.ndim)))

    def t(self):
        return F.transpose(self, 0, 1)

    def flatten(self, start_dim=0, end_dim=-1):
        return F.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return F.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return F.squeeze(self, dim)

    def expand(self, *shape):
        return F.expand(self, *shape)

    # --- PyTorch's copies, in-place writes and comparisons ---------------------------------
    def clone(self):
        """A copy with its own memory that stays in the graph (gradients flow back)."""
        return F.clone(self)

    def cpu(self):
        """The tensor on the numpy backend (itself when already there), as torch's .cpu()."""
        return self.to("cpu")

    def cuda(self):
        """The tensor on the cupy backend (a GPU), as torch's .cuda()."""
        return self.to("cuda")

    def _write_(self, name, write):
        """Every in-place method goes through here: write(array) changes self.data in
        place, and this is the one place that knows a tensor was modified.

        A tensor that requires grad may only be overwritten under mg.no_grad() (as
        nn.init and the optimizers do): autograd does not record in-place writes, so a
        graph through it would silently compute wrong gradients (PyTorch refuses a leaf
        the same way; minigan refuses any tensor that requires grad).
        """
        from .autograd import is_grad_enabled
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"{name}: an in-place write to a tensor that requires grad is not "
                "recorded by autograd; do it under mg.no_grad() or on x.detach()")
        write(self.data)
        return self

    def zero_(self):
        """Fill with zeros, in place; returns self."""
        def write(array):
            array[...] = 0
        return self._write_("zero_", write)

    def fill_(self, value):
        """Fill with `value` (a number or a one-element tensor), in place; returns self."""
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise RuntimeError(
                    f"fill_: expected a number or a one-element tensor, got shape {value.shape}")
            value = value.item()

        def write(array):
            array[...] = value
        return self._write_("fill_", write)

    def copy_(self, src):
        """Copy src's values into this tensor, in place: src broadcasts to self's shape,
        is cast to self's dtype and moved from its backend to self's; returns self."""
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_: expected a Tensor as src, got {type(src).__name__}")
        try:
            fits = np.broadcast_shapes(src.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"copy_: src of shape {src.shape} does not broadcast to this tensor's shape "
                f"{self.shape}")
        here = _backend.backend_of(self.data)
        array = here.to_device(src.data)  # through the host only from another backend

        def write(target):
            target[...] = array.astype(target.dtype, copy=False)
        return self._write_("copy_", write)

    def eq(self, other):
        return F.compare(self, other, "equal")

    def ne(self, other):
        return F.compare(self, other, "not_equal")

    def lt(self, other):
        return F.compare(self, other, "less")

    def le(self, other):
        return F.compare(self, other, "less_equal")

    def gt(self, other):
        return F.compare(self, other, "greater")

    def ge(self, other):
        return F.compare(self, other, "greater_equal")


from . import functional as F  # noqa: E402  (the ops import Tensor themselves)

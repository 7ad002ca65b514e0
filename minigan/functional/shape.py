"""Shape ops: broadcast_to and its adjoint sum_to, reshape, permute, indexing, cat, stack, pad.

None of these change a value, they only move values around; so each backward
moves the gradient back: reshape's backward is a reshape, permute's the inverse
permutation, indexing's a scatter into zeros, cat's a split.
"""
import math
import weakref

from .. import _threads
from ..autograd import Function, is_grad_enabled
from ..backend import get_array_module as _xp
from ..tensor import Tensor
from ._util import as_tensor, constant, normalize_dim

__all__ = [
    "sum_to", "broadcast_to", "expand", "reshape", "flatten", "unsqueeze", "squeeze",
    "permute", "transpose", "getitem", "setitem_", "cat", "stack", "pad",
]


# --- broadcasting and its adjoint ------------------------------------------------

class BroadcastTo(Function):
    """y = x repeated along broadcast axes;  dL/dx = sum_to(g, x.shape)"""

    @staticmethod
    def forward(ctx, x, shape):
        return _xp(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return sum_to(g, x.shape)


class SumTo(Function):
    """y = g summed over the axes that broadcasting to g's shape added or stretched;
    dL/dx = broadcast_to(g, x.shape).

    This is the one place where broadcasting is undone: every binary op's backward
    calls sum_to(grad, input.shape).
    """

    @staticmethod
    def forward(ctx, x, shape):
        # BEGIN TASK 1.2
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(shape)
        # END TASK 1.2

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.2
        (x,) = ctx.inputs
        return broadcast_to(g, x.shape)
        # END TASK 1.2


def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def sum_to(x, shape):
    """Sum x down to `shape` (the inverse of broadcasting `shape` up to x.shape)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def expand(x, *shape):
    """x.expand(4, -1, 3): broadcast, -1 keeping a dimension's size (as PyTorch)."""
    wanted = _shape_arg(shape)
    lead = len(wanted) - x.ndim
    if lead < 0 or -1 in wanted[:lead]:
        raise ValueError(
            f"expand: cannot expand a tensor of shape {x.shape} to {wanted}: -1 may only "
            "keep an existing dimension, and dimensions cannot be removed")
    shape = wanted[:lead] + tuple(m if n == -1 else n for m, n in zip(x.shape, wanted[lead:]))
    if any(m != n and m != 1 for m, n in zip(x.shape, shape[lead:])):
        raise ValueError(
            f"expand: cannot expand a tensor of shape {x.shape} to {wanted}: "
            "only dimensions of size 1 can grow")
    return broadcast_to(x, shape)


# --- reshaping ----------------------------------------------------------------------

class Reshape(Function):
    """y = x with a new shape, same elements in the same order;  dL/dx = reshape(g, x.shape)"""

    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        g = reshape(g, x.shape)
        if not x.data.flags.c_contiguous and g.data.strides != x.data.strides:
            # x lives in another memory order (a convolution's batch-last output,
            # say). Giving its gradient the same order keeps every later backward
            # op elementwise over matching layouts: about 10x faster than mixing them.
            g = LayoutLike.apply(g, like=x.data)
        return g


class LayoutLike(Function):
    """y = x, its numbers copied into the memory order of the array `like`.
    Only the layout changes, not a value, so dL/dx = g.

    The trick: a large copy runs as blocks of y's rows on several threads
    (minigan/_threads.py); a copy is a copy, the bits are the same."""

    @staticmethod
    def forward(ctx, x, like):
        y = _xp(x).empty_like(like)  # order="K": like's strides, x's values

        def rows(i):
            y[i] = x[i]

        _threads.split_along(rows, y)
        return y

    @staticmethod
    def backward(ctx, g):
        return g


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    """x.reshape(2, -1) or x.reshape((2, -1)); one dimension may be -1."""
    shape = _shape_arg(shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension can be -1, got {shape}")
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 or x.numel() % known:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}")
        shape = tuple(x.numel() // known if n == -1 else n for n in shape)
    elif known != x.numel():
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one (x.flatten(1): (N, C, H, W) -> (N, C*H*W))."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = normalize_dim((start_dim, end_dim), x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return reshape(x, shape)


def unsqueeze(x, dim):
    """Insert a dimension of size 1 at `dim`."""
    (dim,) = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """Remove dimensions of size 1 (only `dim`, if given)."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = normalize_dim(dim, x.ndim, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


class Permute(Function):
    """y = x with its axes reordered;  dL/dx = g permuted by the inverse order"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(g, dims=tuple(inverse))


def permute(x, *dims):
    dims = normalize_dim(_shape_arg(dims), x.ndim, "permute")
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dimensions")
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    d0, d1 = normalize_dim((dim0, dim1), x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = d1, d0
    return permute(x, *dims)


# --- indexing -----------------------------------------------------------------------

class GetItem(Function):
    """y = x[index] (slices, ints, None, Ellipsis, integer or boolean arrays);
    dL/dx = zeros of x's shape with g added at `index` (repeated indices add up)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return IndexAdd.apply(g, shape=x.shape, index=ctx.index)


class IndexAdd(Function):
    """y = zeros(shape) with g added at `index` (the adjoint of indexing);
    dL/dg = (dL/dy)[index]."""

    @staticmethod
    def forward(ctx, g, shape, index):
        xp = _xp(g)
        ctx.index = index
        y = xp.zeros(shape, dtype=g.dtype)
        if _has_integer_array(index):
            xp.add.at(y, index, g)  # an integer array may pick an element twice
        else:
            y[index] = g  # slices, ints and masks pick each element at most once
        return y

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, index=ctx.index)


def _has_integer_array(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(getattr(i, "dtype", None) is not None and i.dtype.kind in "iu" for i in items)


def getitem(x, index):
    return GetItem.apply(x, index=_array_index(index, x))


class IndexPut(Function):
    """y = x with y[index] = v (v broadcast to the shape of x[index]);
    dL/dx = g with zeros at `index`,  dL/dv = sum_to(g[index], v.shape)."""

    @staticmethod
    def forward(ctx, x, v, index):
        ctx.index = index
        y = x.copy()
        y[index] = v
        return y

    @staticmethod
    def backward(ctx, g):
        x, v = ctx.inputs
        gx = gv = None
        if ctx.needs_input_grad[0]:
            zero = constant(g.xp.zeros((), dtype=g.dtype))
            gx = IndexPut.apply(g, zero, index=ctx.index)
        if ctx.needs_input_grad[1]:
            gv = sum_to(GetItem.apply(g, index=ctx.index), v.shape)
        return gx, gv


def setitem_(x, index, value):
    """x[index] = value in place; the version of x moves (see Tensor.__setitem__).

    Without a graph the numbers are written into x's array. With one, x takes the
    history of IndexPut(old x, value): the old x keeps its own history and values."""
    index = _array_index(index, x)
    v = as_tensor(value, x)
    if not (is_grad_enabled() and (x.requires_grad or v.requires_grad)):
        x.data[index] = v.data
        x._bump_version()
        return x
    if x.is_leaf and x.requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation "
            f"(x[...] = on a tensor of shape {x.shape}); write under mg.no_grad(), or "
            "into a copy")
    old = Tensor._make(x.data, x.requires_grad)
    old._version, old._ctx = x._version, x._ctx
    if old._ctx is not None:
        old._ctx._output = weakref.ref(old)
    out = IndexPut.apply(old, v, index=index)
    x._data, x._ctx, x.requires_grad = out.data, out._ctx, True
    x._bump_version()
    out._ctx._output, out._ctx._output_version = weakref.ref(x), x._version
    return x


def _array_index(index, x):
    """Tensors and lists inside an index become arrays of x's backend."""
    if isinstance(index, tuple):
        return tuple(_array_index(i, x) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return x.xp.asarray(index)
    return index


# --- joining --------------------------------------------------------------------------

class Cat(Function):
    """y = the inputs joined along `dim`;  dL/dx_i = the slice of g where x_i went"""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return _xp(xs[0]).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for x, needed in zip(ctx.inputs, ctx.needs_input_grad):
            stop = start + x.shape[ctx.dim]
            index = (slice(None),) * ctx.dim + (slice(start, stop),)
            grads.append(getitem(g, index) if needed else None)
            start = stop
        return tuple(grads)


def cat(tensors, dim=0):
    """Join tensors of equal shape except along `dim`."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    (dim,) = normalize_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(
                a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != dim):
            raise ValueError(
                f"cat: tensors must match except in dimension {dim}: "
                f"tensor 0 has shape {first.shape}, tensor {i} has shape {t.shape}")
    if len(tensors) == 1:
        return first
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dimension `dim`."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: expected tensors of one shape: tensor 0 has shape "
                f"{tensors[0].shape}, tensor {i} has shape {t.shape}")
    (dim,) = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


class Pad(Function):
    """y = x with constant borders;  dL/dx = g with the borders cut off"""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        return _xp(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        index = tuple(slice(before, n - after) for (before, after), n in zip(ctx.widths, g.shape))
        return getitem(g, index)


def pad(x, pad, mode="constant", value=0.0):
    """F.pad as in PyTorch: `pad` lists (before, after) pairs from the LAST dimension
    backwards, e.g. (1, 1, 2, 2) pads W by 1 and H by 2 on each side."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected an even number of widths, at most 2 per dimension "
            f"({2 * x.ndim} for shape {x.shape}), got {tuple(pad)}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative widths are not supported, got {tuple(pad)}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(x, widths=tuple(widths), value=value)

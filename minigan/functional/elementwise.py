"""Elementwise ops: arithmetic with broadcasting, exp/log, activations, clamp, where.

Each op is a Function with its forward (on arrays) and backward (on Tensors) side
by side. A binary op's inputs may have been broadcast against each other; its
backward undoes that with the one shared helper `sum_to`.

The trick (numpy backend): the big passes of a training step (a + b, a - b, a * b
of one shape, relu and leaky_relu with their masks, leaky_relu's slope) are
cut into blocks of rows along the array's outermost axis in memory and run on
several cores at once (minigan/_threads.py, `_split`): each number is still
computed by the same IEEE operation, so the bits are those of one pass.
(Masked ufuncs, `where=`, would save passes but run several times slower here.)
"""
import numpy as np

from .. import _threads
from ..autograd import Function, is_grad_enabled
from ..backend import backend_of
from ..backend import get_array_module as _xp
from ..tensor import Tensor
from . import _cuda
from ._util import as_tensor, check_broadcast, constant, floating, promote_pair
from .shape import sum_to

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "tanh",
    "sigmoid", "relu", "leaky_relu", "clamp", "maximum", "minimum", "where", "compare",
    "cast", "sign", "clone",
]


# --- arithmetic ---------------------------------------------------------------

class Add(Function):
    """y = a + b;  dL/da = sum_to(g, a.shape),  dL/db = sum_to(g, b.shape)"""

    @staticmethod
    def forward(ctx, a, b):
        return _binary(_xp(a).add, a, b)

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        a, b = ctx.inputs
        return sum_to(g, a.shape), sum_to(g, b.shape)
        # END TASK 1.1


class Sub(Function):
    """y = a - b;  dL/da = g,  dL/db = -g  (each summed back to its shape)"""

    @staticmethod
    def forward(ctx, a, b):
        return _binary(_xp(a).subtract, a, b)

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        a, b = ctx.inputs
        return sum_to(g, a.shape), sum_to(-g, b.shape)
        # END TASK 1.1


class Mul(Function):
    """y = a * b;  dL/da = g * b,  dL/db = g * a"""

    @staticmethod
    def forward(ctx, a, b):
        return _binary(_xp(a).multiply, a, b)

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        a, b = ctx.inputs
        ga = sum_to(g * b, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb
        # END TASK 1.1


class Div(Function):
    """y = a / b;  dL/da = g / b,  dL/db = -g * a / b^2"""

    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        a, b = ctx.inputs
        ga = sum_to(g / b, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb
        # END TASK 1.1


class Neg(Function):
    """y = -x;  dL/dx = -g"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        return -g
        # END TASK 1.1


class PowScalar(Function):
    """y = x ** p for a constant p;  dL/dx = g * p * x ** (p - 1)"""

    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        return x ** p

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        p = ctx.p
        if p == 0:
            return g * 0.0
        if p == 1:
            return g
        return g * p * (x ** (p - 1) if p != 2 else x)


class Pow(Function):
    """y = a ** b;  dL/da = g * b * a ** (b - 1),  dL/db = g * y * log(a)"""

    @staticmethod
    def forward(ctx, a, b):
        return a ** b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ga = sum_to(g * b * a ** (b - 1), a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * ctx.output * log(a), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def _on_numpy(array):
    """Whether `array` is a NumPy array (the backend whose in-place tricks apply)."""
    found = backend_of(array)
    return found is not None and found.name == "numpy"


def _split(array):
    """Whether a pass over `array` is worth cutting across threads (_threads.py):
    a NumPy array of MIN_ELEMENTS numbers or more, more than one thread; else the
    plain one-piece code runs."""
    return _threads.worth_splitting(array)


def _binary(ufunc, a, b):
    """ufunc(a, b); for large NumPy operands of one shape, written block by block of
    rows by several threads."""
    if a.shape != b.shape or not _split(a):
        return ufunc(a, b)
    out = _like_result(_xp(a).result_type(a, b), a, b)
    _threads.split_along(lambda i: ufunc(a[i], b[i], out=out[i]), out)
    return out


def _like_result(dtype, *operands):
    """An empty array in the memory order ufunc(*operands) would give its result
    (NumPy's iterator, order K, allocates it as the ufunc's does): a threaded pass
    must hand on the layout of the one-piece pass, or the reductions after it
    would add in another order and the bits would depend on the thread count."""
    xp = _xp(operands[0])
    iterator = xp.nditer(list(operands) + [None], flags=["zerosize_ok"],
                         op_flags=[["readonly"]] * len(operands) + [["writeonly", "allocate"]],
                         op_dtypes=[None] * len(operands) + [dtype], order="K")
    return iterator.operands[-1]


def add(a, b):
    a, b = _pair(a, b)
    return _broadcasting(Add, "add", a, b)


def sub(a, b):
    a, b = _pair(a, b)
    return _broadcasting(Sub, "sub", a, b)


def mul(a, b):
    a, b = _pair(a, b)
    return _broadcasting(Mul, "mul", a, b)


def div(a, b):
    """a / b: true division, so two integer tensors give the default float dtype."""
    a, b = _pair(a, b)
    if a.dtype.kind != "f":  # then b is not floating either (see _pair)
        a, b = floating(a), floating(b)
    return _broadcasting(Div, "div", a, b)


def neg(x):
    return Neg.apply(x)


def pow(a, b):
    """a ** b. A constant exponent (a Python number) has its own, cheaper op."""
    if isinstance(a, Tensor) and isinstance(b, (int, float, np.integer, np.floating)):
        # A NumPy scalar exponent becomes a Python number, which keeps float32 float32.
        p = b.item() if isinstance(b, np.generic) else b
        if isinstance(p, float):  # int ** 0.5 is a float, as in PyTorch
            a = floating(a)
        return PowScalar.apply(a, p=p)
    a, b = _pair(a, b)
    return _broadcasting(Pow, "pow", a, b)


def _pair(a, b):
    """Both operands as tensors on one backend, promoted to one dtype category."""
    if isinstance(a, Tensor):
        return promote_pair(a, as_tensor(b, a))
    return promote_pair(as_tensor(a, b), b)


def _broadcasting(op, name, a, b, **params):
    """op.apply(a, b), or one line naming the op and both shapes if they do not broadcast
    (checked only on failure: the common case pays nothing)."""
    try:
        return op.apply(a, b, **params)
    except ValueError:
        if a.shape != b.shape:
            check_broadcast(name, a.shape, b.shape)
        raise


# --- unary functions ------------------------------------------------------------

class Exp(Function):
    """y = exp(x);  dL/dx = g * y"""

    @staticmethod
    def forward(ctx, x):
        xp = _xp(x)
        return xp.exp(x)

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        return g * ctx.output
        # END TASK 1.1


class Log(Function):
    """y = log(x);  dL/dx = g / x"""

    @staticmethod
    def forward(ctx, x):
        return _xp(x).log(x)

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        (x,) = ctx.inputs
        return g / x
        # END TASK 1.1


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = g / (2 y)"""

    @staticmethod
    def forward(ctx, x):
        return _xp(x).sqrt(x)

    @staticmethod
    def backward(ctx, g):
        return g / (2.0 * ctx.output)


class Abs(Function):
    """y = |x|;  dL/dx = g * sign(x)  (0 at x = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        return _xp(x).abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return g * sign(x)


class Tanh(Function):
    """y = tanh(x);  dL/dx = g * (1 - y^2)"""

    @staticmethod
    def forward(ctx, x):
        return _xp(x).tanh(x)

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        y = ctx.output
        return g * (1.0 - y * y)
        # END TASK 1.1


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dL/dx = g * y * (1 - y)"""

    @staticmethod
    def forward(ctx, x):
        xp = _xp(x)
        # Written via tanh it never overflows: sigmoid(x) = (1 + tanh(x/2)) / 2.
        y = xp.tanh(x * x.dtype.type(0.5))
        y += 1
        y *= x.dtype.type(0.5)
        return y

    @staticmethod
    def backward(ctx, g):
        # BEGIN TASK 1.1
        y = ctx.output
        return g * y * (1.0 - y)
        # END TASK 1.1


class MaskedGrad(Function):
    """Shared shape of relu, clamp and dropout: y = f(x) with f' piecewise constant.

    Forward keeps `ctx.slope`, the array f'(x) (a bool mask where f' is 0 or 1:
    a quarter of the memory of a float one); dL/dx = g * slope. The slope is a
    constant, so the second derivative is 0, as it is for these functions.
    """

    @staticmethod
    def backward(ctx, g):
        if not is_grad_enabled() and _on_numpy(g.data):
            # The trick: the bool mask multiplied as it is (NumPy's ufunc takes it),
            # where g * constant(mask) first casts it to a float array of g's size.
            return constant(_binary(_xp(g.data).multiply, g.data, ctx.slope))
        # BEGIN TASK 1.1
        return g * constant(ctx.slope)
        # END TASK 1.1


class ReLU(MaskedGrad):
    """y = max(x, 0);  dL/dx = g * (x > 0)

    Large inputs: y and the mask block by block on several threads (see the top)."""

    @staticmethod
    def forward(ctx, x):
        xp = _xp(x)
        zero = x.dtype.type(0)
        if not _split(x):
            ctx.slope = x > 0
            return xp.maximum(x, zero)
        ctx.slope, y = xp.empty_like(x, dtype=bool), xp.empty_like(x)

        def rows(i):
            xp.greater(x[i], 0, out=ctx.slope[i])
            xp.maximum(x[i], zero, out=y[i])

        _threads.split_along(rows, x)
        return y


class LeakyReLU(Function):
    """y = x if x > 0 else a x;  dL/dx = g * (1 if x > 0 else a)

    Large inputs: y and the mask, and backward's slope times g, block by block on
    several threads (see the top)."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        xp = _xp(x)
        a = x.dtype.type(negative_slope)
        if _cuda.is_cupy(xp):  # on a GPU: y and the mask in one kernel (_cuda.py)
            y, ctx.positive = _cuda.leaky_relu_with_mask(x, a)
            ctx.a = a
            return y
        ctx.a = a
        if _split(x) and 0 <= a <= 1:
            ctx.positive, y = xp.empty_like(x, dtype=bool), xp.empty_like(x)

            def rows(i):
                xp.greater(x[i], 0, out=ctx.positive[i])
                xp.multiply(x[i], a, out=y[i])
                xp.maximum(x[i], y[i], out=y[i])

            _threads.split_along(rows, x)
            return y
        ctx.positive = x > 0
        if 0 <= a <= 1:  # then max(x, a x) is the function: two fast passes, no select
            y = x * a
            return xp.maximum(x, y, out=y)
        return xp.where(ctx.positive, x, x * a)

    @staticmethod
    def backward(ctx, g):
        if is_grad_enabled() or not _on_numpy(g.data):  # a graph op, for double backward
            return g * constant(_leaky_slope(ctx.positive, ctx.a, g.dtype))
        return constant(_leaky_slope(ctx.positive, ctx.a, g.dtype, times=g.data))


def _leaky_slope(positive, a, dtype, times=None):
    """leaky_relu's slope, 1 where `positive` else a, as an array of `dtype`; with
    `times` (an array of positive's shape), the slope times it: g * slope, the same
    numbers, with no slope array of g's size made and read back from memory.

    A large NumPy mask goes block by block of rows on several threads. With `times`
    (NumPy arrays only), the product is written over the slope in its own memory: one
    array of g's size, its allocation and a Function fewer than g * slope (a scratch
    loop: a (128, 64, 14, 14) backward 1.6 -> 1.1 ms on two threads, 1.7 -> 1.4 on
    one). The result has the mask's (x's) memory order."""
    xp = _xp(positive)
    slope = xp.empty_like(positive, dtype=dtype)

    def rows(i):
        part = slope[i]
        part[...] = positive[i]  # 1 where x > 0, then 1 -> 1, 0 -> a
        part *= 1 - a
        part += a
        if times is not None:
            xp.multiply(times[i], part, out=part)

    if _split(positive):
        _threads.split_along(rows, slope)
    else:
        rows(...)
    return slope


class Clamp(MaskedGrad):
    """y = min(max(x, lo), hi);  dL/dx = g where lo <= x <= hi, else 0 (as PyTorch)"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = _xp(x)
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.slope = inside
        return xp.clip(x, lo, hi)


def exp(x):
    return Exp.apply(floating(x))


def log(x):
    return Log.apply(floating(x))


def sqrt(x):
    return Sqrt.apply(floating(x))


def abs(x):
    return Abs.apply(x)


def tanh(x):
    return Tanh.apply(floating(x))


def sigmoid(x):
    return Sigmoid.apply(floating(x))


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    """An integer input is computed in the default float dtype (a slope of 0.2 on
    integers would be 0; PyTorch refuses integer input instead)."""
    return LeakyReLU.apply(floating(x), negative_slope=negative_slope)


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, lo=min, hi=max)


def sign(x):
    """-1, 0 or 1 per element; a constant (its derivative is 0 almost everywhere)."""
    return constant(x.xp.sign(x.data))


# --- two-input selections --------------------------------------------------------

class Where(Function):
    """y = a where condition else b;  dL/da = g * condition,  dL/db = g * (1 - condition)"""

    @staticmethod
    def forward(ctx, a, b, condition):
        xp = _xp(a)
        ctx.condition = condition
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        chosen = constant(ctx.condition.astype(g.dtype))
        ga = sum_to(g * chosen, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * (1.0 - chosen), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def where(condition, a, b):
    """Elementwise choice, broadcasting all three; `condition` is a bool tensor or array."""
    if isinstance(condition, Tensor):
        condition = condition.data
    a, b = _pair(a, b)
    try:
        return Where.apply(a, b, condition=condition)
    except ValueError:
        check_broadcast("where", tuple(getattr(condition, "shape", ())), a.shape, b.shape)
        raise


class Maximum(Function):
    """y = max(a, b) (or min);  dL/da = g w,  dL/db = g (1 - w) with w = 1 where a wins,
    0 where b wins and 1/2 at ties, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b, pick):
        xp = _xp(a)
        y = getattr(xp, pick)(a, b)
        a_wins = (a > b) if pick == "maximum" else (a < b)
        ctx.weight = a_wins.astype(y.dtype) + (a == b).astype(y.dtype) * y.dtype.type(0.5)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        w = constant(ctx.weight)
        ga = sum_to(g * w, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * (1.0 - w), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


def maximum(a, b):
    """Elementwise max, broadcasting."""
    a, b = _pair(a, b)
    return _broadcasting(Maximum, "maximum", a, b, pick="maximum")


def minimum(a, b):
    """Elementwise min, broadcasting."""
    a, b = _pair(a, b)
    return _broadcasting(Maximum, "minimum", a, b, pick="minimum")


# --- not differentiable -----------------------------------------------------------

def compare(a, b, name):
    """a < b, a == b, ... as a bool tensor (no gradient)."""
    a, b = _pair(a, b)
    try:
        return constant(getattr(a.xp, name)(a.data, b.data))
    except ValueError:
        check_broadcast(name, a.shape, b.shape)
        raise


class Cast(Function):
    """y = x as another dtype;  dL/dx = g cast back to x's dtype"""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        return cast(g, x.dtype)


class Clone(Function):
    """y = a copy of x (its own memory);  dL/dx = g"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(x):
    """A copy of x that stays in the graph (torch.clone): gradients flow back to x."""
    return Clone.apply(x)


def cast(x, dtype):
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype.kind != "f" or x.dtype.kind != "f":
        return constant(x.data.astype(dtype))
    return Cast.apply(x, dtype=dtype)

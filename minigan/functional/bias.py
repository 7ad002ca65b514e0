"""add_bias: the bias of a convolution or linear layer, added in place.

The math is an ordinary broadcast add, y + b along one axis, with

    dL/dy = g,    dL/db = g summed over every axis but `axis`.

The trick: conv2d, conv_transpose2d and linear hand their product to this op as a
brand-new array that nothing else has seen (the GEMM just wrote it), so the bias
can go into that array in place. The plain `y + b` would allocate a second array of
y's size and the graph would keep both alive until backward, although an add's
backward needs neither (one activation's worth of memory per layer, and a pass
over it to fill a fresh page). Here the output shares y's memory. That is safe only
because y never escapes: the caller passes the raw op output and returns the sum.
A user's own tensors always go through the plain add. A large y takes the add
in blocks of rows on several threads (minigan/_threads.py; the same bits).
"""
from .. import _threads
from ..autograd import Function
from ..backend import get_array_module as _xp
from .shape import reshape, sum_to


class AddBias(Function):
    """y + b, b of shape (y.shape[axis],) broadcast along `axis`, written into y's
    own memory. dL/dy = g,  dL/db = sum of g over all other axes."""

    @staticmethod
    def forward(ctx, y, b, axis):
        ctx.axis = axis
        shape = [1] * y.ndim
        shape[axis] = b.shape[0]
        b = b.reshape(shape)
        if _xp(y).result_type(y, b) != y.dtype:  # y would change dtype: no in-place
            return y + b

        def rows(i):  # b spans `axis`: cut it too when the rows run along that axis
            y[i] += b[i] if len(i) == axis + 1 else b

        _threads.split_along(rows, y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, b = ctx.inputs
        gb = None
        if ctx.needs_input_grad[1]:
            shape = [1] * g.ndim
            shape[ctx.axis] = b.shape[0]
            gb = reshape(sum_to(g, tuple(shape)), b.shape)
        return g, gb


def add_bias(y, bias, axis):
    """y + bias along `axis`, in place into y: y must be an op's fresh output that
    no one else holds (see the module docstring). bias None: y."""
    if bias is None:
        return y
    return AddBias.apply(y, bias, axis=axis % y.ndim)

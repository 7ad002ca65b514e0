"""Matrix products: matmul (batched, broadcasting) and linear."""
from ..autograd import Function
from ..backend import get_array_module as _xp
from .bias import add_bias
from .shape import reshape, sum_to, transpose

__all__ = ["matmul", "linear"]


class Matmul(Function):
    """y = a @ b over the last two dims, batch dims broadcast;
    dL/da = g @ b^T,  dL/db = a^T @ g  (each summed back over broadcast batch dims)"""

    @staticmethod
    def forward(ctx, a, b):
        if a.shape[-1] == 1:  # an outer product: each entry is one product, no sum
            # (..., m, 1) * (..., 1, n) broadcasts to the same (..., m, n) with the same
            # numbers. OpenBLAS's GEMM is slow at an inner size of 1 (measured: 0.81 ms
            # against 0.05 for the multiply at (128, 1) @ (1, 6272), the gradient of D's
            # last linear layer with respect to its input).
            return _xp(a).multiply(a, b)
        return _xp(a).matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        if _in_transposed_memory(ctx.inputs[0].data) and ctx.inputs[1].ndim == 2:
            return _backward_in_transposed_memory(ctx, g)  # the trick, below
        # BEGIN TASK 2.1
        a, b = ctx.inputs
        ga = sum_to(matmul(g, transpose(b, -1, -2)), a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(matmul(transpose(a, -1, -2), g), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb
        # END TASK 2.1


def _in_transposed_memory(a):
    """Whether a is a matrix laid out as its transpose's C order (a.T C-contiguous):
    D's last linear layer reads so the flattened batch-last output of a convolution."""
    return a.ndim == 2 and not a.flags.c_contiguous and a.T.flags.c_contiguous


def _backward_in_transposed_memory(ctx, g):
    """Matmul's backward, the same two products, for a matrix `a` in transposed memory.

    The trick: dL/da = g @ b^T is computed as (b @ g^T)^T, whose result lies in a's
    own memory order. For D's last linear layer, a is the flattened batch-last output
    of a convolution, so the gradient reaches that convolution's backward through the
    Flatten without a copy into batch-last order (shape.py's LayoutLike: 0.7 ms at
    (128, 6272), three times a DCGAN step)."""
    a, b = ctx.inputs
    ga = transpose(matmul(b, transpose(g, 0, 1)), 0, 1) if ctx.needs_input_grad[0] else None
    gb = matmul(transpose(a, 0, 1), g) if ctx.needs_input_grad[1] else None
    return ga, gb


def matmul(a, b):
    """a @ b with NumPy/PyTorch semantics: 1-D operands are promoted to a row
    (on the left) or a column (on the right) and the added dim removed again;
    1-D @ 1-D is the dot product, a 0-d tensor. Batch dims broadcast."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {a.shape} and {b.shape}")
    inner = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({a.shape[-1]} != {inner})")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(Matmul.apply(reshape(a, 1, -1), reshape(b, -1, 1)), ())
    if a.ndim == 1:
        return reshape(matmul(reshape(a, 1, -1), b), b.shape[:-2] + b.shape[-1:])
    if b.ndim == 1:
        return reshape(matmul(a, reshape(b, -1, 1)), a.shape[:-1])
    _check_batch_dims(a.shape, b.shape)
    return Matmul.apply(a, b)


def _check_batch_dims(a_shape, b_shape):
    """The batch dims (all but the last two) must broadcast, as NumPy's do."""
    for m, n in zip(reversed(a_shape[:-2]), reversed(b_shape[:-2])):
        if m != n and m != 1 and n != 1:
            raise ValueError(
                f"matmul: batch dimensions of shapes {a_shape} and {b_shape} cannot be "
                f"broadcast ({a_shape[:-2]} and {b_shape[:-2]})")


def linear(x, weight, bias=None):
    """y = x @ weight^T + bias.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)"""
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: expected input of shape (..., {weight.shape[-1]}) for a weight of shape "
            f"{weight.shape}, got {x.shape}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: expected bias of shape ({weight.shape[0]},) for a weight of shape "
            f"{weight.shape}, got {bias.shape}")
    y = matmul(x, transpose(weight, 0, 1))
    if bias is None:
        return y
    if x.ndim != 2:  # matmul returned a reshaped view of its product: the plain add
        return y + bias
    return add_bias(y, bias, axis=-1)  # in place into the fresh product (bias.py says why)

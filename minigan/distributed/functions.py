"""`all_reduce`: the sum over ranks as a differentiable op.

    y = sum over ranks r of x_r        (every rank gets the same y)

If the loss is the sum of every rank's loss, L = sum_r L_r, each rank's y
reaches every L_r, so

    dL/dx_r = sum over ranks r' of dL_r'/dy = all_reduce(dL_r/dy)

The backward of an all-reduce is an all-reduce of the gradients, itself
differentiable, so double backward through synchronised batch norm needs no
extra code. Data-parallel training averages each rank's parameter gradients,
which is exactly the gradient of L / world_size: the mean loss over the global
batch when each L_r is its rank's mean.
"""
from ..autograd import Function
from . import comm


class AllReduceSum(Function):
    @staticmethod
    def forward(ctx, x):
        return comm.allreduce_sum(x)

    @staticmethod
    def backward(ctx, grad):
        return AllReduceSum.apply(grad)


def all_reduce(x):
    """x summed over every rank (a Tensor, same shape), differentiable."""
    return AllReduceSum.apply(x)

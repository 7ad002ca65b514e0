"""Every differentiable op, PyTorch's `torch.nn.functional` and tensor functions in one place.

One file per family; each op is a `Function` (forward on arrays, backward on
Tensors) plus the plain function a user calls:

    elementwise  add, mul, exp, log, tanh, sigmoid, relu, leaky_relu, clamp, where ...
    reduce       sum, mean, max, min, var, softmax, log_softmax, logsumexp
    shape        reshape, permute, transpose, indexing, cat, stack, pad, sum_to
    linalg       matmul, linear
    conv         conv2d, conv_transpose2d (each the other's gradient)
    pool         max_pool2d, avg_pool2d, interpolate
    norm         batch_norm, dropout
    loss         binary_cross_entropy(_with_logits), mse_loss, cross_entropy, one_hot
"""
from .elementwise import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403

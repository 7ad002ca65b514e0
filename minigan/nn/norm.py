"""`BatchNorm1d` and `BatchNorm2d`: the layers around F.batch_norm.

In training, each channel is normalised with the batch's statistics, and the
running statistics move towards them (running = (1 - momentum) running +
momentum batch_stat; momentum=None gives the cumulative average over all
batches, factor 1 / num_batches_tracked). In evaluation the running statistics
are used. Buffers, as PyTorch names them: running_mean (C,), running_var (C,),
num_batches_tracked (a 0-d int64 counter of training batches).
"""
import numpy as np

from .. import backend as _backend
from .. import functional as F
from ..tensor import Tensor
from . import init
from .linear import _empty_parameter
from .module import Module


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input's rank."""

    _input_ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = _empty_parameter(num_features)
            if bias:
                self.bias = _empty_parameter(num_features)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            xp, dtype = _backend.xp(), _backend.get_default_dtype()
            self.register_buffer("running_mean", Tensor._make(xp.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor._make(xp.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked",
                                 Tensor._make(xp.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0
            for buffer in (self.running_mean, self.running_var, self.num_batches_tracked):
                buffer._bump_version()

    def reset_parameters(self):
        """running statistics to (0, 1, 0); weight = 1, bias = 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self._input_ranks:
            wanted = " or ".join(f"{n}D" for n in self._input_ranks)
            raise ValueError(f"{type(self).__name__}: expected {wanted} input (got {x.ndim}D "
                             f"input of shape {x.shape})")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
        # Batch statistics in training, and in evaluation too when none are tracked.
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            training=use_batch_stats, momentum=momentum, eps=self.eps,
            num_batches_tracked=self.num_batches_tracked if momentum is None else None)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs; statistics per channel C
    (e.g. after a Linear layer: BatchNorm1d(6272))."""

    _input_ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs; statistics per channel over N, H and W."""

    _input_ranks = (4,)

"""`SyncBatchNorm`: batch norm whose statistics are those of the global batch.

Data-parallel training splits a batch of B images over N ranks. Plain batch
norm would then normalise each rank's B/N images with their own statistics, a
different (and noisier) network from the one-process one. SyncBatchNorm sums
over every rank first, so each rank normalises with the statistics of all B:

    forward    one all-reduce of the buffer [sum_c x, sum_c x^2, m] (2C + 1 numbers),
               mean = sum / M,  var = sum_sq / M - mean^2  (biased, as batch norm uses),
               M = the global count of values per channel
    backward   the gradient of that all-reduce is an all-reduce of the gradient of the
               same buffer (see functions.py): one more call of 2C + 1 numbers, which
               carries exactly the two per-channel sums batch norm's backward needs,
               sum dL/dy and sum dL/dy * x_hat, folded into d(sum) and d(sum_sq)

Running statistics move as PyTorch's do (unbiased variance, with the global
count), from the same global numbers on every rank, so they stay identical
everywhere and equal to one process's on the global batch. In evaluation,
or outside a distributed run, it is plain batch norm.

    model = SyncBatchNorm.convert_sync_batchnorm(model)   # every BatchNorm*d replaced
"""
from .. import functional as F
from ..autograd import no_grad
from ..creation import tensor
from ..nn.norm import BatchNorm1d, BatchNorm2d, _BatchNorm
from . import comm
from .functions import all_reduce


def sync_batch_norm_statistics(x):
    """(mean, biased var, M) of each channel of x (N, C, ...) over every rank's batch;
    mean and var (C,) Tensors, differentiable; M the global count per channel (int)."""
    axes = (0,) + tuple(range(2, x.ndim))
    channels = x.shape[1]
    local_count = x.numel() // channels
    parts = [x.sum(dim=axes), (x * x).sum(dim=axes),
             tensor([float(local_count)], dtype=x.dtype)]
    total = all_reduce(F.cat(parts, 0)) if comm.is_initialized() else F.cat(parts, 0)
    count = int(round(float(total[2 * channels].item())))
    mean = total[:channels] * (1.0 / count)
    var = total[channels:2 * channels] * (1.0 / count) - mean * mean
    return mean, var, count


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, ...) inputs with statistics over every rank's batch."""

    _input_ranks = (2, 3, 4, 5)

    def forward(self, x):
        if x.ndim not in self._input_ranks:
            raise ValueError(f"SyncBatchNorm: expected 2D to 5D input (got {x.ndim}D input "
                             f"of shape {x.shape})")
        use_batch_stats = self.training or self.running_mean is None
        if not use_batch_stats:
            return super().forward(x)
        mean, var, count = sync_batch_norm_statistics(x)
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, count)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        y = (x - mean.reshape(shape)) * ((var + self.eps) ** -0.5).reshape(shape)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y

    def _update_running_stats(self, mean, var, count):
        with no_grad():
            self.num_batches_tracked.data += 1
            factor = (1.0 / float(self.num_batches_tracked.data) if self.momentum is None
                      else self.momentum)
            unbiased = var.data * (count / max(count - 1, 1))
            dtype = self.running_mean.data.dtype
            self.running_mean.data[...] = ((1 - factor) * self.running_mean.data
                                           + factor * mean.data).astype(dtype)
            self.running_var.data[...] = ((1 - factor) * self.running_var.data
                                          + factor * unbiased).astype(dtype)

    @classmethod
    def convert_sync_batchnorm(cls, module):
        """Replace every BatchNorm1d/BatchNorm2d inside `module` (or `module` itself) by a
        SyncBatchNorm holding the very same parameters and buffers, so optimizers
        built before the conversion keep working and state-dict keys do not change."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)) and not isinstance(module, cls):
            sync = cls.__new__(cls)
            sync.__dict__.update(module.__dict__)  # same tables: same Parameter objects
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child)
        return module


convert_sync_batchnorm = SyncBatchNorm.convert_sync_batchnorm

"""Averaged weights, as torch.optim.swa_utils: `AveragedModel` and the EMA update.

    G_ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)
    ...                                   # after every optimizer step of G:
    G_ema.update_parameters(G)
    G_ema(z)                              # draws with the averaged weights

An exponential moving average of a generator's weights,

    ema <- decay * ema + (1 - decay) * current      (the first update copies current)

draws better samples than the weights of any single step: the adversarial game
makes G's weights circle around a good point rather than settle on it, and the
average sits nearer the middle (Yazici et al. 2019; used by ProGAN, StyleGAN,
BigGAN). The averaged copy is never trained itself, so it costs one extra pass
over the weights per step and the memory of one more generator.
"""
import copy

import numpy as np

from .. import backend as _backend
from ..autograd import no_grad
from ..creation import tensor
from ..nn.module import Module
from .optimizer import lerp_


def get_ema_avg_fn(decay=0.999):
    """avg_fn(ema, current, num_averaged) -> decay * ema + (1 - decay) * current."""
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_ema_multi_avg_fn(decay=0.999):
    """multi_avg_fn(ema_list, current_list, num_averaged): the EMA step in place on
    lists of arrays. Floats: ema += (1 - decay) (current - ema), torch.lerp_'s
    formula; integer buffers (num_batches_tracked): ema * decay + current * (1 -
    decay), truncated back to an integer as PyTorch's copy_ does."""
    def ema_update(ema_list, current_list, num_averaged):
        for ema, current in zip(ema_list, current_list):
            if ema.dtype.kind == "f":
                lerp_(ema, current, 1.0 - decay, _backend.get_array_module(ema).empty_like(ema))
            else:  # assigning floats to an integer array truncates them
                ema[...] = ema * decay + current * (1.0 - decay)
    return ema_update


def get_swa_avg_fn():
    """avg_fn for stochastic weight averaging: the running mean of every update."""
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose weights are an average of `model`'s over time.

    avg_fn(averaged, current, num_averaged) -> new average, per array; or
    multi_avg_fn(averaged_list, current_list, num_averaged), in place on lists;
    neither: the plain running mean (stochastic weight averaging).
    use_buffers: average the buffers too (batch norm's running statistics);
    otherwise they are copied from `model` at every update.

    State-dict keys as PyTorch's: `module.<name>` and `n_averaged`.
    """

    def __init__(self, model, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype=np.int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        if self.use_buffers:
            return list(model.parameters()) + [b for b in model.buffers() if b is not None]
        return list(model.parameters())

    def update_parameters(self, model):
        """Fold `model`'s current weights into the average."""
        with no_grad():
            averaged = [t.data for t in self._tensors(self.module)]
            current = [t.data for t in self._tensors(model)]
            if len(averaged) != len(current):
                raise ValueError(f"AveragedModel.update_parameters: expected a model with "
                                 f"{len(averaged)} tensors to average, got {len(current)}")
            n = int(self.n_averaged.data)
            if n == 0:
                for a, c in zip(averaged, current):
                    a[...] = c
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, current, n)
            else:
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for a, c in zip(averaged, current):
                    a[...] = avg_fn(a, c, n)
            if not self.use_buffers:
                for a, c in zip(self.module.buffers(), model.buffers()):
                    if a is not None:
                        a.data[...] = c.data
            self.n_averaged.data[...] = n + 1


def update_bn(loader, model, device=None):
    """Recompute every batch norm's running statistics of `model` from the data of
    `loader`, as torch.optim.swa_utils.update_bn: the statistics are reset, then
    each batch goes through the model in train mode with momentum=None, so the
    running mean and variance become the plain average over the batches (each
    batch weighted equally, PyTorch's rule). Afterwards every batch norm has its
    own momentum back and the model its train/eval mode.

    Why: averaged weights (SWA, an EMA of G) were never run with their own
    statistics; the running statistics they carry belong to other weights.
    loader: an iterable of input tensors (or of tuples/lists whose first item is
    the input, as a DataLoader's batches). No gradient is recorded. device: as
    PyTorch's signature; the inputs must be on the model's backend already.
    """
    from ..nn.norm import _BatchNorm
    norms = [m for m in model.modules()
             if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return
    momenta = {}
    for m in norms:
        m.reset_running_stats()
        momenta[m] = m.momentum
        m.momentum = None
    was_training = model.training
    model.train()
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                model(batch)
    finally:
        for m in norms:
            m.momentum = momenta[m]
        model.train(was_training)

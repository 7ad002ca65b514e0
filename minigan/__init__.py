"""minigan: a from-scratch deep-learning library for understanding GANs from the bottom up.

    import minigan as mg
    from minigan import nn, optim
    import minigan.functional as F
"""
from ._openblas import quiet_idle_threads as _quiet_idle_threads

_quiet_idle_threads()  # before NumPy loads OpenBLAS: see _openblas.py
import numpy as _np  # noqa: E402

from ._malloc import tune_malloc as _tune_malloc

from .backend import (get_backend, set_backend, use_backend, manual_seed,
                      get_default_dtype, set_default_dtype, to_numpy, to_device)
from .tensor import Tensor
from .autograd import Function, grad, no_grad, enable_grad, is_grad_enabled
from .creation import (tensor, zeros, ones, full, arange, randn, rand, randint,
                       zeros_like, ones_like, randn_like, rand_like, from_numpy)
from . import functional
from .functional import (exp, log, sqrt, abs, tanh, sigmoid, relu, clamp, maximum,
                         minimum, where, cat, stack, reshape, flatten, permute, transpose,
                         matmul, sum, mean, max, min, var, std, argmax, logsumexp, softmax,
                         log_softmax, sign, clone)
from .gradcheck import gradcheck, gradgradcheck

float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
int64 = _np.dtype("int64")
bool_ = _np.dtype("bool")

__version__ = "0.1.0"
_tune_malloc()
from . import optim  # noqa: E402
from . import nn  # noqa: E402
from .serialization import (CheckpointError, load, load_pth, load_safetensors,  # noqa: E402
                            save, save_safetensors)
from . import _cuda as cuda  # noqa: E402  (mg.cuda.is_available(), as torch.cuda)
from . import distributed  # noqa: E402  (imports no MPI until dist.init())

# nn.SyncBatchNorm, as PyTorch spells it; it lives in minigan.distributed (it needs the
# communicator, a row below nn in the layers), and the top-level package puts it in nn.
nn.SyncBatchNorm = distributed.SyncBatchNorm
from . import textbook  # noqa: E402  (with mg.textbook(): the readable twins of the fast ops)


def __getattr__(name):
    """mg.viz, imported when first used: the pictures need Pillow, the rest of minigan not."""
    if name == "viz":
        import importlib
        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'minigan' has no attribute {name!r}")

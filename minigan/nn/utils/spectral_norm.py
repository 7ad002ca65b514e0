"""Spectral normalisation (Miyato et al. 2018): divide a layer's weight by its largest
singular value, so the layer can stretch no input by more than a factor of 1.

    D = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(1, 64, 4, 2, 1)), ...)

The weight W (reshaped to a matrix of `dim`'s size by the rest) is replaced by

    W_sn = W / sigma(W),    sigma(W) = u^T W v

where u and v approximate W's first left and right singular vectors by power
iteration, one step per training forward (the vectors are kept between steps,
so one step is enough once training has warmed them up):

    v <- normalize(W^T u),   u <- normalize(W v)

u and v are constants for the gradient (computed under no_grad), so backward
differentiates W / (u^T W v) through W alone: dsigma/dW = u v^T. In eval mode
the stored u and v are used as they are.

As PyTorch's torch.nn.utils.spectral_norm: the trained parameter is
`weight_orig`, u and v are the buffers `weight_u` and `weight_v`, and
`module.weight` is recomputed before every forward by a forward pre-hook, so
state dicts move between the two libraries.
"""
from ... import backend as _backend
from ...autograd import no_grad
from ...tensor import Tensor
from ..parameter import Parameter


def _normalize(vector, eps):
    """vector / max(||vector||, eps), an array (as torch.nn.functional.normalize)."""
    xp = _backend.get_array_module(vector)
    return vector / max(float(xp.sqrt((vector * vector).sum())), eps)


class SpectralNorm:
    """The forward pre-hook that recomputes module.<name> = <name>_orig / sigma."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations < 0:
            raise ValueError("spectral_norm: expected n_power_iterations >= 0, got "
                             f"{n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = (
            name, n_power_iterations, dim, eps)

    def weight_matrix(self, weight):
        """The weight as a (size of dim, everything else) matrix (a Tensor or an array)."""
        if self.dim != 0:
            order = (self.dim,) + tuple(d for d in range(weight.ndim) if d != self.dim)
            weight = weight.permute(*order) if isinstance(weight, Tensor) else \
                weight.transpose(order)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        if do_power_iteration:
            with no_grad():
                matrix = self.weight_matrix(weight.data)
                for _ in range(self.n_power_iterations):
                    v.data[...] = _normalize(matrix.T @ u.data, self.eps)
                    u.data[...] = _normalize(matrix @ v.data, self.eps)
        matrix = self.weight_matrix(weight)
        u_const, v_const = Tensor._make(u.data.copy()), Tensor._make(v.data.copy())
        sigma = (u_const * (matrix @ v_const)).sum()
        return weight / sigma

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name,
                           self.compute_weight(module, do_power_iteration=module.training))

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        del module.__dict__[self.name]
        for suffix in ("_orig", "_u", "_v"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.data))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"spectral_norm: {name!r} of {type(module).__name__} is "
                                   "already spectrally normalised")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter "
                             f"{name!r}")
        matrix = fn.weight_matrix(weight.data)
        h, w = matrix.shape
        backend = _backend.backend_of(weight.data)
        u = _normalize(backend.randn((h,), weight.dtype), eps)  # as torch: normal_(0, 1)
        v = _normalize(backend.randn((w,), weight.dtype), eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        object.__setattr__(module, name, Tensor._make(weight.data))
        module.register_buffer(name + "_u", Tensor._make(u))
        module.register_buffer(name + "_v", Tensor._make(v))
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalise `module.<name>` (as torch.nn.utils.spectral_norm); returns
    the module. dim: the output-channel axis, 0 (default) or 1 for ConvTranspose*d."""
    from ..conv import ConvTranspose2d
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo spectral_norm: module.<name> becomes a Parameter holding W / sigma again."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of {name!r} not found in {type(module).__name__}")

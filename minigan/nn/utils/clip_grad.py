"""Gradient clipping, as torch.nn.utils: between backward() and optimizer.step().

    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Both work on the `.grad` of each parameter (parameters without one are skipped)
and replace it with a new, clipped gradient array rather than writing into the
old one: minigan may hand the same gradient array to more than one tensor (see
Module.zero_grad), and clipping one must not clip another twice.
"""
import math

from ...tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _check_foreach(foreach, name):
    # torch's foreach chooses between two implementations with the same results;
    # minigan has one, so every value means the same here.
    if foreach not in (None, True, False):
        raise ValueError(f"{name}: foreach must be None, True or False, got {foreach!r}")


def _vector_norm(xp, array, norm_type):
    """||array||_p over all its elements, as a 0-d array of its dtype:
    max |a| for p = inf, else (sum |a|^p)^(1/p)."""
    magnitude = xp.abs(array)
    if math.isinf(norm_type):
        return magnitude.max()
    if norm_type == 2:
        return xp.sqrt((array * array).sum())
    if norm_type == 1:
        return magnitude.sum()
    return (magnitude ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients so that their total norm is at most max_norm; return the
    total norm before clipping (a 0-d Tensor).

        total = || (||g_1||_p, ||g_2||_p, ...) ||_p   (the p-norm of all gradients
                                                      as one vector; p = norm_type,
                                                      a positive float or inf)
        g_i  <- g_i * min(1, max_norm / (total + 1e-6))

    error_if_nonfinite: raise RuntimeError when total is nan or inf (otherwise the
    gradients are scaled by a nan or zero factor, as in PyTorch).
    """
    _check_foreach(foreach, "clip_grad_norm_")
    if isinstance(norm_type, str) and norm_type == "inf":
        norm_type = math.inf
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(
            f"clip_grad_norm_: norm_type must be a positive number or inf, got {norm_type}")
    max_norm = float(max_norm)
    params = _with_grads(parameters)
    if not params:
        from ...creation import tensor
        return tensor(0.0)
    xp = params[0].grad.xp
    norms = xp.stack([_vector_norm(xp, p.grad.data, norm_type) for p in params])
    total = _vector_norm(xp, norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{float(total)}, so they cannot be clipped; set error_if_nonfinite=False to "
            "scale them anyway")
    coefficient = xp.minimum(max_norm / (total + 1e-6), total.dtype.type(1.0))
    for p in params:
        p.grad = Tensor._make(p.grad.data * coefficient.astype(p.grad.dtype), False)
    return Tensor._make(total, False)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value]; returns None."""
    _check_foreach(foreach, "clip_grad_value_")
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        p.grad = Tensor._make(p.grad.xp.clip(p.grad.data, -clip_value, clip_value), False)

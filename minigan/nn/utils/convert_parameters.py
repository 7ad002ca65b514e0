"""All of a model's weights as one flat vector, and back (torch.nn.utils's names).

    vec = nn.utils.parameters_to_vector(model.parameters())     # (P,) in parameters() order
    nn.utils.vector_to_parameters(vec, model.parameters())
"""
from ... import functional as F
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """One 1-d tensor: each parameter flattened, concatenated in order. It is part of
    the graph (a cat of reshapes), so gradients flow back to the parameters."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    backends = {p.backend for p in params}
    if len(backends) > 1:
        raise TypeError(f"parameters_to_vector: found parameters on different backends "
                        f"({', '.join(sorted(backends))})")
    return F.cat([p.reshape(-1) for p in params], 0)


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the next slice of `vec`, reshaped (as PyTorch does:
    the parameters then share vec's memory and dtype). vec must have exactly as many
    elements as the parameters together."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector, got shape {vec.shape}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters: the parameters have {total} elements, "
                         f"the vector {vec.numel()}")
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec.data[start:start + n].reshape(p.shape)
        start += n

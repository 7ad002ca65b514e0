"""Helpers for tests: float64 inputs on the current backend, torch conversion."""
import numpy as np

import minigan as mg

_rng = np.random.default_rng(1234)


def randn(*shape, requires_grad=True, scale=1.0, offset=0.0, seed=None):
    """A float64 tensor of normal samples on the current backend."""
    rng = _rng if seed is None else np.random.default_rng(seed)
    return mg.tensor(rng.standard_normal(shape) * scale + offset, dtype=mg.float64,
                     requires_grad=requires_grad)


def uniform(*shape, low=-1.0, high=1.0, requires_grad=True, seed=None):
    rng = _rng if seed is None else np.random.default_rng(seed)
    return mg.tensor(rng.uniform(low, high, shape), dtype=mg.float64,
                     requires_grad=requires_grad)


def to_torch(t, torch, requires_grad=None):
    """A minigan tensor as a torch tensor with the same values (via NumPy)."""
    x = torch.from_numpy(np.array(t.numpy()))
    if requires_grad if requires_grad is not None else t.requires_grad:
        x.requires_grad_(True)
    return x


def assert_close(a, b, atol=1e-10, rtol=1e-7):
    """Compare minigan / torch / numpy values elementwise."""
    def host(v):
        if isinstance(v, mg.Tensor):
            return v.numpy()
        if hasattr(v, "detach"):
            return v.detach().numpy()
        return np.asarray(v)
    a, b = host(a), host(b)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)

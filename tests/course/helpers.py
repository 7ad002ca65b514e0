"""What the task tests share: numerical gradients from forward passes only, and gradients
from one op's own backward (no engine), so that each task is checked on its own."""
import numpy as np

import minigan as mg
from minigan.course import check_close


def tensor(array, requires_grad=True):
    return mg.tensor(np.asarray(array, dtype=np.float64), dtype=mg.float64,
                     requires_grad=requires_grad)


def random(*shape, seed=0, low=None, high=None, requires_grad=True):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return tensor(data, requires_grad)


def numerical_gradients(f, inputs, v, eps=1e-6):
    """d<f(inputs), v>/d(input) for each input, by central differences of f alone."""
    grads = []
    for x in inputs:
        flat = x.data.reshape(-1)
        g = np.zeros(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            plus = float((f(*inputs).data * v).sum())
            flat[i] = old - eps
            minus = float((f(*inputs).data * v).sum())
            flat[i] = old
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g.reshape(x.shape))
    return grads


def own_backward(y, v):
    """The gradients y's op returns from its own backward for upstream gradient v,
    called directly (no topological order, no accumulation: only that op's code)."""
    ctx = y._ctx
    with mg.no_grad():
        grads = type(ctx).backward(ctx, tensor(v, requires_grad=False))
    return grads if isinstance(grads, tuple) else (grads,)


def check_op_backward(name, f, inputs, seed=1, tol=1e-6):
    """f's op's own backward against finite differences, for a random upstream gradient."""
    y = f(*inputs)
    v = np.random.default_rng(seed).standard_normal(y.shape)
    computed = own_backward(y, v)
    expected = numerical_gradients(f, inputs, v)
    for i, (c, e) in enumerate(zip(computed, expected)):
        if c is None:
            raise AssertionError(f"{name}: the backward returned None for input {i}")
        check_close(f"{name} dL/d(input {i})", c, e, tol)


def check_gradients(name, f, inputs, seed=1, tol=1e-6):
    """mg.grad of <f(inputs), v> (the whole engine) against finite differences."""
    y = f(*inputs)
    v = np.random.default_rng(seed).standard_normal(y.shape)
    computed = mg.grad(y, list(inputs), grad_outputs=tensor(v, requires_grad=False))
    expected = numerical_gradients(f, inputs, v)
    for i, (c, e) in enumerate(zip(computed, expected)):
        check_close(f"{name} dL/d(input {i})", c, e, tol)

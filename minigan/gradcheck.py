"""Checking gradients against finite differences: `gradcheck` and `gradgradcheck`.

For a function f and inputs x, pick a random upstream gradient v and compare

    analytical:  d<f(x), v>/dx            (what backward computes)
    numerical:   (<f(x + eps e_i), v> - <f(x - eps e_i), v>) / (2 eps)   for each element i

A random v, not a plain sum, matters: sum(f(x)) has zero gradient for some
functions (batch norm's output sums to a constant), which would hide any bug.
Run checks in float64: with float32, eps-sized differences drown in rounding.
A correct op agrees to about 1e-8 or better in float64.
"""
import numpy as np

from . import backend as _backend
from .autograd import enable_grad, grad as _grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(outputs):
    return [y for y in _as_tuple(outputs) if isinstance(y, Tensor) and y.dtype.kind == "f"]


def _check_inputs(inputs, name):
    inputs = _as_tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{name}: no input has requires_grad=True, so nothing is checked")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"{name}: input {i} is {inputs[i].dtype}; finite differences need float64 "
                "(make the inputs with dtype=mg.float64 or call .double())")
    return inputs, checked


def _random_like(t, rng):
    array = rng.standard_normal(t.shape)
    return Tensor._make(_backend.backend_of(t.data).to_device(array), False)


def _projection(fn, inputs, vs):
    """<fn(inputs), v>, summed over every output, as a Python float.

    Not under no_grad: fn may itself take gradients (a gradient penalty calls mg.grad)."""
    outputs = _float_outputs(fn(*inputs))
    return sum(float((y.data * v.data).sum()) for y, v in zip(outputs, vs))


def _analytical(fn, inputs, checked, vs, create_graph=False):
    with enable_grad():  # also when gradcheck itself is called under no_grad
        outputs = _float_outputs(fn(*inputs))
    pairs = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
    if not pairs:
        return [None] * len(checked)
    return list(_grad([y for y, _ in pairs], [inputs[i] for i in checked],
                      grad_outputs=[v for _, v in pairs], create_graph=create_graph,
                      allow_unused=True))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, seed=0,
              raise_exception=True):
    """Check fn's gradients w.r.t. every input with requires_grad=True.

    fn: Tensors -> a Tensor or a tuple of Tensors. inputs: a Tensor or a tuple.
    fast_mode: compare one random directional derivative per input instead of
    every element (for large inputs).
    Returns True, or raises GradcheckError naming the input, the element and
    both values of the worst mismatch (returns False if raise_exception=False).
    """
    inputs, checked = _check_inputs(inputs, "gradcheck")
    rng = np.random.default_rng(seed)
    outputs = _float_outputs(fn(*inputs))
    if not outputs:
        raise ValueError("gradcheck: fn returned no floating-point Tensor")
    vs = [_random_like(y, rng) for y in outputs]
    analytical = _analytical(fn, inputs, checked, vs)

    for k, i in enumerate(checked):
        x = inputs[i]
        ga = np.zeros(x.shape) if analytical[k] is None else analytical[k].numpy()
        if fast_mode:
            u = rng.standard_normal(x.shape)
            numeric = _directional(fn, inputs, x, u, eps, vs)
            exact = float((ga * u).sum())
            if not np.isclose(exact, numeric, atol=atol, rtol=rtol):
                return _fail(raise_exception,
                             f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong "
                             f"along a random direction: analytical {exact:.10g}, "
                             f"numerical {numeric:.10g}")
            continue
        gn = np.zeros(x.shape)
        for index in np.ndindex(*x.shape):
            gn[index] = _perturbed(fn, inputs, x, index, eps, vs)
        bad = ~np.isclose(ga, gn, atol=atol, rtol=rtol)
        if bad.any():
            worst = np.unravel_index(np.argmax(np.abs(ga - gn) * bad), x.shape)
            return _fail(raise_exception,
                         f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at element "
                         f"{tuple(int(j) for j in worst)}: analytical {ga[worst]:.10g}, numerical "
                         f"{gn[worst]:.10g} ({int(bad.sum())} of {bad.size} elements differ "
                         f"beyond atol={atol}, rtol={rtol})")
    return True


def _fail(raise_exception, message):
    if raise_exception:
        raise GradcheckError(message)
    return False


def _perturbed(fn, inputs, x, index, eps, vs):
    """Central difference of <fn, v> in the one element x[index]."""
    original = float(x.data[index])
    x.data[index] = original + eps
    up = _projection(fn, inputs, vs)
    x.data[index] = original - eps
    down = _projection(fn, inputs, vs)
    x.data[index] = original
    return (up - down) / (2 * eps)


def _directional(fn, inputs, x, u, eps, vs):
    """Central difference of <fn, v> along the direction u of input x."""
    original = x.data.copy()
    step = _backend.backend_of(x.data).to_device(u * eps)
    x.data[...] = original + step
    up = _projection(fn, inputs, vs)
    x.data[...] = original - step
    down = _projection(fn, inputs, vs)
    x.data[...] = original
    return (up - down) / (2 * eps)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, seed=0,
                  raise_exception=True):
    """Check second derivatives: gradcheck of (x, v) -> d<fn(x), v>/dx.

    The first derivative is computed with create_graph=True and then checked like
    any other function, w.r.t. the inputs and the upstream gradient v.
    """
    inputs, checked = _check_inputs(inputs, "gradgradcheck")
    rng = np.random.default_rng(seed + 1)
    outputs = _float_outputs(fn(*inputs))
    vs = [Tensor._make(_random_like(y, rng).data, True) for y in outputs]
    n = len(inputs)

    def first_derivative(*args):
        xs, v = args[:n], args[n:]
        grads = _analytical(fn, xs, checked, v, create_graph=True)
        return tuple(g if g is not None else Tensor._make(xs[i].xp.zeros(xs[i].shape), False)
                     for g, i in zip(grads, checked))

    return gradcheck(first_derivative, tuple(inputs) + tuple(vs), eps=eps, atol=atol,
                     rtol=rtol, fast_mode=fast_mode, seed=seed + 2,
                     raise_exception=raise_exception)

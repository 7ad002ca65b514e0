"""Elementwise ops: arithmetic with broadcasting, exp/log/sqrt/abs, activations, clamp,
maximum/minimum, where.

Every op passes gradcheck and gradgradcheck in float64 on the numpy and strict
backends, and matches PyTorch in float64 for forward, backward and double backward.
Inputs stay away from kinks (relu at 0, clamp at its bounds, ties of maximum) by
more than gradcheck's eps, where finite differences mean nothing; the kinks
themselves have their own tests with exact numbers.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.functional as F

from .helpers import assert_close, assert_matches_torch, randn, to_torch, uniform

FEW_EXAMPLES = settings(max_examples=6, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- checking against PyTorch (shared by the op test files) ---------------------------

# --- inputs where each op is smooth ---------------------------------------------------

def normal(*shape):
    return randn(*shape)


def positive(*shape):
    return uniform(*shape, low=0.5, high=2.0)


def avoiding(*points):
    """Inputs in [-1.5, 1.5] at least 0.1 away from every kink in `points`."""
    def make(*shape):
        x = np.random.default_rng(3).uniform(-1.5, 1.5, shape)
        for p in points:
            x[np.abs(x - p) < 0.1] += 0.25
        return mg.tensor(x, dtype=mg.float64, requires_grad=True)
    return make


def halves(*shape):
    """-0.5 or +0.5 per element: paired with avoiding(-0.5, 0.5), never a tie."""
    signs = np.where(np.arange(np.prod(shape, dtype=int)).reshape(shape) % 2, 1.0, -1.0)
    return mg.tensor(0.5 * signs, dtype=mg.float64, requires_grad=True)


# name: (minigan function, torch function(torch, *inputs), a maker for each input).
# Binary ops are checked over the broadcasting shapes of BROADCASTING.
UNARY = {
    "neg": (F.neg, lambda torch, x: -x, normal),
    "pow_2": (lambda x: x ** 2, lambda torch, x: x ** 2, normal),
    "pow_3": (lambda x: x ** 3, lambda torch, x: x ** 3, normal),
    "pow_minus_1": (lambda x: x ** -1, lambda torch, x: x ** -1, positive),
    "pow_half": (lambda x: x ** 0.5, lambda torch, x: x ** 0.5, positive),
    "pow_0": (lambda x: x ** 0, lambda torch, x: x ** 0, normal),
    "pow_1": (lambda x: x ** 1, lambda torch, x: x ** 1, normal),
    "exp": (mg.exp, lambda torch, x: torch.exp(x), normal),
    "log": (mg.log, lambda torch, x: torch.log(x), positive),
    "sqrt": (mg.sqrt, lambda torch, x: torch.sqrt(x), positive),
    "abs": (mg.abs, lambda torch, x: torch.abs(x), avoiding(0.0)),
    "tanh": (mg.tanh, lambda torch, x: torch.tanh(x), normal),
    "sigmoid": (mg.sigmoid, lambda torch, x: torch.sigmoid(x), normal),
    "relu": (F.relu, lambda torch, x: torch.relu(x), avoiding(0.0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2),
                   lambda torch, x: torch.nn.functional.leaky_relu(x, 0.2), avoiding(0.0)),
    "clamp_min": (lambda x: x.clamp(min=-0.5), lambda torch, x: x.clamp(min=-0.5),
                  avoiding(-0.5)),
    "clamp_max": (lambda x: x.clamp(max=0.5), lambda torch, x: x.clamp(max=0.5),
                  avoiding(0.5)),
    "clamp_both": (lambda x: mg.clamp(x, -0.5, 0.5), lambda torch, x: x.clamp(-0.5, 0.5),
                   avoiding(-0.5, 0.5)),
}

BINARY = {
    "add": (F.add, lambda torch, a, b: a + b, normal, normal),
    "sub": (F.sub, lambda torch, a, b: a - b, normal, normal),
    "mul": (F.mul, lambda torch, a, b: a * b, normal, normal),
    "div": (F.div, lambda torch, a, b: a / b, normal, positive),
    "pow": (F.pow, lambda torch, a, b: a ** b, positive, normal),
    "maximum": (mg.maximum, lambda torch, a, b: torch.maximum(a, b), avoiding(-0.5, 0.5), halves),
    "minimum": (mg.minimum, lambda torch, a, b: torch.minimum(a, b), avoiding(-0.5, 0.5), halves),
}

BROADCASTING = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((3,), (2, 1, 3))]


def binary_inputs(name, shape_a, shape_b):
    _, _, make_a, make_b = BINARY[name]
    return make_a(*shape_a), make_b(*shape_b)


# --- gradcheck and gradgradcheck on both backends -------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_passes_gradcheck_and_gradgradcheck(backend, name):
    fn, _, make = UNARY[name]
    x = make(2, 3)
    assert mg.gradcheck(fn, (x,))
    assert mg.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("shapes", BROADCASTING, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_passes_gradcheck_and_gradgradcheck_with_broadcasting(backend, name, shapes):
    fn = BINARY[name][0]
    a, b = binary_inputs(name, *shapes)
    assert mg.gradcheck(fn, (a, b))
    assert mg.gradgradcheck(fn, (a, b))


@FEW_EXAMPLES
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_mul_and_div_gradients_sum_over_any_broadcast_shapes(backend, shapes):
    a = randn(*shapes.input_shapes[0])
    b = uniform(*shapes.input_shapes[1], low=0.5, high=1.5)
    assert mg.gradcheck(lambda a, b: a * b / b.sum() - b, (a, b))


def test_where_passes_gradcheck_and_gradgradcheck_with_broadcast_condition(backend):
    condition = mg.tensor([[True], [False]])
    a, b = randn(2, 3), randn(3)
    assert mg.gradcheck(lambda a, b: mg.where(condition, a * a, b), (a, b))
    assert mg.gradgradcheck(lambda a, b: mg.where(condition, a * a, b), (a, b))


# --- the same numbers as PyTorch ------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_matches_torch_forward_backward_and_double_backward(backend, torch, name):
    fn, torch_fn, make = UNARY[name]
    assert_matches_torch(torch, fn, lambda x: torch_fn(torch, x), make(2, 3))


@pytest.mark.torch
@pytest.mark.parametrize("shapes", BROADCASTING, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_matches_torch_with_broadcasting(backend, torch, name, shapes):
    fn, torch_fn = BINARY[name][:2]
    assert_matches_torch(torch, fn, lambda a, b: torch_fn(torch, a, b),
                         *binary_inputs(name, *shapes))


@pytest.mark.torch
def test_where_matches_torch(backend, torch):
    condition = np.array([[True, False, True], [False, False, True]])
    assert_matches_torch(
        torch, lambda a, b: mg.where(mg.tensor(condition), a, b * b),
        lambda a, b: torch.where(torch.from_numpy(condition), a, b * b), randn(2, 3), randn(3))


# --- dtypes ---------------------------------------------------------------------------

def float32_inputs(*tensors):
    return [mg.tensor(t.numpy(), dtype=mg.float32, requires_grad=True) for t in tensors]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_keeps_float32_in_output_and_gradient(backend, name):
    fn, _, make = UNARY[name]
    (x,) = float32_inputs(make(2, 3))
    y = fn(x)
    (gx,) = mg.grad(y.sum(), [x], allow_unused=True)
    assert y.dtype == mg.float32
    assert gx is None or gx.dtype == mg.float32


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_keeps_float32_in_output_and_gradients(backend, name):
    a, b = float32_inputs(*binary_inputs(name, (2, 3), (3,)))
    y = BINARY[name][0](a, b)
    ga, gb = mg.grad(y.sum(), [a, b])
    assert (y.dtype, ga.dtype, gb.dtype) == (mg.float32, mg.float32, mg.float32)


def test_python_and_numpy_scalars_keep_float32_float32(backend):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for y in (x + 2.5, 2.5 * x, x / 3, 1 - x, x ** 2, x ** 0.5, 2 ** x,
              x ** np.float64(2), x ** np.int64(3), x.clamp(0.5, 1.5), F.leaky_relu(x, 0.3)):
        assert y.dtype == mg.float32


# --- Python numbers on either side of an operator -------------------------------------

def test_operators_take_python_numbers_on_both_sides(backend):
    x = mg.tensor([1.0, 2.0, 4.0], dtype=mg.float64, requires_grad=True)
    cases = [  # expression, value, derivative
        (lambda x: 2 - x, [1.0, 0.0, -2.0], [-1.0, -1.0, -1.0]),
        (lambda x: x - 2, [-1.0, 0.0, 2.0], [1.0, 1.0, 1.0]),
        (lambda x: 2 / x, [2.0, 1.0, 0.5], [-2.0, -0.5, -0.125]),
        (lambda x: x / 2, [0.5, 1.0, 2.0], [0.5, 0.5, 0.5]),
        (lambda x: 2 ** x, [2.0, 4.0, 16.0], [2 * np.log(2), 4 * np.log(2), 16 * np.log(2)]),
        (lambda x: x ** 2, [1.0, 4.0, 16.0], [2.0, 4.0, 8.0]),
        (lambda x: 3 + x, [4.0, 5.0, 7.0], [1.0, 1.0, 1.0]),
        (lambda x: 3 * x, [3.0, 6.0, 12.0], [3.0, 3.0, 3.0]),
        (lambda x: -x, [-1.0, -2.0, -4.0], [-1.0, -1.0, -1.0]),
    ]
    for fn, value, derivative in cases:
        y = fn(x)
        (gx,) = mg.grad(y.sum(), [x])
        assert_close(y, np.array(value))
        assert_close(gx, np.array(derivative))


def test_numpy_array_mixes_with_numpy_tensor_but_not_with_strict_tensor():
    with mg.use_backend("numpy"):
        assert_close(np.array([1.0, 2.0]) * mg.tensor([3.0, 4.0]), np.array([3.0, 8.0]))
    with mg.use_backend("strict"):
        x = mg.tensor([3.0, 4.0])
        with pytest.raises(TypeError, match="numpy"):
            x * np.array([1.0, 2.0])
        with pytest.raises(TypeError):
            np.array([1.0, 2.0]) * x


# --- broadcasting errors --------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_refuses_shapes_that_do_not_broadcast(backend, name):
    a, b = randn(2, 3), uniform(4, low=0.5, high=1.0)
    with pytest.raises(ValueError, match="broadcast"):
        BINARY[name][0](a, b)


def test_where_refuses_a_condition_that_does_not_broadcast(backend):
    with pytest.raises(ValueError, match="broadcast"):
        mg.where(mg.tensor([True, False]), randn(2, 3), randn(2, 3))


# --- at the kinks: the subgradient PyTorch picks --------------------------------------

def derivative(fn, values):
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_relu_and_abs_have_zero_derivative_at_zero(backend):
    assert_close(derivative(F.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    assert_close(derivative(mg.abs, [-1.0, 0.0, 2.0]), [-1.0, 0.0, 1.0])
    assert_close(derivative(lambda x: F.leaky_relu(x, 0.2), [-1.0, 0.0, 2.0]), [0.2, 0.2, 1.0])


def test_relu_forward_is_max_with_zero(backend):
    assert_close(F.relu(mg.tensor([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    assert_close(F.leaky_relu(mg.tensor([-2.0, 0.0, 3.0]), 0.1), [-0.2, 0.0, 3.0])


def test_clamp_passes_the_gradient_at_its_bounds_and_not_beyond(backend):
    values = [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert_close(mg.clamp(mg.tensor(values), -1.0, 1.0), [-1.0, -1.0, 0.0, 1.0, 1.0])
    assert_close(derivative(lambda x: x.clamp(-1.0, 1.0), values), [0, 1, 1, 1, 0])
    assert_close(derivative(lambda x: x.clamp(min=-1.0), values), [0, 1, 1, 1, 1])
    assert_close(derivative(lambda x: x.clamp(max=1.0), values), [1, 1, 1, 1, 0])


def test_clamp_needs_a_bound(backend):
    with pytest.raises(ValueError, match="clamp"):
        mg.clamp(randn(2))


def test_maximum_and_minimum_split_the_gradient_evenly_at_ties(backend):
    a = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([1.0, 0.0, 5.0], dtype=mg.float64, requires_grad=True)
    assert_close(mg.maximum(a, b), [1.0, 2.0, 5.0])
    assert_close(mg.minimum(a, b), [1.0, 0.0, 3.0])
    ga, gb = mg.grad(mg.maximum(a, b).sum(), [a, b])
    assert_close(ga, [0.5, 1.0, 0.0])
    assert_close(gb, [0.5, 0.0, 1.0])
    ga, gb = mg.grad(mg.minimum(a, b).sum(), [a, b])
    assert_close(ga, [0.5, 0.0, 1.0])
    assert_close(gb, [0.5, 1.0, 0.0])


@pytest.mark.torch
def test_maximum_and_minimum_at_ties_match_torch(backend, torch):
    a = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([1.0, 0.0, 3.0], dtype=mg.float64, requires_grad=True)
    assert_matches_torch(torch, mg.maximum, torch.maximum, a, b)
    assert_matches_torch(torch, mg.minimum, torch.minimum, a, b)


def test_where_sends_the_gradient_to_the_chosen_side(backend):
    a = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([10.0, 20.0, 30.0], dtype=mg.float64, requires_grad=True)
    y = mg.where(a > 1.5, a, b)
    ga, gb = mg.grad(y.sum(), [a, b])
    assert_close(y, [10.0, 2.0, 3.0])
    assert_close(ga, [0.0, 1.0, 1.0])
    assert_close(gb, [1.0, 0.0, 0.0])


# --- numerically stable where it matters ----------------------------------------------

@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_sigmoid_is_stable_at_plus_and_minus_1000(backend, dtype):
    x = mg.tensor([-1000.0, 0.0, 1000.0], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        y = mg.sigmoid(x)
        y.sum().backward()
    assert_close(y, [0.0, 0.5, 1.0])
    assert_close(x.grad, [0.0, 0.25, 0.0])
    assert y.dtype == dtype and x.grad.dtype == dtype


def test_sqrt_and_log_of_exact_values(backend):
    assert_close(mg.sqrt(mg.tensor([4.0, 9.0])), [2.0, 3.0])
    assert_close(derivative(mg.sqrt, [4.0, 9.0]), [0.25, 1 / 6])
    assert_close(mg.log(mg.exp(mg.tensor([0.5, -3.0], dtype=mg.float64))), [0.5, -3.0])
    assert_close(derivative(mg.log, [0.5, 4.0]), [2.0, 0.25])

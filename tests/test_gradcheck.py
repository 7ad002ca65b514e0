"""gradcheck and gradgradcheck: they pass correct functions and catch wrong ones.

A checker that never fails checks nothing, so each test here hands it a
deliberately wrong gradient and reads the failure message: it must name the
input, the element, and the analytical and numerical values.
"""
import re

import numpy as np
import pytest

import minigan as mg
from minigan.functional._util import constant
from minigan.gradcheck import GradcheckError

from .helpers import randn


class SquareWithWrongGradient(mg.Function):
    """y = x^2 with backward 3 x g instead of 2 x g."""

    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return 3 * x * grad


class WrongAtOneElement(mg.Function):
    """y = a * b whose gradient for b is off by 1 at element (1, 2) only."""

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        off = np.zeros(b.shape)
        off[1, 2] = 1.0
        return grad * b, grad * a + constant(b.xp.asarray(off))


class CubeWithConstantDerivative(mg.Function):
    """y = x^3 whose backward 3 x^2 g has the right value, but x^2 is taken as a
    constant array: d(backward)/dx comes out 0 instead of 6 x g."""

    @staticmethod
    def forward(ctx, x):
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return 3 * constant(x.data * x.data) * grad


def test_gradcheck_passes_a_correct_function(backend):
    assert mg.gradcheck(lambda a, b: (a * b).tanh().sum(0), (randn(2, 3), randn(3)))
    assert mg.gradcheck(lambda a, b: (a * b).tanh(), (randn(2, 3), randn(3)), fast_mode=True)


def test_gradcheck_checks_every_output_of_a_function_with_several(backend):
    a = randn(2, 2)
    assert mg.gradcheck(lambda a: (a.exp(), a.sum()), (a,))
    with pytest.raises(GradcheckError):
        mg.gradcheck(lambda a: (a.exp(), SquareWithWrongGradient.apply(a)), (a,))


def test_gradcheck_failure_names_the_input_the_element_and_both_values(backend):
    x = mg.tensor([[1.0, 2.0]], dtype=mg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as failure:
        mg.gradcheck(SquareWithWrongGradient.apply, (x,))
    message = str(failure.value)
    assert "input 0" in message and "element (0, " in message
    analytical = float(re.search(r"analytical (\S+),", message).group(1))
    numerical = float(re.search(r"numerical (\S+) ", message).group(1))
    assert analytical == pytest.approx(1.5 * numerical, rel=1e-6)  # 3 x v vs 2 x v


def test_gradcheck_finds_the_one_wrong_element_of_the_second_input(backend):
    a, b = randn(2, 3), randn(2, 3)
    with pytest.raises(GradcheckError, match=r"input 1 .*element \(1, 2\).*1 of 6 elements"):
        mg.gradcheck(WrongAtOneElement.apply, (a, b))


def test_gradcheck_can_return_false_instead_of_raising(backend):
    x = randn(3)
    assert mg.gradcheck(SquareWithWrongGradient.apply, (x,), raise_exception=False) is False


def test_fast_mode_catches_a_wrong_gradient_too(backend):
    with pytest.raises(GradcheckError, match="input 0 .*random direction.*analytical.*numerical"):
        mg.gradcheck(SquareWithWrongGradient.apply, (randn(2, 3),), fast_mode=True)


def test_gradcheck_refuses_float32_inputs_with_a_clear_message(backend):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="input 0 is float32.*float64"):
        mg.gradcheck(mg.exp, (x,))
    with pytest.raises(ValueError, match="input 0 is float32.*float64"):
        mg.gradgradcheck(mg.exp, (x,))


def test_gradcheck_refuses_inputs_of_which_none_requires_grad(backend):
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(mg.exp, (randn(2, requires_grad=False),))


def test_gradcheck_leaves_the_inputs_as_they_were(backend):
    x = randn(2, 3)
    before = x.numpy().copy()
    mg.gradcheck(mg.tanh, (x,))
    mg.gradcheck(mg.tanh, (x,), fast_mode=True)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None


def test_gradgradcheck_passes_a_correct_second_derivative(backend):
    assert mg.gradgradcheck(lambda x: x * x * x, (randn(2, 3),))


def test_gradgradcheck_catches_a_backward_that_is_right_but_not_differentiable(backend):
    x = randn(2, 3)
    assert mg.gradcheck(CubeWithConstantDerivative.apply, (x,))  # first derivative is right
    with pytest.raises(GradcheckError, match="input 0 .*analytical.*numerical"):
        mg.gradgradcheck(CubeWithConstantDerivative.apply, (x,))
    with pytest.raises(GradcheckError):
        mg.gradgradcheck(CubeWithConstantDerivative.apply, (x,), fast_mode=True)

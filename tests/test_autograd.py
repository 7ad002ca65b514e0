"""The autograd engine: backward, grad, higher-order gradients, no_grad, Function.

What a student relies on: gradients accumulate across uses and across calls;
a graph of any depth backpropagates; create_graph gives gradients that can be
differentiated again; mg.grad never touches .grad; a user's own Function is a
first-class op.
"""
import numpy as np
import pytest

import minigan as mg
from minigan.functional._util import constant
from minigan.gradcheck import GradcheckError

from .helpers import assert_close, randn


def scalar(value, requires_grad=True):
    return mg.tensor(value, dtype=mg.float64, requires_grad=requires_grad)


# --- accumulation ---------------------------------------------------------------------

def test_gradients_of_every_use_of_a_tensor_add_up(backend):
    x = scalar(3.0)
    (x * x + x).backward()  # d/dx (x^2 + x) = 2x + 1
    assert_close(x.grad, 7.0)


def test_gradients_accumulate_across_backward_calls(backend):
    x = scalar(3.0)
    (x * x).backward()
    (x * 2).backward()
    assert_close(x.grad, 6.0 + 2.0)


def test_setting_grad_to_none_starts_from_zero(backend):
    x = scalar(3.0)
    (x * x).backward()
    x.grad = None
    (x * 2).backward()
    assert_close(x.grad, 2.0)


def test_a_diamond_graph_sums_the_gradients_of_both_paths(backend):
    x = scalar(2.0)
    y = x * 3           # x feeds two paths that meet again in z
    left, right = y.exp(), y * y
    z = left + right    # dz/dx = 3 exp(3x) + 2 * 3x * 3
    z.backward()
    assert_close(x.grad, 3 * np.exp(6.0) + 18 * 2.0)


def test_leaf_gradients_have_the_leaf_shape_and_only_leaves_get_them(backend):
    a, b = randn(2, 3), randn(3)
    hidden = a * b
    (hidden * hidden).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,)
    assert hidden.grad is None
    assert not a.grad.requires_grad


def test_a_chain_of_20000_ops_backpropagates_without_recursion_error(backend):
    x = scalar(1.0)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.backward()
    assert_close(x.grad, 1.0)
    del y  # freeing the chain must not recurse either


# --- higher-order gradients -----------------------------------------------------------

def test_backward_with_create_graph_gives_a_differentiable_gradient(backend):
    x = scalar(2.0)
    (x ** 3).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.grad_fn is not None
    assert_close(first, 12.0)       # 3 x^2
    x.grad = None
    first.backward()
    assert_close(x.grad, 12.0)      # 6 x


def test_backward_without_create_graph_gives_a_gradient_without_graph(backend):
    x = scalar(2.0)
    (x ** 3).backward()
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_third_derivative_through_grad(backend):
    x = scalar(2.0)
    (g1,) = mg.grad(x ** 4, x, create_graph=True)
    (g2,) = mg.grad(g1, x, create_graph=True)
    (g3,) = mg.grad(g2, x)
    assert_close([g1.item(), g2.item(), g3.item()], [32.0, 48.0, 48.0])  # 4x^3, 12x^2, 24x


def test_gradient_penalty_style_double_backward_matches_the_formula(backend):
    """WGAN-GP: penalty = (|d out/d x| - 1)^2 with out = sum(w * x^2), differentiated in w."""
    x = randn(4)
    w = randn(4)
    out = (w * x * x).sum()
    (gx,) = mg.grad(out, x, create_graph=True)          # 2 w x
    penalty = ((gx * gx).sum().sqrt() - 1) ** 2
    (gw,) = mg.grad(penalty, w)
    xs, ws = x.numpy(), w.numpy()
    norm = np.sqrt(((2 * ws * xs) ** 2).sum())
    assert_close(gw, 2 * (norm - 1) * (4 * ws * xs * xs) / norm)


# --- mg.grad --------------------------------------------------------------------------

def test_grad_with_respect_to_non_leaf_inputs(backend):
    x = scalar(3.0)
    h = x * x
    y = h * 5
    gh, gx = mg.grad(y, [h, x])
    assert_close(gh, 5.0)
    assert_close(gx, 30.0)


def test_grad_with_grad_outputs_for_a_non_scalar_output(backend):
    x = randn(3)
    v = mg.tensor([1.0, 10.0, 100.0], dtype=mg.float64)
    (gx,) = mg.grad(x * x, x, grad_outputs=v)
    assert_close(gx, 2 * x.numpy() * v.numpy())


def test_grad_of_several_outputs_sums_them(backend):
    x = scalar(2.0)
    (gx,) = mg.grad([x * x, x * 3], [x])
    assert_close(gx, 4.0 + 3.0)


def test_grad_of_an_unused_input_errors_unless_allowed(backend):
    x, unused = scalar(2.0), scalar(5.0)
    with pytest.raises(RuntimeError, match="input 1 was not used.*allow_unused"):
        mg.grad(x * x, [x, unused])
    gx, gu = mg.grad(x * x, [x, unused], allow_unused=True)
    assert_close(gx, 4.0)
    assert gu is None


def test_grad_with_create_graph_can_be_differentiated_again(backend):
    x = scalar(2.0)
    (gx,) = mg.grad(x ** 3, x, create_graph=True)
    assert gx.requires_grad
    (ggx,) = mg.grad(gx, x)
    assert_close(ggx, 12.0)


def test_grad_does_not_touch_dot_grad(backend):
    x = scalar(2.0)
    x.grad = mg.tensor(100.0, dtype=mg.float64)
    mg.grad(x * x, x)
    assert_close(x.grad, 100.0)
    y = scalar(1.0)
    mg.grad(y * x, [x])
    assert y.grad is None


def test_grad_refuses_inputs_and_outputs_without_grad(backend):
    x = scalar(2.0)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        mg.grad(x * x, [scalar(1.0, requires_grad=False)])
    with pytest.raises(RuntimeError, match="output 0 does not require grad"):
        mg.grad(scalar(1.0, requires_grad=False) * 2, [x])


# --- backward's errors ----------------------------------------------------------------

def test_backward_of_a_non_scalar_needs_a_gradient(backend):
    x = randn(3)
    with pytest.raises(RuntimeError, match=r"scalar output.*\(3,\)"):
        (x * 2).backward()
    (x * 2).backward(mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64))
    assert_close(x.grad, [2.0, 4.0, 6.0])


def test_backward_refuses_a_gradient_of_the_wrong_shape(backend):
    x = randn(3)
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(mg.tensor([1.0, 2.0], dtype=mg.float64))


def test_backward_of_a_tensor_without_graph_says_why(backend):
    with pytest.raises(RuntimeError, match="does not require grad"):
        (scalar(1.0, requires_grad=False) * 2).backward()


# --- graph recording: no_grad, enable_grad, detach, requires_grad ---------------------

def test_requires_grad_propagates_to_results_of_ops(backend):
    a, c = scalar(1.0), scalar(2.0, requires_grad=False)
    assert (a * c).requires_grad and (a * c).grad_fn is not None
    assert not (c * c).requires_grad and (c * c).grad_fn is None
    assert a.is_leaf and not (a * c).is_leaf


def test_no_grad_records_nothing_and_enable_grad_nests_inside_it(backend):
    x = scalar(1.0)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        assert not (x * 2).requires_grad
        with mg.enable_grad():
            assert mg.is_grad_enabled()
            assert (x * 2).requires_grad
            with mg.no_grad():
                assert not (x * 2).requires_grad
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_is_restored_after_an_exception(backend):
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_detach_shares_the_values_but_cuts_the_graph(backend):
    x = scalar(3.0)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    assert_close(d, 6.0)
    y = x * d       # d is a constant: dy/dx = d
    y.backward()
    assert_close(x.grad, 6.0)


def test_requires_grad_only_for_floating_tensors(backend):
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        mg.tensor([1, 2]).requires_grad_()
    assert mg.tensor([1.0]).requires_grad_().requires_grad


# --- a user's own Function ------------------------------------------------------------

class Square(mg.Function):
    """The example of DESIGN.md: y = x^2, dL/dx = 2 x g."""

    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.inputs
        return 2 * x * grad


def test_a_user_function_works_with_backward_gradcheck_and_gradgradcheck(backend):
    x = randn(2, 3)
    y = Square.apply(x)
    assert_close(y, x.numpy() ** 2)
    assert type(y.grad_fn) is Square
    y.sum().backward()
    assert_close(x.grad, 2 * x.numpy())
    assert mg.gradcheck(Square.apply, (x,))
    assert mg.gradgradcheck(Square.apply, (x,))


def test_a_function_given_a_non_tensor_says_so(backend):
    with pytest.raises(TypeError, match="Square.apply: input 0 must be a minigan Tensor"):
        Square.apply(np.ones(2))


class WrongShapeGradient(mg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum(axis=0)

    @staticmethod
    def backward(ctx, grad):
        return grad  # should be broadcast back to x's shape


class TwoGradientsForOneInput(mg.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2, grad


def test_a_backward_returning_a_wrong_shape_gets_a_clear_error(backend):
    x = randn(2, 3)
    with pytest.raises(RuntimeError,
                       match=r"WrongShapeGradient.backward returned a gradient of shape \(3,\) "
                             r"for an input of shape \(2, 3\)"):
        WrongShapeGradient.apply(x).sum().backward()


def test_a_backward_returning_too_many_gradients_gets_a_clear_error(backend):
    with pytest.raises(RuntimeError, match="returned 2 gradients for 1 inputs"):
        TwoGradientsForOneInput.apply(randn(2)).sum().backward()


class RecordingMul(mg.Function):
    """y = a * b that records which gradients it was asked for and computes only those."""
    calls = []

    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        RecordingMul.calls.append(ctx.needs_input_grad)
        ga = grad * b if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb


def test_needs_input_grad_says_which_gradients_are_wanted(backend):
    RecordingMul.calls = []
    a, b, c = scalar(2.0), scalar(3.0, requires_grad=False), scalar(5.0)
    RecordingMul.apply(a, b).backward()               # b needs no gradient
    (gc,) = mg.grad(RecordingMul.apply(a, c), [c])    # only c's is asked for
    assert RecordingMul.calls == [(True, False), (False, True)]
    assert_close(a.grad, 3.0)
    assert_close(gc, 2.0)


def test_ops_skip_the_gradients_nobody_needs(backend):
    """A Mul with a constant operand never computes the constant's gradient."""
    a, c = randn(3), randn(3, requires_grad=False)
    y = a * c
    assert y.grad_fn.needs_input_grad == (True, False)
    (ga,) = mg.grad(y.sum(), [a])
    assert_close(ga, c.numpy())


def test_gradgradcheck_catches_a_user_function_with_a_constant_in_its_backward(backend):
    class CubeWithFrozenSquare(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.inputs
            return 3 * constant(x.data * x.data) * grad

    x = randn(3)
    assert mg.gradcheck(CubeWithFrozenSquare.apply, (x,))
    with pytest.raises(GradcheckError):
        mg.gradgradcheck(CubeWithFrozenSquare.apply, (x,))


# --- the graph does not keep what it does not need ------------------------------------

def test_the_graph_does_not_keep_its_output_alive(backend):
    import weakref
    x = scalar(2.0)
    y = x * 3
    ctx = y.grad_fn
    alive = weakref.ref(y)
    del y
    assert alive() is None
    assert ctx.output is None

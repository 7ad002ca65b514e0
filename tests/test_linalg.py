"""Matrix products: matmul (1-D, 2-D, batched with broadcasting) and linear.

dL/da = g @ b^T and dL/db = a^T @ g, summed back over broadcast batch dims.
Both pass gradcheck and gradgradcheck in float64 on both backends and match
PyTorch; wrong shapes give errors that name the op and both shapes.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.functional as F

from .helpers import assert_close, randn
from .helpers import assert_matches_torch

FEW_EXAMPLES = settings(max_examples=6, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])

MATMUL_SHAPES = [
    ((3,), (3,)),             # dot product -> ()
    ((3,), (3, 2)),           # vector @ matrix -> (2,)
    ((2, 3), (3,)),           # matrix @ vector -> (2,)
    ((2, 3), (3, 4)),         # matrix @ matrix
    ((2, 2, 3), (3, 4)),      # a batch of matrices @ one matrix
    ((3,), (2, 3, 2)),        # vector @ a batch
    ((2, 1, 2, 3), (3, 3, 2)),  # batch dims (2, 1) and (3,) broadcast to (2, 3)
    ((4, 1), (1, 5)),         # inner size 1: an outer product (a multiply, not a GEMM)
    ((2, 1, 3, 1), (4, 1, 2)),  # ... batched, batch dims broadcast
]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
def test_matmul_passes_gradcheck_and_gradgradcheck(backend, shape_a, shape_b):
    a, b = randn(*shape_a), randn(*shape_b)
    assert mg.gradcheck(mg.matmul, (a, b))
    assert mg.gradgradcheck(lambda a, b: a @ b, (a, b))


@pytest.mark.torch
@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(backend, torch, shape_a, shape_b):
    assert_matches_torch(torch, mg.matmul, torch.matmul, randn(*shape_a), randn(*shape_b))


@FEW_EXAMPLES
@given(batch_a=st.sampled_from([(), (1,), (2,), (2, 1)]),
       batch_b=st.sampled_from([(), (1,), (2,), (3, 1, 1)]))
def test_matmul_output_shape_follows_numpy_broadcasting(backend, batch_a, batch_b):
    a, b = randn(*batch_a, 2, 3), randn(*batch_b, 3, 2)
    expected = np.matmul(a.numpy(), b.numpy())
    y = a @ b
    assert_close(y, expected)
    ga, gb = mg.grad(y.sum(), [a, b])
    assert ga.shape == a.shape and gb.shape == b.shape


def test_matmul_values_and_gradients_by_hand(backend):
    a = mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([[5.0], [6.0]], dtype=mg.float64, requires_grad=True)
    y = a @ b
    y.sum().backward()
    assert_close(y, [[17.0], [39.0]])
    assert_close(a.grad, [[5.0, 6.0], [5.0, 6.0]])  # g @ b^T
    assert_close(b.grad, [[4.0], [6.0]])            # a^T @ g


def test_dot_product_of_two_vectors_is_a_scalar(backend):
    v = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = v @ v
    assert y.shape == ()
    assert_close(y, 14.0)
    y.backward()
    assert_close(v.grad, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("shape_a, shape_b", [((4, 1), (1, 5)), ((2, 1, 3, 1), (4, 1, 2)),
                                              ((1,), (1, 3)), ((3, 1), (1,))], ids=str)
def test_matmul_with_inner_size_one_is_numpys_matmul(backend, shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    got = mg.matmul(mg.tensor(a), mg.tensor(b)).numpy()
    want = np.matmul(a, b)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # one product per entry: the same numbers


def test_matmul_error_names_the_op_and_both_shapes(backend):
    with pytest.raises(ValueError, match=r"matmul: .*\(2, 3\).*\(4, 5\)"):
        randn(2, 3) @ randn(4, 5)
    with pytest.raises(ValueError, match=r"matmul: .*\(3,\).*\(2,\)"):
        randn(3) @ randn(2)
    with pytest.raises(ValueError, match=r"matmul: .*\(2, 3, 4\).*\(5, 4, 2\)"):
        randn(2, 3, 4) @ randn(5, 4, 2)
    with pytest.raises(ValueError, match=r"matmul: .*\(\).*\(3,\)"):
        mg.matmul(randn(), randn(3))


def test_matmul_keeps_float32(backend):
    a = mg.tensor(np.ones((2, 3)), dtype=mg.float32, requires_grad=True)
    b = mg.tensor(np.ones((3,)), dtype=mg.float32, requires_grad=True)
    y = a @ b
    ga, gb = mg.grad(y.sum(), [a, b])
    assert (y.dtype, ga.dtype, gb.dtype) == (mg.float32,) * 3


# --- linear ---------------------------------------------------------------------------

LINEAR_SHAPES = [((4, 3), (2, 3), True), ((4, 3), (2, 3), False),
                 ((3,), (2, 3), True), ((2, 2, 3), (1, 3), True)]


@pytest.mark.parametrize("x_shape, w_shape, with_bias", LINEAR_SHAPES, ids=str)
def test_linear_passes_gradcheck_and_gradgradcheck(backend, x_shape, w_shape, with_bias):
    inputs = (randn(*x_shape), randn(*w_shape)) + ((randn(w_shape[0]),) if with_bias else ())
    assert mg.gradcheck(F.linear, inputs)
    assert mg.gradgradcheck(F.linear, inputs)


@pytest.mark.torch
@pytest.mark.parametrize("x_shape, w_shape, with_bias", LINEAR_SHAPES, ids=str)
def test_linear_matches_torch(backend, torch, x_shape, w_shape, with_bias):
    inputs = (randn(*x_shape), randn(*w_shape)) + ((randn(w_shape[0]),) if with_bias else ())
    assert_matches_torch(torch, F.linear, torch.nn.functional.linear, *inputs)


def test_linear_is_x_times_w_transposed_plus_b(backend):
    x = mg.tensor([[1.0, 2.0]])
    w = mg.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert_close(F.linear(x, w, mg.tensor([0.5, 0.5, 0.5])), [[1.5, 2.5, 3.5]])
    assert_close(F.linear(x, w), [[1.0, 2.0, 3.0]])


def test_linear_errors_name_the_op_and_both_shapes(backend):
    w = randn(4, 3)
    with pytest.raises(ValueError, match=r"linear: .*\(\.\.\., 3\).*\(4, 3\).*\(2, 5\)"):
        F.linear(randn(2, 5), w)
    with pytest.raises(ValueError, match=r"linear: .*bias of shape \(4,\).*\(4, 3\).*\(3,\)"):
        F.linear(randn(2, 3), w, randn(3))


def test_linear_keeps_float32(backend):
    x, w, b = (mg.tensor(np.ones(s), dtype=mg.float32, requires_grad=True)
               for s in [(2, 3), (4, 3), (4,)])
    y = F.linear(x, w, b)
    grads = mg.grad(y.sum(), [x, w, b])
    assert y.dtype == mg.float32 and all(g.dtype == mg.float32 for g in grads)

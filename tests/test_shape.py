"""Shape ops: reshape/view, permute/transpose, flatten, (un)squeeze, expand, indexing,
cat, stack, pad, and the broadcasting pair broadcast_to / sum_to.

They only move values, so each backward moves the gradient back; an index that
picks an element twice sends it two gradients. Every op passes gradcheck and
gradgradcheck in float64 on both backends and matches PyTorch.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan as mg
import minigan.functional as F

from .helpers import assert_close, randn
from .helpers import assert_matches_torch

FEW_EXAMPLES = settings(max_examples=8, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])

MASK = np.array([[True, False, True, True, False],
                 [False, False, True, False, True],
                 [True, True, False, False, False],
                 [False, True, False, True, True]])


def _mask(library):
    """The boolean mask as an index of minigan (on the current backend) or torch."""
    return mg.tensor(MASK) if library is mg else library.from_numpy(MASK)


# name: (input shapes, op written once for both libraries as fn(library, *inputs)).
# Indexing works on a 4 x 5 input.
CASES = {
    "reshape_minus_1": ([(2, 3, 2)], lambda lib, x: x.reshape(3, -1)),
    "reshape_tuple": ([(2, 3, 2)], lambda lib, x: x.reshape((4, 3))),
    "view_flat": ([(2, 3, 2)], lambda lib, x: x.view(-1)),
    "permute": ([(2, 3, 4)], lambda lib, x: x.permute(2, 0, 1)),
    "permute_negative": ([(2, 3, 4)], lambda lib, x: x.permute(-1, 0, 1)),
    "transpose": ([(2, 3, 4)], lambda lib, x: x.transpose(0, 2)),
    "transpose_negative": ([(2, 3, 4)], lambda lib, x: x.transpose(-1, -2)),
    "T": ([(2, 3)], lambda lib, x: x.T),
    "flatten_all": ([(2, 3, 2)], lambda lib, x: x.flatten()),
    "flatten_from_1": ([(2, 3, 2)], lambda lib, x: x.flatten(1)),
    "flatten_0_to_1": ([(2, 3, 2)], lambda lib, x: lib.flatten(x, 0, 1)),
    "unsqueeze_0": ([(2, 3)], lambda lib, x: x.unsqueeze(0)),
    "unsqueeze_last": ([(2, 3)], lambda lib, x: x.unsqueeze(-1)),
    "squeeze_all": ([(2, 1, 3, 1)], lambda lib, x: x.squeeze()),
    "squeeze_dim": ([(2, 1, 3, 1)], lambda lib, x: x.squeeze(1)),
    "squeeze_dim_not_1": ([(2, 1, 3, 1)], lambda lib, x: x.squeeze(0)),
    "expand": ([(3, 1)], lambda lib, x: x.expand(2, -1, 4)),
    "index_int": ([(4, 5)], lambda lib, x: x[1]),
    "index_two_ints": ([(4, 5)], lambda lib, x: x[1, -2]),
    "index_slices_with_steps": ([(4, 5)], lambda lib, x: x[::2, 1::2]),
    "index_negative": ([(4, 5)], lambda lib, x: x[-1, -4:-1]),
    "index_none": ([(4, 5)], lambda lib, x: x[None, :, 1, None]),
    "index_ellipsis": ([(2, 3, 4)], lambda lib, x: x[..., 1]),
    "index_ellipsis_none": ([(2, 3, 4)], lambda lib, x: x[0, ..., None]),
    "index_array_with_repeats": ([(4, 5)], lambda lib, x: x[[0, 0, 2, 0]]),
    "index_arrays_pairwise": ([(4, 5)], lambda lib, x: x[[0, 1, 1, 3], [2, 2, 0, 2]]),
    "index_slice_and_array": ([(4, 5)], lambda lib, x: x[1:, [4, 1, 1]]),
    "index_mask": ([(4, 5)], lambda lib, x: x[_mask(lib)]),
    "index_row_mask": ([(4, 5)], lambda lib, x: x[_mask(lib)[:, 0]]),
    "cat_dim_0": ([(2, 3), (1, 3)], lambda lib, a, b: lib.cat([a, b], 0)),
    "cat_dim_last": ([(2, 1), (2, 3), (2, 2)], lambda lib, a, b, c: lib.cat([a, b, c], -1)),
    "stack_dim_0": ([(2, 3), (2, 3)], lambda lib, a, b: lib.stack([a, b])),
    "stack_dim_last": ([(2, 3)] * 3, lambda lib, a, b, c: lib.stack([a, b, c], -1)),
    "pad_last_dim": ([(2, 3, 4)], lambda lib, x: _pad(lib)(x, (1, 2))),
    "pad_two_dims": ([(2, 3, 4)], lambda lib, x: _pad(lib)(x, (1, 1, 2, 0))),
    "pad_with_value": ([(2, 3)], lambda lib, x: _pad(lib)(x, (0, 1, 1, 0), value=0.5)),
}


def _pad(library):
    return F.pad if library is mg else library.nn.functional.pad


def inputs_for(name):
    shapes, _ = CASES[name]
    return [randn(*shape) for shape in shapes]


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_passes_gradcheck_and_gradgradcheck(backend, name):
    fn = CASES[name][1]
    inputs = inputs_for(name)
    assert mg.gradcheck(lambda *xs: fn(mg, *xs), inputs)
    assert mg.gradgradcheck(lambda *xs: fn(mg, *xs), inputs)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_matches_torch(backend, torch, name):
    fn = CASES[name][1]
    assert_matches_torch(torch, lambda *xs: fn(mg, *xs), lambda *xs: fn(torch, *xs),
                         *inputs_for(name))


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op_keeps_float32(backend, name):
    fn = CASES[name][1]
    inputs = [mg.tensor(x.numpy(), dtype=mg.float32, requires_grad=True) for x in inputs_for(name)]
    y = fn(mg, *inputs)
    grads = mg.grad((y * y).sum(), inputs)
    assert y.dtype == mg.float32
    assert all(g.dtype == mg.float32 for g in grads)


# --- indexing, more ways --------------------------------------------------------------

@FEW_EXAMPLES
@given(index=hnp.basic_indices((3, 4), allow_newaxis=True, allow_ellipsis=True))
def test_any_basic_index_passes_gradcheck(backend, index):
    """Slices (negative steps too), ints, None and Ellipsis in any combination."""
    x = randn(3, 4)
    y = x[index]
    assert y.shape == x.numpy()[index].shape
    assert_close(y, x.numpy()[index])
    assert mg.gradcheck(lambda x: x[index] * 1.0, (x,))


def test_repeated_indices_add_up_their_gradients(backend):
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert_close(x.grad, [3.0, 0.0, 1.0])


def test_index_with_a_tensor_of_indices_and_a_comparison_mask(backend):
    x = mg.tensor([[1.0, -2.0], [-3.0, 4.0]], dtype=mg.float64, requires_grad=True)
    assert_close(x[mg.tensor([1, 1, 0])], [[-3.0, 4.0], [-3.0, 4.0], [1.0, -2.0]])
    positive = x[x > 0]
    positive.sum().backward()
    assert_close(positive, [1.0, 4.0])
    assert_close(x.grad, [[1.0, 0.0], [0.0, 1.0]])


def test_index_out_of_range_raises_index_error(backend):
    with pytest.raises(IndexError):
        randn(2, 3)[2]


# --- permute, reshape and friends -----------------------------------------------------

@FEW_EXAMPLES
@given(dims=st.permutations([0, 1, 2]))
def test_permute_backward_applies_the_inverse_permutation(backend, dims):
    x = randn(2, 3, 4)
    g = randn(*[x.shape[d] for d in dims], requires_grad=False)
    (gx,) = mg.grad(x.permute(*dims), [x], grad_outputs=g)
    assert_close(gx, np.transpose(g.numpy(), np.argsort(dims)))


def test_reshape_and_view_keep_element_order(backend):
    x = mg.arange(6)
    assert_close(x.reshape(2, 3), [[0, 1, 2], [3, 4, 5]])
    assert_close(x.view(3, -1), [[0, 1], [2, 3], [4, 5]])
    assert x.reshape(-1, 1, 2).shape == (3, 1, 2)


@pytest.mark.parametrize("shape", [(4, 2), (4, -1, -1), (5, -1), (0, -1)])
def test_reshape_to_an_impossible_shape_says_both_shapes(backend, shape):
    with pytest.raises(ValueError, match="reshape"):
        randn(2, 3).reshape(*shape)


def test_permute_refuses_what_is_not_a_permutation(backend):
    with pytest.raises(ValueError, match="permute"):
        randn(2, 3).permute(0, 0)
    with pytest.raises(IndexError, match="permute"):
        randn(2, 3).permute(0, 2)


def test_flatten_unsqueeze_and_squeeze_shapes(backend):
    x = randn(2, 1, 3, 1)
    assert x.flatten().shape == (6,)
    assert x.flatten(1).shape == (2, 3)
    assert x.flatten(1, 2).shape == (2, 3, 1)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(-1).shape == (2, 1, 3)
    assert x.squeeze(0).shape == (2, 1, 3, 1)
    assert x.unsqueeze(4).shape == (2, 1, 3, 1, 1)
    assert randn().flatten().shape == (1,)
    with pytest.raises(IndexError, match="unsqueeze"):
        x.unsqueeze(6)
    with pytest.raises(ValueError, match="flatten"):
        x.flatten(2, 1)


def test_expand_grows_only_dimensions_of_size_1(backend):
    x = randn(3, 1)
    assert x.expand(3, 4).shape == (3, 4)
    assert x.expand(2, -1, -1).shape == (2, 3, 1)
    with pytest.raises(ValueError, match=r"expand: cannot expand a tensor of shape \(3, 1\)"):
        x.expand(4, 4)
    with pytest.raises(ValueError, match="expand"):
        x.expand(-1, 3, 1)
    with pytest.raises(ValueError, match="expand"):
        x.expand(3)


# --- broadcasting and its adjoint -----------------------------------------------------

@FEW_EXAMPLES
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_sum_to_is_the_adjoint_of_broadcast_to(backend, shapes):
    small, big = shapes.input_shapes[0], shapes.result_shape
    x = randn(*small)
    g = randn(*big)
    assert F.broadcast_to(x, big).shape == big
    assert F.sum_to(g, small).shape == small
    assert_close(F.sum_to(g, small).sum(), g.sum())
    assert mg.gradcheck(lambda x: F.broadcast_to(x, big), (x,))
    assert mg.gradgradcheck(lambda g: F.sum_to(g, small), (g,))


# --- joining --------------------------------------------------------------------------

def test_cat_and_stack_values(backend):
    a, b = mg.tensor([[1.0, 2.0]]), mg.tensor([[3.0, 4.0]])
    assert_close(mg.cat([a, b], 0), [[1.0, 2.0], [3.0, 4.0]])
    assert_close(mg.cat([a, b], 1), [[1.0, 2.0, 3.0, 4.0]])
    assert_close(mg.stack([a, b], 1), [[[1.0, 2.0], [3.0, 4.0]]])
    assert mg.cat([a]) is a


def test_cat_sends_each_input_its_slice_of_the_gradient(backend):
    a, b = randn(2, 2), randn(2, 3)
    g = mg.tensor(np.arange(10.0).reshape(2, 5))
    ga, gb = mg.grad(mg.cat([a, b], 1), [a, b], grad_outputs=g)
    assert_close(ga, [[0.0, 1.0], [5.0, 6.0]])
    assert_close(gb, [[2.0, 3.0, 4.0], [7.0, 8.0, 9.0]])


def test_cat_with_one_input_needing_no_gradient(backend):
    a, b = randn(2, 2), randn(2, 3, requires_grad=False)
    (ga,) = mg.grad(mg.cat([a, b], 1).sum(), [a])
    assert_close(ga, np.ones((2, 2)))


def test_cat_error_names_the_op_and_both_shapes(backend):
    with pytest.raises(ValueError, match=r"cat: .*\(2, 3\).*\(2, 4\)"):
        mg.cat([randn(2, 3), randn(2, 4)], 0)
    with pytest.raises(ValueError, match=r"cat: .*\(2, 3\).*\(3,\)"):
        mg.cat([randn(2, 3), randn(3)], 0)
    with pytest.raises(ValueError, match="cat"):
        mg.cat([], 0)


def test_stack_error_names_the_op_and_both_shapes(backend):
    with pytest.raises(ValueError, match=r"stack: .*\(2, 3\).*\(3, 2\)"):
        mg.stack([randn(2, 3), randn(3, 2)])


def test_cat_refuses_tensors_of_two_backends():
    with mg.use_backend("numpy"):
        a = mg.randn(2)
    with mg.use_backend("strict"):
        b = mg.randn(2)
    with pytest.raises(TypeError, match="numpy and strict"):
        mg.cat([a, b])


# --- padding --------------------------------------------------------------------------

def test_pad_lists_widths_from_the_last_dimension(backend):
    x = mg.tensor([[1.0, 2.0]])
    assert_close(F.pad(x, (1, 0)), [[0.0, 1.0, 2.0]])
    assert_close(F.pad(x, (0, 1, 1, 0), value=-1.0), [[-1.0, -1.0, -1.0], [1.0, 2.0, -1.0]])


def test_pad_refuses_bad_widths_and_modes(backend):
    x = randn(2, 3)
    with pytest.raises(ValueError, match="pad"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="pad"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="pad"):
        F.pad(x, (-1, 1))
    with pytest.raises(ValueError, match="reflect"):
        F.pad(x, (1, 1), mode="reflect")


def test_reshape_gives_its_gradient_the_memory_order_of_its_input(backend):
    # A convolution's output is a batch-last view; flattening it for a Linear and
    # backpropagating should hand back a gradient in that same memory order.
    base = mg.tensor(np.random.default_rng(0).standard_normal((3, 4, 5, 2)), requires_grad=True)
    x = base.permute(3, 0, 1, 2)                       # (2, 3, 4, 5), batch innermost
    y = x.reshape(2, -1)
    (g,) = mg.grad(y, x, grad_outputs=mg.ones(2, 60, dtype=mg.float64))
    assert g.data.strides == x.data.strides
    assert mg.gradgradcheck(lambda t: (t.permute(3, 0, 1, 2).reshape(2, -1) ** 2), (base,))

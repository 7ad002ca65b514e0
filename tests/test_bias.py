"""add_bias: conv2d, conv_transpose2d and linear add their bias in place into their
own fresh output (minigan/functional/bias.py). The result and its gradients are a
plain broadcast add's; the user's tensors are never written; one array fewer is made."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan.functional.bias import AddBias, add_bias

from .helpers import assert_close, randn

CASES = [((2, 3, 4, 5), 1), ((4, 3), 1), ((4, 3), -1), ((3, 2, 2), 0), ((1, 5, 1, 1), 1)]


@pytest.mark.parametrize("shape, axis", CASES, ids=str)
def test_add_bias_passes_gradcheck_and_gradgradcheck(backend, shape, axis):
    y, b = randn(*shape), randn(shape[axis])
    # y is cloned inside: add_bias writes into its first argument, which the checks reuse
    assert mg.gradcheck(lambda y, b: add_bias(y * 1.0, b, axis), (y, b))
    assert mg.gradgradcheck(lambda y, b: add_bias(y * 1.0, b, axis), (y, b))


@pytest.mark.parametrize("shape, axis", CASES, ids=str)
def test_add_bias_equals_the_broadcast_add(backend, shape, axis):
    y, b = randn(*shape), randn(shape[axis])
    view = [1] * len(shape)
    view[axis] = shape[axis]
    expected = y + b.reshape(view)
    assert_close(add_bias(y * 1.0, b, axis), expected)


def test_the_sum_shares_the_fresh_output_memory():
    y = randn(2, 3, 4, 4) * 1.0
    out = add_bias(y, randn(3), 1)
    assert np.shares_memory(out.numpy(), y.numpy())


def test_a_wider_bias_dtype_is_added_out_of_place(backend):
    y = mg.ones(2, 3, dtype=mg.float32)
    out = AddBias.apply(y, mg.ones(3, dtype=mg.float64), axis=1)
    assert out.dtype == mg.float64
    assert_close(y, np.ones((2, 3)))  # y untouched


@pytest.mark.parametrize("layer", ["conv2d", "conv_transpose2d", "linear", "linear_3d"])
def test_layers_never_write_the_users_tensors(backend, layer):
    x = randn(2, 3, 5, 5) if layer.startswith("conv") else randn(*(
        (2, 4, 3) if layer == "linear_3d" else (4, 3)))
    w = {"conv2d": randn(2, 3, 3, 3), "conv_transpose2d": randn(3, 2, 3, 3)}.get(
        layer, randn(5, 3))
    b = randn(w.shape[1] if layer == "conv_transpose2d" else w.shape[0])
    before = [t.numpy().copy() for t in (x, w, b)]
    fn = {"conv2d": F.conv2d, "conv_transpose2d": F.conv_transpose2d}.get(layer, F.linear)
    y = fn(x, w, b)
    y.sum().backward()
    for t, old in zip((x, w, b), before):
        np.testing.assert_array_equal(t.numpy(), old)
    assert_close(b.grad, np.full(b.shape, y.numel() / b.shape[0]))

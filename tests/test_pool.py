"""Pooling and resizing: max_pool2d, avg_pool2d, interpolate (nearest).

Each passes gradcheck and gradgradcheck in float64 on the numpy and strict backends
over kernels, strides, paddings and image sizes, and matches PyTorch in float64 for
forward, backward and double backward. Max pooling sends the gradient to the first
largest element of a window, as PyTorch does; average pooling counts padding as zeros.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.functional as F
from minigan.functional.pool import WindowSpread, WindowSum

from .helpers import assert_close, randn, to_torch
from .helpers import assert_matches_torch

FEW_EXAMPLES = settings(max_examples=5, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])

POOLS = {"max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d}

# (input shape, keyword arguments)
POOL_CASES = [
    ((2, 2, 4, 4), dict(kernel_size=2)),
    ((2, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 3, 5, 7), dict(kernel_size=(2, 3), stride=(1, 2))),  # overlapping windows
    ((2, 1, 6, 5), dict(kernel_size=(3, 2), stride=(3, 1), padding=(1, 1))),
    ((1, 2, 5, 5), dict(kernel_size=1, stride=2)),
]


def case_id(case):
    shape, kwargs = case
    return f"x{shape}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


@st.composite
def pool_geometries(draw):
    """(input shape, kwargs) of a valid pooling, tiny."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, k - 2 * p), 5)) for k, p in zip(kernel, padding))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return (n, c) + size, dict(kernel_size=kernel, stride=stride, padding=padding)


# --- gradcheck and gradgradcheck on both backends ---------------------------------------------

@FEW_EXAMPLES
@given(geometry=pool_geometries())
@pytest.mark.parametrize("name", sorted(POOLS))
def test_pooling_passes_gradcheck_and_gradgradcheck(backend, name, geometry):
    shape, kwargs = geometry
    x = randn(*shape)  # continuous values: no ties within eps, so the max is smooth
    assert mg.gradcheck(lambda x: POOLS[name](x, **kwargs), (x,))
    assert mg.gradgradcheck(lambda x: POOLS[name](x, **kwargs), (x,))


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(scale_factor=(1, 3)),
                                    dict(size=(5, 7)), dict(size=2), dict(scale_factor=1.5)],
                         ids=str)
def test_interpolate_passes_gradcheck_and_gradgradcheck(backend, kwargs):
    x = randn(2, 2, 3, 4)
    assert mg.gradcheck(lambda x: F.interpolate(x, **kwargs), (x,))
    assert mg.gradgradcheck(lambda x: F.interpolate(x, **kwargs), (x,))


@pytest.mark.parametrize("pick", [False, True])
def test_window_sum_and_window_spread_are_adjoints(backend, pick):
    # <WindowSum(x), g> = <x, WindowSpread(g)>: that is why each is the other's backward.
    x = randn(2, 3, 7, 6, requires_grad=False)
    windows = dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))
    g = randn(*F.avg_pool2d(x, **windows).shape, requires_grad=False)
    picks = mg.randint(0, 6, g.shape).data.astype("int32") if pick else None
    y = WindowSum.apply(x, pick=picks, **windows)
    dx = WindowSpread.apply(g, image_size=x.shape[2:], pick=picks, **windows)
    assert dx.shape == x.shape
    np.testing.assert_allclose((y * g).sum().item(), (x * dx).sum().item(), rtol=1e-12)


# --- the same numbers as PyTorch ---------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("case", POOL_CASES, ids=case_id)
@pytest.mark.parametrize("name", sorted(POOLS))
def test_pooling_matches_torch_forward_backward_and_double_backward(backend, torch, name, case):
    shape, kwargs = case
    torch_pool = getattr(torch.nn.functional, name)
    assert_matches_torch(torch, lambda x: POOLS[name](x, **kwargs),
                         lambda x: torch_pool(x, **kwargs), randn(*shape))


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [
    dict(scale_factor=2), dict(scale_factor=(2, 3)), dict(scale_factor=3), dict(size=(6, 8)),
    dict(size=(5, 7)), dict(size=(2, 3)), dict(size=4), dict(scale_factor=1.5),
    dict(scale_factor=(0.5, 2.5)), dict(size=(3, 4))], ids=str)
def test_interpolate_matches_torch_forward_backward_and_double_backward(backend, torch, kwargs):
    assert_matches_torch(torch, lambda x: F.interpolate(x, **kwargs),
                         lambda x: torch.nn.functional.interpolate(x, **kwargs),
                         randn(2, 2, 3, 4))


# --- ties, padding, NaN ----------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                    dict(kernel_size=(2, 3), stride=1)], ids=str)
def test_max_pool_gradient_goes_to_the_first_largest_element_like_torch(backend, torch, kwargs):
    x = mg.tensor(np.array([[[[1., 1., 0., 2.],
                              [1., 0., 2., 2.],
                              [3., 3., 3., 0.],
                              [3., 3., 0., 3.]]]]), dtype=mg.float64, requires_grad=True)
    y = F.max_pool2d(x, **kwargs)
    y.backward(mg.ones(*y.shape, dtype=mg.float64))
    tx = to_torch(x, torch)
    torch.nn.functional.max_pool2d(tx, **kwargs).sum().backward()
    assert_close(x.grad, tx.grad)


def test_max_pool_of_ties_sends_each_window_gradient_to_its_top_left(backend):
    x = mg.zeros(1, 1, 4, 4, dtype=mg.float64, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.numpy()[0, 0].tolist() == [[1, 0, 1, 0], [0, 0, 0, 0],
                                             [1, 0, 1, 0], [0, 0, 0, 0]]


def test_max_pool_padding_never_wins(backend):
    x = mg.tensor(-np.arange(1, 10.0).reshape(1, 1, 3, 3), dtype=mg.float64)
    y = F.max_pool2d(x, 3, stride=1, padding=1)
    assert y.numpy()[0, 0].tolist() == [[-1, -1, -2], [-1, -1, -2], [-4, -4, -5]]


def test_avg_pool_counts_padding_as_zeros(backend):
    y = F.avg_pool2d(mg.ones(1, 1, 3, 3, dtype=mg.float64), 3, stride=1, padding=1)
    np.testing.assert_allclose(y.numpy()[0, 0], np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) / 9)


@pytest.mark.torch
def test_max_pool_propagates_nan_like_torch(backend, torch):
    data = np.arange(16.0).reshape(1, 1, 4, 4)
    data[0, 0, 0, 1] = np.nan
    y = F.max_pool2d(mg.tensor(data), 2)
    expected = torch.nn.functional.max_pool2d(torch.from_numpy(data), 2)
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    assert np.isnan(y.numpy()[0, 0, 0, 0])


def test_nearest_upsampling_copies_each_pixel_into_a_block_and_sums_its_gradient(backend):
    x = mg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=mg.float64, requires_grad=True)
    y = F.interpolate(x, scale_factor=(2, 3))
    assert y.numpy()[0, 0].tolist() == [[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2],
                                        [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]]
    y.sum().backward()
    assert x.grad.numpy()[0, 0].tolist() == [[6, 6], [6, 6]]


# --- float32 in, float32 out -----------------------------------------------------------------

@pytest.mark.parametrize("pool", [lambda x: F.max_pool2d(x, 3, 2, 1),
                                  lambda x: F.avg_pool2d(x, 2),
                                  lambda x: F.interpolate(x, scale_factor=2),
                                  lambda x: F.interpolate(x, size=(7, 9))],
                         ids=["max_pool2d", "avg_pool2d", "interpolate_x2", "interpolate_size"])
def test_float32_inputs_give_float32_outputs_and_gradients(backend, pool):
    x = mg.randn(2, 3, 5, 6, requires_grad=True)
    y = pool(x)
    assert y.dtype == mg.float32
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)
    assert gx.dtype == mg.float32
    (gx * gx).sum().backward()
    assert x.grad.dtype == mg.float32


# --- errors name what was expected and what came ---------------------------------------------

def _call(fn, shape, *args, **kwargs):
    return lambda: fn(mg.zeros(*shape), *args, **kwargs)


ERRORS = {
    "max 3-D input": (_call(F.max_pool2d, (1, 4, 4), 2), ValueError,
                      r"max_pool2d: expected a 4-D input \(N, C, H, W\), got shape \(1, 4, 4\)"),
    "avg zero kernel": (_call(F.avg_pool2d, (1, 1, 4, 4), 0), ValueError,
                        r"avg_pool2d: kernel_size must be positive, got 0"),
    "max zero stride": (_call(F.max_pool2d, (1, 1, 4, 4), 2, stride=(1, 0)), ValueError,
                        r"max_pool2d: stride must be positive, got \(1, 0\)"),
    "avg negative padding": (_call(F.avg_pool2d, (1, 1, 4, 4), 2, padding=-1), ValueError,
                             r"avg_pool2d: padding must be non-negative, got -1"),
    "max padding over half": (_call(F.max_pool2d, (1, 1, 4, 4), 3, padding=2), ValueError,
                              r"max_pool2d: padding must be at most half of the kernel size, "
                              r"got padding=\(2, 2\) for kernel_size=\(3, 3\)"),
    "max float kernel": (_call(F.max_pool2d, (1, 1, 4, 4), 2.0), TypeError,
                         r"max_pool2d: kernel_size must be an int or a pair of ints, got 2.0"),
    "avg empty output": (_call(F.avg_pool2d, (1, 1, 2, 5), 3), ValueError,
                         r"avg_pool2d: the output would be empty \(0x1\): the input's 2x5 "
                         r"pixels, padded by \(0, 0\), are fewer than the kernel's 3x3"),
    "interpolate mode": (_call(F.interpolate, (1, 1, 4, 4), scale_factor=2, mode="bilinear"),
                         ValueError, r"interpolate: only mode='nearest' is supported, "
                                     r"got 'bilinear'"),
    "interpolate both": (_call(F.interpolate, (1, 1, 4, 4), size=8, scale_factor=2),
                         ValueError, r"interpolate: expected exactly one of size and "
                                     r"scale_factor, got both"),
    "interpolate neither": (_call(F.interpolate, (1, 1, 4, 4)), ValueError,
                            r"interpolate: expected exactly one of size and scale_factor, "
                            r"got neither"),
    "interpolate 3-D": (_call(F.interpolate, (1, 4, 4), scale_factor=2), ValueError,
                        r"interpolate: expected a 4-D input \(N, C, H, W\), got shape "
                        r"\(1, 4, 4\)"),
    "interpolate zero size": (_call(F.interpolate, (1, 1, 4, 4), size=(0, 3)), ValueError,
                              r"interpolate: size must be positive, got \(0, 3\)"),
    "interpolate negative factor": (_call(F.interpolate, (1, 1, 4, 4), scale_factor=-2),
                                    ValueError, r"interpolate: scale_factor must be a positive "
                                                r"number or a pair of them, got -2"),
    "interpolate to nothing": (_call(F.interpolate, (1, 1, 4, 4), scale_factor=0.2), ValueError,
                               r"interpolate: scale_factor 0.2 makes the 4x4 input empty "
                               r"\(0x0\)"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_arguments_raise_a_message_naming_what_was_expected(backend, name):
    call, error, message = ERRORS[name]
    with pytest.raises(error, match=message):
        call()

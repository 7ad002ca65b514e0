"""Reductions: sum, mean, max, min, var, std, argmax/argmin; logsumexp, softmax, log_softmax.

A reduction's backward spreads the gradient back over the reduced dims: sum
copies it, mean divides it by the count, max sends it to the winner. Every
reduction passes gradcheck and gradgradcheck in float64 on both backends and
matches PyTorch, over single dims, negative dims, tuples of dims, all dims,
with and without keepdim.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.functional as F

from .helpers import assert_close, randn
from .helpers import assert_matches_torch

FEW_EXAMPLES = settings(max_examples=8, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])

# name: op written once for both libraries as fn(library, x), on a (2, 3, 4) input.
CASES = {
    "sum_all": lambda lib, x: x.sum(),
    "sum_dim": lambda lib, x: x.sum(1),
    "sum_negative_dim_keepdim": lambda lib, x: x.sum(-1, keepdim=True),
    "sum_tuple": lambda lib, x: x.sum((0, 2)),
    "sum_tuple_keepdim": lambda lib, x: lib.sum(x, (0, -1), keepdim=True),
    "mean_all": lambda lib, x: x.mean(),
    "mean_dim": lambda lib, x: x.mean(0),
    "mean_tuple_keepdim": lambda lib, x: x.mean((1, 2), keepdim=True),
    "max_all": lambda lib, x: x.max(),
    "max_dim": lambda lib, x: x.max(1).values,
    "max_dim_keepdim": lambda lib, x: lib.max(x, -1, keepdim=True).values,
    "min_all": lambda lib, x: x.min(),
    "min_dim": lambda lib, x: x.min(2).values,
    "min_dim_keepdim": lambda lib, x: lib.min(x, 0, keepdim=True).values,
    "var_all": lambda lib, x: x.var(),
    "var_dim_unbiased": lambda lib, x: x.var(1),
    "var_dim_biased": lambda lib, x: x.var(1, unbiased=False),
    "var_tuple_keepdim": lambda lib, x: x.var((0, 2), keepdim=True),
    "var_biased_all": lambda lib, x: lib.var(x, unbiased=False),
    "std_all": lambda lib, x: x.std(),
    "std_dim_biased_keepdim": lambda lib, x: x.std(2, unbiased=False, keepdim=True),
    "logsumexp_dim": lambda lib, x: lib.logsumexp(x, 1),
    "logsumexp_tuple_keepdim": lambda lib, x: lib.logsumexp(x, (0, 2), keepdim=True),
    "softmax_dim_0": lambda lib, x: lib.softmax(x, 0),
    "softmax_dim_last": lambda lib, x: lib.softmax(x, -1),
    "log_softmax_dim_1": lambda lib, x: lib.log_softmax(x, 1),
    "log_softmax_dim_last": lambda lib, x: x.log_softmax(-1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_passes_gradcheck_and_gradgradcheck(backend, name):
    x = randn(2, 3, 4)
    assert mg.gradcheck(lambda x: CASES[name](mg, x), (x,))
    assert mg.gradgradcheck(lambda x: CASES[name](mg, x), (x,))


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_matches_torch(backend, torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that `unbiased` has become `correction`
        assert_matches_torch(torch, lambda x: CASES[name](mg, x),
                             lambda x: CASES[name](torch, x), randn(2, 3, 4))


@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_keeps_float32(backend, name):
    x = mg.tensor(randn(2, 3, 4).numpy(), dtype=mg.float32, requires_grad=True)
    y = CASES[name](mg, x)
    (gx,) = mg.grad((y * y).sum(), [x])
    assert (y.dtype, gx.dtype) == (mg.float32, mg.float32)


@FEW_EXAMPLES
@given(dims=st.lists(st.integers(-3, 2), min_size=1, max_size=3, unique_by=lambda d: d % 3),
       keepdim=st.booleans(), op=st.sampled_from(["sum", "mean", "var"]))
def test_any_tuple_of_dims_reduces_like_numpy(backend, dims, keepdim, op):
    x = randn(2, 3, 2)
    y = getattr(x, op)(tuple(dims), keepdim=keepdim)
    expected = {"sum": np.sum, "mean": np.mean, "var": lambda a, **k: np.var(a, ddof=1, **k)}[op](
        x.numpy(), axis=tuple(dims), keepdims=keepdim)
    assert_close(y, expected)
    assert mg.gradcheck(lambda x: getattr(x, op)(tuple(dims), keepdim=keepdim), (x,))


# --- exact numbers --------------------------------------------------------------------

def test_sum_and_mean_spread_the_gradient_evenly(backend):
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mg.float64, requires_grad=True)
    assert_close(x.sum(0), [4.0, 6.0])
    assert_close(x.mean(), 2.5)
    (gx,) = mg.grad(x.mean(), [x])
    assert_close(gx, np.full((2, 2), 0.25))


def test_var_is_unbiased_by_default_and_std_is_its_root(backend):
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64)
    assert_close(x.var(), 5 / 3)
    assert_close(x.var(unbiased=False), 1.25)
    assert_close(x.std(), np.sqrt(5 / 3))
    assert_close(mg.std(x, unbiased=False), np.sqrt(1.25))


def test_var_of_one_element_and_mean_of_nothing_are_nan_as_in_torch(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(mg.tensor([3.0]).var().item())
        assert_close(mg.tensor([3.0]).var(unbiased=False), 0.0)
        assert np.isnan(mg.zeros(0).mean().item())


def test_max_over_a_dim_returns_values_and_indices_like_torch(backend):
    x = mg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(1)
    assert_close(values, [5.0, 7.0])
    assert_close(indices, [1, 0])
    assert indices.dtype == mg.int64
    values, indices = mg.min(x, 0, keepdim=True)
    assert_close(values, [[1.0, 0.0, 2.0]])
    assert_close(indices, [[0, 1, 0]])
    assert_close(x.max(), 7.0)
    assert_close(x.argmax(), 3)
    assert_close(x.argmax(1), [1, 0])
    assert_close(x.argmin(0, keepdim=True), [[0, 1, 0]])


def test_max_over_a_dim_sends_the_gradient_to_the_returned_index_only(backend):
    x = mg.tensor([[2.0, 2.0, 1.0], [0.0, 3.0, 3.0]], dtype=mg.float64, requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    assert_close(indices, [0, 1])  # the first of tied elements, as NumPy's argmax picks
    assert_close(x.grad, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_max_of_everything_shares_the_gradient_between_ties(backend):
    x = mg.tensor([[3.0, 1.0], [3.0, 3.0]], dtype=mg.float64, requires_grad=True)
    x.max().backward()
    assert_close(x.grad, [[1 / 3, 0.0], [1 / 3, 1 / 3]])


@pytest.mark.torch
def test_max_and_min_of_everything_with_ties_match_torch(backend, torch):
    x = mg.tensor([[3.0, -1.0], [3.0, -1.0]], dtype=mg.float64, requires_grad=True)
    assert_matches_torch(torch, lambda x: x.max(), lambda x: x.max(), x)
    assert_matches_torch(torch, lambda x: x.min(), lambda x: x.min(), x)


def test_max_takes_one_dim_as_torch_max_does(backend):
    with pytest.raises(TypeError, match=r"max: dim must be one int.*\(0, 1\)"):
        randn(2, 3).max((0, 1))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "var", "softmax", "logsumexp"])
def test_dim_out_of_range_names_the_op(backend, op):
    with pytest.raises(IndexError, match=f"{op}: dimension 2 out of range"):
        getattr(mg, op)(randn(2, 3), 2)


# --- the softmax family ---------------------------------------------------------------

def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log(backend):
    x = randn(3, 4)
    assert_close(mg.softmax(x, 1).sum(1), np.ones(3))
    assert_close(mg.log_softmax(x, 1), mg.softmax(x, 1).log())
    assert_close(mg.logsumexp(x, 1), np.log(np.exp(x.numpy()).sum(1)))


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_softmax_family_is_stable_for_huge_logits(backend, dtype):
    x = mg.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid value
        log_p = mg.log_softmax(x, 1)
        p = F.softmax(x, 1)
        lse = mg.logsumexp(x, 1)
        (gx,) = mg.grad((log_p * mg.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], dtype=dtype)).sum(),
                        [x])
    assert_close(log_p, [[0.0, -1e4, -2e4], [-np.log(3)] * 3], rtol=1e-6)
    assert_close(p, [[1.0, 0.0, 0.0], [1 / 3] * 3], rtol=1e-6)
    assert_close(lse, [1e4, -1e4 + np.log(3)], rtol=1e-6)
    assert_close(gx, [[-5.0, 2.0, 3.0], [-1.0, 0.0, 1.0]], atol=1e-5)
    assert log_p.dtype == p.dtype == lse.dtype == gx.dtype == dtype

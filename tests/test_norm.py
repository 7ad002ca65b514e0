"""Batch norm and dropout: F.batch_norm, F.dropout, F.dropout2d.

Batch norm, in training, normalises each channel with the batch's mean and
biased variance and moves the running statistics towards the batch's (the
unbiased variance for running_var); in evaluation it uses the running ones. Its
hand-written backward passes gradcheck and gradgradcheck in float64 on both
backends, (N, C) and (N, C, H, W), with and without weight and bias, and agrees
with PyTorch to ~1e-12 on forward, backward, double backward and the running
statistics after several batches.

Dropout zeroes elements with probability p, scales the rest by 1/(1 - p), and
draws its mask from the backend's seeded generator.
"""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

from .helpers import arrays_kept, assert_close, randn, to_torch
from .helpers import assert_matches_torch

SHAPES = [(4, 3), (3, 2, 5), (2, 3, 3, 4)]


def affine_params(channels, affine, seed=5):
    """(weight, bias) as float64 tensors requiring grad, or (None, None)."""
    if not affine:
        return None, None
    return randn(channels, seed=seed, offset=1.0), randn(channels, seed=seed + 1)


def running_stats(channels, seed=9):
    """Non-trivial running statistics (mean near 0, var near 1), no grad."""
    rng = np.random.default_rng(seed)
    return (mg.tensor(rng.normal(0, 0.5, channels), dtype=mg.float64),
            mg.tensor(rng.uniform(0.5, 2.0, channels), dtype=mg.float64))


# --- batch norm: gradients against finite differences ---------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_passes_gradcheck_and_gradgradcheck(backend, shape, affine, training):
    x = randn(*shape, scale=2.0, offset=0.5)
    weight, bias = affine_params(shape[1], affine)
    running_mean, running_var = running_stats(shape[1])
    inputs = (x, weight, bias) if affine else (x,)

    def fn(x, weight=None, bias=None):
        # copies, so that the repeated training-mode calls of the check leave them alone
        return F.batch_norm(x, mg.tensor(running_mean), mg.tensor(running_var), weight, bias,
                            training=training)

    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("missing", ["weight", "bias"])
def test_batch_norm_with_only_weight_or_only_bias_passes_gradgradcheck(backend, missing):
    x = randn(3, 2, 2, 2)
    other = randn(2, seed=3, offset=1.0)

    def fn(x, other):
        weight, bias = (None, other) if missing == "weight" else (other, None)
        return F.batch_norm(x, None, None, weight, bias, training=True)

    assert mg.gradcheck(fn, (x, other))
    assert mg.gradgradcheck(fn, (x, other))


def test_batch_norm_gradient_through_weight_alone_when_input_needs_none(backend):
    # the first layer's input needs no gradient; the weight still gets sum(g * x_hat)
    x = randn(5, 3, requires_grad=False)
    weight, bias = affine_params(3, True)
    assert mg.gradcheck(lambda w, b: F.batch_norm(x, None, None, w, b, training=True),
                        (weight, bias))


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 2, 2)])
def test_channel_dot_the_per_channel_sum_of_products_passes_gradgradcheck(backend, shape):
    from minigan.functional.norm import ChannelDot
    a, b = randn(*shape), randn(*shape, seed=4)
    expected = (a.numpy() * b.numpy()).sum(axis=(0,) + tuple(range(2, len(shape))))
    assert_close(ChannelDot.apply(a, b).reshape(shape[1]), expected)
    assert mg.gradcheck(ChannelDot.apply, (a, b))
    assert mg.gradgradcheck(ChannelDot.apply, (a, b))


# --- batch norm: against PyTorch ----------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch_forward_backward_double_backward(
        backend, torch, shape, affine, training):
    x = randn(*shape, scale=3.0, offset=-1.0)
    weight, bias = affine_params(shape[1], affine)
    running_mean, running_var = running_stats(shape[1])
    t_running_mean, t_running_var = to_torch(running_mean, torch), to_torch(running_var, torch)
    params = (weight, bias) if affine else ()

    def mg_fn(x, *params):
        return F.batch_norm(x, running_mean, running_var, *params, training=training,
                            momentum=0.2, eps=1e-3)

    def torch_fn(x, *params):
        return torch.nn.functional.batch_norm(x, t_running_mean, t_running_var, *params,
                                              training=training, momentum=0.2, eps=1e-3)

    assert_matches_torch(torch, mg_fn, torch_fn, x, *params)
    assert_close(running_mean, t_running_mean)
    assert_close(running_var, t_running_var)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 3)])
def test_batch_norm_running_stats_follow_torch_over_several_batches(backend, torch, shape):
    running_mean, running_var = mg.zeros(shape[1], dtype=mg.float64), mg.ones(
        shape[1], dtype=mg.float64)
    t_running_mean, t_running_var = torch.zeros(shape[1], dtype=torch.float64), torch.ones(
        shape[1], dtype=torch.float64)
    arrays_before = (running_mean.data, running_var.data)
    for step in range(4):
        x = randn(*shape, scale=1.0 + step, offset=step, seed=step)
        y = F.batch_norm(x, running_mean, running_var, training=True, momentum=0.3)
        ty = torch.nn.functional.batch_norm(to_torch(x, torch), t_running_mean, t_running_var,
                                            training=True, momentum=0.3)
        assert_close(y, ty)
        assert_close(running_mean, t_running_mean)
        assert_close(running_var, t_running_var)
    # updated in place: a module's buffers (and anything sharing them) see the new values
    assert running_mean.data is arrays_before[0] and running_var.data is arrays_before[1]

    x = randn(*shape, seed=10)  # evaluation uses them, and leaves them alone
    y = F.batch_norm(x, running_mean, running_var, training=False)
    ty = torch.nn.functional.batch_norm(to_torch(x, torch), t_running_mean, t_running_var,
                                        training=False)
    assert_close(y, ty)
    assert_close(running_mean, t_running_mean)


@pytest.mark.torch
def test_batch_norm_momentum_none_is_the_cumulative_average_of_torch(backend, torch):
    module = torch.nn.BatchNorm1d(3, momentum=None, affine=False).double()
    running_mean, running_var = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    batch_means = []
    for step in range(1, 4):
        x = randn(5, 3, offset=step, seed=step)
        batch_means.append(x.numpy().mean(0))
        F.batch_norm(x, running_mean, running_var, training=True, momentum=None,
                     num_batches_tracked=mg.tensor(step))  # counting this batch
        module(to_torch(x, torch))
    assert_close(running_mean, module.running_mean)
    assert_close(running_var, module.running_var)
    assert_close(running_mean, np.mean(batch_means, axis=0))


def test_batch_norm_without_running_stats_normalises_with_the_batch(backend):
    x = randn(8, 2, 3, 3, scale=4.0, offset=2.0, requires_grad=False)
    y = F.batch_norm(x, None, None, training=True, eps=0.0).numpy()
    assert_close(y.mean(axis=(0, 2, 3)), np.zeros(2), atol=1e-12)
    assert_close(y.var(axis=(0, 2, 3)), np.ones(2))


@pytest.mark.parametrize("batch_last", [False, True])
def test_batch_norm_keeps_no_array_of_the_input_size_and_a_second_backward_agrees(
        backend, batch_last):
    """Training-mode batch norm keeps x (the graph's), the mean and 1/std for backward,
    as PyTorch does, and no x-sized array of its own; a second backward through a
    retained graph gives the same numbers. Both memory orders: a convolution's
    batch-last output, and plain NCHW."""
    x = randn(6, 4, 3, 5, offset=1.0)
    if batch_last:  # (C, H, W, N) in memory, as conv2d hands its output on
        x = mg.tensor(np.ascontiguousarray(x.numpy().transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2),
                      requires_grad=True)
    weight, bias = affine_params(4, True)
    y = F.batch_norm(x, None, None, weight, bias, training=True)
    assert arrays_kept(y._ctx, at_least=x.numel()) == {}
    g = randn(*x.shape, seed=3)
    (y * g).sum().backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in (x, weight, bias)]
    for t in (x, weight, bias):
        t.grad = None
    (y * g).sum().backward()
    for t, expected in zip((x, weight, bias), first):
        np.testing.assert_array_equal(t.grad.numpy(), expected)


@pytest.mark.torch
def test_batch_norm_double_backward_gives_a_gradient_penalty_like_torch(backend, torch):
    # WGAN-GP differentiates |d critic / d x|^2 with respect to the critic's weights
    x = randn(4, 3, 2, 2)
    weight, bias = affine_params(3, True)
    tx, tw, tb = (to_torch(t, torch) for t in (x, weight, bias))

    def penalty(lib, grad, x, weight, bias):
        y = lib.nn.functional.batch_norm(x, None, None, weight, bias, training=True) \
            if lib is torch else F.batch_norm(x, None, None, weight, bias, training=True)
        out = (y * y * y).sum()
        (gx,) = grad(out, [x], create_graph=True)
        return ((gx * gx).sum() - 1.0) ** 2

    grads = mg.grad(penalty(mg, mg.grad, x, weight, bias), [x, weight, bias])
    t_grads = torch.autograd.grad(penalty(torch, torch.autograd.grad, tx, tw, tb), [tx, tw, tb])
    for g, tg in zip(grads, t_grads):
        assert_close(g, tg, rtol=1e-6)


def test_batch_norm_keeps_float32_with_float64_running_stats(backend):
    x = mg.randn(4, 3, 2, 2, requires_grad=True)
    weight, bias = mg.ones(3, requires_grad=True), mg.zeros(3, requires_grad=True)
    running_mean, running_var = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    for training in (True, False):
        y = F.batch_norm(x, running_mean, running_var, weight, bias, training=training)
        grads = mg.grad((y * y).sum(), [x, weight, bias])
        assert y.dtype == mg.float32
        assert [g.dtype for g in grads] == [mg.float32] * 3
    assert running_mean.dtype == running_var.dtype == mg.float64


def test_batch_norm_float32_agrees_with_float64(backend):
    x64 = randn(16, 4, 5, 5, scale=3.0, offset=10.0)
    x32 = mg.tensor(x64.numpy(), dtype=mg.float32, requires_grad=True)
    g = randn(16, 4, 5, 5, requires_grad=False, seed=2)
    grads = [mg.grad(F.batch_norm(x, None, None, training=True), [x],
                     mg.tensor(g.numpy(), dtype=x.dtype))[0] for x in (x64, x32)]
    assert_close(grads[1], grads[0], atol=1e-5, rtol=1e-4)


# --- batch norm: errors ----------------------------------------------------------------------------

def test_batch_norm_rejects_running_stats_of_the_wrong_size(backend):
    x = randn(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: expected running_mean of shape \(3,\) "
                                         r"for an input of shape \(4, 3, 2, 2\), got \(2,\)"):
        F.batch_norm(x, mg.zeros(2), mg.ones(3), training=True)


def test_batch_norm_rejects_weight_of_the_wrong_size(backend):
    with pytest.raises(ValueError, match=r"expected weight of shape \(3,\) .* got \(3, 1\)"):
        F.batch_norm(randn(4, 3), None, None, mg.ones(3, 1), training=True)


def test_batch_norm_needs_two_values_per_channel_in_training(backend):
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, "
                                         r"got input of shape \(1, 3\)"):
        F.batch_norm(randn(1, 3), None, None, training=True)
    F.batch_norm(randn(1, 3), mg.zeros(3), mg.ones(3), training=False)  # fine in evaluation


def test_batch_norm_needs_running_stats_in_evaluation(backend):
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(randn(4, 3), None, None, training=False)


def test_batch_norm_cumulative_average_needs_the_batch_count(backend):
    with pytest.raises(ValueError, match="momentum=None .* needs num_batches_tracked"):
        F.batch_norm(randn(4, 3), mg.zeros(3), mg.ones(3), training=True, momentum=None)


def test_batch_norm_rejects_a_one_dimensional_input(backend):
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C\) .* got shape \(5,\)"):
        F.batch_norm(randn(5), None, None, training=True)


# --- dropout ------------------------------------------------------------------------------------------

def test_dropout_zeroes_about_p_and_scales_the_rest(backend):
    x = mg.ones(200, 500)
    y = F.dropout(x, p=0.3).numpy()
    assert y.dtype == np.float32
    assert abs((y == 0).mean() - 0.3) < 0.01  # 100,000 draws: standard error 0.0015
    assert np.all((y == 0) | np.isclose(y, 1 / 0.7))


def test_dropout2d_zeroes_whole_channels(backend):
    x = mg.ones(40, 50, 3, 3)
    y = F.dropout2d(x, p=0.5).numpy()
    per_channel = y.reshape(40, 50, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # all or nothing
    assert abs((per_channel[:, :, 0] == 0).mean() - 0.5) < 0.05
    assert set(np.unique(y)) <= {0.0, 2.0}


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_dropout_is_the_identity_in_evaluation_and_for_p_zero(backend, fn):
    x = randn(2, 3, 2, 2)
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0) is x


def test_dropout_with_p_one_gives_zeros_and_zero_gradient(backend):
    x = randn(3, 4)
    y = F.dropout(x, 1.0)
    assert np.all(y.numpy() == 0)
    (gx,) = mg.grad(y.sum(), [x])
    assert np.all(gx.numpy() == 0)


def test_dropout_mask_comes_from_the_seeded_generator(backend):
    x = mg.ones(10, 10)
    mg.manual_seed(3)
    first = F.dropout(x, 0.5).numpy()
    second = F.dropout(x, 0.5).numpy()
    mg.manual_seed(3)
    again = F.dropout(x, 0.5).numpy()
    assert np.array_equal(first, again)
    assert not np.array_equal(first, second)


def test_dropout_draws_the_same_mask_on_numpy_and_strict():
    masks = []
    for name in ("numpy", "strict"):
        with mg.use_backend(name):
            mg.manual_seed(11)
            masks.append(F.dropout(mg.ones(6, 7), 0.4).numpy())
    assert np.array_equal(*masks)


def test_dropout_gradient_is_the_mask_over_one_minus_p(backend):
    x = randn(4, 6)
    g = randn(4, 6, requires_grad=False, seed=8)
    y = F.dropout(x, 0.25)
    mask = (y.numpy() != 0) / 0.75
    assert_close(y, x.numpy() * mask)
    (gx,) = mg.grad(y, [x], g)
    assert_close(gx, g.numpy() * mask)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_dropout_passes_gradcheck_and_gradgradcheck_with_a_fixed_mask(backend, fn):
    def with_fixed_mask(x):
        mg.manual_seed(0)  # every call of the check draws the same mask
        return fn(x, 0.4)

    x = randn(3, 2, 2, 2)
    assert mg.gradcheck(with_fixed_mask, (x,))
    assert mg.gradgradcheck(with_fixed_mask, (x,))


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d])
def test_dropout_rejects_a_probability_outside_zero_one(backend, fn, p):
    with pytest.raises(ValueError, match=f"probability has to be between 0 and 1, but got {p}"):
        fn(randn(2, 2, 2, 2), p)


def test_dropout2d_rejects_input_that_is_not_four_dimensional(backend):
    with pytest.raises(ValueError, match=r"dropout2d: expected input of shape \(N, C, H, W\)"):
        F.dropout2d(randn(3, 4), 0.5)


def test_batch_norm_rejects_a_weight_of_another_dtype(backend):
    with pytest.raises(TypeError, match="expected weight of input's dtype float32, got float64"):
        F.batch_norm(mg.randn(4, 3), None, None, randn(3), training=True)

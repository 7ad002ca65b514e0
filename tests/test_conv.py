"""Convolutions: conv2d, conv_transpose2d and conv2d's weight gradient.

Each passes gradcheck and gradgradcheck in float64 on the numpy and strict backends
over strides, paddings, dilations, output paddings, non-square kernels and images;
matches PyTorch in float64 for forward, backward and double backward; the three are
each other's gradients; a WGAN-GP gradient penalty through a small conv critic gives
PyTorch's gradients; every wrong argument gets a message naming what was expected.
"""
import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigan as mg
import minigan.functional as F
from minigan.functional.conv import Conv2dWeightGrad

from .helpers import arrays_kept, assert_close, randn, to_torch
from .helpers import assert_matches_torch

FEW_EXAMPLES = settings(max_examples=4, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- geometries ------------------------------------------------------------------------------

# (input shape, weight shape, keyword arguments): small, and every kind of geometry.
CONV2D_CASES = [
    ((2, 3, 5, 5), (2, 3, 3, 3), dict()),
    ((2, 2, 6, 5), (3, 2, 3, 2), dict(stride=2, padding=1)),
    ((1, 2, 7, 6), (2, 2, 2, 3), dict(stride=(2, 1), padding=(0, 2), dilation=(2, 1))),
    ((2, 1, 5, 6), (2, 1, 1, 1), dict(stride=3)),  # 1x1 kernel; windows skip rows
    ((2, 2, 4, 4), (3, 2, 4, 4), dict(stride=2, padding=1)),  # the DCGAN discriminator's
    ((1, 2, 3, 4), (2, 2, 3, 3), dict(padding=(2, 1), dilation=2)),
]
CONV_TRANSPOSE2D_CASES = [
    ((2, 3, 3, 3), (3, 2, 3, 3), dict()),
    ((2, 2, 3, 4), (2, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((1, 2, 3, 3), (2, 2, 2, 3), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2))),
    ((2, 2, 3, 3), (2, 2, 2, 2), dict(dilation=2, output_padding=1)),  # output_padding >= stride
    ((2, 2, 3, 3), (2, 1, 4, 4), dict(stride=2, padding=1)),  # the DCGAN generator's
    ((1, 2, 4, 3), (2, 2, 3, 2), dict(stride=(1, 2), padding=(1, 0), dilation=(2, 1))),
]


def case_id(case):
    x_shape, w_shape, kwargs = case
    return f"x{x_shape}-w{w_shape}-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


@st.composite
def conv_geometries(draw, transpose=False):
    """(input shape, weight shape, kwargs) of a valid conv2d or conv_transpose2d, tiny."""
    n, c_in, c_out = (draw(st.integers(1, 2)) for _ in range(3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    if transpose:
        size = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                               for s, d in zip(stride, dilation))
        out = [(h - 1) * s - 2 * p + d * (k - 1) + op + 1 for h, s, p, d, k, op in
               zip(size, stride, padding, dilation, kernel, output_padding)]
        assume(min(out) >= 1)
        kwargs["output_padding"] = output_padding
        return (n, c_in) + size, (c_in, c_out) + kernel, kwargs
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 5))
                 for k, p, d in zip(kernel, padding, dilation))
    return (n, c_in) + size, (c_out, c_in) + kernel, kwargs


# --- gradcheck and gradgradcheck on both backends ---------------------------------------------

@FEW_EXAMPLES
@given(geometry=conv_geometries())
def test_conv2d_passes_gradcheck_and_gradgradcheck(backend, geometry):
    x_shape, w_shape, kwargs = geometry
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[0])
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))
    assert mg.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))


@FEW_EXAMPLES
@given(geometry=conv_geometries(transpose=True))
def test_conv_transpose2d_passes_gradcheck_and_gradgradcheck(backend, geometry):
    x_shape, w_shape, kwargs = geometry
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[1])
    assert mg.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs), (x, w, b))
    assert mg.gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs), (x, w, b))


@FEW_EXAMPLES
@given(geometry=conv_geometries())
def test_conv2d_weight_grad_passes_gradcheck_and_gradgradcheck(backend, geometry):
    x_shape, w_shape, kwargs = geometry
    x = randn(*x_shape)
    gy = randn(*F.conv2d(x, randn(*w_shape), **kwargs).shape)
    geometry = {k: (v, v) if isinstance(v, int) else v for k, v in kwargs.items()}

    def weight_grad(x, gy):
        return Conv2dWeightGrad.apply(x, gy, kernel_size=w_shape[2:], **geometry)

    assert mg.gradcheck(weight_grad, (x, gy))
    assert mg.gradgradcheck(weight_grad, (x, gy))


# --- the same numbers as PyTorch ---------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("case", CONV2D_CASES, ids=case_id)
def test_conv2d_matches_torch_forward_backward_and_double_backward(backend, torch, case):
    x_shape, w_shape, kwargs = case
    assert_matches_torch(
        torch, lambda x, w, b: F.conv2d(x, w, b, **kwargs),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kwargs),
        randn(*x_shape), randn(*w_shape), randn(w_shape[0]))


@pytest.mark.torch
@pytest.mark.parametrize("case", CONV_TRANSPOSE2D_CASES, ids=case_id)
def test_conv_transpose2d_matches_torch_forward_backward_and_double_backward(backend, torch,
                                                                               case):
    x_shape, w_shape, kwargs = case
    assert_matches_torch(
        torch, lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
        lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kwargs),
        randn(*x_shape), randn(*w_shape), randn(w_shape[1]))


@pytest.mark.torch
@pytest.mark.parametrize("case", CONV2D_CASES, ids=case_id)
def test_conv2d_weight_grad_equals_torch_conv2d_weight(torch, case):
    x_shape, w_shape, kwargs = case
    x = randn(*x_shape, requires_grad=False)
    gy = randn(*F.conv2d(x, randn(*w_shape), **kwargs).shape, requires_grad=False)
    geometry = {k: v if isinstance(v, tuple) else (v, v) for k, v in kwargs.items()}
    geometry = {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1), **geometry}
    gw = Conv2dWeightGrad.apply(x, gy, kernel_size=w_shape[2:], **geometry)
    expected = torch.nn.grad.conv2d_weight(to_torch(x, torch), w_shape, to_torch(gy, torch),
                                           **geometry)
    assert_close(gw, expected)


@pytest.mark.torch
def test_conv2d_without_bias_matches_torch(backend, torch):
    x, w = randn(2, 3, 5, 4), randn(2, 3, 2, 2)
    assert_matches_torch(torch, lambda x, w: F.conv2d(x, w, stride=2),
                         lambda x, w: torch.nn.functional.conv2d(x, w, stride=2), x, w)


@pytest.mark.torch
@pytest.mark.parametrize("view", ["permuted", "flipped", "sliced"])
def test_conv2d_of_a_view_with_unusual_strides_matches_torch(backend, torch, view):
    # The windows are a strided view of the input: any memory layout must work.
    base = randn(2, 3, 6, 7)
    x = {"permuted": lambda: base.permute(0, 1, 3, 2),
         "flipped": lambda: base[:, ::-1, :, ::-1],
         "sliced": lambda: base[:, :, 1:, ::2]}[view]()
    w = randn(2, 3, 3, 2)
    for padding in (0, 1):
        y = F.conv2d(x, w, padding=padding)
        expected = torch.nn.functional.conv2d(to_torch(x, torch), to_torch(w, torch),
                                              padding=padding)
        assert_close(y, expected)


# --- the three functions are each other's gradients ---------------------------------------------

def gradient_ops(y, inputs):
    """The ops that compute d<y, v>/d(each input), by class name."""
    v = randn(*y.shape)
    grads = mg.grad(y, inputs, grad_outputs=v, create_graph=True)
    return [type(g.grad_fn).__name__ for g in grads]


def test_conv2d_gradients_are_a_conv_transpose2d_and_a_weight_gradient(backend):
    x, w = randn(1, 2, 5, 5), randn(3, 2, 3, 3)
    y = F.conv2d(x, w, stride=2, padding=1)
    assert gradient_ops(y, [x, w]) == ["ConvTranspose2d", "Conv2dWeightGrad"]


def test_conv_transpose2d_gradients_are_a_conv2d_and_a_weight_gradient(backend):
    x, w = randn(1, 3, 3, 3), randn(3, 2, 4, 4)
    y = F.conv_transpose2d(x, w, stride=2, padding=1)
    assert gradient_ops(y, [x, w]) == ["Conv2d", "Conv2dWeightGrad"]


def test_weight_gradient_gradients_are_a_conv_transpose2d_and_a_conv2d(backend):
    x, gy = randn(1, 2, 5, 5), randn(1, 3, 3, 3)
    gw = Conv2dWeightGrad.apply(x, gy, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1),
                                dilation=(1, 1))
    assert gw.shape == (3, 2, 3, 3)
    assert gradient_ops(gw, [x, gy]) == ["ConvTranspose2d", "Conv2d"]


def test_conv2d_input_gradient_has_the_input_shape_when_windows_skip_pixels(backend):
    # 6 rows, kernel 2, stride 3: rows 2 and 5 are in no window; their gradient is 0.
    x, w = randn(1, 1, 6, 6), randn(1, 1, 2, 2)
    (gx,) = mg.grad(F.conv2d(x, w, stride=3).sum(), [x])
    assert gx.shape == (1, 1, 6, 6)
    assert not gx.numpy()[0, 0, [2, 5], :].any()
    assert gx.numpy()[0, 0, [0, 1, 3, 4], :][:, [0, 1, 3, 4]].all()


# --- WGAN-GP: a gradient penalty differentiates through the convolution's gradient -----------

@pytest.mark.torch
def test_wgan_gp_gradient_penalty_through_a_conv_critic_matches_torch(backend, torch):
    x = randn(3, 1, 8, 8)
    w1, b1 = randn(4, 1, 4, 4, scale=0.5), randn(4)
    w2, b2 = randn(1, 4, 3, 3, scale=0.5), randn(1)
    params = [x, w1, b1, w2, b2]

    def penalty(lib, functional, grad, x, w1, b1, w2, b2):
        h = functional.leaky_relu(functional.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
        score = functional.conv2d(h, w2, b2).sum()
        (grad_x,) = grad(score, [x], create_graph=True)
        norm = (grad_x.flatten(1) ** 2).sum(1).sqrt()
        return ((norm - 1) ** 2).mean()

    gp = penalty(mg, F, mg.grad, *params)
    gp.backward()
    t_params = [to_torch(p, torch) for p in params]
    t_gp = penalty(torch, torch.nn.functional, torch.autograd.grad, *t_params)
    t_gp.backward()
    assert_close(gp, t_gp)
    assert w1.grad is not None and w2.grad is not None
    for p, t in zip(params, t_params):
        # x and the biases move the penalty only through leaky_relu's slope, a constant:
        # no gradient (None) in minigan, None or zeros in torch.
        assert_close(zeros_if_none(p.grad, p), zeros_if_none(t.grad, p))


def zeros_if_none(grad, like):
    return np.zeros(like.shape) if grad is None else grad


# --- float32 in, float32 out -----------------------------------------------------------------

@pytest.mark.parametrize("op, w_shape", [("conv2d", (4, 3, 3, 3)),
                                         ("conv_transpose2d", (3, 4, 3, 3))])
def test_float32_inputs_give_float32_outputs_and_gradients(backend, op, w_shape):
    x = mg.randn(2, 3, 5, 5, requires_grad=True)
    w = mg.randn(*w_shape, requires_grad=True)
    b = mg.randn(4, requires_grad=True)
    y = getattr(F, op)(x, w, b, stride=2, padding=1)
    assert y.dtype == mg.float32
    gx, gw = mg.grad((y * y).sum(), [x, w], create_graph=True)
    assert gx.dtype == gw.dtype == mg.float32
    (gx * gx).sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == mg.float32


# --- sizes -----------------------------------------------------------------------------------

def test_output_sizes_follow_the_documented_formulas(backend):
    x = mg.zeros(2, 1, 28, 28)
    h = F.conv2d(x, mg.zeros(64, 1, 4, 4), stride=2, padding=1)
    assert h.shape == (2, 64, 14, 14)  # floor((28 + 2 - 3 - 1) / 2) + 1
    h = F.conv2d(h, mg.zeros(128, 64, 4, 4), stride=2, padding=1)
    assert h.shape == (2, 128, 7, 7)
    h = F.conv_transpose2d(h, mg.zeros(128, 64, 4, 4), stride=2, padding=1)
    assert h.shape == (2, 64, 14, 14)  # (7 - 1)*2 - 2 + 3 + 0 + 1
    h = F.conv_transpose2d(h, mg.zeros(64, 1, 4, 4), stride=2, padding=1)
    assert h.shape == (2, 1, 28, 28)
    assert F.conv2d(x, mg.zeros(3, 1, 3, 5), stride=(3, 2), dilation=(2, 1)).shape == (2, 3, 8, 12)
    assert F.conv_transpose2d(mg.zeros(1, 2, 3, 3), mg.zeros(2, 1, 3, 3), stride=2,
                              output_padding=1).shape == (1, 1, 8, 8)


# --- errors name what was expected and what came ---------------------------------------------

def _conv2d(x_shape, w_shape, b_shape=None, **kwargs):
    return lambda: F.conv2d(mg.zeros(*x_shape), mg.zeros(*w_shape),
                            None if b_shape is None else mg.zeros(*b_shape), **kwargs)


def _conv_transpose2d(x_shape, w_shape, b_shape=None, **kwargs):
    return lambda: F.conv_transpose2d(mg.zeros(*x_shape), mg.zeros(*w_shape),
                                      None if b_shape is None else mg.zeros(*b_shape), **kwargs)


ERRORS = {
    "channels": (_conv2d((128, 1, 28, 28), (64, 3, 4, 4)), ValueError,
                 r"conv2d: expected input of shape \(N, 3, H, W\) for a weight of shape "
                 r"\(64, 3, 4, 4\), got \(128, 1, 28, 28\)"),
    "3-D input": (_conv2d((1, 28, 28), (64, 1, 4, 4)), ValueError,
                  r"conv2d: expected input of shape \(N, 1, H, W\) .*got \(1, 28, 28\)"),
    "2-D weight": (_conv2d((1, 1, 28, 28), (64, 16)), ValueError,
                   r"conv2d: expected a 4-D weight \(C_out, C_in, kh, kw\), got shape \(64, 16\)"),
    "bias": (_conv2d((1, 3, 8, 8), (64, 3, 4, 4), (32,)), ValueError,
             r"conv2d: expected bias of shape \(64,\) for a weight of shape \(64, 3, 4, 4\), "
             r"got \(32,\)"),
    "zero stride": (_conv2d((1, 1, 8, 8), (2, 1, 3, 3), stride=0), ValueError,
                    r"conv2d: stride must be positive, got 0"),
    "negative padding": (_conv2d((1, 1, 8, 8), (2, 1, 3, 3), padding=(1, -1)), ValueError,
                         r"conv2d: padding must be non-negative, got \(1, -1\)"),
    "zero dilation": (_conv2d((1, 1, 8, 8), (2, 1, 3, 3), dilation=0), ValueError,
                      r"conv2d: dilation must be positive, got 0"),
    "float stride": (_conv2d((1, 1, 8, 8), (2, 1, 3, 3), stride=1.5), TypeError,
                     r"conv2d: stride must be an int or a pair of ints, got 1.5"),
    "triple padding": (_conv2d((1, 1, 8, 8), (2, 1, 3, 3), padding=(1, 1, 1)), TypeError,
                       r"conv2d: padding must be an int or a pair of ints, got \(1, 1, 1\)"),
    "empty output": (_conv2d((1, 1, 3, 3), (2, 1, 4, 4)), ValueError,
                     r"conv2d: the output would be empty \(0x0\): the input's 3x3 pixels, "
                     r"padded by \(0, 0\), are fewer than the kernel's 4x4"),
    "empty with dilation": (_conv2d((1, 1, 5, 9), (2, 1, 3, 3), dilation=(3, 1)), ValueError,
                            r"conv2d: the output would be empty \(0x7\).*kernel's 7x3"),
    "transpose channels": (_conv_transpose2d((128, 64, 7, 7), (128, 64, 4, 4)), ValueError,
                           r"conv_transpose2d: expected input of shape \(N, 128, H, W\) for a "
                           r"weight of shape \(128, 64, 4, 4\), got \(128, 64, 7, 7\)"),
    "transpose bias": (_conv_transpose2d((1, 4, 3, 3), (4, 2, 3, 3), (4,)), ValueError,
                       r"conv_transpose2d: expected bias of shape \(2,\) for a weight of shape "
                       r"\(4, 2, 3, 3\), got \(4,\)"),
    "output_padding": (_conv_transpose2d((1, 4, 3, 3), (4, 2, 3, 3), stride=2,
                                         output_padding=2), ValueError,
                       r"conv_transpose2d: output_padding must be smaller than either stride "
                       r"or dilation, got output_padding=\(2, 2\), stride=\(2, 2\), "
                       r"dilation=\(1, 1\)"),
    "negative output_padding": (_conv_transpose2d((1, 4, 3, 3), (4, 2, 3, 3),
                                                  output_padding=-1), ValueError,
                                r"conv_transpose2d: output_padding must be non-negative"),
    "transpose empty output": (_conv_transpose2d((1, 4, 1, 1), (4, 2, 2, 2), padding=1),
                               ValueError, r"conv_transpose2d: the output would be empty \(0x0\)"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_arguments_raise_a_message_naming_what_was_expected(backend, name):
    call, error, message = ERRORS[name]
    with pytest.raises(error, match=message):
        call()


def test_mixed_dtypes_are_refused(backend):
    x = mg.zeros(1, 1, 5, 5, dtype=mg.float32)
    with pytest.raises(TypeError, match="conv2d: input and weight must have the same dtype, "
                                        "got float32 and float64"):
        F.conv2d(x, mg.zeros(1, 1, 3, 3, dtype=mg.float64))
    with pytest.raises(TypeError, match="conv_transpose2d: bias and weight must have the same "
                                        "dtype, got float64 and float32"):
        F.conv_transpose2d(x, mg.zeros(1, 1, 3, 3), mg.zeros(1, dtype=mg.float64))


def test_conv_transpose2d_keeps_a_batch_first_input_once_in_batch_last_order(backend):
    """conv_transpose2d's product reads x in batch-last order; an x in (N, C, H, W)
    memory (G's reshaped linear output) is copied so once, and the copy is kept for the
    weight gradient's product instead of transposing x again (only if w needs it)."""
    w = mg.randn(2, 3, 4, 4, requires_grad=True)
    x_memory = mg.randn(2, 5, 5, 3, requires_grad=True)  # batch-last already
    assert arrays_kept(F.conv_transpose2d(x_memory.permute(3, 0, 1, 2), w, stride=2)._ctx) == {}
    x = mg.randn(3, 2, 5, 5, requires_grad=True)
    y = F.conv_transpose2d(x, w, stride=2, padding=1)
    assert arrays_kept(y._ctx) == {"x_batch_last": (2, 5, 5, 3)}
    np.testing.assert_array_equal(mg.to_numpy(y._ctx.x_batch_last),
                                  x.numpy().transpose(1, 2, 3, 0))
    assert arrays_kept(F.conv_transpose2d(x, w.detach(), stride=2)._ctx) == {}
    # (the gradient itself: the gradchecks above, whose inputs are all (N, C, H, W) memory)


def _im2col_loops(x, kernel_size, stride, padding):
    """cols[(c, i, j), (h, w, n)] = x_pad[n, c, s*h + i, s*w + j], by loops (x: NCHW)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    cols = np.zeros((c, kh, kw, ho, wo, n), x.dtype)
    for i in range(kh):
        for j in range(kw):
            for a in range(ho):
                for b in range(wo):
                    cols[:, i, j, a, b, :] = x_pad[:, :, sh * a + i, sw * b + j].T
    return cols.reshape(c * kh * kw, ho * wo * n)


def test_conv2d_keeps_its_windows_for_the_weight_gradient_and_frees_them_first(
        backend, monkeypatch):
    """Conv2d keeps its inputs for backward, as PyTorch does, and, when w's gradient is
    wanted, the windows its forward product read (im2col(x), 2.25x x here), so that
    dL/dw does not copy them again; nothing else, even for an input in (N, C, H, W)
    memory (its batch-last copy is only read by the windows). Backward frees the
    windows once dL/dw has used them, before dL/dx's product runs, unless the graph is
    retained; a second backward through a retained graph gives the same numbers."""
    import minigan.functional.conv as conv
    x = mg.randn(3, 2, 6, 6, requires_grad=True)
    w = mg.randn(4, 2, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, stride=2, padding=1)
    ctx = y._ctx
    assert arrays_kept(ctx) == {"cols": (2 * 3 * 3, 3 * 3 * 3)}
    np.testing.assert_array_equal(mg.to_numpy(ctx.cols),
                                  _im2col_loops(x.numpy(), (3, 3), (2, 2), (1, 1)))
    x_memory = mg.randn(2, 6, 6, 3, requires_grad=True)  # batch-last, as a conv's output
    assert arrays_kept(F.conv2d(x_memory.permute(3, 0, 1, 2), w, stride=2)._ctx) == {
        "cols": (2 * 3 * 3, 2 * 2 * 3)}
    assert not arrays_kept(F.conv2d(x, w.detach(), stride=2)._ctx)  # no weight gradient

    kept_at_input_grad = []  # what ctx holds when dL/dx's product starts
    transpose_fitting = conv._transpose_fitting

    def watched(*args, **kwargs):
        kept_at_input_grad.append(sorted(arrays_kept(ctx)))
        return transpose_fitting(*args, **kwargs)

    monkeypatch.setattr(conv, "_transpose_fitting", watched)
    # retain_graph where backward has it (else every graph is retained)
    retain = ({"retain_graph": True}
              if "retain_graph" in inspect.signature(mg.Tensor.backward).parameters else {})
    y.sum().backward(**retain)
    first = (x.grad.numpy().copy(), w.grad.numpy().copy())
    x.grad = w.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), first[0])
    np.testing.assert_array_equal(w.grad.numpy(), first[1])
    assert kept_at_input_grad == ([["cols"], []] if retain else [["cols"], ["cols"]])


def test_conv2d_windows_over_the_per_sample_limit_are_made_again_with_the_same_gradients(
        backend, monkeypatch):
    """Windows larger than KEEP_WINDOWS_PER_SAMPLE bytes per sample are not kept;
    backward copies them again from x, and the gradients are the same bits."""
    import minigan.functional.conv as conv
    x = mg.randn(3, 2, 7, 6, requires_grad=True)
    w = mg.randn(4, 2, 3, 3, requires_grad=True)
    grads = []
    for limit in (conv.KEEP_WINDOWS_PER_SAMPLE, 18 * 12 * 4 - 1):
        monkeypatch.setattr(conv, "KEEP_WINDOWS_PER_SAMPLE", limit)
        y = F.conv2d(x, w, stride=2, padding=1)  # windows: 18 x 4*3 per sample, float32
        assert sorted(arrays_kept(y._ctx)) == (["cols"] if grads == [] else [])
        (y * y).sum().backward()
        grads.append((x.grad.numpy().copy(), w.grad.numpy().copy()))
        x.grad = w.grad = None
    for kept, made_again in zip(*grads):
        np.testing.assert_array_equal(kept, made_again)

"""Assignment 3, convolution (docs/course/03_convolution.md), in minigan/textbook/conv.py.

Each task is checked against the definition and against the fast twin
(minigan/functional/conv.py) in float64. So that each task stands alone, 3.2 runs
with the fast im2col and the fast transposed convolution in place of 3.1's and
3.3's, and 3.3 with the fast conv2d and weight gradient in place of 3.2's.
"""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan.course import check_close
from minigan.functional import conv as fast
from minigan.textbook import conv as tb

from .helpers import random

# x shape, weight shape (C_out, C, kh, kw), stride, padding, dilation
CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1)),
    ((2, 2, 7, 6), (3, 2, 3, 2), (2, 2), (1, 1), (1, 1)),
    ((1, 2, 8, 7), (2, 2, 3, 3), (2, 1), (1, 2), (1, 2)),
    ((2, 1, 8, 8), (2, 1, 4, 4), (2, 2), (1, 1), (1, 1)),   # the DCGAN discriminator's layer
]
IDS = ["3x3", "stride2-pad1", "dilated", "dcgan-4x4-s2"]


def _fast_im2col(x, kernel_size, output_size, stride, padding, dilation):
    """The fast op's im2col, in the textbook's (N, C*kh*kw, Ho*Wo) layout."""
    n, c = x.shape[:2]
    cols = fast._im2col(x.transpose(1, 2, 3, 0), kernel_size, output_size, stride, padding,
                        dilation)                      # (C*kh*kw, Ho*Wo*N)
    ho, wo = output_size
    return mg.get_backend().xp.ascontiguousarray(
        cols.reshape(cols.shape[0], ho * wo, n).transpose(2, 0, 1))


@pytest.fixture
def fast_neighbours(monkeypatch):
    """3.2 alone: the fast im2col and the fast transposed convolution."""
    monkeypatch.setattr(tb, "im2col", _fast_im2col)
    monkeypatch.setattr(tb, "ConvTranspose2d", fast.ConvTranspose2d)


@pytest.fixture
def fast_conv(monkeypatch):
    """3.3 alone: the fast conv2d and weight gradient in its backward."""
    monkeypatch.setattr(tb, "Conv2d", fast.Conv2d)
    monkeypatch.setattr(tb, "Conv2dWeightGrad", fast.Conv2dWeightGrad)


def _grads(f, inputs, seed=3):
    y = f(*inputs)
    v = mg.tensor(np.random.default_rng(seed).standard_normal(y.shape), dtype=mg.float64)
    return y, mg.grad(y, list(inputs), grad_outputs=v)


# --- 3.1 im2col ---------------------------------------------------------------------------

@pytest.mark.task3_1
@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", CASES, ids=IDS)
def test_im2col_matches_its_definition(x_shape, w_shape, stride, padding, dilation):
    x = random(*x_shape, seed=1, requires_grad=False).data
    kernel = w_shape[2:]
    ho, wo = fast.conv_output_size(x_shape[2:], kernel, stride, padding, dilation)
    cols = tb.im2col(x, kernel, (ho, wo), stride, padding, dilation)
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c = x_shape[:2]
    expected = np.zeros((n, c, kernel[0], kernel[1], ho, wo))
    for h in range(ho):            # the definition, one window at a time
        for w in range(wo):
            for i in range(kernel[0]):
                for j in range(kernel[1]):
                    expected[:, :, i, j, h, w] = x_pad[:, :, sh * h + dh * i, sw * w + dw * j]
    check_close(f"im2col {x_shape}, kernel {kernel}, stride {stride}, padding {padding}, "
                f"dilation {dilation}", cols, expected.reshape(n, c * kernel[0] * kernel[1], ho * wo))


# --- 3.2 conv2d forward, backward, weight gradient -----------------------------------------

@pytest.mark.task3_2
@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", CASES, ids=IDS)
def test_conv2d_forward_and_gradients_equal_the_fast_twin(fast_neighbours, x_shape, w_shape,
                                                          stride, padding, dilation):
    x, w = random(*x_shape, seed=1), random(*w_shape, seed=2)
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    y, (gx, gw) = _grads(lambda a, b: tb.Conv2d.apply(a, b, **geometry), (x, w))
    y_fast, (gx_fast, gw_fast) = _grads(lambda a, b: F.conv2d(a, b, **geometry), (x, w))
    check_close("textbook conv2d forward", y, y_fast, 1e-10)
    check_close("textbook conv2d dL/dx", gx, gx_fast, 1e-10)
    check_close("textbook conv2d dL/dw", gw, gw_fast, 1e-10)


@pytest.mark.task3_2
def test_conv2d_weight_gradient_is_one_gemm_over_windows(fast_neighbours):
    x, gy = random(2, 3, 6, 6, seed=4), random(2, 4, 4, 4, seed=5)
    gw = tb.Conv2dWeightGrad.apply(x, gy, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0),
                                   dilation=(1, 1))
    expected = np.zeros((4, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            window = x.data[:, :, i:i + 4, j:j + 4]          # (N, C, Ho, Wo)
            expected[:, :, i, j] = np.einsum("nohw,nchw->oc", gy.data, window)
    check_close("Conv2dWeightGrad: gw[o, c, i, j] = sum gy[n, o, h, w] x[n, c, h + i, w + j]",
                gw, expected)


@pytest.mark.task3_2
def test_conv2d_double_backward_equals_the_fast_twin(fast_neighbours):
    x, w = random(2, 2, 6, 6, seed=6), random(3, 2, 3, 3, seed=7)

    def gradient_norm(f):
        y = f(x, w)
        (gx,) = mg.grad((y * y).sum(), x, create_graph=True)
        return mg.grad((gx * gx).sum(), [x, w])

    mine = gradient_norm(lambda a, b: tb.Conv2d.apply(a, b, stride=(2, 2), padding=(1, 1),
                                                      dilation=(1, 1)))
    theirs = gradient_norm(lambda a, b: F.conv2d(a, b, stride=2, padding=1))
    for name, a, b in zip(("dx", "dw"), mine, theirs):
        check_close(f"textbook conv2d double backward {name}", a, b, 1e-9)


# --- 3.3 conv_transpose2d ----------------------------------------------------------------------

TRANSPOSE_CASES = [
    ((2, 3, 4, 4), (3, 2, 3, 3), (1, 1), (0, 0), (0, 0), (1, 1)),
    ((2, 4, 7, 7), (4, 2, 4, 4), (2, 2), (1, 1), (0, 0), (1, 1)),    # the DCGAN generator's layer
    ((1, 2, 3, 4), (2, 3, 3, 2), (2, 3), (1, 0), (1, 2), (1, 1)),
    ((1, 2, 4, 3), (2, 2, 2, 3), (1, 1), (0, 1), (0, 0), (2, 2)),
]


@pytest.mark.task3_3
@pytest.mark.parametrize("x_shape,w_shape,stride,padding,output_padding,dilation",
                         TRANSPOSE_CASES, ids=["3x3", "dcgan-4x4-s2", "output-padding", "dilated"])
def test_conv_transpose2d_forward_and_gradients_equal_the_fast_twin(
        fast_conv, x_shape, w_shape, stride, padding, output_padding, dilation):
    x, w = random(*x_shape, seed=8), random(*w_shape, seed=9)
    geometry = dict(stride=stride, padding=padding, output_padding=output_padding,
                    dilation=dilation)
    y, (gx, gw) = _grads(lambda a, b: tb.ConvTranspose2d.apply(a, b, **geometry), (x, w))
    y_fast, (gx_fast, gw_fast) = _grads(lambda a, b: F.conv_transpose2d(a, b, **geometry), (x, w))
    check_close("textbook conv_transpose2d forward", y, y_fast, 1e-10)
    check_close("textbook conv_transpose2d dL/dx", gx, gx_fast, 1e-10)
    check_close("textbook conv_transpose2d dL/dw", gw, gw_fast, 1e-10)


@pytest.mark.task3_3
def test_conv_transpose2d_is_the_adjoint_of_conv2d(fast_conv):
    # <conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for every x, y
    x, w = random(2, 3, 8, 8, seed=10), random(4, 3, 4, 4, seed=11)
    y = random(2, 4, 4, 4, seed=12)
    left = float((F.conv2d(x, w, stride=2, padding=1).numpy() * y.numpy()).sum())
    right_t = tb.ConvTranspose2d.apply(y, w, stride=(2, 2), padding=(1, 1), output_padding=(0, 0),
                                       dilation=(1, 1))
    check_close("<conv2d(x, w), y> = <x, conv_transpose2d(y, w)>",
                float((x.numpy() * right_t.numpy()).sum()), left, 1e-10)


@pytest.mark.task3_3
def test_col2im_adds_overlapping_windows_back():
    # a 3x3 image, 2x2 kernel, stride 1: the centre pixel is in all four windows
    cols = np.ones((1, 4, 4))                    # (N, C*kh*kw, Ho*Wo), every entry 1
    image = tb.col2im(cols, (3, 3), (2, 2), (2, 2), (1, 1), (0, 0), (1, 1))
    check_close("col2im of ones: how many windows cover each pixel", image,
                np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=float))

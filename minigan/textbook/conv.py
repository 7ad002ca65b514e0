"""Convolution as lesson 3 derives it: im2col, one matrix product, and its adjoint.

Shapes are PyTorch's (NCHW), with s = stride, p = padding, d = dilation:

    x: (N, C, H, W)    w: (C_out, C, kh, kw)    y: (N, C_out, Ho, Wo)
    Ho = floor((H + 2p - d (kh - 1) - 1) / s) + 1          (the same for Wo)

    y[n, o, h, w] = sum_{c, i, j} w[o, c, i, j] * x_pad[n, c, s h + d i, s w + d j]

im2col copies every window of the padded image into one column,

    cols[n, (c, i, j), (h, w)] = x_pad[n, c, s h + d i, s w + d j]      (N, C kh kw, Ho Wo)

and the convolution becomes one matrix product for every image:

    y[n] = W @ cols[n]          W: w as a (C_out, C kh kw) matrix

Its gradients are convolutions again, so the three Functions below are each
other's backward (and double backward needs no extra code):

    dL/dx = col2im(W^T @ dL/dy[n])  = conv_transpose2d(dL/dy, w)
    dL/dw = sum_n dL/dy[n] @ cols[n]^T                          (Conv2dWeightGrad)

The fast twin is minigan/functional/conv.py (batch-last memory, strided views).
"""
from ..autograd import Function
from ..backend import get_array_module
from ..functional.conv import (check_conv2d_arguments, check_conv_transpose2d_arguments,
                               conv_output_size, conv_transpose_output_size)

__all__ = ["conv2d", "conv_transpose2d", "im2col", "col2im", "Conv2d", "ConvTranspose2d",
           "Conv2dWeightGrad"]


def pad(x, padding, value=0.0):
    """x: (N, C, H, W) -> (N, C, H + 2 ph, W + 2 pw), `value` all around the image."""
    xp = get_array_module(x)
    (ph, pw), (n, c, h, w) = padding, x.shape
    x_pad = xp.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    x_pad[:, :, ph:ph + h, pw:pw + w] = x
    return x_pad


def im2col(x, kernel_size, output_size, stride, padding, dilation):
    """Every kernel window of x, as one column.

    x: (N, C, H, W) -> cols: (N, C*kh*kw, Ho*Wo), with (Ho, Wo) = output_size and
        cols[n, (c, i, j), (h, w)] = x_pad[n, c, s*h + d*i, s*w + d*j].
    A loop over the kh*kw kernel offsets: offset (i, j) of all Ho*Wo windows at once is
    one strided slice of x_pad, starting at (d*i, d*j) and stepping by the stride.
    """
    # BEGIN TASK 3.1
    xp = get_array_module(x)
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel_size, output_size, stride, dilation
    n, c = x.shape[:2]
    x_pad = pad(x, padding)
    cols = xp.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            top, left = dh * i, dw * j
            cols[:, :, i, j] = x_pad[:, :, top:top + sh * (ho - 1) + 1:sh,
                                     left:left + sw * (wo - 1) + 1:sw]
    return cols.reshape(n, c * kh * kw, ho * wo)
    # END TASK 3.1


def col2im(cols, image_size, kernel_size, output_size, stride, padding, dilation):
    """The adjoint of im2col: every column entry is added back onto the pixel it came from.

    cols: (N, C*kh*kw, Ho*Wo) -> x: (N, C, H, W), with (H, W) = image_size and
        x_pad[n, c, s*h + d*i, s*w + d*j] += cols[n, (c, i, j), (h, w)]
    before the padding is cut off. Windows overlap, so a pixel collects several
    entries; the windows of one offset (i, j) do not, so each offset is one slice +=.
    """
    # BEGIN TASK 3.3
    xp = get_array_module(cols)
    (h, w), (kh, kw), (ho, wo) = image_size, kernel_size, output_size
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    cols = cols.reshape(n, c, kh, kw, ho, wo)
    x_pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            top, left = dh * i, dw * j
            x_pad[:, :, top:top + sh * (ho - 1) + 1:sh,
                  left:left + sw * (wo - 1) + 1:sw] += cols[:, :, i, j]
    return x_pad[:, :, ph:ph + h, pw:pw + w]
    # END TASK 3.3


class Conv2d(Function):
    """y = conv2d(x, w):
        y[n, o, h, w] = sum_{c, i, j} w[o, c, i, j] x_pad[n, c, s h + d i, s w + d j]

    x: (N, C, H, W), w: (C_out, C, kh, kw) -> y: (N, C_out, Ho, Wo).
    forward:   y[n] = W @ im2col(x)[n],  W = w as a (C_out, C*kh*kw) matrix
    backward:  dL/dx = conv_transpose2d(g, w)      (the output_padding that gives x's H, W)
               dL/dw = Conv2dWeightGrad(x, g)
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding, dilation):
        # BEGIN TASK 3.2
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation)
        n = x.shape[0]
        c_out, c, kh, kw = w.shape
        ho, wo = conv_output_size(x.shape[2:], (kh, kw), stride, padding, dilation)
        cols = im2col(x, (kh, kw), (ho, wo), stride, padding, dilation)  # (N, C*kh*kw, Ho*Wo)
        y = w.reshape(c_out, c * kh * kw) @ cols                          # (N, C_out, Ho*Wo)
        return y.reshape(n, c_out, ho, wo)
        # END TASK 3.2

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs
        # BEGIN TASK 3.2
        gx = gw = None  # only the gradients asked for (a network's images need none)
        if ctx.needs_input_grad[0]:
            gx = conv2d_input_grad(g, w, x.shape[2:], **ctx.geometry)
        if ctx.needs_input_grad[1]:
            gw = Conv2dWeightGrad.apply(x, g, kernel_size=w.shape[2:], **ctx.geometry)
        return gx, gw
        # END TASK 3.2


def conv2d_input_grad(g, w, image_size, stride, padding, dilation):
    """dL/dx of y = conv2d(x, w) for g = dL/dy: conv_transpose2d(g, w). Several image
    sizes H give the same Ho (the last rows may fit no window), so output_padding
    tells the transpose which one x had: H minus the size it reaches without it."""
    reached = conv_transpose_output_size(g.shape[2:], w.shape[2:], stride, padding, (0, 0),
                                         dilation)
    output_padding = tuple(size - r for size, r in zip(image_size, reached))
    return ConvTranspose2d.apply(g, w, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation)


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w): conv2d's input gradient, run forward as an upsampling.

    x: (N, C_in, H, W), w: (C_in, C_out, kh, kw) -> y: (N, C_out, Ho, Wo),
        Ho = (H - 1) s - 2p + d (kh - 1) + output_padding + 1.
    forward:   y = col2im(W^T @ x[n]),  W = w as a (C_in, C_out*kh*kw) matrix
               (conv2d's backward for dL/dx, with x in the place of dL/dy)
    backward:  dL/dx = conv2d(g, w)                  (its first H x W positions)
               dL/dw = Conv2dWeightGrad(g, x)        (g plays conv2d's input, x dL/dy)
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding, output_padding, dilation):
        # BEGIN TASK 3.3
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation)
        n, _, h, wd = x.shape
        c_in, c_out, kh, kw = w.shape
        size = conv_transpose_output_size((h, wd), (kh, kw), stride, padding, output_padding,
                                          dilation)
        cols = w.reshape(c_in, c_out * kh * kw).T @ x.reshape(n, c_in, h * wd)
        return col2im(cols, size, (kh, kw), (h, wd), stride, padding, dilation)
        # END TASK 3.3

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs
        # BEGIN TASK 3.3
        h, wd = x.shape[2:]
        gx = gw = None
        if ctx.needs_input_grad[0]:
            # with output_padding >= stride, conv2d finds more window positions than x had
            gx = Conv2d.apply(g, w, **ctx.geometry)[:, :, :h, :wd]
        if ctx.needs_input_grad[1]:
            gw = Conv2dWeightGrad.apply(g, x, kernel_size=w.shape[2:], **ctx.geometry)
        return gx, gw
        # END TASK 3.3


class Conv2dWeightGrad(Function):
    """gw = dL/dw of y = conv2d(x, w), given x and gy = dL/dy:

        gw[o, c, i, j] = sum_{n, h, w} gy[n, o, h, w] x_pad[n, c, s h + d i, s w + d j]
        as one matrix product:  gw = sum_n gy[n] @ im2col(x)[n]^T

    x: (N, C, H, W), gy: (N, C_out, Ho, Wo) -> gw: (C_out, C, kh, kw).
    gw is linear in x and in gy; with g = dL/dgw:
        dL/dx  = conv_transpose2d(gy, g)     (the output_padding that gives x's H, W)
        dL/dgy = conv2d(x, g)                (its first Ho x Wo positions)
    """

    @staticmethod
    def forward(ctx, x, gy, kernel_size, stride, padding, dilation):
        # BEGIN TASK 3.2
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation)
        xp = get_array_module(x)
        c = x.shape[1]
        n, c_out, ho, wo = gy.shape
        cols = im2col(x, kernel_size, (ho, wo), stride, padding, dilation)  # (N, C*kh*kw, Ho*Wo)
        # sum over the images n and the window positions (h, w): one GEMM
        gw = xp.tensordot(gy.reshape(n, c_out, ho * wo), cols, axes=([0, 2], [0, 2]))
        return gw.reshape(c_out, c, *kernel_size)
        # END TASK 3.2

    @staticmethod
    def backward(ctx, g):
        x, gy = ctx.inputs
        ho, wo = gy.shape[2:]
        gx = ggy = None
        if ctx.needs_input_grad[0]:
            gx = conv2d_input_grad(gy, g, x.shape[2:], **ctx.geometry)
        if ctx.needs_input_grad[1]:
            ggy = Conv2d.apply(x, g, **ctx.geometry)[:, :, :ho, :wo]
        return gx, ggy


# --- what users call (and F.conv2d / F.conv_transpose2d under mg.textbook()) -----------

def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution, as F.conv2d (PyTorch's torch.nn.functional.conv2d).

    x: (N, C, H, W), weight: (C_out, C, kh, kw), bias: (C_out,) or None
    -> (N, C_out, Ho, Wo),  Ho = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1.
    """
    stride, padding, dilation = check_conv2d_arguments(x, weight, bias, stride, padding,
                                                       dilation)
    y = Conv2d.apply(x, weight, stride=stride, padding=padding, dilation=dilation)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed convolution, as F.conv_transpose2d.

    x: (N, C_in, H, W), weight: (C_in, C_out, kh, kw), bias: (C_out,) or None
    -> (N, C_out, Ho, Wo),  Ho = (H - 1) stride - 2 padding + dilation (kh - 1)
                                 + output_padding + 1.
    """
    stride, padding, output_padding, dilation = check_conv_transpose2d_arguments(
        x, weight, bias, stride, padding, output_padding, dilation)
    y = ConvTranspose2d.apply(x, weight, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)

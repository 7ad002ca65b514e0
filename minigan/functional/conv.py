"""Convolutions: conv2d, conv_transpose2d and conv2d's weight gradient.

The three are each other's gradients (as in Chainer), so every backward is one
of the three and double backward (WGAN-GP's gradient penalty) comes for free:

    op                        dL/d(first input)                 dL/d(second input)
    y = Conv2d(x, w)          ConvTranspose2d(g, w)             Conv2dWeightGrad(x, g)
    y = ConvTranspose2d(x, w) Conv2d(g, w)                      Conv2dWeightGrad(g, x)
    w = Conv2dWeightGrad(x, gy)  ConvTranspose2d(gy, g)         Conv2d(x, g)

All three are one matrix product each (a GEMM) over the image's windows:

    im2col  copies every kernel window of the (padded) image into one column
            of a matrix, cols[(c, i, j), (h, w, n)] = x_pad[n, c, s*h + d*i, s*w + d*j];
    col2im  is its adjoint: it adds each column entry back onto the pixel it
            came from (a short loop over the kernel offsets, one strided slice each).

    conv2d            y    = W (C_out, C*kh*kw) @ im2col(x)
    conv_transpose2d  y    = col2im(W^T @ x)
    weight gradient   dL/dw = gy (C_out, Ho*Wo*N) @ im2col(x)^T

Each of these products is one `xp.matmul` call, so that benchmarks/bench_floor.py
can count and time a training step's GEMMs apart from everything around them.

Why batch-last: inside these ops an image is kept as (C, H, W, N), batch axis
innermost in memory. Then every window copy in im2col and every slice add in
col2im moves runs of N contiguous numbers, the GEMM operands need no transposed
copies (W's own (C_out, C, kh, kw) layout is the matrix), and the GEMM's result
(C_out, Ho*Wo*N) already is the output. Outputs are handed back as (N, C, H, W)
views of that memory (`x.transpose(3, 0, 1, 2)`), so no copy is made to return
them; the next convolution finds its input already batch-last.

Split by channel: im2col's copy and col2im's adds treat every channel on its own,
so on the numpy backend both run as one piece per thread over blocks of channels
(minigan/_threads.py), while OpenBLAS threads the GEMMs between them. Every number
is moved or added exactly as in one piece, so the results are bit-identical.
"""
import numbers

from .. import _threads
from ..autograd import Function
from ..backend import backend_of
from ..backend import get_array_module as _xp
from . import _twins
from .bias import add_bias
from .shape import getitem

__all__ = ["conv2d", "conv_transpose2d"]


# --- the two data movements: im2col and its adjoint col2im ---------------------------

def _batch_last(x):
    """(N, C, H, W) -> a (C, H, W, N) view (no copy; its memory may be anything)."""
    return x.transpose(1, 2, 3, 0)


def _batch_first(x):
    """(C, H, W, N) -> an (N, C, H, W) view (no copy)."""
    return x.transpose(3, 0, 1, 2)


def _window_span(offset, grid, size, stride, padding, dilation):
    """Along one axis, which window positions put kernel offset `offset` on a real
    pixel rather than on the padding: the positions h in [first, stop) have their
    pixel s*h + d*offset - p inside [0, size); `pixel` is the first one's.
    Returns (first, stop, pixel), first == stop when every position is padding."""
    start = dilation * offset - padding  # the pixel of window position 0 (maybe < 0)
    first = max(0, -(start // stride))  # the first h with start + s*h >= 0
    stop = max(first, min(grid, (size - 1 - start) // stride + 1))
    return first, stop, start + stride * first


def _spans(kernel_size, grid_size, image_size, stride, padding, dilation):
    """_window_span for every kernel offset along H and along W."""
    return [[_window_span(k, *geometry) for k in range(kernel)]
            for kernel, geometry in zip(kernel_size, zip(grid_size, image_size, stride,
                                                         padding, dilation))]


def _im2col(x, kernel_size, grid_size, stride, padding, dilation):
    """Every kernel window of x, one per column.

    x: (C, H, W, N), any memory layout.  Returns cols: (C*kh*kw, Ho*Wo*N), with
        cols[(c, i, j), (h, w, n)] = x_pad[c, s*h + d*i, s*w + d*j, n]
    where x_pad is x with `padding` zeros around H and W, and (Ho, Wo) = grid_size
    is the number of window positions along H and W.

    On NumPy the padded image is never built: for each kernel offset (i, j), the
    window positions that land on real pixels get one strided copy of x, and the few
    that land on the padding (a border of rows and columns of that offset's grid)
    are set to zero. So x is read once per offset and cols written once, with no
    padded copy of x in between. On a GPU (and the strict backend, its stand-in)
    that would be one kernel launch per offset and border, some 40 for a 4x4
    kernel, so there x is padded once and every window copied by one strided view
    (_im2col_padded): three kernels.
    """
    if backend_of(x).name != "numpy":
        return _im2col_padded(x, kernel_size, grid_size, stride, padding, dilation)
    xp = _xp(x)
    (kh, kw), (ho, wo), (sh, sw) = kernel_size, grid_size, stride
    c, h, w, n = x.shape
    rows, columns = _spans(kernel_size, grid_size, (h, w), stride, padding, dilation)
    cols = xp.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)

    def copy_channels(start, stop):  # channels [start, stop), every offset in order
        source = x[start:stop]
        if not source.flags.c_contiguous:  # so that each copy moves runs of N numbers
            source = xp.ascontiguousarray(source)
        for i, (h0, h1, r) in enumerate(rows):
            for j, (w0, w1, q) in enumerate(columns):
                out = cols[start:stop, i, j]  # (C, Ho, Wo, N)
                if h0 == h1 or w0 == w1:  # this offset only ever sees padding
                    out[...] = 0
                    continue
                out[:, h0:h1, w0:w1] = source[:, r:r + sh * (h1 - h0 - 1) + 1:sh,
                                              q:q + sw * (w1 - w0 - 1) + 1:sw]
                if h0 > 0:  # the positions on the padding around the image
                    out[:, :h0] = 0
                if h1 < ho:
                    out[:, h1:] = 0
                if w0 > 0:
                    out[:, h0:h1, :w0] = 0
                if w1 < wo:
                    out[:, h0:h1, w1:] = 0

    _threads.split(copy_channels, c, cols)
    return cols.reshape(c * kh * kw, ho * wo * n)


def _im2col_padded(x, kernel_size, grid_size, stride, padding, dilation):
    """_im2col's numbers in three array operations: x copied into a zero-padded image,
    then every window at once through one strided view of it (no copy until the
    last): windows[c, i, j, h, w, n] = x_pad[c, s*h + d*i, s*w + d*j, n]."""
    xp = _xp(x)
    (kh, kw), (ho, wo), (sh, sw), (ph, pw), (dh, dw) = (
        kernel_size, grid_size, stride, padding, dilation)
    c, h, w, n = x.shape
    padded = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)
    padded[:, ph:ph + h, pw:pw + w, :] = x
    step_c, step_h, step_w, step_n = padded.strides
    windows = xp.lib.stride_tricks.as_strided(
        padded, shape=(c, kh, kw, ho, wo, n),
        strides=(step_c, dh * step_h, dw * step_w, sh * step_h, sw * step_w, step_n))
    return xp.ascontiguousarray(windows).reshape(c * kh * kw, ho * wo * n)


def _col2im(cols, image_size, kernel_size, stride, padding, dilation):
    """The adjoint of `_im2col`: add every column entry back onto its pixel.

    cols: (C, kh, kw, Ho, Wo, N), overwritten.  Returns (C, H, W, N), C-contiguous,
    with (H, W) = image_size, summing the kh*kw windows that overlap each pixel:
        x_pad[c, s*h + d*i, s*w + d*j, n] += cols[c, i, j, h, w, n]
    with the entries that fall on the padding dropped. A loop over the kernel
    offsets, each a strided slice `+=` (no scatter-add: the windows of one offset
    never overlap).

    The trick: with stride s, kernel offset i only reaches the image rows r with
    r = d*i - p (mod s), one of s "phases" of the rows (likewise the columns). Most
    offsets of a phase reach every row of it (for the GANs' 4x4 stride-2 layers two
    of each phase's four do). The phase's sums are built in such a covering
    offset's own entries of cols, the others added onto them, and then copied into
    the image's phase once: cols's entries of one offset are contiguous runs of
    (Wo * N) numbers, where a phase of the image is runs of N numbers, one every
    s*N, so each add runs some 7x fewer, longer inner loops (a col2im of the DCGAN's
    128 -> 64 layer, 6.3 -> 4.6 ms on one thread, 3.2 -> 2.6 on two). So cols is
    overwritten (its only caller owns it: its GEMM's result); the image is never
    zero-filled first (only a phase that no offset covers whole), no padded image is
    made and cut, and the result is contiguous for the ops after it. Each pixel's sum
    starts with a covering offset, then adds the others in order.
    """
    xp = _xp(cols)
    (h, w), (sh, sw) = image_size, stride
    c, kh, kw, ho, wo, n = cols.shape
    rows, columns = _spans(kernel_size, (ho, wo), image_size, stride, padding, dilation)
    image = xp.empty((c, h, w, n), dtype=cols.dtype)
    phases = {(a, b): [] for a in range(min(sh, h)) for b in range(min(sw, w))}
    for i, (h0, h1, r) in enumerate(rows):
        for j, (w0, w1, q) in enumerate(columns):
            if h0 < h1 and w0 < w1:
                phases[r % sh, q % sw].append((i, j))

    def covers(i, j, a, b):  # offset (i, j) reaches every pixel of phase (a, b)
        (h0, h1, r), (w0, w1, q) = rows[i], columns[j]
        return r == a and q == b and h1 - h0 == len(range(a, h, sh)) \
            and w1 - w0 == len(range(b, w, sw))

    plan = []  # (phase, the offset copied first or None, the offsets added after)
    for (a, b), offsets in phases.items():
        first = next((o for o in offsets if covers(*o, a, b)), None)
        plan.append(((a, b), first, [o for o in offsets if o != first]))

    def pixels(start, stop, i, j):  # the image pixels offset (i, j) reaches, and its entries
        (h0, h1, r), (w0, w1, q) = rows[i], columns[j]
        return (image[start:stop, r:r + sh * (h1 - h0 - 1) + 1:sh,
                      q:q + sw * (w1 - w0 - 1) + 1:sw],
                cols[start:stop, i, j, h0:h1, w0:w1])

    def add_channels(start, stop):  # channels [start, stop), every phase in turn
        for (a, b), first, rest in plan:
            if first is None:  # no offset covers the phase: its pixels start at zero
                image[start:stop, a::sh, b::sw] = 0
                for i, j in rest:
                    target, entries = pixels(start, stop, i, j)
                    target += entries
                continue
            # the phase's sums build up in the covering offset's own entries (their
            # runs are contiguous, the image's phase is not), then go to the image once
            (h0, h1, _), (w0, w1, _) = rows[first[0]], columns[first[1]]
            sums = cols[start:stop, first[0], first[1], h0:h1, w0:w1]
            for i, j in rest:
                (g0, g1, r), (v0, v1, q) = rows[i], columns[j]
                top, left = (r - a) // sh, (q - b) // sw  # its first pixel in the phase
                sums[:, top:top + g1 - g0, left:left + v1 - v0] += \
                    cols[start:stop, i, j, g0:g1, v0:v1]
            image[start:stop, a::sh, b::sw] = sums

    _threads.split(add_channels, c, cols)
    return image


# Conv2d keeps the windows its forward read for the weight gradient when they take at
# most this many bytes per sample of the batch (a property of the layer, the same at any
# batch size). Measured (README, Performance, round 4): the MNIST GANs' layers (196 KiB
# and less per sample) save 5-6% of a step that way; the 64x64 DCGAN's D layers after
# the first (256 KiB to 1 MiB per sample) saved nothing measurable of its GEMM-bound
# step and would lift its peak by ~150 MiB (two D forwards' windows live at once).
KEEP_WINDOWS_PER_SAMPLE = 200 << 10


# --- the three Functions -------------------------------------------------------------

class Conv2d(Function):
    """y[n, o, h, w] = sum_{c, i, j} w[o, c, i, j] * x_pad[n, c, s*h + d*i, s*w + d*j]

    x: (N, C, H, W), w: (C_out, C, kh, kw) -> y: (N, C_out, Ho, Wo).
    dL/dx = conv_transpose2d(g, w)  (same stride, padding, dilation; output_padding
            chosen so that the result has x's shape)
    dL/dw = Conv2dWeightGrad(x, g)
    cols: im2col(x), when the caller has it already (it is the costly copy).

    What it keeps for backward: x (the graph holds it anyway) and, when w's gradient
    is wanted and they take at most KEEP_WINDOWS_PER_SAMPLE bytes per sample, the
    windows im2col(x) that the forward product read, so that dL/dw reads them again
    instead of copying every window a second time (larger ones are made again). They are the
    biggest array a step keeps (kh*kw/s**2 times x, 4x for the GANs' 4x4 stride-2
    layers), so backward frees them as soon as dL/dw has used them, before dL/dx's
    product makes its own temporary of the same size (unless the graph is retained).
    The trade, measured (README, Performance): 5-6% of a DCGAN or CGAN step for a
    peak about 20-30% higher, still below PyTorch's.
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding, dilation, cols=None):
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation)
        c_out, c, kh, kw = w.shape
        n, _, h, wd = x.shape
        ho, wo = conv_output_size((h, wd), (kh, kw), stride, padding, dilation)
        if cols is None:  # a batch of images is copied into batch-last order once
            cols = _im2col(_batch_last_input(ctx, x, keep=False), (kh, kw), (ho, wo),
                           stride, padding, dilation)
            if ctx.needs_input_grad[1] and cols.nbytes <= KEEP_WINDOWS_PER_SAMPLE * n:
                ctx.cols = cols  # for dL/dw (docstring)
        y = _xp(w).matmul(w.reshape(c_out, c * kh * kw), cols)  # (C_out, Ho*Wo*N)
        return _batch_first(y.reshape(c_out, ho, wo, n))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs
        g = _batch_last_memory(g)  # one copy here, not one in each product below
        gw = Conv2dWeightGrad.apply(x, g, kernel_size=w.shape[2:],
                                    cols=getattr(ctx, "cols", None), **ctx.geometry) \
            if ctx.needs_input_grad[1] else None
        if not getattr(ctx, "retain_graph", True):  # the windows go before dL/dx's
            ctx.__dict__.pop("cols", None)          # product makes its own
        gx = _transpose_fitting(g, w, x.shape, **ctx.geometry) \
            if ctx.needs_input_grad[0] else None
        return gx, gw


class ConvTranspose2d(Function):
    """y = the adjoint of conv2d(., w) applied to x: every input pixel adds
    x[n, c, h, w] * w[c, o, i, j] onto y_pad[n, o, s*h + d*i, s*w + d*j].

    x: (N, C_in, H, W), w: (C_in, C_out, kh, kw) -> y: (N, C_out, Ho, Wo) with
        Ho = (H - 1)*s - 2p + d*(kh - 1) + output_padding + 1   (same for Wo).
    dL/dx = conv2d(g, w)                       (same stride, padding, dilation)
    dL/dw = Conv2dWeightGrad(g, x)             (roles swapped: g is the "input")
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding, output_padding, dilation):
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation)
        c_in, c_out, kh, kw = w.shape
        n, _, h, wd = x.shape
        size = conv_transpose_output_size((h, wd), (kh, kw), stride, padding,
                                          output_padding, dilation)
        # G's reshaped linear output, in (N, C, H, W) memory, is copied here once
        x_matrix = _batch_last_input(ctx, x, keep=ctx.needs_input_grad[1]).reshape(
            c_in, h * wd * n)
        w_matrix = w.reshape(c_in, c_out * kh * kw).T
        cols = _xp(w).matmul(w_matrix, x_matrix)  # (C_out*kh*kw, H*W*N)
        y = _col2im(cols.reshape(c_out, kh, kw, h, wd, n), size, (kh, kw),
                    stride, padding, dilation)
        return _batch_first(y)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs
        kernel_size = w.shape[2:]
        grid = conv_output_size(g.shape[2:], kernel_size, **ctx.geometry)
        cols = None
        if all(ctx.needs_input_grad) and grid == x.shape[2:]:  # both products window g
            cols = _im2col(_batch_last(g.data), kernel_size, grid, **ctx.geometry)
        gx = _crop(Conv2d.apply(g, w, cols=cols, **ctx.geometry), x.shape) \
            if ctx.needs_input_grad[0] else None
        gw = Conv2dWeightGrad.apply(g, x, kernel_size=kernel_size, cols=cols,
                                    gy_batch_last=getattr(ctx, "x_batch_last", None),
                                    **ctx.geometry) if ctx.needs_input_grad[1] else None
        return gx, gw


class Conv2dWeightGrad(Function):
    """dL/dw of y = conv2d(x, w), given x and gy = dL/dy:

        gw[o, c, i, j] = sum_{n, h, w} gy[n, o, h, w] * x_pad[n, c, s*h + d*i, s*w + d*j]

    x: (N, C, H, W), gy: (N, C_out, Ho, Wo) -> gw: (C_out, C, kh, kw).
    It is linear in x and in gy, so with g = dL/d(gw):
    dL/dx  = conv_transpose2d(gy, g)  (output_padding chosen to give x's shape)
    dL/dgy = conv2d(x, g)
    cols: im2col(x), when the caller has it already; gy_batch_last: gy's numbers in
    batch-last memory, when the caller has them (ConvTranspose2d's forward copied its
    input, this product's gy, so).
    """

    @staticmethod
    def forward(ctx, x, gy, kernel_size, stride, padding, dilation, cols=None,
                gy_batch_last=None):
        ctx.geometry = dict(stride=stride, padding=padding, dilation=dilation)
        c = x.shape[1]
        n, c_out, ho, wo = gy.shape
        if cols is None:
            cols = _im2col(_batch_last(x), kernel_size, (ho, wo), stride, padding, dilation)
        if gy_batch_last is None:
            gy_batch_last = _batch_last(gy)
        gy_matrix = gy_batch_last.reshape(c_out, ho * wo * n)  # a copy unless batch-last
        # A GEMM with a long inner dimension: OpenBLAS's threads share its output's rows,
        # so the longer of C*kh*kw and C_out goes first (else it can be many times slower).
        if cols.shape[0] > c_out:
            gw = _xp(cols).matmul(cols, gy_matrix.T).T  # gw^T = cols @ gy^T
            gw = _xp(gw).ascontiguousarray(gw)
        else:
            gw = _xp(cols).matmul(gy_matrix, cols.T)
        return gw.reshape(c_out, c, *kernel_size)

    @staticmethod
    def backward(ctx, g):
        x, gy = ctx.inputs
        gx = _transpose_fitting(gy, g, x.shape, **ctx.geometry) \
            if ctx.needs_input_grad[0] else None
        ggy = _crop(Conv2d.apply(x, g, **ctx.geometry), gy.shape) \
            if ctx.needs_input_grad[1] else None
        return gx, ggy


class BatchLastCopy(Function):
    """y = x, its numbers copied into batch-last memory ((C, H, W, N) order).
    Only the layout changes, not a value, so dL/dx = g."""

    @staticmethod
    def forward(ctx, x):
        return _batch_first(_xp(x).ascontiguousarray(_batch_last(x)))

    @staticmethod
    def backward(ctx, g):
        return g


def _batch_last_input(ctx, x, keep):
    """x (N, C, H, W) as a C-contiguous (C, H, W, N) array, for a convolution's forward.

    x itself when its memory is batch-last already (a convolution's output); else a
    copy into that order, by blocks of channels on several threads (a copy is a copy:
    same bits), kept as ctx.x_batch_last when `keep` (the op's weight gradient will
    read x again), so that backward does not transpose it a second time."""
    source = _batch_last(x)
    if source.flags.c_contiguous:
        return source
    copy = _xp(x).empty(source.shape, dtype=x.dtype)

    def copy_channels(start, stop):
        copy[start:stop] = source[start:stop]

    _threads.split(copy_channels, source.shape[0], copy)
    if keep:
        ctx.x_batch_last = copy
    return copy


def _batch_last_memory(t):
    """t itself if its memory is batch-last already, else a batch-last copy of it."""
    return t if _batch_last(t.data).flags.c_contiguous else BatchLastCopy.apply(t)


def _transpose_fitting(g, w, shape, stride, padding, dilation):
    """conv_transpose2d(g, w) with the output_padding that makes its output `shape`:
    conv2d maps several input sizes to one output size, the gradient must pick x's."""
    kernel_size = w.shape[2:]
    covered = conv_transpose_output_size(g.shape[2:], kernel_size, stride, padding,
                                         (0, 0), dilation)
    output_padding = (shape[2] - covered[0], shape[3] - covered[1])
    return ConvTranspose2d.apply(g, w, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation)


def _crop(t, shape):
    """t's first rows and columns, to `shape`: conv2d of a conv_transpose2d output made
    with output_padding >= stride has more positions than the transpose had inputs."""
    if t.shape == tuple(shape):
        return t
    return getitem(t, (slice(None), slice(None), slice(0, shape[2]), slice(0, shape[3])))


# --- output sizes ---------------------------------------------------------------------

def conv_output_size(image_size, kernel_size, stride, padding, dilation):
    """conv2d's output (Ho, Wo):  Ho = floor((H + 2p - d*(kh - 1) - 1) / s) + 1."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                 zip(image_size, kernel_size, stride, padding, dilation))


def conv_transpose_output_size(image_size, kernel_size, stride, padding, output_padding,
                               dilation):
    """conv_transpose2d's output (Ho, Wo):  Ho = (H - 1)*s - 2p + d*(kh - 1) + op + 1."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, op, d in
                 zip(image_size, kernel_size, stride, padding, output_padding, dilation))


# --- what users call ---------------------------------------------------------------------

def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation, as in PyTorch) of a batch of images.

    x: (N, C, H, W), weight: (C_out, C, kh, kw), bias: (C_out,) or None
    -> (N, C_out, Ho, Wo) with
        Ho = floor((H + 2*padding - dilation*(kh - 1) - 1) / stride) + 1   (same for Wo).
    stride, padding, dilation: an int or an (H, W) pair.
    """
    textbook = _twins.twin("conv2d")
    if textbook is not None:  # under mg.textbook(): minigan/textbook/conv.py
        return textbook(x, weight, bias, stride, padding, dilation)
    stride, padding, dilation = check_conv2d_arguments(x, weight, bias, stride, padding,
                                                       dilation)
    y = Conv2d.apply(x, weight, stride=stride, padding=padding, dilation=dilation)
    return add_bias(y, bias, axis=1)  # in place into the fresh y (bias.py says why)


def check_conv2d_arguments(x, weight, bias, stride, padding, dilation):
    """conv2d's arguments checked (one clear error for bad ones); returns
    (stride, padding, dilation) as (H, W) pairs. Shared with the textbook twin."""
    stride, padding, dilation = _geometry("conv2d", stride, padding, dilation)
    _check_shapes("conv2d", x, weight, bias, in_axis=1, out_axis=0)
    size = conv_output_size(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    if min(size) <= 0:
        raise ValueError(
            f"conv2d: the output would be empty ({_shown(size)}): the input's "
            f"{x.shape[2]}x{x.shape[3]} pixels, padded by {padding}, are fewer than the "
            f"kernel's {_shown(_dilated(weight.shape[2:], dilation))} "
            f"(kernel {tuple(weight.shape[2:])}, dilation {dilation})")
    return stride, padding, dilation


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Transposed convolution ("deconvolution"): the gradient of conv2d w.r.t. its input,
    used as a learned upsampling.

    x: (N, C_in, H, W), weight: (C_in, C_out, kh, kw), bias: (C_out,) or None
    -> (N, C_out, Ho, Wo) with
        Ho = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1.
    output_padding (< stride or < dilation) picks among the sizes that conv2d with the
    same settings would map back to H.
    """
    textbook = _twins.twin("conv_transpose2d")
    if textbook is not None:  # under mg.textbook(): minigan/textbook/conv.py
        return textbook(x, weight, bias, stride, padding, output_padding, dilation)
    stride, padding, output_padding, dilation = check_conv_transpose2d_arguments(
        x, weight, bias, stride, padding, output_padding, dilation)
    y = ConvTranspose2d.apply(x, weight, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation)
    return add_bias(y, bias, axis=1)  # in place into the fresh y (bias.py says why)


def check_conv_transpose2d_arguments(x, weight, bias, stride, padding, output_padding,
                                     dilation):
    """conv_transpose2d's arguments checked; returns (stride, padding, output_padding,
    dilation) as (H, W) pairs. Shared with the textbook twin."""
    stride, padding, dilation = _geometry("conv_transpose2d", stride, padding, dilation)
    output_padding = int_pair("conv_transpose2d", "output_padding", output_padding, minimum=0)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"conv_transpose2d: output_padding must be smaller than either stride or "
            f"dilation, got output_padding={output_padding}, stride={stride}, "
            f"dilation={dilation}")
    _check_shapes("conv_transpose2d", x, weight, bias, in_axis=0, out_axis=1)
    size = conv_transpose_output_size(x.shape[2:], weight.shape[2:], stride, padding,
                                      output_padding, dilation)
    if min(size) <= 0:
        raise ValueError(
            f"conv_transpose2d: the output would be empty ({_shown(size)}): "
            f"padding {padding} cuts away more than the {x.shape[2]}x{x.shape[3]} input "
            f"spreads over (kernel {tuple(weight.shape[2:])}, stride {stride}, "
            f"dilation {dilation}, output_padding {output_padding})")
    return stride, padding, output_padding, dilation


def int_pair(op, name, value, minimum):
    """An int or an (H, W) pair of ints, each >= minimum, as a pair (also used by pool.py)."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in pair)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _geometry(op, stride, padding, dilation):
    return (int_pair(op, "stride", stride, minimum=1),
            int_pair(op, "padding", padding, minimum=0),
            int_pair(op, "dilation", dilation, minimum=1))


def _dilated(kernel_size, dilation):
    """The span of a dilated kernel: d*(k - 1) + 1 pixels."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))


def _shown(size):
    """(3, -1) -> '3x0': a size as people write it, negative sizes as empty."""
    return "x".join(str(max(n, 0)) for n in size)


def _check_shapes(op, x, weight, bias, in_axis, out_axis):
    """x must be (N, C, H, W) with C = weight.shape[in_axis]; bias (weight.shape[out_axis],)."""
    if weight.ndim != 4:
        layout = "(C_out, C_in, kh, kw)" if in_axis == 1 else "(C_in, C_out, kh, kw)"
        raise ValueError(f"{op}: expected a 4-D weight {layout}, got shape {weight.shape}")
    channels = weight.shape[in_axis]
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(
            f"{op}: expected input of shape (N, {channels}, H, W) for a weight of shape "
            f"{weight.shape}, got {x.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{op}: input and weight must have the same dtype, got {x.dtype} and {weight.dtype}")
    if bias is not None:
        if bias.shape != (weight.shape[out_axis],):
            raise ValueError(
                f"{op}: expected bias of shape ({weight.shape[out_axis]},) for a weight of "
                f"shape {weight.shape}, got {bias.shape}")
        if bias.dtype != weight.dtype:
            raise TypeError(
                f"{op}: bias and weight must have the same dtype, got {bias.dtype} and "
                f"{weight.dtype}")

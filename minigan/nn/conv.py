"""`Conv2d` and `ConvTranspose2d`: the layers around F.conv2d and F.conv_transpose2d.

Output sizes (per spatial dimension, k the kernel size):

    Conv2d:           out = floor((in + 2 padding - dilation (k - 1) - 1) / stride) + 1
    ConvTranspose2d:  out = (in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1
"""
from .. import functional as F
from .linear import _empty_parameter, _init_weight_and_bias
from .module import Module


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name}: expected an int or a pair of ints, got {value!r}")
    return value


def _check_unsupported(layer, groups, padding_mode):
    if groups != 1:
        raise ValueError(f"{layer}: groups={groups} is not supported (only groups=1)")
    if padding_mode != "zeros":
        raise ValueError(
            f"{layer}: padding_mode={padding_mode!r} is not supported (only 'zeros')")


class _ConvBase(Module):
    """What Conv2d and ConvTranspose2d share: hyper-parameters, init and repr."""

    def _setup(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
               output_padding, bias, weight_shape):
        name = type(self).__name__
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, f"{name} kernel_size")
        self.stride = _pair(stride, f"{name} stride")
        self.padding = _pair(padding, f"{name} padding")
        self.dilation = _pair(dilation, f"{name} dilation")
        self.output_padding = _pair(output_padding, f"{name} output_padding")
        self.groups = 1
        self.padding_mode = "zeros"
        self.weight = _empty_parameter(*weight_shape, *self.kernel_size)
        if bias:
            self.bias = _empty_parameter(out_channels)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        _init_weight_and_bias(self.weight, self.bias)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvBase):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    x: (N, in_channels, H, W) -> y: (N, out_channels, H_out, W_out)
    weight: (out_channels, in_channels, kh, kw), bias: (out_channels,), both drawn
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kh * kw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros"):
        super().__init__()
        _check_unsupported("Conv2d", groups, padding_mode)
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                    bias, (out_channels, in_channels))

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class ConvTranspose2d(_ConvBase):
    """2-D transposed convolution (the gradient of Conv2d with respect to its input),
    the generator's upsampling layer.

    x: (N, in_channels, H, W) -> y: (N, out_channels, H_out, W_out)
    weight: (in_channels, out_channels, kh, kw), bias: (out_channels,), both drawn
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in computed from the
    weight's dimension 1: fan_in = out_channels * kh * kw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros"):
        super().__init__()
        _check_unsupported("ConvTranspose2d", groups, padding_mode)
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation,
                    output_padding, bias, (in_channels, out_channels))

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.dilation)

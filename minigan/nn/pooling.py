"""`MaxPool2d` and `AvgPool2d`: the layers around F.max_pool2d and F.avg_pool2d.

x: (N, C, H, W) -> (N, C, H_out, W_out),
H_out = floor((H + 2 padding - kernel_size) / stride) + 1; stride defaults to kernel_size.

PyTorch's other options are accepted at their defaults only (so PyTorch code
passing them positionally still means the same), and refused otherwise.
"""
from .. import functional as F
from .module import Module


def _refuse_unless_default(layer, **options):
    for name, (value, default) in options.items():
        if value != default:
            raise ValueError(f"{layer}: {name}={value!r} is not supported (only {default!r})")


class MaxPool2d(Module):
    """The largest value of each kernel_size window (the gradient goes to it)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        _refuse_unless_default("MaxPool2d", dilation=(dilation, 1),
                               return_indices=(return_indices, False),
                               ceil_mode=(ceil_mode, False))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.ceil_mode = ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean of each kernel_size window, padding counted as zeros
    (the gradient is spread evenly over the window)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        _refuse_unless_default("AvgPool2d", ceil_mode=(ceil_mode, False),
                               count_include_pad=(count_include_pad, True),
                               divisor_override=(divisor_override, None))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

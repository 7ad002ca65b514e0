"""`Upsample`: resize images by a scale factor or to a size (F.interpolate)."""
from .. import functional as F
from .module import Module


class Upsample(Module):
    """Upsample(scale_factor=2) turns (N, C, H, W) into (N, C, 2H, 2W); give either
    `size` (the output's (H, W)) or `scale_factor`. mode: as F.interpolate ('nearest')."""

    def __init__(self, size=None, scale_factor=None, mode="nearest"):
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError("Upsample: give exactly one of size and scale_factor")
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode

    def forward(self, x):
        return F.interpolate(x, size=self.size, scale_factor=self.scale_factor, mode=self.mode)

    def extra_repr(self):
        if self.scale_factor is not None:
            text = f"scale_factor={self.scale_factor!r}"
        else:
            text = f"size={self.size!r}"
        return text + f", mode={self.mode!r}"

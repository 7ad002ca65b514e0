"""`Flatten` and `Unflatten`: reshape between (N, C, H, W) images and (N, features)."""
from .. import functional as F
from ..functional._util import normalize_dim
from .module import Module


class Flatten(Module):
    """Merge dims start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size`: Unflatten(1, (128, 7, 7)) turns
    (N, 6272) into (N, 128, 7, 7). One entry of unflattened_size may be -1."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__}")
        unflattened_size = tuple(unflattened_size)
        if not unflattened_size or not all(isinstance(n, int) for n in unflattened_size):
            raise TypeError(
                f"Unflatten: unflattened_size must be a non-empty tuple of ints, got "
                f"{unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, x):
        (dim,) = normalize_dim(self.dim, x.ndim, "Unflatten")
        sizes = self.unflattened_size
        known = 1
        for n in sizes:
            known *= n if n != -1 else 1
        if (-1 not in sizes and known != x.shape[dim]) or (-1 in sizes and x.shape[dim] % known):
            raise ValueError(
                f"Unflatten: cannot split dimension {self.dim} of size {x.shape[dim]} "
                f"(input shape {x.shape}) into {sizes}")
        return F.reshape(x, x.shape[:dim] + sizes + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

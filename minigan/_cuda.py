"""`mg.cuda.is_available()`, as torch.cuda.is_available(): whether "cuda" (CuPy) can be used.

    device = "cuda" if mg.cuda.is_available() else "cpu"
    model.to(device)
"""
from ._device import cuda_is_available as is_available

__all__ = ["is_available"]

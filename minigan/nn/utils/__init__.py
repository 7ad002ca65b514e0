"""nn.utils, as torch.nn.utils: helpers that act on modules and their parameters.

    spectral_norm.py   spectral_norm, remove_spectral_norm (Miyato et al. 2018)
"""
from .spectral_norm import remove_spectral_norm, spectral_norm

__all__ = ["spectral_norm", "remove_spectral_norm"]

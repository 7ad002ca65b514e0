"""Helpers on a model's parameters, as torch.nn.utils.

    clip_grad.py           clip_grad_norm_, clip_grad_value_: tame the gradients before a step
    convert_parameters.py  parameters_to_vector, vector_to_parameters: all weights as one vector
    spectral_norm.py       spectral_norm, remove_spectral_norm (Miyato et al. 2018)
"""
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .spectral_norm import remove_spectral_norm, spectral_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "spectral_norm", "remove_spectral_norm"]

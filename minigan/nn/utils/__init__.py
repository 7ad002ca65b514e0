"""Helpers on a model's parameters, as torch.nn.utils.

    clip_grad.py           clip_grad_norm_, clip_grad_value_: tame the gradients before a step
    convert_parameters.py  parameters_to_vector, vector_to_parameters: all weights as one vector
"""
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]

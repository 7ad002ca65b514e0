"""Files: saving and loading weights, optimizer state and checkpoints.

    npz.py                  mg.save / mg.load: minigan's own .npz files (no pickle), CheckpointError
    pth.py                  mg.load_pth: a PyTorch state-dict file, read without torch and
                            without running any code from it (a restricted unpickler)
    safetensors_format.py   mg.save_safetensors / mg.load_safetensors, for PyTorch users
"""
from .npz import CheckpointError, load, save
from .pth import load_pth
from .safetensors_format import load_safetensors, save_safetensors

__all__ = ["save", "load", "CheckpointError", "load_pth", "save_safetensors",
           "load_safetensors"]

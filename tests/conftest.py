"""Shared fixtures: run a test on each CPU backend, make float64 inputs, find MNIST.

    def test_something(backend):      # runs once on "numpy", once on "strict"
        x = randn(3, 4)               # a float64 tensor on that backend, requires grad
"""
import os
from pathlib import Path

import numpy as np
import pytest

import minigan as mg

_SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
if "MINIGAN_DATA" not in os.environ and _SHARED_MNIST.is_dir():
    os.environ["MINIGAN_DATA"] = str(_SHARED_MNIST)


def _cupy_with_gpu():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


# On a machine with CuPy and a GPU, every backend test also runs on "cupy", marked
# `cupy` (`python -m pytest -m cupy`, as benchmarks/gpu_check.sh does); elsewhere the
# parameter is not there at all, rather than a thousand skips.
_BACKENDS = ["numpy", "strict"] + (
    [pytest.param("cupy", marks=pytest.mark.cupy)] if _cupy_with_gpu() else [])


@pytest.fixture(params=_BACKENDS)
def backend(request):
    """Run the test on the numpy and on the strict backend (and on cupy where a GPU
    is), from a fixed seed."""
    with mg.use_backend(request.param):
        mg.manual_seed(0)
        yield request.param


@pytest.fixture
def torch():
    """PyTorch for cross-checks; the test is skipped when it is not installed."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch

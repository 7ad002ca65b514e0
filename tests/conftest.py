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


@pytest.fixture(params=["numpy", "strict"])
def backend(request):
    """Run the test on the numpy and on the strict backend, from a fixed seed."""
    with mg.use_backend(request.param):
        mg.manual_seed(0)
        yield request.param


@pytest.fixture
def torch():
    """PyTorch for cross-checks; the test is skipped when it is not installed."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch

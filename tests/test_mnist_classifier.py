"""examples/mnist_classifier.py: a PyTorch-style MNIST classifier script (nn.Sequential,
nn.CrossEntropyLoss, optim.AdamW, StepLR, zero_grad/backward/step, argmax(1).eq(y))
runs on minigan and learns: a few steps already beat chance by far."""
import importlib.util
import re
from pathlib import Path

import pytest

import minigan as mg

from .helpers import needs_mnist

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "mnist_classifier.py"


def load_script():
    spec = importlib.util.spec_from_file_location("mnist_classifier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_mnist
@pytest.mark.slow
def test_the_pytorch_style_script_trains_and_reports_test_accuracy(capsys):
    script = load_script()
    assert script.main(["--max-steps", "30", "--test-size", "500", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1 step 0/938 loss" in out
    match = re.search(r"epoch 1: test accuracy (\d\.\d+) \((\d+)/500\), lr now 7\.00e-04", out)
    assert match, out
    assert float(match.group(1)) > 0.5  # chance is 0.1; 30 steps of AdamW reach about 0.7


@pytest.mark.skipif(mg.cuda.is_available(), reason="a GPU is present")
def test_the_script_with_device_cuda_and_no_gpu_stops_with_one_line(capsys):
    assert load_script().main(["--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --device cuda needs CuPy") and err.count("\n") == 1

"""PyTorch's device names for minigan's backends: "cpu" is NumPy, "cuda" is CuPy.

    x.to("cuda"); model.to("cpu")            # the same as .to("cupy") / .to("numpy")
    mg.cuda.is_available()                   # True when CuPy finds an NVIDIA GPU
    --device auto|cpu|cuda                   # the training programs' option (train/cli.py)

A device name is only another name for a backend: minigan has one array module
per backend, and the CuPy one always uses the current GPU ("cuda:0" is accepted
as "cuda"; other indices are refused, since minigan does not choose GPUs).
"""
from . import backend as _backend

DEVICES = {"cpu": "numpy", "cuda": "cupy", "cuda:0": "cupy"}


def backend_name(target):
    """The backend a `.to(target)` string means: a backend name itself, or a device name
    ("cpu" -> "numpy", "cuda" -> "cupy"); None when `target` names neither."""
    if not isinstance(target, str):
        return None
    if target in _backend.BACKENDS:
        return target
    return DEVICES.get(target)


def cuda_is_available():
    """True when CuPy imports and finds at least one usable GPU (as torch.cuda.is_available)."""
    try:
        _backend.get_backend("cupy")
    except RuntimeError:
        return False
    return True


def choose_backend(device, backend=None):
    """The backend a program runs on, from its --device and --backend options.

    device: "auto" (a GPU when CuPy finds one, else NumPy), "cpu" or "cuda".
    backend: the --backend option when given (None when not): it must agree with an
        explicit device ("cuda" is "cupy"; "cpu" is "numpy" or "strict", the CPU
        backend that behaves like a GPU) and decides when the device is "auto".
    Raises ValueError with one line when they disagree or "cuda" cannot be used.
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda, got {device!r}")
    if backend is not None and backend not in _backend.BACKENDS:
        raise ValueError(
            f"--backend must be one of {', '.join(_backend.BACKENDS)}, got {backend!r}")
    if device == "auto":
        if backend is not None:
            return backend
        return "cupy" if cuda_is_available() else "numpy"
    allowed = ("cupy",) if device == "cuda" else ("numpy", "strict")
    if backend is not None and backend not in allowed:
        raise ValueError(
            f"--device {device} and --backend {backend} disagree: --device {device} means "
            f"--backend {' or '.join(allowed)}; give one of the two")
    if device == "cuda":
        try:
            _backend.get_backend("cupy")
        except RuntimeError as error:  # no CuPy, or no GPU: the reason, on one line
            raise ValueError(f"--device cuda: {error}") from None
        return "cupy"
    return backend or "numpy"

"""One-kernel versions of hot elementwise chains, taken only on the cupy backend.

On a GPU each NumPy-style pass is a kernel launch and a trip through the GPU's
memory; a chain of them (leaky ReLU's multiply, maximum and mask) costs a pass
each. cupy.ElementwiseKernel compiles the chain into one pass. The Functions that
use these (elementwise.LeakyReLU) compute the same numbers on the other backends
with ordinary array ops, so every test of theirs also specifies these kernels;
those tests reach CuPy only on a machine with a GPU (benchmarks/gpu_check.sh).
"""
import functools


def is_cupy(xp):
    return xp.__name__ == "cupy"


@functools.lru_cache(maxsize=None)
def _leaky_relu_kernel():
    import cupy
    return cupy.ElementwiseKernel(
        "T x, T a", "T y, bool positive",
        "positive = x > 0; y = positive ? x : x * a;",
        "minigan_leaky_relu")


def leaky_relu_with_mask(x, a):
    """(y, x > 0) in one pass: y = x where x > 0, else a * x (a of x's dtype)."""
    return _leaky_relu_kernel()(x, a)

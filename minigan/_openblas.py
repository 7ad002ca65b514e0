"""Let OpenBLAS's idle threads sleep soon after each matrix product, not spin for 0.1 s.

OpenBLAS keeps one worker thread per extra core. After each threaded GEMM the workers
busy-wait for the next one for 2**28 cycles (about 0.1 s) before they sleep. A
training step runs a GEMM, then a few milliseconds of NumPy work (im2col's copy,
col2im's adds, batch norm, ...) that minigan splits over the same cores
(minigan/_threads.py): with the workers spinning, those passes share each core with a
spinning thread. On the 2-core development machine (Intel Xeon, 2 threads) the
DCGAN's training step took 201 ms with the short wait and 226 ms with OpenBLAS's own,
an epoch of examples/mnist_dcgan.py 77.9 s and 92.1 s (README, Performance, with the
commands). Waking a sleeping worker costs microseconds; the GEMMs take milliseconds.

OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (the wait is 2**N cycles, N clamped to 4..30)
once, when NumPy loads it, so this runs before minigan imports NumPy; if NumPy was
imported first, it does nothing (set the variable yourself, before Python starts).
A value the user set is kept; MINIGAN_BLAS_TUNING=0 leaves the environment alone.
Child processes inherit the variable, as they would had the user set it.
"""
import os
import sys

THREAD_TIMEOUT = "16"  # 2**16 cycles, ~25 us: back-to-back GEMMs still find the workers awake


def quiet_idle_threads():
    """Set OPENBLAS_THREAD_TIMEOUT for the OpenBLAS NumPy is about to load. Returns
    whether the setting can take effect (NumPy not loaded yet, nothing set by the user)."""
    if os.environ.get("MINIGAN_BLAS_TUNING", "1") == "0" or "numpy" in sys.modules:
        return False
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = THREAD_TIMEOUT
    return True

"""Keep freed large arrays in the process instead of handing them back to the OS.

glibc serves every allocation of 128 KiB or more (and the threshold adapts
upward only slowly) with a fresh mmap, and returns it with munmap when freed.
A training step allocates and frees the same few dozen multi-megabyte arrays
every time, so each of them page-faults afresh, step after step: measured here,
about 1,500 page faults and 1-2 ms for one batch norm on a (128, 6272) input,
and about 7% of a whole DCGAN step. Raising the mmap and trim thresholds lets
malloc reuse that memory, as PyTorch's own CPU allocator does.

The mmap threshold is 1 GiB, not lower: at batch 512 the DCGAN's im2col matrices
are about 100 MiB each, and with a 64 MiB threshold each was a fresh mmap that
page-faulted every step (measured, one thread, CPU time, loaded machine: 1115-1146
ms per step, against 912-936 ms with 1 GiB and the same peak RSS, 916 MiB); the
trim threshold keeps up to 1 GiB of freed memory anyway.

Only on Linux with glibc; set MINIGAN_MALLOC_TUNING=0 to leave malloc alone.
"""
import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(mmap_threshold=1 << 30, trim_threshold=1 << 30):
    """Serve blocks below `mmap_threshold` from the heap and keep up to
    `trim_threshold` bytes of freed memory for reuse. Returns whether it applied."""
    if os.environ.get("MINIGAN_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))

"""A small thread pool for large NumPy passes that BLAS does not thread.

NumPy's copies and ufuncs release the GIL, so a pass over a big array can be cut
into pieces along its first axis and the pieces run at the same time, one per
thread. Each element is still computed by the same operation in the same order,
so the result is bit-identical to the unthreaded pass; only who computes which
rows changes. OpenBLAS threads the matrix products already; this is for the data
movements around them (im2col's window copy, col2im's adds), which otherwise run
on one core while the others wait.

    split(work, rows, array)   # work(start, stop) for row ranges covering range(rows)

Used only on the numpy backend (CuPy runs on the GPU; the strict backend is the test
stand-in for CuPy), only with more than one thread, and only when `array` holds at
least MIN_ELEMENTS numbers: below that, handing work to a thread costs more than it
saves. The thread count is NumPy's BLAS's: the environment's OPENBLAS_NUM_THREADS
(or OMP_NUM_THREADS), else the cores this process may use; set_num_threads changes it.
"""
import concurrent.futures
import os
import threading

from .backend import backend_of

MIN_ELEMENTS = 1 << 18  # about 1 MiB of float32: the pieces must outweigh a hand-off

_lock = threading.Lock()
_pool = None
_threads = None


def _default_threads():
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def get_num_threads():
    """How many threads a split pass uses (1: no splitting)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(threads):
    """Use `threads` threads for split passes from now on (as torch.set_num_threads)."""
    global _threads, _pool
    threads = int(threads)
    if threads < 1:
        raise ValueError(f"set_num_threads: expected a positive number, got {threads}")
    with _lock:
        if _pool is not None and threads != _threads:
            _pool.shutdown(wait=True)
            _pool = None
        _threads = threads


def _get_pool(workers):
    global _pool
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="minigan")
        return _pool


def split(work, rows, array):
    """Call work(start, stop) over row ranges that cover range(rows) exactly once:
    in one call, or in get_num_threads() pieces at once when `array` (the pass's
    biggest operand) is a large NumPy array. Returns when every piece is done;
    an exception in a piece is raised here."""
    threads = min(get_num_threads(), rows)
    found = backend_of(array)
    if (threads <= 1 or found is None or found.name != "numpy" or array.size < MIN_ELEMENTS
            or threading.current_thread().name.startswith("minigan")):  # no nesting
        work(0, rows)
        return
    bounds = [rows * k // threads for k in range(threads + 1)]
    pool = _get_pool(threads - 1)
    pieces = [pool.submit(work, start, stop)
              for start, stop in zip(bounds[1:-1], bounds[2:])]
    work(bounds[0], bounds[1])  # this thread takes the first piece
    for piece in pieces:
        piece.result()

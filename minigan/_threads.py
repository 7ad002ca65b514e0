"""A small thread pool for large NumPy passes that BLAS does not thread.

NumPy's copies and ufuncs release the GIL, so a pass over a big array can be cut
into pieces along its first axis and the pieces run at the same time, one per
thread. Each element is still computed by the same operation in the same order,
so the result is bit-identical to the unthreaded pass; only who computes which
rows changes. OpenBLAS threads the matrix products already; this is for the data
movements around them (im2col's window copy, col2im's adds) and the elementwise
passes of a training step (activations, batch norm, bias adds, Adam's step),
which otherwise run on one core while the others wait.

    split(work, rows, array)   # work(start, stop) for row ranges covering range(rows)
    split_blocks(work, rows, block, array)   # the same, cut only between fixed blocks
    split_along(work, array, axis)           # work(index): array[index] a block of rows

A reduction is the exception to "same operation, same order": NumPy's sums and
einsum's products may group the numbers of one output differently when handed
a slice than when handed the whole (einsum buffers 8192 numbers at a time across
its outputs; a sum over several axes may coalesce them differently). So a pass
that reduces works through fixed blocks of rows (`block_rows`), chosen from
the array's shape alone, and the threads share out whole blocks: every block is
then reduced by the same call on the same view however many threads run,
one thread included.

Used only on the numpy backend (CuPy runs on the GPU; the strict backend is the test
stand-in for CuPy), only with more than one thread, and only when `array` holds at
least MIN_ELEMENTS numbers (HEAVY_MIN_ELEMENTS for passes of many operations per
number): below that, handing work to a thread costs more than it saves. A split
pass must also hand on the memory layouts the one-piece pass would, or the sums
after it would add in another order. The thread count is NumPy's BLAS's: the environment's OPENBLAS_NUM_THREADS
(or OMP_NUM_THREADS), else the cores this process may use; set_num_threads changes it.
"""
import concurrent.futures
import os
import threading

from .backend import backend_of

# Smaller passes stay in one piece. A hand-off to a sleeping worker costs 15-110 us
# (a scratch loop: 16 us back to back, 35-45 us after 0.5-2 ms idle, 110 us after
# 10 ms), and two threads running short numpy calls contend for the GIL between them,
# so a pass is cut only when each piece has milliseconds of work. Measured on the
# 2-core AMD EPYC, each variant alternating call by call: leaky_relu forward at
# (128, 128, 7, 7) (0.8M numbers) 0.45 ms on one thread against 0.68 on two, while
# at (128, 64, 14, 14) (1.6M) two threads win (relu forward 1.17 -> 0.72 ms); G's
# Adam step, its largest parameter 627K numbers, 2.16 ms whole against 2.82 cut.
MIN_ELEMENTS = 1 << 20  # a pass of one or a few ufuncs (a copy, a + b, relu, leaky_relu)
HEAVY_MIN_ELEMENTS = 1 << 20  # a pass of many (batch norm's statistics and scaling,
#                               Adam's dozen); batch norm has its own BLOCKS_FROM too
BLOCKS = 8  # a reducing pass's rows come in this many blocks (see block_rows) ...
MIN_BLOCK_ELEMENTS = 1 << 15  # ... of at least this many numbers, for per-call cost

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


def worth_splitting(array, min_elements=None):
    """Whether a pass over `array` would be cut into pieces: more than one thread,
    a NumPy array of at least min_elements (default MIN_ELEMENTS) numbers, and
    not already inside a piece (pieces do not nest)."""
    if get_num_threads() <= 1:
        return False
    found = backend_of(array)
    return (found is not None and found.name == "numpy"
            and array.size >= (MIN_ELEMENTS if min_elements is None else min_elements)
            and not threading.current_thread().name.startswith("minigan"))


def split(work, rows, array, min_elements=None):
    """Call work(start, stop) over row ranges that cover range(rows) exactly once:
    in one call, or in get_num_threads() pieces at once when `array` (the pass's
    biggest operand) is a large NumPy array (see worth_splitting). Returns when
    every piece is done; an exception in a piece is raised here."""
    threads = min(get_num_threads(), rows)
    if threads <= 1 or not worth_splitting(array, min_elements):
        work(0, rows)
        return
    bounds = [rows * k // threads for k in range(threads + 1)]
    pool = _get_pool(threads - 1)
    pieces = [pool.submit(work, start, stop)
              for start, stop in zip(bounds[1:-1], bounds[2:])]
    work(bounds[0], bounds[1])  # this thread takes the first piece
    for piece in pieces:
        piece.result()


def block_rows(rows, array):
    """How many rows make one block of a reducing pass over `array` (rows along
    one axis of it): about rows / BLOCKS, but at least MIN_BLOCK_ELEMENTS numbers.
    It depends on the shape only, never on the thread count."""
    per_row = max(1, array.size // max(rows, 1))
    return max(1, -(-rows // BLOCKS), -(-MIN_BLOCK_ELEMENTS // per_row))


def split_blocks(work, rows, block, array, min_elements=None):
    """Call work(start, stop) once for every block [k * block, (k + 1) * block) of
    range(rows) (the last one may be shorter), the blocks shared out between the
    threads as split does. A block is never cut, so a reduction done block by
    block gives the same bits on any number of threads."""
    count = -(-rows // block)

    def run(first, last):
        for k in range(first, last):
            work(k * block, min(rows, (k + 1) * block))

    split(run, count, array, min_elements)


def outer_axis(array):
    """The axis with the largest step in memory (among axes longer than 1), 0 if
    none: rows cut along it are the largest runs of the array's memory."""
    best, best_step = 0, -1
    for axis, (length, step) in enumerate(zip(array.shape, array.strides)):
        if length > 1 and abs(step) > best_step:
            best, best_step = axis, abs(step)
    return best


def split_along(work, array, axis=None, min_elements=None):
    """Call work(index) with index a tuple of slices, array[index] being rows
    [start, stop) along `axis` (default: outer_axis(array)); the indices cover the
    array exactly once, in pieces at once as split does. For elementwise passes:
    apply the index to every operand of the array's shape."""
    if array.ndim == 0:
        work(...)
        return
    axis = outer_axis(array) if axis is None else axis
    lead = (slice(None),) * axis
    split(lambda start, stop: work(lead + (slice(start, stop),)), array.shape[axis], array,
          min_elements)

"""What the benchmarks share: thread limits, the machine's description, interleaved
timing, tables and JSON.

    threads = set_threads(args.threads)      # NumPy's BLAS and PyTorch, the same count
    times = interleaved({"minigan": f, "torch": g}, repeats=20, warmup=3)
    median_ms(times["minigan"])

Timing rules, the same everywhere:
  * both libraries run in one process, alternately (A B A B ...), so a machine that
    drifts (turbo, a neighbour's load) drifts for both and their ratio stays fair;
  * warm-up rounds run first and are not counted (first calls allocate and plan);
  * each sample repeats a call enough times to last at least `min_time` seconds,
    so a 20-microsecond op is not timed by a clock tick; the sample is the mean of
    those calls, and the reported value the median of the samples;
  * before each sample the harness sleeps `settle` seconds. Both libraries keep
    thread pools whose idle threads busy-wait for a while after each parallel call
    (NumPy's OpenBLAS for about 2**28 cycles, ~0.1 s, unless OPENBLAS_THREAD_TIMEOUT
    says less, as minigan's import and this module set it; PyTorch's OpenMP for less),
    and a spinning pool of one library takes the cores the other needs (on the
    busy 2-core development machine, a 0.03 ms torch.tanh measured up to 15 ms right
    after a NumPy matmul). After the pause each library runs as it would alone;
  * after the pause, untimed calls for `rewarm` seconds (0.05 unless given; at least
    one call) before the sample's timed ones, so that the sample is timed as a
    training loop runs, in the middle of work. A pause is not free: on the KVM guests
    of the development machines (whose idle vCPUs halt, never poll), a thread handed
    work after a rest waits for its vCPU to be woken, for some milliseconds after
    the rest. minigan hands work to its threads and OpenBLAS's a few hundred times a
    step, PyTorch's OpenMP threads spin-wait: the first DCGAN step after a 0.15 s
    rest measured 17-44 ms slower than the steps after it for minigan, about 5 ms for
    PyTorch, and a 0.5 ms linear layer took 8-11 ms twice in a row after the rest
    (README, Performance).
"""
import ctypes
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
import sys
import time


# --- before NumPy loads: minigan's OpenBLAS setting --------------------------------
def _quiet_openblas():
    """What `import minigan` does first (minigan/_openblas.py: OpenBLAS's idle threads
    sleep after ~2**16 cycles instead of spinning for ~0.1 s), done here because the
    benchmarks import NumPy before minigan, and their PyTorch processes must not import
    minigan at all. Every benchmark imports this module before NumPy."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "minigan", "_openblas.py")
    spec = importlib.util.spec_from_file_location("_minigan_openblas", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.quiet_idle_threads()


_quiet_openblas()


# --- OpenBLAS's kernels ----------------------------------------------------------
def openblas_core():
    """The kernel set NumPy's OpenBLAS runs ("Haswell", "SkylakeX" ...), or None. It
    chooses from the CPU when it loads, unless OPENBLAS_CORETYPE names one: on an AVX-512
    CPU, forcing Haswell halves float32 GEMM speed (measured on the EPYC: 90 against
    150-175 GFLOP/s at the DCGAN's shapes), so the machine line shows both."""
    import numpy  # noqa: F401  (loads the BLAS library so it can be found)
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                     "openblas_get_corename64_", "openblas_get_corename"):
            get = getattr(lib, name, None)
            if get is not None:
                get.restype = ctypes.c_char_p
                return get().decode()
    return None


# --- threads ------------------------------------------------------------------
def available_cores():
    """The CPU cores this process may run on (its affinity), or os.cpu_count()."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _openblas_functions():
    """(get, set) for the OpenBLAS that NumPy loaded, found in /proc/self/maps (Linux),
    or (None, None). NumPy wheels ship OpenBLAS under a prefixed name
    (scipy_openblas_set_num_threads64_), so several spellings are tried."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        return None, None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    return get, put
    return None, None


def blas_threads():
    """The number of threads NumPy's BLAS uses now, or None when it cannot be asked."""
    import numpy  # noqa: F401  (loads the BLAS library so it can be found)
    get, _ = _openblas_functions()
    return int(get()) if get is not None else None


def set_blas_threads(threads):
    """Make NumPy's BLAS (when it is OpenBLAS) use `threads` threads; False if it cannot."""
    import numpy  # noqa: F401  (loads the BLAS library so it can be found)
    _, put = _openblas_functions()
    if put is not None:
        put(int(threads))
    return put is not None


def set_threads(threads=None):
    """Use `threads` threads (default: all available cores) in NumPy's BLAS (when it
    is OpenBLAS, as in NumPy's wheels) and in PyTorch (if it is imported). Returns the
    count. Also minigan's own thread pool (minigan/_threads.py: im2col's and col2im's
    copies and adds, split by channel), when minigan is imported. NumPy's own
    elementwise functions are single-threaded whatever this says; PyTorch's are not."""
    threads = int(threads or available_cores())
    set_blas_threads(threads)
    minigan_threads = sys.modules.get("minigan._threads")
    if minigan_threads is None and "minigan" in sys.modules:
        import minigan._threads as minigan_threads
    if minigan_threads is not None:
        minigan_threads.set_num_threads(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threads


# --- the machine ----------------------------------------------------------------
def _cpuinfo(field):
    """The first processor's `field` line of /proc/cpuinfo ("model name", "flags"), or
    None (no such line, or not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model():
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_has_avx512():
    """Whether /proc/cpuinfo lists AVX-512 (avx512f) among the CPU's flags."""
    return "avx512f" in (_cpuinfo("flags") or "").split()


# OpenBLAS's x86 kernel sets that use AVX2 at most: on an AVX-512 CPU, a value of
# OPENBLAS_CORETYPE among these leaves its wider units idle for NumPy's products.
AVX2_CORES = ("Haswell", "Zen", "SandyBridge", "Nehalem", "Prescott", "Core2", "Atom")


def kernel_warning(info):
    """One line when NumPy's OpenBLAS runs AVX2 kernels on an AVX-512 CPU because
    OPENBLAS_CORETYPE says so, else None. PyTorch (MKL, oneDNN) ignores that variable,
    so the two libraries would not be compared on the same hardware: on the 2-core AMD
    EPYC (Zen 5) of 2026-12-04 NumPy's float32 products ran at 169 against 304 GFLOP/s
    with OpenBLAS's own choice (README, Performance, round 5)."""
    core, forced = info.get("numpy_blas_core"), info.get("openblas_coretype_env")
    if forced and core in AVX2_CORES and info.get("cpu_avx512"):
        return (f"warning: this CPU has AVX-512, but OPENBLAS_CORETYPE={forced} keeps "
                f"NumPy's products on {core} (AVX2) kernels, PyTorch's not; run with "
                "`env -u OPENBLAS_CORETYPE` to compare the two on the same hardware")
    return None


def _numpy_blas():
    import numpy
    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}".strip()
    except Exception:  # old NumPy: no mode="dicts"
        return "unknown"


def machine_info():
    """A dict describing the CPU, the thread counts and the library versions."""
    import numpy
    info = {
        "cpu": cpu_model(),
        "cpu_avx512": cpu_has_avx512(),
        "cores_available": available_cores(),
        "cores_total": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numpy_blas": _numpy_blas(),
        "numpy_blas_threads": blas_threads(),
        "numpy_blas_core": openblas_core(),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas_thread_timeout_env": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
        "load_average": [round(v, 2) for v in os.getloadavg()],  # 1, 5, 15 min: others' work
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name()
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        info["cupy"] = cupy.__version__
    return info


def format_machine(info):
    lines = [f"machine: {info['cpu']}, {info['cores_available']} cores available "
             f"({info['cores_total']} total)",
             f"python {info['python']}, numpy {info['numpy']} ({info['numpy_blas']}, "
             f"{info['numpy_blas_threads']} BLAS threads, "
             f"{info.get('numpy_blas_core') or 'unknown'} kernels"
             + (f", forced by OPENBLAS_CORETYPE={info['openblas_coretype_env']}"
                if info.get("openblas_coretype_env") else "")
             + (f", idle threads sleep after 2**{info['openblas_thread_timeout_env']} cycles"
                if info.get("openblas_thread_timeout_env") else "") + ")"]
    if "load_average" in info:
        lines[0] += f"; load average {info['load_average'][0]} at the start"
    if "torch" in info:
        lines.append(f"torch {info['torch']} ({info['torch_threads']} threads)")
    if "gpu" in info:
        lines.append(f"gpu: {info['gpu']}" + (f", cupy {info['cupy']}" if "cupy" in info else ""))
    warning = kernel_warning(info)
    if warning:
        lines.append(warning)
    return "\n".join(lines)


# --- timing ---------------------------------------------------------------------
CLOCKS = {
    # elapsed time: what a user waits for; the one to quote, on a quiet machine
    "wall": time.perf_counter,
    # CPU time of this process, all its threads together: blind to other programs
    # taking turns on the cores, so with --threads 1 it still measures the work on a
    # busy machine (with more threads it also counts threads spinning idle)
    "cpu": time.process_time,
}


def _timed(fn, number, sync, clock):
    start = clock()
    for _ in range(number):
        fn()
    if sync is not None:
        sync()
    return (clock() - start) / number


def interleaved(cases, repeats, warmup=2, min_time=0.0, settle=0.0, sync=None, clock="wall",
                rewarm=0):
    """Time each zero-argument callable in `cases` ({name: fn}), alternating between
    them: warm-up calls, then `repeats` rounds of one sample per case.

    A sample is the mean time of `number` back-to-back calls, `number` chosen from
    the last warm-up call so that a sample lasts at least `min_time` seconds.
    settle: seconds to sleep before each sample (see the module's docstring).
    rewarm: seconds of untimed calls after that sleep (at least one call), before the
        sample's timed calls.
    sync: called before each clock reading (a GPU's synchronize), or None.
    clock: "wall" or "cpu" (see CLOCKS).
    Returns {name: [seconds per call, one per round]}.
    """
    def sample(fn, number):
        if sync is not None:
            sync()
        if settle:
            time.sleep(settle)
        if rewarm:  # untimed calls for at least `rewarm` seconds (at least one call)
            start = time.perf_counter()
            fn()
            while time.perf_counter() - start < rewarm:
                fn()
        return _timed(fn, number, sync, CLOCKS[clock])

    number = {}
    for name, fn in cases.items():  # at least one untimed call each, to calibrate
        for _ in range(max(warmup, 1)):
            single = sample(fn, 1)
        number[name] = max(1, min(1000, math.ceil(min_time / max(single, 1e-9))))
    times = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            times[name].append(sample(fn, number[name]))
    return times


def add_timing_arguments(parser):
    """The options both benchmarks share."""
    parser.add_argument("--batch-size", type=int, default=128, help="N in every shape (128)")
    parser.add_argument("--repeats", type=int, default=20, help="timed samples per case (20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per case first (3)")
    parser.add_argument("--settle", type=float, default=0.15,
                        help="seconds of rest before each sample, so the other library's "
                             "idle threads stop spinning (0.15; see common.py)")
    parser.add_argument("--rewarm", type=float, default=0.05,
                        help="seconds of untimed calls after each rest, before the "
                             "sample's timed ones (at least one call), so that a sample is "
                             "timed as a training loop runs it, in the middle of work "
                             "(0.05; 0: right after the rest; see common.py)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for NumPy's BLAS and for PyTorch (default: all cores)")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, "
                             "for a busy machine with --threads 1")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                        help="minigan's backend; cupy runs torch on CUDA (numpy)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH",
                        help="write the results as JSON ('-': stdout, the table on stderr)")


def check_timing_arguments(parser, args):
    for name in ("batch_size", "repeats"):
        if getattr(args, name) < 1:
            value = getattr(args, name)
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.warmup < 0 or args.settle < 0 or args.rewarm < 0:
        parser.error("--warmup, --settle and --rewarm cannot be negative")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.clock == "cpu" and args.backend == "cupy":
        parser.error("--clock cpu measures the CPU's work, not the GPU's: use --clock wall")


def median_ms(seconds):
    return 1000.0 * statistics.median(seconds)


def ratio(a, b):
    """a / b (None when b is zero)."""
    return a / b if b else None


# --- memory ---------------------------------------------------------------------
def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def current_rss_mb():
    """The resident memory of this process now, in MiB (Linux), or None."""
    try:
        return _status_kb("VmRSS") / 1024
    except (OSError, KeyError):
        return None


def peak_rss_mb():
    """The peak resident memory of this process so far, in MiB.

    On Linux this is VmHWM from /proc/self/status, not getrusage's ru_maxrss: a
    child made by fork + exec inherits in ru_maxrss the peak of the forked copy
    of its parent (here a process holding PyTorch), so two children would both
    report at least their parent's size."""
    try:
        return _status_kb("VmHWM") / 1024
    except (OSError, KeyError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


# --- output -----------------------------------------------------------------------
def format_table(headers, rows, align=None):
    """A plain-text table: columns as wide as their widest cell; numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    if align is None:
        align = ["<" if i == 0 else ">" for i in range(len(headers))]

    def line(values):
        return "  ".join(f"{v:{a}{w}}" for v, a, w in zip(values, align, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(r) for r in cells])


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"
    return str(value)


def report(text, result, json_path):
    """Print the table, and write `result` as JSON to json_path ('-': stdout, and the
    table then goes to stderr so stdout holds nothing but the JSON)."""
    if json_path == "-":
        print(text, file=sys.stderr)
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(text)
    if json_path:
        tmp = f"{json_path}.tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        os.replace(tmp, json_path)
        print(f"wrote {json_path}")

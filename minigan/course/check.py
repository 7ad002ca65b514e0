"""`check_close`: the one comparison every task test makes, with a message a student can act on.

As in CS231n, the error is the relative error

    rel_error(computed, expected) = max_i |c_i - e_i| / max(1e-8, |c_i| + |e_i|)

(about 1e-8 or less for a correct float64 gradient, 1e-2 or more for a wrong one), and a
failed check names the check, the worst element and both values, in a form the
grader parses:

    Mul.backward dL/da: relative error 1.0e+00 > 1e-07 at index (1, 2): expected 0.5, computed -0.5
"""
import re

import numpy as np

_FAILED = re.compile(
    r"(?P<check>.*?): relative error (?P<rel_error>\S+) > (?P<tol>\S+) at index "
    r"(?P<index>\(.*?\)): expected (?P<expected>\S+), computed (?P<computed>\S+)")


def _host(value):
    """A Tensor, a backend array or a number as a float64 NumPy array."""
    from minigan import Tensor, to_numpy
    if isinstance(value, Tensor):
        value = value.numpy()
    elif not isinstance(value, (int, float, np.ndarray, np.generic, list, tuple)):
        value = to_numpy(value)
    return np.asarray(value, dtype=np.float64)


def rel_error(computed, expected):
    """The largest elementwise relative error (0 for two empty arrays, inf for a NaN)."""
    c, e = _host(computed), _host(expected)
    if c.size == 0:
        return 0.0
    errors = np.abs(c - e) / np.maximum(1e-8, np.abs(c) + np.abs(e))
    errors = np.where(np.isnan(errors), np.inf, errors)
    return float(errors.max())


def check_close(name, computed, expected, tol=1e-7):
    """Raise AssertionError (in the grader's format) unless rel_error <= tol."""
    c, e = _host(computed), _host(expected)
    if c.shape != e.shape:
        raise AssertionError(f"{name}: computed shape {c.shape}, expected shape {e.shape}")
    if c.size == 0:
        return
    errors = np.abs(c - e) / np.maximum(1e-8, np.abs(c) + np.abs(e))
    errors = np.where(np.isnan(errors), np.inf, errors)
    worst = np.unravel_index(int(errors.argmax()), errors.shape)
    if errors[worst] > tol:
        raise AssertionError(
            f"{name}: relative error {errors[worst]:.1e} > {tol:.0e} at index "
            f"{tuple(int(i) for i in worst)}: expected {e[worst]:.6g}, computed {c[worst]:.6g}")


def check_true(name, condition, detail=""):
    """A check that is not a comparison of numbers (an order, a count, a shape)."""
    if not condition:
        raise AssertionError(f"{name}: {detail}" if detail else name)


def parse_failure(message):
    """The fields of a failed check_close message, or None for any other message."""
    m = _FAILED.match(message)
    if m is None:
        return None
    fields = m.groupdict()
    fields["rel_error"] = float(fields["rel_error"])
    return fields

"""`import minigan` lets OpenBLAS's idle threads sleep soon after each GEMM
(minigan/_openblas.py): it sets OPENBLAS_THREAD_TIMEOUT before NumPy loads OpenBLAS,
keeps a value the user set, stays out of the way when asked, and does nothing once
NumPy is loaded (OpenBLAS has read its environment by then). Each case runs in a fresh
interpreter, since the setting only matters at NumPy's first import."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def timeout_after(code, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("OPENBLAS_THREAD_TIMEOUT", "MINIGAN_BLAS_TUNING")}
    environment.update(env)
    environment["PYTHONPATH"] = str(ROOT) + os.pathsep + environment.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code + "; import os; "
                          "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"],
                         env=environment, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()[-1]


def test_importing_minigan_first_sets_the_openblas_idle_wait_before_numpy_loads():
    from minigan._openblas import THREAD_TIMEOUT
    assert timeout_after("import minigan") == THREAD_TIMEOUT == "16"


@pytest.mark.parametrize("code, env, expected", [
    ("import minigan", {"OPENBLAS_THREAD_TIMEOUT": "8"}, "8"),       # the user's value wins
    ("import minigan", {"MINIGAN_BLAS_TUNING": "0"}, "None"),        # asked to stay out
    ("import numpy; import minigan", {}, "None"),                    # too late: left alone
])
def test_the_openblas_setting_yields_to_the_user_and_to_an_earlier_numpy(code, env, expected):
    assert timeout_after(code, **env) == expected

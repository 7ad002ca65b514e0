"""Atomic file writing: write to a temporary name in the same folder, then rename.

An interrupted run (Ctrl-C, a crash, a full disk) therefore never leaves a
half-written checkpoint, image or data file under the final name: either the old
file is still there, or the new one is complete.

The temporary file is named `.NAME.XXXXXXXX.tmp` beside NAME. A write killed
outright (kill -9, power loss) leaves it behind; `remove_stale_temporaries`
clears such leftovers from a folder that no other process is writing into.
"""
import contextlib
import os
import re
import tempfile

# mkstemp(prefix="." + name + ".", suffix=".tmp") adds 8 characters of [a-z0-9_].
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside `path`; on success rename it to `path`.

    with atomic_write("out/checkpoint.npz") as f:
        f.write(data)
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def stale_temporaries(folder):
    """Paths of the temporary files atomic_write left in `folder` (not its subfolders)."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(os.path.join(folder, name) for name in names
                  if _TEMPORARY.match(name) and os.path.isfile(os.path.join(folder, name)))


def remove_stale_temporaries(folder):
    """Delete the leftovers of killed atomic writes in `folder`; returns the paths removed.

    Only for a folder this process alone writes into: another writer's
    temporary file is indistinguishable from a stale one."""
    removed = []
    for path in stale_temporaries(folder):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            removed.append(path)
    return removed


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""`cut N --out DIR`: a student copy of the project with assignment N's regions cut out.

The copy holds the whole project: the git-tracked files and the untracked ones
git does not ignore (or, outside a git checkout, every file but .git, virtual
environments, runs and caches). It is built in a temporary folder beside DIR
and renamed into place at the end, so an interrupted cut leaves no half copy.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .regions import cut_text, find_regions
from .tasks import assignment

EXCLUDED_DIRS = {".git", ".venv", "venv", "runs", "__pycache__", ".pytest_cache",
                 ".hypothesis", "build", "dist", ".mypy_cache"}


def project_files(root, exclude=None):
    """The project's files under root, as sorted relative paths ('/' separated)."""
    root = Path(root).resolve()
    exclude = Path(exclude).resolve() if exclude is not None else None
    files = None
    if (root / ".git").exists() and shutil.which("git"):
        done = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True)
        if done.returncode == 0:
            files = [f for f in done.stdout.decode("utf-8").split("\0") if f]
    if files is None:
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
            for name in names:
                files.append((Path(folder) / name).relative_to(root).as_posix())
    # earlier student copies cut into the project folder (hw1/ ...) are not part of it
    copies = {rel.split("/")[0] for rel in files
              if rel.count("/") == 3 and rel.endswith("/minigan/course/tasks.py")}
    kept = []
    for rel in sorted(set(files)):
        if rel.split("/")[0] in copies:
            continue
        path = root / rel
        if not path.is_file() or path.is_symlink():
            continue  # deleted but still tracked, or a link
        if exclude is not None and (path.resolve() == exclude or exclude in path.resolve().parents):
            continue
        kept.append(rel)
    return kept


def cut(number, out, root="."):
    """Write the student copy of assignment `number` to `out`; returns the cut regions."""
    a = assignment(number)
    if not a.tasks:
        raise ValueError(f"assignment {number} has no tasks yet")
    root, out = Path(root).resolve(), Path(out).resolve()
    if out == root or out in root.parents:
        raise ValueError(f"--out {out} would contain the project itself")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"--out {out} exists and is not empty")
    regions = [r for r in find_regions(root) if r.assignment == number]
    missing = {t.id for t in a.tasks} - {r.task for r in regions}
    if missing:
        raise ValueError(f"assignment {number}: no regions marked for task(s) "
                         + ", ".join(sorted(missing)))
    cut_files = {r.path for r in regions}
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel in project_files(root, exclude=out):
            src, dst = root / rel, staging / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if rel in cut_files:
                dst.write_text(cut_text(src.read_text(encoding="utf-8"), rel, number),
                               encoding="utf-8")
                shutil.copymode(src, dst)
            else:
                shutil.copy2(src, dst)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return regions

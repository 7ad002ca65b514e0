"""Running a lesson: every ```python block of docs/course/NN_*.md, in order, in one namespace.

The test suite runs each lesson this way (so a lesson cannot rot), and
`python -m minigan.course lesson N --out DIR` runs it with DIR as the working
folder, which is how the pictures in docs/course/ are made.
"""
import contextlib
import os
from pathlib import Path

from .tasks import assignment


def code_blocks(text):
    """[(first line number, code)] of the ```python blocks of a Markdown text."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if current is None:
            if stripped == "```python":
                current, start = [], number + 1
        elif stripped == "```":
            blocks.append((start, "\n".join(current) + "\n"))
            current = None
        else:
            current.append(line)
    if current is not None:
        raise ValueError(f"a ```python block opened on line {start - 1} is never closed")
    return blocks


def run_lesson(path, cwd=None):
    """Execute the lesson's blocks in order in one namespace (cwd: the working folder).
    Returns the namespace. A failing block raises with the lesson line it started on."""
    path = Path(path)
    namespace = {"__name__": "__lesson__"}
    with _working_folder(cwd):
        for start, code in code_blocks(path.read_text(encoding="utf-8")):
            try:
                exec(compile(code, f"{path}:{start}", "exec"), namespace)
            except Exception as e:
                raise RuntimeError(f"{path}, the block starting on line {start}: "
                                   f"{type(e).__name__}: {e}") from e
    return namespace


def lesson_path(number, root="."):
    return Path(root) / assignment(number).lesson


@contextlib.contextmanager
def _working_folder(cwd):
    if cwd is None:
        yield
        return
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(previous)

"""Solution regions in the library source, and cutting them out.

A region is the lines between `# BEGIN TASK a.b` and `# END TASK a.b` (the two
marker lines at the same indentation, never nested). Cutting keeps both
markers and puts in their place, at the marker's indentation,

    raise NotImplementedError("Task a.b: in Mul.backward, <what to write>; see docs/course/...")

so a cut file still imports (a region is always inside a function body) and
the student writes their code between the markers.
"""
import ast
import dataclasses
import re
from pathlib import Path

from .tasks import assignment, task as find_task

LIBRARY = "minigan"
SKIPPED = ("minigan/course/",)     # the course's own files talk about markers
_MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<kind>BEGIN|END) TASK (?P<id>\d+\.\d+)[ \t]*$")
_LOOSE = re.compile(r"#\s*(BEGIN|END)\s+TASK\b")


class RegionError(ValueError):
    """Markers that do not pair up, or name a task the registry does not know."""


@dataclasses.dataclass(frozen=True)
class Region:
    path: str          # relative to the project root, with "/"
    task: str          # "1.1"
    begin: int         # 0-based line index of the BEGIN marker
    end: int           # 0-based line index of the END marker
    indent: str
    where: str         # the enclosing function, e.g. "Mul.backward"

    @property
    def assignment(self):
        return int(self.task.split(".")[0])


def library_files(root):
    """The library's .py files under root, as relative paths, sorted."""
    root = Path(root)
    files = []
    for path in sorted((root / LIBRARY).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(SKIPPED) and "__pycache__" not in rel:
            files.append(rel)
    return files


def regions_in(text, rel_path):
    """The regions of one file's text, checked: paired, same indentation, not nested,
    inside a function, and naming a known task."""
    lines = text.splitlines()
    regions, open_marker = [], None
    for i, line in enumerate(lines):
        m = _MARKER.match(line)
        if m is None:
            if _LOOSE.search(line):
                raise RegionError(f"{rel_path}:{i + 1}: malformed task marker {line.strip()!r} "
                                  "(expected '# BEGIN TASK a.b' or '# END TASK a.b' alone on its line)")
            continue
        kind, task_id, indent = m["kind"], m["id"], m["indent"]
        if kind == "BEGIN":
            if open_marker is not None:
                raise RegionError(f"{rel_path}:{i + 1}: BEGIN TASK {task_id} inside the region "
                                  f"of task {open_marker[1]} opened on line {open_marker[0] + 1}")
            open_marker = (i, task_id, indent)
            continue
        if open_marker is None or open_marker[1] != task_id or open_marker[2] != indent:
            raise RegionError(f"{rel_path}:{i + 1}: END TASK {task_id} does not close a "
                              "BEGIN TASK of the same task at the same indentation")
        try:
            find_task(task_id)
        except KeyError:
            raise RegionError(f"{rel_path}:{open_marker[0] + 1}: task {task_id} is not in "
                              "minigan/course/tasks.py") from None
        regions.append(Region(rel_path, task_id, open_marker[0], i, indent, ""))
        open_marker = None
    if open_marker is not None:
        raise RegionError(f"{rel_path}:{open_marker[0] + 1}: BEGIN TASK {open_marker[1]} "
                          "is never closed")
    if not regions:
        return []
    functions = _functions(text)
    placed = []
    for r in regions:
        # the END marker may follow the function's last statement (comments are not in the AST)
        where = [name for first, last, name in functions if first < r.begin + 1 <= last]
        if not where:
            raise RegionError(f"{rel_path}:{r.begin + 1}: the region of task {r.task} is not "
                              "inside a function body (a cut file must still import)")
        placed.append(dataclasses.replace(r, where=max(where, key=len)))
    return placed


def _functions(text):
    """(first line, last line, qualified name) of every function in the source."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    found.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(text), "")
    return found


def find_regions(root):
    """Every region in the library under root."""
    root = Path(root)
    regions = []
    for rel in library_files(root):
        text = (root / rel).read_text(encoding="utf-8")
        if "TASK" in text:
            regions.extend(regions_in(text, rel))
    return regions


def message(region):
    """What the cut region raises: the task, where, what to write, which lesson."""
    t = find_task(region.task)
    lesson = assignment(t.assignment).lesson
    return f"Task {t.id}: in {region.where}, write {t.todo}; see {lesson}"


def cut_text(text, rel_path, number):
    """text with every region of assignment `number` replaced by its NotImplementedError."""
    lines = text.splitlines(keepends=True)
    out, skip_until = [], None
    cut = {r.begin: r for r in regions_in(text, rel_path) if r.assignment == number}
    for i, line in enumerate(lines):
        if skip_until is not None:
            if i < skip_until:
                continue
            skip_until = None
        out.append(line)
        if i in cut:
            r = cut[i]
            literal = '"' + message(r).replace("\\", "\\\\").replace('"', '\\"') + '"'
            out.append(f"{r.indent}raise NotImplementedError({literal})\n")
            skip_until = r.end
    result = "".join(out)
    compile(result, rel_path, "exec")  # a cut file must still be Python
    return result

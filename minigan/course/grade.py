"""`grade`: run each task's tests on a project tree and score them.

The tests of task a.b are the pytest tests under tests/course/ marked `task<a>_<b>`.
They run in one pytest subprocess with cwd=ROOT and PYTHONPATH=ROOT, so the
code imported is the tree's (the student's), and a small plugin of ours
(pytest_plugin.py, copied next to nothing of the tree) writes every outcome to
a JSON file. A task passes when all of its tests pass; its message is the first
failing check's (a check_close message gives the expected and computed values
and their relative error).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .check import parse_failure
from .tasks import ASSIGNMENTS, assignment

TESTS = "tests/course"


def grade(root=".", numbers=None, timeout=900, without_end_to_end=False):
    """{"tasks": [{"id", "title", "points", "earned", "passed", "message", ...}],
        "score": S, "max": M} for the assignments `numbers` (all when None).

    without_end_to_end: leave out the tests marked end_to_end (the trainings), for
    the course's own tests, which check the cutting and grading, not the trainings."""
    root = Path(root).resolve()
    if not (root / TESTS).is_dir():
        raise FileNotFoundError(f"{root} has no {TESTS}/ folder: is it a minigan project tree?")
    chosen = [assignment(n) for n in numbers] if numbers else list(ASSIGNMENTS)
    tasks = [t for a in chosen for t in a.tasks]
    if not tasks:
        raise ValueError("the chosen assignments have no tasks")
    expression = "(" + " or ".join(t.marker for t in tasks) + ")"
    if without_end_to_end:
        expression += " and not end_to_end"
    report, _ = _run_pytest(root, expression, timeout)
    results = []
    for t in tasks:
        mine = [x for x in report["tests"] if t.marker in x["tasks"]]
        passed = bool(mine) and all(x["outcome"] == "passed" for x in mine)
        message, crash, test = "", "", None
        if not mine:
            message = ("no test ran: " + _gist("\n".join(report["errors"])) if report["errors"]
                       else "no tests found for this task (marker " + t.marker + ")")
        elif not passed:
            first = next(x for x in mine if x["outcome"] != "passed")
            crash = first["message"] or first["outcome"] or "did not run"
            if first["outcome"] == "skipped":
                crash = "skipped: " + crash
            test = first["nodeid"].split("::")[-1]
            message = f"{test}: {crash}"
        entry = {"id": t.id, "title": t.title, "points": t.points,
                 "earned": t.points if passed else 0, "passed": passed, "message": message,
                 "tests": len(mine)}
        if test:
            entry["test"] = test
        failure = parse_failure(crash.removeprefix("AssertionError: ")) if crash else None
        if failure:
            entry["check"] = failure
        results.append(entry)
    return {"tasks": results, "score": sum(r["earned"] for r in results),
            "max": sum(r["points"] for r in results)}


def _run_pytest(root, expression, timeout):
    """Run the marked tests under root; returns (the plugin's report, pytest's output tail)."""
    plugin = Path(__file__).with_name("pytest_plugin.py")
    with tempfile.TemporaryDirectory(prefix="minigan-grade-") as tmp:
        shutil.copy(plugin, Path(tmp) / "minigan_course_plugin.py")
        report_path = Path(tmp) / "report.json"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root), tmp])
        env["MINIGAN_COURSE_REPORT"] = str(report_path)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "minigan_course_plugin",
                   "-p", "no:cacheprovider", "-m", expression, TESTS]
        try:
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                                  timeout=timeout)
            output = (done.stdout + done.stderr).strip()
        except subprocess.TimeoutExpired:
            output = f"the tests ran past {timeout} s"
        tail = "\n".join(output.splitlines()[-15:])
        if report_path.exists():
            report = json.loads(report_path.read_text(encoding="utf-8"))
            report["ran"] = True
        else:
            report = {"tests": [], "errors": [tail], "ran": False}
    return report, tail


def _gist(text):
    """The lines of a pytest error that say what went wrong (its 'E ' lines), on one line."""
    lines = []
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("E ") and line[1:].strip() not in lines:
            lines.append(line[1:].strip())
    lines = lines or [line.strip() for line in text.splitlines() if line.strip()][-3:]
    return " | ".join(lines[-4:])[:1000]


def format_table(result):
    """The grade as a table, one row per task, a failure's message under its row."""
    rows = [f"{'task':<5} {'points':>7}  {'result':<7} title"]
    for r in result["tasks"]:
        rows.append(f"{r['id']:<5} {str(r['earned']) + '/' + str(r['points']):>7}  "
                    f"{'passed' if r['passed'] else 'FAILED':<7} {r['title']}")
        if not r["passed"]:
            rows.append(f"{'':<5} {'':>7}  {'':<7} {r['message']}")
    rows.append(f"score: {result['score']}/{result['max']}")
    return "\n".join(rows)


def print_json(result):
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")

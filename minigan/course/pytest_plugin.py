"""A pytest plugin for the grader: writes every task test's outcome to a JSON file.

Loaded by `python -m minigan.course grade` as a file of its own (it imports no
minigan), so a student's broken library cannot stop the report. The file named
by $MINIGAN_COURSE_REPORT gets

    {"tests": [{"nodeid", "tasks": ["task1_2"], "outcome", "message"}],
     "errors": ["collection error messages"]}
"""
import json
import os
import re

_TASK_MARKER = re.compile(r"^task\d+_\d+$")
_tests = {}
_errors = []


def _message(report):
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    return str(longrepr).strip().splitlines()[-1] if str(longrepr).strip() else ""


def pytest_collection_finish(session):
    for item in session.items:  # after -m has deselected the other tasks' tests
        tasks = sorted({m.name for m in item.iter_markers() if _TASK_MARKER.match(m.name)})
        _tests[item.nodeid] = {"nodeid": item.nodeid, "tasks": tasks, "outcome": None,
                               "message": ""}


def pytest_collectreport(report):
    if report.failed:  # the whole text: the grader keeps its 'E' lines (file, line, error)
        _errors.append(f"{report.nodeid}:\n{report.longrepr}")


def pytest_runtest_logreport(report):
    test = _tests.get(report.nodeid)
    if test is None or test["outcome"] in ("failed", "skipped"):
        return
    if report.failed or report.skipped:
        test["outcome"] = "failed" if report.failed else "skipped"
        test["message"] = _message(report)
    elif report.when == "call":
        test["outcome"] = "passed"


def pytest_sessionfinish(session):
    path = os.environ.get("MINIGAN_COURSE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"tests": list(_tests.values()), "errors": _errors}, f)

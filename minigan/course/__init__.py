"""The course around minigan: assignments cut from the library's own code, and their grader.

    python -m minigan.course list
    python -m minigan.course cut 3 --out hw3
    python -m minigan.course grade --assignment 3 --root hw3 [--json]

tasks.py (the registry), regions.py (the `# BEGIN TASK a.b` regions), cut.py
(the student copy), grade.py (pytest per task), check.py (check_close),
lessons.py (running a lesson's code blocks). The lessons are in docs/course/.
"""
from .check import check_close, rel_error
from .tasks import ASSIGNMENTS, assignment

__all__ = ["ASSIGNMENTS", "assignment", "check_close", "rel_error"]

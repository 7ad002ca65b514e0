"""The lessons in docs/course/ cannot rot: every ```python block runs, in order, in one
namespace (as a reader would run them), every picture they show is one their code
makes, and every `file`, `function` they point at exists."""
import ast
import re
import shutil
from pathlib import Path

import pytest

import minigan as mg
from minigan.course import tasks as registry
from minigan.course.lessons import code_blocks, run_lesson

from .helpers import needs_mnist

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [a.lesson for a in registry.ASSIGNMENTS]
POINTER = re.compile(r"`(minigan/[\w/]+\.py)`((?:,?\s*(?:and\s+)?`[\w.]+`)+)")


@needs_mnist
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lessons_code_runs_and_makes_its_pictures(lesson, tmp_path):
    text = (ROOT / lesson).read_text()
    assert code_blocks(text), f"{lesson} has no code"
    with mg.use_backend("numpy"):
        mg.manual_seed(0)
        run_lesson(ROOT / lesson, cwd=tmp_path)
    for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (ROOT / "docs" / "course" / picture).is_file(), f"{lesson}: {picture} is not in docs/course/"
        made = tmp_path / picture
        if not made.is_file() and shutil.which("dot") is None:
            # a graph drawing: without Graphviz the lesson writes the DOT text instead
            made = made.with_suffix(".dot")
        assert made.is_file(), f"{lesson} shows {picture} but its code does not make it"


def _names(path):
    """Every function and class in a source file, with its class prefix (Mul.backward)."""
    names = set()

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                names.add(prefix + child.name)
                visit(child, prefix + child.name + ".")
    visit(ast.parse(path.read_text()), "")
    return names


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_code_each_lesson_points_at_exists(lesson):
    text = (ROOT / lesson).read_text().replace("\n", " ")
    pointers = POINTER.findall(text)
    assert pointers, f"{lesson} points at no code"
    for path, names in pointers:
        assert (ROOT / path).is_file(), f"{lesson}: {path} does not exist"
        known = _names(ROOT / path)
        for name in re.findall(r"`([\w.]+)`", names):
            assert name in known, f"{lesson}: {path} has no {name}"


def test_the_course_readme_lists_every_lesson():
    readme = (ROOT / "docs" / "course" / "README.md").read_text()
    for a in registry.ASSIGNMENTS:
        assert Path(a.lesson).name in readme, a.lesson

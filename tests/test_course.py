"""The course tooling (minigan/course/): the registry, cutting assignments, grading them.

Each cut is graded in a pytest subprocess, as a classroom CI would. To keep the
suite fast these runs leave out the end-to-end trainings (marked end_to_end), which
tests/course/ runs directly anyway; one run grades assignment 5 with its training.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigan.course import tasks as registry
from minigan.course.__main__ import main
from minigan.course.cut import cut, project_files
from minigan.course.grade import grade
from minigan.course.regions import RegionError, cut_text, find_regions, regions_in

ROOT = Path(__file__).resolve().parents[1]


# --- the registry, the regions and the tests agree ------------------------------------------

def test_every_task_has_regions_tests_a_marker_and_a_lesson():
    regions = find_regions(ROOT)
    marked = {r.task for r in regions}
    test_text = "\n".join(p.read_text() for p in (ROOT / "tests" / "course").glob("test_*.py"))
    setup = (ROOT / "setup.cfg").read_text()
    for a in registry.ASSIGNMENTS:
        assert (ROOT / a.lesson).is_file(), f"assignment {a.number}: no lesson {a.lesson}"
        assert a.tasks, f"assignment {a.number} has no tasks"
        for t in a.tasks:
            assert t.id in marked, f"task {t.id} has no '# BEGIN TASK {t.id}' region"
            assert f"@pytest.mark.{t.marker}\n" in test_text, f"task {t.id} has no tests"
            assert f"    {t.marker}:" in setup, f"marker {t.marker} is not registered"
    assert marked <= {t.id for t in registry.all_tasks()}


def test_regions_are_inside_functions_and_name_them():
    where = {(r.task, r.where) for r in find_regions(ROOT)}
    assert ("1.3", "_topological_order") in where
    assert ("1.1", "Mul.backward") in where
    assert ("3.1", "im2col") in where
    assert ("5.2", "DCGAN.discriminator_step") in where


SOURCE = '''\
def f(x):
    """doc"""
    y = 1
    # BEGIN TASK 1.1
    y = x + y
    return y
    # END TASK 1.1


class A:
    def g(self):
        if True:
            # BEGIN TASK 2.1
            return 2
            # END TASK 2.1
'''


def test_cut_replaces_a_region_at_its_indentation_and_keeps_the_markers():
    out = cut_text(SOURCE, "m.py", 1)
    assert out.splitlines()[3:6] == [
        "    # BEGIN TASK 1.1",
        '    raise NotImplementedError("Task 1.1: in f, write ' + registry.task("1.1").todo
        + '; see docs/course/01_autograd.md")',
        "    # END TASK 1.1"]
    assert "return 2" in out  # the other assignment's region stays solved
    cut2 = cut_text(SOURCE, "m.py", 2)
    assert '            raise NotImplementedError("Task 2.1: in A.g, write' in cut2
    namespace = {}
    exec(cut2, namespace)
    with pytest.raises(NotImplementedError, match=r"^Task 2\.1: in A\.g, write .*; see docs/course/02_mlp\.md$"):
        namespace["A"]().g()


def test_filling_the_cut_regions_back_gives_the_original_file():
    for rel in sorted({r.path for r in find_regions(ROOT)}):
        original = (ROOT / rel).read_text()
        for number in {r.assignment for r in regions_in(original, rel)}:
            cut_file = cut_text(original, rel, number)
            student, lines = cut_file.splitlines(keepends=True), original.splitlines(keepends=True)
            pairs = zip([r for r in regions_in(cut_file, rel) if r.assignment == number],
                        [r for r in regions_in(original, rel) if r.assignment == number])
            for mine, solution in reversed(list(pairs)):
                assert mine.end == mine.begin + 2   # BEGIN, the raise, END
                student[mine.begin + 1:mine.end] = lines[solution.begin + 1:solution.end]
            assert "".join(student) == original, rel


@pytest.mark.parametrize("source,complaint", [
    ("def f():\n    # BEGIN TASK 1.1\n    pass\n", "never closed"),
    ("def f():\n    # BEGIN TASK 1.1\n    # BEGIN TASK 1.2\n    pass\n", "inside the region"),
    ("def f():\n    # BEGIN TASK 1.1\n    pass\n# END TASK 1.1\n", "same indentation"),
    ("def f():\n    # BEGIN TASK 9.9\n    pass\n    # END TASK 9.9\n", "not in minigan/course/tasks.py"),
    ("# BEGIN TASK 1.1\nx = 1\n# END TASK 1.1\n", "not inside a function body"),
    ("def f():\n    # BEGIN TASK 1.1 please\n    pass\n", "malformed task marker"),
])
def test_markers_that_do_not_pair_up_are_refused(source, complaint):
    with pytest.raises(RegionError, match=complaint):
        regions_in(source, "m.py")


# --- the command line -----------------------------------------------------------------------

def test_list_prints_every_task_with_its_points(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for t in registry.all_tasks():
        assert re.search(rf"^  {re.escape(t.id)}\s+{t.points} pt  {re.escape(t.title)}", out, re.M)
    assert f"total: {sum(t.points for t in registry.all_tasks())} points" in out


def test_cut_refuses_an_unknown_assignment_and_a_folder_in_use(tmp_path, capsys):
    assert main(["cut", "9", "--out", str(tmp_path / "hw"), "--root", str(ROOT)]) == 2
    assert "error: no assignment 9" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    assert main(["cut", "1", "--out", str(tmp_path / "full"), "--root", str(ROOT)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


def test_the_student_copy_is_the_whole_project_without_caches(tmp_path):
    out = tmp_path / "hw3"
    cut(3, out, root=ROOT)
    copied = set(project_files(out))
    assert {"setup.cfg", "minigan/textbook/conv.py", "tests/course/test_assignment3.py",
            "docs/course/03_convolution.md", "examples/mnist_dcgan.py"} <= copied
    assert not any(part in {".git", "__pycache__", ".venv"} for f in copied for part in Path(f).parts)
    again = tmp_path / "again"          # a copy cut from a folder holding a student copy
    shutil.copytree(out, tmp_path / "project")
    shutil.copytree(out, tmp_path / "project" / "hw1")
    cut(4, again, root=tmp_path / "project")
    assert not (again / "hw1").exists() and (again / "minigan" / "textbook" / "adam.py").is_file()
    text = (out / "minigan/textbook/conv.py").read_text()
    assert "cols[:, :, i, j] = x_pad" not in text        # the solution is gone
    assert text.count('raise NotImplementedError("Task 3.') == 7
    assert (out / "minigan/functional/conv.py").read_text() == (ROOT / "minigan/functional/conv.py").read_text()


# --- grading: cut trees fail their assignment, and only it -----------------------------------

def _own_failure(entry):
    return (not entry["passed"]
            and f"NotImplementedError: Task {entry['id']}: " in entry["message"]
            and entry["earned"] == 0)


@pytest.mark.parametrize("number", [a.number for a in registry.ASSIGNMENTS])
def test_cutting_an_assignment_fails_exactly_its_tasks(tmp_path, number):
    cut(number, tmp_path / "hw", root=ROOT)
    result = grade(tmp_path / "hw", without_end_to_end=True)
    for entry in result["tasks"]:
        if entry["id"].startswith(f"{number}."):
            assert _own_failure(entry), entry
        elif number == 1:
            # assignments 2-6 run on assignment 1's engine: what they need of it is missing
            assert entry["passed"] or "NotImplementedError: Task 1." in entry["message"], entry
        else:
            assert entry["passed"], entry
    assert result["max"] == sum(t.points for t in registry.all_tasks())


def test_the_uncut_tree_scores_full_marks():
    result = grade(ROOT, without_end_to_end=True)
    assert result["score"] == result["max"], [t for t in result["tasks"] if not t["passed"]]


# (task, file, solution text, the same with one sign flipped)
MUTATIONS_1 = [
    ("1.1", "minigan/functional/elementwise.py", "return sum_to(g, a.shape), sum_to(-g, b.shape)",
     "return sum_to(g, a.shape), sum_to(g, b.shape)"),
    ("1.4", "minigan/autograd.py", "previous + gx\n", "previous - gx\n"),
]
MUTATIONS_2_TO_6 = [
    ("2.1", "minigan/functional/linalg.py", "sum_to(matmul(g, transpose(b, -1, -2)), a.shape)",
     "sum_to(-matmul(g, transpose(b, -1, -2)), a.shape)"),
    ("3.3", "minigan/textbook/conv.py", "                  left:left + sw * (wo - 1) + 1:sw] += cols",
     "                  left:left + sw * (wo - 1) + 1:sw] -= cols"),
    ("4.2", "minigan/textbook/norm.py", "m * dy - sum_dy - x_hat * sum_dy_x_hat",
     "m * dy - sum_dy + x_hat * sum_dy_x_hat"),
    ("5.1", "minigan/gan/losses.py", "binary_cross_entropy_with_logits(fake_logits, _full_like(fake_logits, 0.0)))",
     "binary_cross_entropy_with_logits(fake_logits, _full_like(fake_logits, 1.0)))"),
    ("6.1", "minigan/gan/losses.py", "((norms - 1.0) ** 2).mean()", "((norms + 1.0) ** 2).mean()"),
]


@pytest.mark.parametrize("mutations", [MUTATIONS_1, MUTATIONS_2_TO_6], ids=["1", "2-6"])
def test_a_flipped_sign_inside_a_region_fails_its_task(tmp_path, mutations):
    copy = tmp_path / "wrong"
    for rel in project_files(ROOT):
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, copy / rel)
    for task_id, rel, right, wrong in mutations:
        text = (copy / rel).read_text()
        assert text.count(right) == 1, (rel, right)
        (copy / rel).write_text(text.replace(right, wrong))
        flipped = [r for r in regions_in((copy / rel).read_text(), rel) if r.task == task_id]
        lines = (copy / rel).read_text().splitlines()
        assert any(wrong.strip().splitlines()[0] in "\n".join(lines[r.begin:r.end]) for r in flipped)
    result = grade(copy, numbers=sorted({int(m[0][0]) for m in mutations}), without_end_to_end=True)
    by_id = {t["id"]: t for t in result["tasks"]}
    for task_id, *_ in mutations:
        assert not by_id[task_id]["passed"], by_id[task_id]
        assert "NotImplementedError" not in by_id[task_id]["message"]
    assert "check" in by_id[mutations[0][0]], by_id[mutations[0][0]]   # expected, computed, error
    assert by_id[mutations[0][0]]["check"]["rel_error"] > 1e-3


def test_grade_json_for_assignment_5_with_its_training():
    done = subprocess.run([sys.executable, "-m", "minigan.course", "grade", "--assignment", "5",
                           "--root", str(ROOT), "--json"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert [t["id"] for t in result["tasks"]] == ["5.1", "5.2", "5.3", "5.4"]
    assert all(t["passed"] and t["message"] == "" for t in result["tasks"])
    assert result["score"] == result["max"] == 8
    assert set(result["tasks"][0]) >= {"id", "points", "passed", "message"}


def test_a_tree_that_does_not_import_scores_nothing_and_says_why(tmp_path):
    cut(6, tmp_path / "hw", root=ROOT)
    broken = tmp_path / "hw" / "minigan" / "gan" / "losses.py"
    broken.write_text(broken.read_text() + "\ndef half_written(:\n")
    result = grade(tmp_path / "hw", numbers=[6])
    assert result["score"] == 0
    for entry in result["tasks"]:
        assert "SyntaxError" in entry["message"] and "losses.py" in entry["message"], entry

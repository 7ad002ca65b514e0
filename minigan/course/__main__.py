"""python -m minigan.course list | cut N --out DIR | grade [--assignment N] [--root DIR] [--json]
| lesson N [--out DIR]"""
import argparse
import sys
from pathlib import Path

from . import tasks as registry


def _list(args):
    for a in registry.ASSIGNMENTS:
        print(f"Assignment {a.number}: {a.title}  ({a.points} points, {a.lesson})")
        for t in a.tasks:
            print(f"  {t.id:<5} {t.points:>2} pt  {t.title}  [pytest -m {t.marker}]")
    total = sum(a.points for a in registry.ASSIGNMENTS)
    print(f"total: {total} points")
    return 0


def _cut(args):
    from .cut import cut
    regions = cut(args.number, args.out, root=args.root)
    a = registry.assignment(args.number)
    files = sorted({r.path for r in regions})
    print(f"assignment {a.number} ({a.title}): cut {len(regions)} regions of "
          f"{len(a.tasks)} tasks in {len(files)} files into {args.out}")
    for path in files:
        print(f"  {path}: " + ", ".join(f"{r.task} {r.where}" for r in regions if r.path == path))
    print(f"lesson: {a.lesson}; grade with: python -m minigan.course grade "
          f"--assignment {a.number} --root {args.out}")
    return 0


def _grade(args):
    from .grade import format_table, grade, print_json
    result = grade(args.root, [args.assignment] if args.assignment is not None else None,
                   timeout=args.timeout)
    if args.json:
        print_json(result)
    else:
        print(format_table(result))
    return 0 if result["score"] == result["max"] else 1


def _lesson(args):
    from .lessons import lesson_path, run_lesson
    path = lesson_path(args.number, args.root).resolve()
    out = Path(args.out) if args.out else Path.cwd()
    out.mkdir(parents=True, exist_ok=True)
    run_lesson(path, cwd=out)
    print(f"ran {path} in {out}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minigan.course",
                                     description="minigan's course: assignments and their grader")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the assignments and their tasks, with points")
    p = sub.add_parser("cut", help="write a student copy with assignment N's regions cut out")
    p.add_argument("number", type=int)
    p.add_argument("--out", required=True, help="the folder to create (must not exist or be empty)")
    p.add_argument("--root", default=".", help="the project to copy (default: .)")
    p = sub.add_parser("grade", help="run each task's tests on a tree and score them")
    p.add_argument("--assignment", type=int, default=None, help="only this assignment")
    p.add_argument("--root", default=".", help="the tree to grade (default: .)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--timeout", type=float, default=900, help="seconds for the whole run")
    p = sub.add_parser("lesson", help="run lesson N's code blocks (writes its pictures)")
    p.add_argument("number", type=int)
    p.add_argument("--out", default=None, help="the working folder (default: .)")
    p.add_argument("--root", default=".", help="the project holding docs/course/")
    args = parser.parse_args(argv)
    try:
        return {"list": _list, "cut": _cut, "grade": _grade, "lesson": _lesson}[args.command](args)
    except (ValueError, FileExistsError, FileNotFoundError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

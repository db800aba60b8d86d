"""The ``tinylearn`` command.

    tinylearn tour [--out DIR]                  a few minutes, offline, through what tinylearn can do
    tinylearn data download NAME [--root DIR]   fetch a data set's files and check their checksums
    tinylearn data verify [DIR]                 check every known data file found under a data root
    tinylearn check LESSON [FILE]               grade your answers to a lesson's exercises
    tinylearn lessons list|coverage|check       the lessons and how much of the curriculum they cover

``main(argv)`` returns the exit status (0 on success), so the command can be tested by calling it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EPILOG = """examples:
  tinylearn tour --out tour-output
  tinylearn data download mnist --root ~/data
  tinylearn data verify ~/data
  tinylearn check 1.3 --template > exercises_1_3.py   (fill it in, then:)
  tinylearn check 1.3 exercises_1_3.py

Data roots: a data set NAME lives in <root>/<name>/, where <root> is --root (or DIR), else
$TINYLEARN_DATA, else ~/.cache/tinylearn. Set TQDM_DISABLE=1 to switch the progress bars off."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tinylearn`` command and its subcommands."""
    from .data.files import RESOURCES

    parser = argparse.ArgumentParser(
        prog="tinylearn",
        description="tinylearn: learn deep learning by building it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tour = sub.add_parser(
        "tour",
        help="a few minutes, offline, through what tinylearn can do",
        description="Fully offline, trains and evaluates small models on built-in data, prints what it "
        "does, and writes its figures to a folder. About two to three minutes on two CPU cores.",
    )
    tour.add_argument(
        "--out", default="tour-output", metavar="DIR", help="folder for the figures (default: %(default)s)"
    )

    data = sub.add_parser(
        "data",
        help="download and verify data sets",
        description="Download real data sets in their official formats, or check the files you have.",
    )
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    names = ", ".join(RESOURCES)
    download = data_sub.add_parser(
        "download",
        help="download a data set's files and check their checksums",
        description=f"Download every file of data set NAME ({names}) from its mirrors, check the "
        "published checksums and write the files atomically. Files already there and intact are "
        "kept. Offline, the error lists the files to put where, and the exit status is 1.",
    )
    download.add_argument("name", metavar="NAME", help=f"the data set: {names}")
    download.add_argument(
        "--root", metavar="DIR", help="the data root (default: $TINYLEARN_DATA or ~/.cache/tinylearn)"
    )
    download.add_argument("--no-progress", action="store_true", help="no progress bars")

    verify = data_sub.add_parser(
        "verify",
        help="check the size and checksums of the data files under a folder",
        description="Print the state of every known data file under DIR: ok, corrupt (with the reason) "
        "or missing. The exit status is 1 if any file is corrupt; missing files are not an error.",
    )
    verify.add_argument(
        "root",
        nargs="?",
        metavar="DIR",
        help="the data root (default: $TINYLEARN_DATA or ~/.cache/tinylearn)",
    )
    verify.add_argument(
        "--dataset", action="append", metavar="NAME", help=f"only this data set ({names}); repeatable"
    )
    from . import lessons

    lessons.add_subparsers(sub)

    check = sub.add_parser(
        "check",
        help="grade your answers to a lesson's exercises",
        description="Grade the functions you wrote for a lesson's exercises with the lesson's tests and "
        "gradient checks. FILE is a Python file defining them (default: exercises_S_M.py in the current "
        "folder); --template prints such a file to fill in.",
    )
    check.add_argument("lesson", help="a lesson id, e.g. 1.3")
    check.add_argument("file", nargs="?", default=None, help="your answers (default: exercises_S_M.py)")
    mode = check.add_mutually_exclusive_group()
    mode.add_argument("--template", action="store_true", help="print a file to fill in and exit")
    mode.add_argument("--reference", action="store_true", help="grade the library's own solutions")
    mode.add_argument("--list", action="store_true", help="list the lesson's exercises")
    return parser


def cmd_tour(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # the tour only writes files; never open a window
    from . import tour

    tour.run(args.out)
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .data.files import CorruptFileError, DataNotFoundError, download

    try:
        paths = download(args.name, root=args.root, progress=not args.no_progress)
    except (DataNotFoundError, CorruptFileError, ValueError) as exc:
        print(f"tinylearn data download: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"OK       {path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .data.files import data_root, verify

    if args.root is not None and not data_root(args.root).is_dir():
        print(f"tinylearn data verify: {args.root} is not a folder", file=sys.stderr)
        return 2
    try:
        checks = verify(args.root, names=args.dataset)
    except ValueError as exc:  # an unknown data set name
        print(f"tinylearn data verify: {exc}", file=sys.stderr)
        return 2
    print(f"data root: {data_root(args.root)}")
    print(f"{'dataset':16s}{'file':32s}{'status':9s}detail")
    for check in checks:
        detail = f"{check.path}" + (f"  ({check.detail})" if check.detail else "") if check.path else ""
        print(f"{check.dataset:16s}{check.name:32s}{check.status:9s}{detail}")
    counts = {status: sum(c.status == status for c in checks) for status in ("ok", "corrupt", "missing")}
    print(", ".join(f"{n} {status}" for status, n in counts.items()))
    if counts["corrupt"]:
        print("Corrupt files: delete them and run `tinylearn data download NAME` again.", file=sys.stderr)
        return 1
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    import runpy
    from pathlib import Path

    from . import exercises

    try:
        found = exercises.exercises(args.lesson)
    except ValueError as exc:
        print(f"tinylearn check: {exc}", file=sys.stderr)
        return 2
    if not found:
        known = sorted({e.lesson for e in exercises.exercises()}, key=lambda s: tuple(map(int, s.split("."))))
        print(
            f"tinylearn check: lesson {args.lesson} has no exercises (lessons with exercises: "
            f"{', '.join(known)})",
            file=sys.stderr,
        )
        return 2
    if args.template:
        print(exercises.template(args.lesson))
        return 0
    if args.list:
        for ex in found:
            print(f"{ex.section:8s}{ex.signature}\n        {ex.prompt}")
        return 0
    if args.reference:
        namespace: dict = {}
        print(f"lesson {args.lesson}: grading the library's reference solutions")
    else:
        path = Path(args.file or f"exercises_{args.lesson.replace('.', '_')}.py")
        if not path.is_file():
            print(
                f"tinylearn check: {path} not found. Write your functions there (start from "
                f"`tinylearn check {args.lesson} --template > {path}`) or name the file.",
                file=sys.stderr,
            )
            return 2
        try:
            namespace = runpy.run_path(str(path), run_name="__exercises__")
        except Exception as exc:  # the learner's file does not even import: say where
            print(f"tinylearn check: running {path} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(f"lesson {args.lesson}: grading {path}")
    results = exercises.grade(args.lesson, namespace, reference=args.reference)
    print(exercises.report(results))
    return 0 if all(r.passed for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tinylearn`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "lessons":
        return args.handler(args)
    if args.command == "check":
        return cmd_check(args)
    if args.command == "tour":
        return cmd_tour(args)
    if args.data_command == "download":
        return cmd_download(args)
    return cmd_verify(args)


if __name__ == "__main__":
    sys.exit(main())

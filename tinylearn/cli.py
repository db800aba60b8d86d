"""The ``tinylearn`` command.

    tinylearn tour [--out DIR]                  a few minutes, offline, through what tinylearn can do
    tinylearn data download NAME [--root DIR]   fetch a data set's files and check their checksums
    tinylearn data verify [DIR]                 check every known data file found under a data root

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tinylearn`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "lessons":
        return args.handler(args)
    if args.command == "tour":
        return cmd_tour(args)
    if args.data_command == "download":
        return cmd_download(args)
    return cmd_verify(args)


if __name__ == "__main__":
    sys.exit(main())

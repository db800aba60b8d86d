"""Run a command, and run it again if it stalls: no CPU used by it and all its descendants for
``idle`` seconds.

    python docs/watchdog.py [--idle SECONDS] [--retries N] -- COMMAND ...

Why: the docs build executes the lessons in Jupyter kernels, and on the 2-core machines a kernel
has now and then stalled at the start of a lesson: the kernel and the executor (nbclient, under
myst-nb) both idle in ``epoll``, each waiting for the other, and neither the cell timeout nor the
start-up timeout firing (cause unknown; seen with ipykernel 6.31 and 7.4, under load). A real
build never idles that long: every lesson computes. The watchdog kills the command and every
process it started (the kernels run in sessions of their own, so each is killed by pid), and
starts it again; the lessons that had run are in jupyter-cache's cache, so the second build runs
only the rest. Without ``/proc`` (not Linux) the command just runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process, from /proc/PID/stat; None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # ppid, utime + stime


def descendants(root: int) -> list[int]:
    """The pids of every living process below ``root`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds(root: int) -> float:
    """CPU seconds used so far by ``root`` and its living descendants."""
    return sum(stat[1] for pid in [root, *descendants(root)] if (stat := _stat(pid)) is not None)


def _kill_tree(root: int) -> int:
    pids = [*descendants(root), root]
    for pid in pids:
        with contextlib.suppress(OSError):  # (gone already)
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def run(
    command: list[str], *, idle: float = 120.0, retries: int = 1, poll: float = 2.0, **popen
) -> tuple[int, int]:
    """Run ``command`` (``popen``: keyword arguments for :class:`subprocess.Popen`) until it exits,
    restarting it at most ``retries`` times after a stall of ``idle`` seconds without CPU.
    Returns (its exit status, how many stalls were cut); after the last allowed stall, the status
    of the killed command (negative: killed by a signal)."""
    stalls = 0
    while True:
        process = subprocess.Popen(command, **popen)
        if not PROC.is_dir():
            return process.wait(), stalls
        used, since = -1.0, time.monotonic()
        while process.poll() is None:
            time.sleep(poll)
            now, total = time.monotonic(), cpu_seconds(process.pid)
            if total > used + 0.05:  # progress (more than rounding in /proc's clock ticks)
                used, since = total, now
            elif now - since >= idle:
                killed = _kill_tree(process.pid)
                process.wait()
                stalls += 1
                print(f"watchdog: {' '.join(command[:4])} ... used no CPU for {now - since:.0f} s: killed "
                      f"{killed} processes" + (", running it again" if stalls <= retries else ""),
                      file=sys.stderr, flush=True)  # fmt: skip
                break
        else:
            return process.returncode, stalls
        if stalls > retries:
            return process.returncode, stalls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=120.0, help="seconds without CPU that count as a stall")
    parser.add_argument("--retries", type=int, default=1, help="how many times to run it again after a stall")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    status, _ = run(command, idle=args.idle, retries=args.retries)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())

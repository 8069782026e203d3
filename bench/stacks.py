"""Summarise py-spy collapsed stacks (``--format raw``): where the gateway's CPU goes.

``python -m bench.stacks FILE [--top N] [--match TEXT]``: the share of samples by the innermost
project function (broker/, audit/, transport/, schemas/: what our code asked for, libraries below it
included) and by the innermost frame's library (whose code actually ran). ``--match`` keeps only
stacks containing TEXT (e.g. ``flow.py`` for the request path).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

OURS = ("broker/", "audit/", "transport/", "schemas/")
# Waits that py-spy counts as running in this container (its idle detection does not see them).
IDLE = ("Condition.wait (threading.py", "_worker (concurrent/futures/thread.py:81)", "EpollSelector.select (")
# The driver's own set-up (partnership, signed tokens, imports), not the gateway's work.
SETUP = ("_requests (bench/inproc.py", "provision_partnership", "_find_and_load")
FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _split(frame: str) -> tuple[str, str]:
    found = FRAME.match(frame.strip())
    return (found["fn"], found["file"]) if found else (frame, "")


def _library(path: str) -> str:
    if path.startswith(OURS):
        return path.split("/")[0]
    parts = path.split("/")
    return parts[0].removesuffix(".py") if parts and parts[0] else "?"


def summarise(text: str, match: str | None) -> tuple[int, Counter[str], Counter[str]]:
    total, ours, leaves = 0, Counter[str](), Counter[str]()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or (match and match not in stack):
            continue
        if stack.rpartition(";")[2].startswith(IDLE) or any(s in stack for s in SETUP):
            continue
        n = int(count)
        total += n
        frames = [_split(f) for f in stack.split(";")]
        own = next((f"{file}:{fn}" for fn, file in reversed(frames) if file.startswith(OURS)), "(no project frame)")
        ours[own] += n
        leaves[_library(frames[-1][1])] += n
    return total, ours, leaves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="py-spy's raw (collapsed) stacks")
    parser.add_argument("--top", type=int, default=30, help="how many functions to list")
    parser.add_argument("--match", help="count only stacks containing this text")
    args = parser.parse_args()
    total, ours, leaves = summarise(args.file.read_text(), args.match)
    print(f"{total} samples")
    for title, counter in (("innermost project function", ours), ("leaf library", leaves)):
        print(f"\n{title}:")
        for name, n in counter.most_common(args.top):
            print(f"{100 * n / max(total, 1):6.1f}%  {name}")


if __name__ == "__main__":
    main()

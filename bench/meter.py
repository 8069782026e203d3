"""CPU time of the processes under test: by pid, by name, and the machine as a whole; py-spy on demand."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench import harness


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / ticks, sum(values) / ticks


def pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds used by each part of the system under test between `start()` and `stop()`."""

    def __init__(self, parts: dict[str, list[int] | str]) -> None:
        self.parts = parts

    def _pids(self, part: list[int] | str) -> list[int]:
        return pids_named(part) if isinstance(part, str) else part

    def _read(self) -> dict[str, float]:
        # Children's time counts too: PostgreSQL's backends come and go, their time lands on the postmaster.
        out = {
            name: sum(harness.cpu_seconds(p, with_children=isinstance(part, str)) for p in self._pids(part))
            for name, part in self.parts.items()
        }
        busy, total = machine_busy_seconds()
        out["_machine_busy"], out["_machine_total"] = busy, total
        return out

    def start(self) -> None:
        self._before, self._t0 = self._read(), time.monotonic()

    def stop(self) -> dict[str, float]:
        after, seconds = self._read(), time.monotonic() - self._t0
        used = {name: round((after[name] - self._before[name]) / seconds, 3) for name in self.parts}
        busy = (after["_machine_busy"] - self._before["_machine_busy"]) / seconds
        used["machine_busy_cores"] = round(busy, 3)
        used["elsewhere_cores"] = round(max(0.0, busy - sum(used[name] for name in self.parts)), 3)
        return used


def family(pid: int) -> list[int]:
    """`pid` and its live children (uvicorn's workers): a child's CPU shows on the parent only once it exits."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
    return [pid, *children]


def kafka_pid() -> int | None:
    from devstack.settings import StackSettings

    pid_file = StackSettings().kafka_state / "broker.pid"
    with contextlib.suppress(OSError, ValueError):
        return int(pid_file.read_text().strip())
    return None


def pid_listening(url: str) -> int:  # the private OPA's pid, for its CPU time
    port = url.rsplit(":", 1)[1]
    for pid in pids_named("opa"):
        with contextlib.suppress(OSError):
            if f"--addr=127.0.0.1:{port}" in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "):
                return pid
    return 0


@contextlib.contextmanager
def profiler(pid: int, *, base: Path, seconds: int) -> Iterator[None]:
    """Sample the gateway with py-spy during the saturation run (when --profile is given).

    Writes `base`.txt (raw) and `base`.speedscope.json, sampling for `seconds`.
    """
    base.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    procs = [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "100",
                "--format",
                fmt,
                "--output",
                f"{base}{ext}",
                "--nonblocking",
                "--threads",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fmt, ext in (("raw", ".txt"), ("speedscope", ".speedscope.json"))
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.wait(timeout=60)

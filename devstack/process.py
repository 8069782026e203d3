"""Starting, watching and stopping the stack's child processes, with visible progress."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

console = Console(stderr=True)


class StackError(Exception):
    """A part of the local stack could not be installed, started or stopped."""


def run_with_progress(
    args: Sequence[str], *, title: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> None:
    """Run a long command, showing its latest output line and the elapsed time."""
    started = time.monotonic()
    tail: list[str] = []
    with console.status(title) as status:
        proc = subprocess.Popen(
            list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line:
                tail = [*tail[-19:], line]
                elapsed = time.monotonic() - started
                status.update(f"{title} [{elapsed:4.0f}s] [dim]{line[:90]}[/dim]")
        code = proc.wait()
    if code != 0:
        raise StackError(f"{title} failed (exit {code}):\n" + "\n".join(tail))
    console.print(f"[green]✓[/green] {title} ({time.monotonic() - started:.0f}s)")


def start_daemon(args: Sequence[str], *, log_file: Path, pid_file: Path, env: dict[str, str] | None = None) -> int:
    """Start a detached process that outlives this command, recording its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    return proc.pid


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The recorded pid if that process is alive and is really ours (pids are reused)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if marker in cmdline else None


def stop_pid(pid_file: Path, marker: str, *, name: str, grace: float = 30.0) -> None:
    """SIGTERM (a clean shutdown for Kafka and OPA), then SIGKILL after the grace period."""
    pid = running_pid(pid_file, marker)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and running_pid(pid_file, marker) is not None:
        time.sleep(0.2)
    if running_pid(pid_file, marker) is not None:
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    console.print(f"[green]✓[/green] stopped {name}")


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], *, what: str, timeout: float, log_file: Path | None = None) -> None:
    """Poll `check` until it passes; on time-out show the end of the part's log."""
    deadline = time.monotonic() + timeout
    with console.status(f"waiting for {what}"):
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.3)
    tail = ""
    if log_file is not None and log_file.exists():
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-25:])
    raise StackError(f"{what} did not become healthy within {timeout:.0f}s\n{tail}")

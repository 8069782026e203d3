"""A private PostgreSQL cluster for the fault suite: killed with SIGKILL without touching the stack's."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import uuid
from pathlib import Path

from faults.harness import HOST, free_port, wait_for


class PrivatePostgres:
    """A throw-away Debian PostgreSQL cluster on its own port: killable without touching the stack's."""

    ROLE = "sgbfaults"

    def __init__(self) -> None:
        self.port = free_port()
        self.name = f"sgbfaults{uuid.uuid4().hex[:6]}"
        self.password = secrets.token_urlsafe(16)
        versions = sorted(
            (p.name for p in Path("/usr/lib/postgresql").glob("*") if (p / "bin/postgres").exists()), key=int
        )
        self.version = versions[-1]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.ROLE}:{self.password}@{HOST}:{self.port}/{self.ROLE}"

    def _psql(self, sql: str) -> None:
        subprocess.run(
            ["su", "postgres", "-c", f'psql -q -p {self.port} -c "{sql}"'],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        subprocess.run(
            [
                "pg_createcluster",
                self.version,
                self.name,
                "--port",
                str(self.port),
                "--",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
            ],
            check=True,
            capture_output=True,
        )
        self.restart()
        self._psql(f"CREATE ROLE {self.ROLE} LOGIN PASSWORD '{self.password}'")
        self._psql(f"CREATE DATABASE {self.ROLE} OWNER {self.ROLE}")

    def restart(self) -> None:
        subprocess.run(
            ["pg_ctlcluster", self.version, self.name, "start"],
            check=True,
            capture_output=True,
        )
        wait_for(self.healthy, what="PostgreSQL", timeout=60)

    def healthy(self) -> bool:
        return (
            subprocess.run(
                ["pg_isready", "-q", "-h", HOST, "-p", str(self.port)],
                check=False,
            ).returncode
            == 0
        )

    def _postmaster(self) -> int:
        data = Path(f"/var/lib/postgresql/{self.version}/{self.name}")
        return int((data / "postmaster.pid").read_text().splitlines()[0])

    def kill9(self) -> None:
        """A crash of the whole server: SIGKILL to the postmaster and every one of its processes."""
        postmaster = self._postmaster()
        children = [
            int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(int(p.name)) == postmaster
        ]
        for pid in [postmaster, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not self.healthy(), what="PostgreSQL to die", timeout=10)

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name],
            check=False,
            capture_output=True,
        )


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1

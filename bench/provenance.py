"""What a run records about where it ran: the machine, its load, the checkout and the workload."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench import harness
from bench.workload import notification, payload_size


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    mem_kib = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "cpu_flags_of_note": [f for f in ("aes", "vaes", "sha_ni", "avx2") if f in flags],
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=harness.REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "broker", "audit", "schemas"],
            cwd=harness.REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out + ("+dirty" if dirty else "")


def workload() -> dict[str, Any]:
    body = notification(3, 4096)
    return {
        "message_type": body["message_type"],
        "recipients": 3,
        "payload_bytes": payload_size(body),
        "request_bytes": len(json.dumps(body).encode()),
        "idempotency_key": True,
        "fresh_jwt_per_request": True,
    }

"""One gateway process per scrape target: `--workers` > 1 with metrics served is refused at start.

Several uvicorn processes behind one port each kept their own counters, so successive scrapes read
0, 1, 1, 0 ... of one failure, and SgbOpaFailing fired for as long as they lived (broker/gateway.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_compose import _load

ROOT = Path(__file__).resolve().parents[2]


def _gateway(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SGB_")}
    return subprocess.run(
        [sys.executable, "-m", "broker.gateway", "--port", "1", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_several_processes_behind_one_metrics_port_are_refused() -> None:
    refused = _gateway("--workers", "2", SGB_METRICS_TOKEN="a-scrape-token-for-the-test")
    assert refused.returncode == 2, refused.stderr
    assert "--workers" in refused.stderr and "SGB_METRICS_TOKEN" in refused.stderr


def test_compose_and_its_test_run_one_gateway_process() -> None:
    for path in (ROOT / "docker-compose.yml", ROOT / "deploy" / "compose-test" / "compose.test.yml"):
        compose = _load(path)  # reads the override's !reset and !override tags
        command: list[str] = compose["services"]["gateway"]["command"]
        workers = command[command.index("--workers") + 1] if "--workers" in command else "1"
        assert workers == "1", path.name

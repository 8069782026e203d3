"""One load-generator run against a gateway, and the database checks around it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import harness
from bench.meter import CpuMeter


def run_load(
    spec: dict[str, Any],
    work: Path,
    meter: CpuMeter,
    gateway: harness.Gateway | None = None,
) -> dict[str, Any]:
    """One load-generator run; with `gateway`, also what its worker relayed and at what CPU cost
    (after waiting for the outbox to empty, so a backlog is paid for in the run that made it)."""
    relay_before = relay_reading(gateway)
    spec_file, out_file = work / "spec.json", work / "out.json"
    spec_file.write_text(json.dumps(spec))
    out_file.unlink(missing_ok=True)
    ready = Path(f"{out_file}.ready")
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen", str(spec_file), str(out_file)],
        cwd=harness.REPO,
    )
    meter.parts["loadgen"] = [proc.pid]
    # Measure CPU over the measured window only (after preparing requests and the warm-up).
    deadline = time.monotonic() + 300
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(spec["warmup"])
    window_start = relay_reading(gateway)
    meter.start()
    time.sleep(spec["duration"] * 0.95)
    cpu = meter.stop()
    window_end = relay_reading(gateway)
    proc.wait(timeout=spec["duration"] + 120)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(out_file.read_text())
    result["cpu_cores"] = cpu
    accepted = result["accepted_per_s"]
    if accepted and "gateway" in cpu:
        result["gateway_cpu_ms_per_notification"] = round(cpu["gateway"] / accepted * 1000, 2)
    if gateway is not None and relay_before and window_start and window_end:
        result["published_per_s"] = round((window_end[1] - window_start[1]) / (spec["duration"] * 0.95), 1)
        result["relay"] = wait_for_drain(gateway.database_url, timeout=180)
        cpu_after, published_after = relay_reading(gateway) or relay_before
        published = published_after - relay_before[1]
        result["relay"]["published_notifications"] = published
        if published:
            result["worker_cpu_ms_per_notification"] = round((cpu_after - relay_before[0]) / published * 1000, 2)
    return result


def relay_reading(gateway: harness.Gateway | None) -> tuple[float, int] | None:
    """(worker CPU seconds so far, notifications published so far), or None without a worker."""
    if gateway is None or gateway.worker is None:
        return None
    return gateway.worker.cpu_seconds(), published_notifications(gateway.database_url)


def outbox_backlog(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar_one())
    finally:
        engine.dispose()


def wait_for_drain(database_url: str, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    backlog = first = outbox_backlog(database_url)
    while backlog and time.monotonic() - started < timeout:
        time.sleep(0.25)
        backlog = outbox_backlog(database_url)
    return {
        "backlog_at_end": first,
        "drain_seconds": round(time.monotonic() - started, 2),
        "left_after_timeout": backlog,
    }


def check_logged(database_url: str, accepted_ids: list[str], recipients: int) -> dict[str, Any]:
    """Every accepted notification has one `decided` entry per recipient in the log."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT notification_id, count(*) FROM audit_entry WHERE kind = 'decided' GROUP BY notification_id"
                )
            ).all()
    finally:
        engine.dispose()
    logged = {nid: n for nid, n in rows}
    missing = [nid for nid in accepted_ids if logged.get(nid, 0) != recipients]
    return {"accepted_checked": len(accepted_ids), "missing_or_incomplete": len(missing), "all_logged": not missing}


def published_notifications(database_url: str) -> int:
    """Notifications with at least one delivery the relay has handed to Kafka."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = "SELECT count(DISTINCT notification_id) FROM outbox WHERE published_at IS NOT NULL"
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def non_accepted(run: dict[str, Any]) -> int:
    return int(sum(n for status, n in run["statuses"].items() if status != "202") + run.get("dropped", 0))

"""`python -m broker.worker` serves only the series it moves, scraped over HTTP from the real process.

A worker that served the gateway's decision-log gauge at its "never checked" -1 hid a tampered
gateway's 0 from `min(sgb_log_verification_ok)`, and its sgb_outbox_depth kept SgbNoGatewayScraped
silent when only workers were scraped (deploy/monitoring/alerts.yml).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.metrics import Metrics
from devstack.partnership import LocalPartnership
from tests.broker.test_gateway_resilience import _env, _free_port

pytestmark = pytest.mark.stack

GATEWAY_ONLY = {
    "sgb_http_requests",
    "sgb_decisions",
    "sgb_opa_decision_seconds",
    "sgb_opa_failures",
    "sgb_log_verification_ok",
    "sgb_log_verification_timestamp_seconds",
    "sgb_checkpoint_failures",
}


def _scrape_worker(env: dict[str, str], port: int, log: Path) -> set[str]:
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "broker.worker"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()[-2000:]
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            return {family.name for family in text_string_to_metric_families(text)}
        raise AssertionError("the worker never served its metrics\n" + log.read_text()[-2000:])
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_the_worker_serves_none_of_the_gateways_series(partnership: LocalPartnership, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **_env(partnership, f"sqlite:///{tmp_path / 'worker.db'}"),
        "SGB_WORKER_METRICS_PORT": str(port),
        "SGB_RUN_RELAY_IN_GATEWAY": "false",
    }
    served = {name for name in _scrape_worker(env, port, tmp_path / "worker.log") if name.startswith("sgb_")}
    assert served & GATEWAY_ONLY == set()
    assert {"sgb_published", "sgb_overdue", "sgb_outbox_depth", "sgb_held_deliveries"} <= served


def test_a_gateways_collectors_still_serve_every_series() -> None:
    names = {family.name for family in Metrics().registry.collect()}
    assert names >= GATEWAY_ONLY

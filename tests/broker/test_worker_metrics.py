"""`python -m broker.worker` serves only the series it moves, and only to SGB_METRICS_TOKEN, scraped over
HTTP from the real process.

A worker that served the gateway's decision-log gauge at its "never checked" -1 hid a tampered
gateway's 0 from `min(sgb_log_verification_ok)`, and its sgb_outbox_depth kept SgbNoGatewayScraped
silent when only workers were scraped (deploy/monitoring/alerts.yml).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.metrics import Metrics
from devstack.partnership import LocalPartnership
from tests.broker.test_gateway_resilience import _env, _free_port

pytestmark = pytest.mark.stack
TOKEN = "a-scrape-token-for-the-worker"

GATEWAY_ONLY = {
    "sgb_http_requests",
    "sgb_decisions",
    "sgb_opa_decision_seconds",
    "sgb_http_request_seconds",
    "sgb_log_commit_seconds",
    "sgb_opa_failures",
    "sgb_log_verification_ok",
    "sgb_log_verification_timestamp_seconds",
    "sgb_checkpoint_failures",
}


@contextmanager
def _running_worker(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """A real worker, yielded once its metrics port answers at all: its scrape URL."""
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "broker.worker"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()[-2000:]
            try:
                httpx.get(url, timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            yield url
            return
        raise AssertionError("the worker never served its metrics\n" + log.read_text()[-2000:])
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _worker_env(partnership: LocalPartnership, tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **_env(partnership, f"sqlite:///{tmp_path / 'worker.db'}"),
        "SGB_WORKER_METRICS_PORT": str(port),
        "SGB_RUN_RELAY_IN_GATEWAY": "false",
        "SGB_METRICS_TOKEN": TOKEN,
    }


def test_the_worker_serves_none_of_the_gateways_series(partnership: LocalPartnership, tmp_path: Path) -> None:
    port = _free_port()
    with _running_worker(_worker_env(partnership, tmp_path, port), port, tmp_path / "worker.log") as url:
        text = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).text
    served = {family.name for family in text_string_to_metric_families(text) if family.name.startswith("sgb_")}
    assert served & GATEWAY_ONLY == set()
    assert {"sgb_published", "sgb_overdue", "sgb_outbox_depth", "sgb_held_deliveries"} <= served


def test_the_worker_serves_its_metrics_only_to_its_token(partnership: LocalPartnership, tmp_path: Path) -> None:
    # Its port is on the network every agency's consumer shares (docker-compose.yml's `delivery`).
    port = _free_port()
    with _running_worker(_worker_env(partnership, tmp_path, port), port, tmp_path / "worker.log") as url:
        refused = [
            httpx.get(url, headers=headers, timeout=5)
            for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": f"Basic {TOKEN}"})
        ]
        served = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert [response.status_code for response in refused] == [401, 401, 401]
    assert not any("sgb_" in response.text for response in refused)
    assert all("SGB_METRICS_TOKEN" in response.text for response in refused)
    assert served.status_code == 200 and "sgb_published_total" in served.text


@pytest.mark.parametrize("token", [None, ""])
def test_a_metrics_port_without_a_token_is_refused_at_start(tmp_path: Path, token: str | None) -> None:
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if name != "SGB_METRICS_TOKEN"}
    env |= {"SGB_WORKER_METRICS_PORT": str(port), "SGB_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}"}
    if token is not None:
        env["SGB_METRICS_TOKEN"] = token
    refused = subprocess.run(
        [sys.executable, "-m", "broker.worker"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "SGB_WORKER_METRICS_PORT is set without SGB_METRICS_TOKEN" in refused.stderr
    assert not (tmp_path / "worker.db").exists(), "nothing is started before the refusal"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics")


def test_a_gateways_collectors_still_serve_every_series() -> None:
    names = {family.name for family in Metrics().registry.collect()}
    assert names >= GATEWAY_ONLY

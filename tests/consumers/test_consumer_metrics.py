"""An agency's consumer serves its metrics only to scrapes carrying CONSUMER_METRICS_TOKEN.

Its port shares a network with the other agencies' consumers (docker-compose.yml's `delivery`), so an
open port let one agency read another's delivery counts. The real `python -m consumers run`, scraped
over HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from consumers.settings import ConsumerSettings

REPO = Path(__file__).resolve().parents[2]
TOKEN = "a-scrape-token-for-this-agency"
FAMILIES = ("sgb_consumer_delivered_total", "sgb_consumer_dead_letters_total", "sgb_consumer_witness_alarm")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command(settings: ConsumerSettings) -> list[str]:
    command = [sys.executable, "-m", "consumers", "run", "--agency", settings.agency_id]
    command += ["--key-dir", str(settings.key_dir), "--sink", settings.sink, "--ledger", str(settings.ledger_path)]
    return command


def _env(settings: ConsumerSettings, **metrics: str) -> dict[str, str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONSUMER_METRICS_")}
    return {
        **inherited,
        "CONSUMER_ENVIRONMENT": "development",  # the stack's loopback Kafka has no TLS
        "CONSUMER_KAFKA_PASSWORD": settings.kafka_password.get_secret_value(),
        "CONSUMER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CONSUMER_BROKER_PUBLIC_KEYS": str(settings.broker_public_keys),
        "CONSUMER_TOPIC_NAMESPACE": settings.topic_namespace,
        **{f"CONSUMER_METRICS_{name.upper()}": value for name, value in metrics.items()},
    }


@contextmanager
def _running(settings: ConsumerSettings, port: int, log: Path) -> Iterator[str]:
    """The consumer, yielded once its metrics port answers at all: its scrape URL."""
    url = f"http://127.0.0.1:{port}/metrics"
    with log.open("wb") as err:
        env = _env(settings, port=str(port), token=TOKEN)
        process = subprocess.Popen(_command(settings), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                httpx.get(url, timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            yield url
            return
        raise AssertionError("the consumer never served its metrics\n" + log.read_text()[-2000:])
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
def test_only_a_scrape_with_the_agencys_token_reads_its_counts(
    tmp_path: Path, consumer_settings: ConsumerSettings
) -> None:
    port = _free_port()
    with _running(consumer_settings, port, tmp_path / "consumer.log") as url:
        refused = [
            httpx.get(url, headers=headers, timeout=5)
            for headers in ({}, {"Authorization": "Bearer another-agencys-token"}, {"Authorization": f"Basic {TOKEN}"})
        ]
        served = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert [response.status_code for response in refused] == [401, 401, 401]
    assert not any("sgb_consumer" in response.text for response in refused)
    assert all("CONSUMER_METRICS_TOKEN" in response.text for response in refused)
    assert served.status_code == 200
    assert all(f'{family}{{agency="{consumer_settings.agency_id}"}}' in served.text for family in FAMILIES)


@pytest.mark.parametrize("token", [None, ""])
def test_a_metrics_port_without_a_token_is_refused_at_start(tmp_path: Path, token: str | None) -> None:
    # No stack: the settings are refused before any key, Kafka or port is touched.
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONSUMER_")}
    env |= {"CONSUMER_ENVIRONMENT": "development", "CONSUMER_KAFKA_PASSWORD": "a-kafka-password-for-the-test"}
    env |= {"CONSUMER_METRICS_PORT": str(port)} | ({} if token is None else {"CONSUMER_METRICS_TOKEN": token})
    command = [sys.executable, "-m", "consumers", "run", "--agency", "csc-example"]
    command += ["--ledger", str(tmp_path / "ledger.db"), "--sink", f"sqlite:{tmp_path / 'inbox.db'}"]
    refused = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2, refused.stderr[-2000:]
    said = " ".join(refused.stderr.replace("│", " ").split())  # typer's error box wraps the line
    assert "CONSUMER_METRICS_PORT is set without CONSUMER_METRICS_TOKEN" in said, refused.stderr
    assert not (tmp_path / "ledger.db").exists(), "nothing is started before the refusal"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics")


def test_a_placeholder_token_is_refused_in_production() -> None:
    production: dict[str, Any] = {
        "agency_id": "csc-example",
        "kafka_password": "a-kafka-password-for-the-test",
        "kafka_security_protocol": "SASL_SSL",
        "metrics_port": 9464,
    }
    with pytest.raises(ValidationError, match="CONSUMER_METRICS_TOKEN is a placeholder"):
        ConsumerSettings(**production, metrics_token="changeme")
    assert ConsumerSettings(**production, metrics_token=TOKEN).metrics_port == 9464

"""The agency consumer logs JSON lines (event, level, timestamp) and serves its counts to Prometheus."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from pydantic import SecretStr

from consumers.errors import ConfigurationError
from consumers.logs import ConsumerJsonFormatter
from consumers.metrics import registry_for, serve
from consumers.settings import ConsumerSettings
from schemas.topics import inbox_topic
from tests.consumers.conftest import publish, wait_until

REPO = Path(__file__).resolve().parents[2]


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("consumers.runner", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_log_line_is_json_with_event_level_and_timestamp() -> None:
    line = json.loads(ConsumerJsonFormatter().format(_record("dead-lettered %s", "sgb.inbox.x", delivery_id="d-1")))
    assert line["event"] == "dead-lettered sgb.inbox.x"
    assert line["level"] == "warning"
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None
    assert (line["logger"], line["delivery_id"]) == ("consumers.runner", "d-1")


def test_payload_fields_and_tracebacks_never_reach_the_line() -> None:
    try:
        raise ValueError("Testchild, 12 Imaginary Row")
    except ValueError:
        record = _record("could not deliver", payload={"child": "Testchild"})
        record.exc_info = sys.exc_info()
    line = json.loads(ConsumerJsonFormatter().format(record))
    assert line["error"] == "ValueError"
    assert "Testchild" not in json.dumps(line), line


class _Counts:
    agency_id, delivered, recalled_not_delivered, dead_lettered, healthy = "csc-example", 3, 2, 1, True
    sink_refused = 1


def test_the_collector_reports_the_consumers_own_counts() -> None:
    text = generate_latest(registry_for(_Counts())).decode()
    assert 'sgb_consumer_delivered_total{agency="csc-example"} 3.0' in text
    assert 'sgb_consumer_recalled_not_delivered_total{agency="csc-example"} 2.0' in text
    assert 'sgb_consumer_dead_letters_total{agency="csc-example"} 1.0' in text
    assert 'sgb_consumer_sink_refused_total{agency="csc-example"} 1.0' in text
    assert 'sgb_consumer_witness_alarm{agency="csc-example"} 0.0' in text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


METRICS_TOKEN = "a-scrape-token-for-the-test"


def _scrape(port: int) -> str:
    scrape = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    try:
        with urllib.request.urlopen(scrape, timeout=2) as response:  # noqa: S310 - a fixed http URL
            text: str = response.read().decode()
            return text
    except OSError:
        return ""  # not listening yet


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_the_running_consumer_logs_json_and_counts_a_dead_letter(
    tmp_path: Path, consumer_settings: ConsumerSettings, kafka_admin_config: dict[str, Any]
) -> None:
    settings, port = consumer_settings, _free_port()
    env = {
        **os.environ,
        "CONSUMER_ENVIRONMENT": "development",  # the stack's loopback Kafka has no TLS
        "CONSUMER_KAFKA_PASSWORD": settings.kafka_password.get_secret_value(),
        "CONSUMER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CONSUMER_BROKER_PUBLIC_KEYS": str(settings.broker_public_keys),
        "CONSUMER_TOPIC_NAMESPACE": settings.topic_namespace,
        "CONSUMER_METRICS_PORT": str(port),
        "CONSUMER_METRICS_TOKEN": METRICS_TOKEN,
    }
    command = [sys.executable, "-m", "consumers", "run", "--agency", settings.agency_id]
    command += ["--key-dir", str(settings.key_dir), "--sink", settings.sink, "--ledger", str(settings.ledger_path)]
    await publish(kafka_admin_config, inbox_topic(settings.agency_id, namespace=settings.topic_namespace), [b"junk"])
    log = tmp_path / "consumer.log"
    with log.open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        dead = f'sgb_consumer_dead_letters_total{{agency="{settings.agency_id}"}} 1.0'
        await wait_until(lambda: dead in _scrape(port) or process.poll() is not None, timeout=60)
        assert dead in _scrape(port), log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    lines = [json.loads(text) for text in log.read_text().splitlines() if text.strip()]
    assert lines and all({"event", "level", "timestamp"} <= line.keys() for line in lines), lines
    assert any(line["event"].startswith("dead-lettered") and line["level"] == "warning" for line in lines), lines


def test_a_taken_metrics_port_is_a_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigurationError, match="cannot serve metrics"):
            serve(_Counts(), host="127.0.0.1", port=taken.getsockname()[1], token=SecretStr(METRICS_TOKEN))

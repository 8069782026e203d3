"""`python -m consumers` as an operator runs it: killed mid-stream, restarted, stopped, acknowledging."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from broker.partnership.keys import BrokerKeys, load_agency_keys
from consumers.settings import ConsumerSettings
from consumers.sinks import SqliteInboxSink
from schemas.topics import inbox_topic, receipts_topic
from tests.consumers.conftest import AUDIENCE, TopicTail, fictional_payload, publish, seal_for, wait_until

pytestmark = pytest.mark.stack
REPO = Path(__file__).resolve().parents[2]
MESSAGES = 300


def _env(settings: ConsumerSettings) -> dict[str, str]:
    return {
        **os.environ,
        "CONSUMER_ENVIRONMENT": "development",  # the stack's loopback Kafka has no TLS
        "CONSUMER_KAFKA_PASSWORD": settings.kafka_password.get_secret_value(),
        "CONSUMER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CONSUMER_BROKER_AUDIENCE": AUDIENCE,
        "CONSUMER_BROKER_PUBLIC_KEYS": str(settings.broker_public_keys),
        "CONSUMER_TOPIC_NAMESPACE": settings.topic_namespace,
    }


def _cli(settings: ConsumerSettings, command: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "consumers", command, "--agency", settings.agency_id, *args]


def run_command(settings: ConsumerSettings) -> list[str]:
    """`python -m consumers run` for the agency, with its key directory, sink and ledger."""
    key_dir, ledger = str(settings.key_dir), str(settings.ledger_path)
    return _cli(settings, "run", "--key-dir", key_dir, "--sink", settings.sink, "--ledger", ledger)


def _start(settings: ConsumerSettings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(run_command(settings), cwd=REPO, env=_env(settings), stdout=out, stderr=out)


@pytest.mark.usefixtures("topics")
async def test_sigkill_mid_stream_then_restart_delivers_every_message_once(
    tmp_path: Path,
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    envelopes = [seal_for(agency, broker_keys, fictional_payload(n)) for n in range(MESSAGES)]
    topic = inbox_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    await publish(kafka_admin_config, topic, [e.to_bytes() for e in envelopes])
    inbox = SqliteInboxSink(Path(consumer_settings.sink_target))
    log = tmp_path / "consumer.log"

    first = _start(consumer_settings, log)
    try:
        await wait_until(lambda: len(inbox.delivery_ids()) >= 10 or first.poll() is not None)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    at_kill = len(inbox.delivery_ids())
    assert 10 <= at_kill < MESSAGES, log.read_text()

    # The killed member keeps its partitions until its session times out, so allow for a rebalance.
    second = _start(consumer_settings, log)
    try:
        await wait_until(lambda: len(inbox.delivery_ids()) >= MESSAGES or second.poll() is not None, timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(timeout=30)
    assert code == 0, log.read_text()  # SIGTERM is a clean stop, not a crash
    ids = inbox.delivery_ids()
    assert len(ids) == len(set(ids)) == MESSAGES
    assert set(ids) == {e.header.delivery_id for e in envelopes}


@pytest.mark.usefixtures("topics")
async def test_ack_sends_an_acknowledged_receipt_and_list_shows_the_inbox(
    tmp_path: Path,
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    envelope = seal_for(agency, broker_keys, fictional_payload(1))
    topic = inbox_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    await publish(kafka_admin_config, topic, [envelope.to_bytes()])
    inbox = SqliteInboxSink(Path(consumer_settings.sink_target))
    runner = _start(consumer_settings, tmp_path / "consumer.log")
    try:
        await wait_until(lambda: bool(inbox.delivery_ids()) or runner.poll() is not None)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=30)

    listed = subprocess.run(
        _cli(consumer_settings, "list", "--sink", consumer_settings.sink),
        cwd=REPO,
        env=_env(consumer_settings),
        capture_output=True,
        check=True,
        text=True,
    )
    assert envelope.header.delivery_id in listed.stdout
    assert "Test Child Alpha" not in listed.stdout  # payloads only with --payload

    receipts = await TopicTail(kafka_admin_config, receipts_topic(namespace=consumer_settings.topic_namespace)).mark()
    subprocess.run(
        _cli(
            consumer_settings,
            "ack",
            "--key-dir",
            str(consumer_settings.key_dir),
            "--ledger",
            str(consumer_settings.ledger_path),
            "--delivery-id",
            envelope.header.delivery_id,
            "--notification-id",
            envelope.header.notification_id,
            "--by",
            "dsl-0042",
        ),
        cwd=REPO,
        env=_env(consumer_settings),
        check=True,
        capture_output=True,
    )
    public = agency.current_jwt_key.private_key.public_key()

    def acks(records: list[Any]) -> list[dict[str, Any]]:
        tokens = [r.value.decode() for r in records if r.key == envelope.header.delivery_id.encode()]
        return [jwt.decode(t, public, algorithms=["EdDSA"], audience=AUDIENCE) for t in tokens]

    found = acks(await receipts.wait_for(lambda rs: bool(acks(rs))))
    assert [c["kind"] for c in found] == ["acknowledged"]
    assert (found[0]["iss"], found[0]["sub"]) == (agency.agency_id, "dsl-0042")
    assert found[0]["notification_id"] == envelope.header.notification_id


def test_run_refuses_a_world_readable_key(tmp_path: Path, consumer_settings: ConsumerSettings) -> None:
    key = next(consumer_settings.key_dir.glob("enc-*.pem"))
    key.chmod(0o644)
    result = subprocess.run(
        _cli(
            consumer_settings,
            "run",
            "--key-dir",
            str(consumer_settings.key_dir),
            "--sink",
            consumer_settings.sink,
            "--ledger",
            str(consumer_settings.ledger_path),
        ),
        cwd=REPO,
        env=_env(consumer_settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "chmod 600" in result.stderr

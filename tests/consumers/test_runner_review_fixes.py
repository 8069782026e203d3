"""Defects found reviewing the agency consumer, on the real broker as the agency's own principal:

- a second notice about one delivery (an erasure after its withdrawal) skipped the sink, yet the
  consumer confirmed the erasure with a signed `erased` receipt;
- a record signed with a broker key the consumer does not hold (a rotation not yet installed) was
  parked and committed: a withdrawal lost for good, a delivery never handed over.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiokafka import AIOKafkaProducer

from broker.partnership.keys import BrokerKeys, load_agency_keys, rotate_broker_signing_key
from consumers.errors import ConfigurationError
from consumers.ledger import Ledger
from consumers.settings import ConsumerSettings
from consumers.sinks import Delivery, SqliteInboxSink
from schemas.notice import NOTICE_CONTENT_TYPE, Notice
from tests.consumers.conftest import TopicTail, fictional_payload, seal_for
from tests.consumers.test_runner import _consumer, _inbox, _receipts, _run_until, _sink
from transport.notice import sign_notice

pytestmark = pytest.mark.stack


class RecordingSink:
    """The real SQLite inbox, noting each notice the consumer hands it (our own `Sink` interface)."""

    def __init__(self, inner: SqliteInboxSink) -> None:
        self._inner, self.notices = inner, list[str]()

    async def deliver(self, delivery: Delivery) -> bool:
        return await self._inner.deliver(delivery)

    async def withdraw(self, notice: Notice) -> bool:
        self.notices.append(notice.kind)
        return await self._inner.withdraw(notice)


def _notice(kind: str, delivery_id: str, agency_id: str, broker: BrokerKeys) -> Notice:
    return sign_notice(
        kind=kind,  # type: ignore[arg-type]
        notice_id=f"ntc-{uuid.uuid4().hex}",
        delivery_id=delivery_id,
        notification_id="ntf-review-1",
        recipient_agency=agency_id,
        reason="sent_in_error" if kind == "withdrawal" else "court_order",
        issued_at=datetime.now(UTC),
        signing_key=broker.signing_key,
        signing_key_id=broker.signing_key_id,
    )


async def _publish(admin_config: dict[str, Any], topic: str, records: list[tuple[bytes, bool]]) -> None:
    """As the relay would: one partition key, notices with their content type, in order."""
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **admin_config)
    await producer.start()
    try:
        for value, is_notice in records:
            headers = [("content-type", NOTICE_CONTENT_TYPE.encode())] if is_notice else []
            await producer.send_and_wait(topic, value, key=b"one-child", headers=headers)
    finally:
        await producer.stop()


def _receipt_kinds(records: list[Any]) -> list[str]:
    return [jwt.decode(r.value, options={"verify_signature": False})["kind"] for r in records]


@pytest.mark.usefixtures("topics")
async def test_an_erasure_after_a_withdrawal_still_reaches_the_sink_before_it_is_confirmed(
    consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any]
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    envelope = seal_for(agency, broker_keys, fictional_payload(1))
    delivery_id = envelope.header.delivery_id
    withdrawal = _notice("withdrawal", delivery_id, agency.agency_id, broker_keys)
    erasure = _notice("erasure", delivery_id, agency.agency_id, broker_keys)
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    records = [(envelope.to_bytes(), False), (withdrawal.to_bytes(), True), (erasure.to_bytes(), True)]
    await _publish(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), records)

    ledger = Ledger(consumer_settings.ledger_path)
    sink = RecordingSink(_sink(consumer_settings))
    consumer = _consumer(consumer_settings, ledger, sink=sink)
    await _run_until(consumer, lambda: len(sink.notices) >= 2)
    ledger.close()
    assert sink.notices == ["withdrawal", "erasure"], "the erasure was handed to the agency's system"
    got = await receipts.wait_for(lambda rs: len(rs) >= 3)
    assert _receipt_kinds(got) == ["delivered", "withdrawn", "erased"]
    with sqlite3.connect(consumer_settings.ledger_path) as db:
        assert db.execute("SELECT kind FROM withdrawn WHERE delivery_id = ?", (delivery_id,)).fetchall() == [
            ("erasure",)
        ]


@pytest.mark.usefixtures("topics")
async def test_a_record_signed_with_a_broker_key_not_yet_installed_stops_the_consumer_uncommitted(
    tmp_path: Path, consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any]
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    rotated_dir = tmp_path / "rotated-broker-keys"
    shutil.copytree(tmp_path / "broker-keys", rotated_dir)
    rotated = rotate_broker_signing_key(rotated_dir, now=datetime.now(UTC))
    envelope = seal_for(agency, broker_keys, fictional_payload(1))
    withdrawal = _notice("withdrawal", envelope.header.delivery_id, agency.agency_id, rotated)
    after = seal_for(agency, rotated, fictional_payload(2))
    records = [(envelope.to_bytes(), False), (withdrawal.to_bytes(), True), (after.to_bytes(), False)]
    await _publish(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), records)

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    with pytest.raises(ConfigurationError, match="install the broker's signing history"):
        await _run_until(consumer, lambda: False)
    ledger.close()
    inbox = _sink(consumer_settings)
    assert inbox.delivery_ids() == [envelope.header.delivery_id], "delivered; the withdrawal not yet applied"
    assert consumer.dead_lettered == 0

    # The operator installs the new history: the withdrawal is read again and applied, then the rest.
    installed = consumer_settings.model_copy(update={"broker_public_keys": rotated_dir / "signing-history.json"})
    ledger = Ledger(consumer_settings.ledger_path)
    await _run_until(_consumer(installed, ledger), lambda: after.header.delivery_id in inbox.delivery_ids())
    ledger.close()
    assert inbox.delivery_ids() == [after.header.delivery_id]
    assert [t["delivery_id"] for t in inbox.withdrawn()] == [envelope.header.delivery_id]

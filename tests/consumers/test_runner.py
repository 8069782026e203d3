"""The agency consumer on the real broker, as the agency's own SCRAM principal (no mocks)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jwt
import pytest

from broker.partnership.keys import AgencyKeys, BrokerKeys, load_agency_keys
from consumers.ledger import Ledger
from consumers.runner import AgencyConsumer
from consumers.service import build_consumer
from consumers.settings import ConsumerSettings
from consumers.sinks import Delivery, SqliteInboxSink
from schemas.topics import dead_letter_topic, inbox_topic, receipts_topic
from tests.conftest import run_namespace
from tests.consumers.conftest import (
    AUDIENCE,
    MISFITS,
    Principal,
    TopicTail,
    fictional_payload,
    make_agency_keys,
    publish,
    seal_for,
    wait_until,
)
from transport.kafka import TopicSettings, ensure_topics

pytestmark = pytest.mark.stack


class Crash(Exception):
    """Stands in for the process dying between the sink and the offset commit."""


class CrashingSink:
    """The real SQLite sink, but the process 'dies' right after the Nth delivery lands."""

    def __init__(self, inner: SqliteInboxSink, after: int) -> None:
        self._inner, self._left = inner, after
        self.crashed_on: str | None = None

    async def deliver(self, delivery: Delivery) -> bool:
        landed = await self._inner.deliver(delivery)
        self._left -= 1
        if self._left == 0:
            self.crashed_on = delivery.delivery_id
            raise Crash(delivery.delivery_id)
        return landed


def _sink(settings: ConsumerSettings) -> SqliteInboxSink:
    return SqliteInboxSink(Path(settings.sink_target))


def _inbox(settings: ConsumerSettings, agency_id: str) -> str:
    return inbox_topic(agency_id, namespace=settings.topic_namespace)


def _receipts(settings: ConsumerSettings) -> str:
    return receipts_topic(namespace=settings.topic_namespace)


def _agency_keys(settings: ConsumerSettings) -> AgencyKeys:
    return load_agency_keys(settings.key_dir)


def _receipt_claims(records: list[Any], settings: ConsumerSettings) -> list[dict[str, Any]]:
    """Verify each receipt with the agency's public key, as the gateway would (signature, aud, exp)."""
    public = _agency_keys(settings).current_jwt_key.private_key.public_key()
    claims = []
    for record in records:
        token = record.value.decode()
        if jwt.decode(token, options={"verify_signature": False}).get("iss") != settings.agency_id:
            continue  # another test's receipt on the shared topic
        claims.append(jwt.decode(token, public, algorithms=["EdDSA"], audience=AUDIENCE))
    return claims


async def _run_until(consumer: AgencyConsumer, check: Any, *, timeout: float = 60.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(lambda: check() or task.done(), timeout=timeout)
        if task.done():
            task.result()  # surface the consumer's own failure
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def _consumer(settings: ConsumerSettings, ledger: Ledger, **overrides: Any) -> AgencyConsumer:
    return build_consumer(settings, ledger=ledger, **overrides)


@pytest.mark.usefixtures("topics")
async def test_delivers_each_message_once_and_sends_verifiable_receipts(
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
) -> None:
    agency = _agency_keys(consumer_settings)
    envelopes = [seal_for(agency, broker_keys, fictional_payload(n)) for n in range(12)]
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    await publish(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), [e.to_bytes() for e in envelopes])

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    await _run_until(consumer, lambda: len(inbox.delivery_ids()) >= len(envelopes))
    ledger.close()

    expected = {e.header.delivery_id for e in envelopes}
    assert sorted(inbox.delivery_ids()) == sorted(expected)
    rows = {row["delivery_id"]: row for row in inbox.rows()}
    for envelope in envelopes:
        assert rows[envelope.header.delivery_id]["notification_id"] == envelope.header.notification_id
    assert consumer.delivered == len(envelopes) and consumer.dead_lettered == 0

    records = await receipts.wait_for(lambda rs: len(_receipt_claims(rs, consumer_settings)) >= len(envelopes))
    claims = _receipt_claims(records, consumer_settings)
    assert {c["delivery_id"] for c in claims} == expected
    by_delivery = {e.header.delivery_id: e for e in envelopes}
    for claim in claims:
        envelope = by_delivery[claim["delivery_id"]]
        assert claim["kind"] == "delivered" and claim["role"] == "agency_system"
        assert claim["notification_id"] == envelope.header.notification_id
        assert claim["envelope_digest"] == envelope.digest()


@pytest.mark.usefixtures("topics")
async def test_crash_after_sink_before_commit_still_delivers_everything_exactly_once(
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
) -> None:
    agency = _agency_keys(consumer_settings)
    envelopes = [seal_for(agency, broker_keys, fictional_payload(n)) for n in range(20)]
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    await publish(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), [e.to_bytes() for e in envelopes])
    inbox = _sink(consumer_settings)

    # First run: dies right after the 7th delivery reaches the sink, before ledger and commit.
    ledger = Ledger(consumer_settings.ledger_path)
    crashing = CrashingSink(inbox, after=7)
    with pytest.raises(Crash):
        await _run_until(_consumer(consumer_settings, ledger, sink=crashing), lambda: False)
    ledger.close()
    assert len(inbox.delivery_ids()) == 7

    # Restart: the uncommitted record comes back; the sink refuses the repeat, the rest arrive.
    ledger = Ledger(consumer_settings.ledger_path)
    await _run_until(_consumer(consumer_settings, ledger), lambda: len(inbox.delivery_ids()) >= 20)
    ledger.close()
    ids = inbox.delivery_ids()
    assert len(ids) == len(set(ids)) == 20
    assert set(ids) == {e.header.delivery_id for e in envelopes}

    records = await receipts.wait_for(
        lambda rs: len({c["delivery_id"] for c in _receipt_claims(rs, consumer_settings)}) >= 20
    )
    counts = Counter(c["delivery_id"] for c in _receipt_claims(records, consumer_settings))
    assert set(counts) == set(ids)
    assert counts[crashing.crashed_on] == 1  # only after the restart: the crash came before its receipt


@pytest.mark.usefixtures("topics")
async def test_bad_records_go_to_dead_letters_and_the_good_one_still_arrives(
    tmp_path: Path,
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
    principal: Principal,
) -> None:
    agency = _agency_keys(consumer_settings)
    other = make_agency_keys(tmp_path / "other-agency", "police-fictional")
    genuine = seal_for(agency, broker_keys, fictional_payload(1))
    tampered = genuine.model_copy(update={"sealed_at": "2020-01-01T00:00:00Z"})
    # Signed by the broker's own key, yet no projection of their message type: the consumer's
    # default check (schemas.validate_projection) parks them, as it does a key that names no field.
    misfits = [
        seal_for(agency, broker_keys, payload, message_type=kind, schema_version=version).to_bytes()
        for kind, version, payload in MISFITS.values()
    ]
    bad = [
        ("bad_signature", tampered.to_bytes()),
        ("not_for_this_agency", seal_for(other, broker_keys, fictional_payload(2)).to_bytes()),
        ("schema_invalid", seal_for(agency, broker_keys, {"Not A Field Name": "x"}).to_bytes()),
        *(("schema_invalid", value) for value in misfits),
    ]
    good = seal_for(agency, broker_keys, fictional_payload(3))
    parked_topic = dead_letter_topic(principal.agency_id, namespace=consumer_settings.topic_namespace)
    dead_letters = await TopicTail(kafka_admin_config, parked_topic).mark()
    # One partition key for all, so the good record is behind the bad ones in the same partition.
    producer_values = [*(value for _, value in bad), good.to_bytes()]
    await publish_in_order(kafka_admin_config, _inbox(consumer_settings, principal.agency_id), producer_values)

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    await _run_until(consumer, lambda: bool(inbox.delivery_ids()) and consumer.dead_lettered >= len(bad))
    ledger.close()

    assert inbox.delivery_ids() == [good.header.delivery_id]
    records = await dead_letters.wait_for(lambda rs: len(rs) >= len(bad))
    parked = [(dict(r.headers)["sgb_reason"].decode(), r.value) for r in records]
    assert sorted(parked) == sorted(bad)
    for record in records:
        headers = dict(record.headers)
        assert headers["sgb_source_topic"].decode() == _inbox(consumer_settings, principal.agency_id)
        assert b"Not A Field Name" not in headers["sgb_detail"]
        assert b"Alpha" not in headers["sgb_detail"] and b"gossip" not in headers["sgb_detail"]


async def publish_in_order(admin_config: dict[str, Any], topic: str, values: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **admin_config)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"one-child")
    finally:
        await producer.stop()


@pytest.mark.usefixtures("topics")
async def test_the_same_envelope_twice_reaches_the_sink_once(
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
) -> None:
    agency = _agency_keys(consumer_settings)
    envelope = seal_for(agency, broker_keys, fictional_payload(1))
    marker = seal_for(agency, broker_keys, fictional_payload(2))
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    # The relay republishes after a crash between publishing and marking: same bytes, twice.
    values = [envelope.to_bytes(), envelope.to_bytes(), marker.to_bytes()]
    await publish_in_order(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), values)

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    await _run_until(consumer, lambda: marker.header.delivery_id in inbox.delivery_ids())
    ledger.close()

    assert inbox.delivery_ids() == [envelope.header.delivery_id, marker.header.delivery_id]
    assert consumer.delivered == 2
    records = await receipts.wait_for(lambda rs: len(_receipt_claims(rs, consumer_settings)) >= 3)
    counts = Counter(c["delivery_id"] for c in _receipt_claims(records, consumer_settings))
    # A receipt per copy: the gateway counts a delivery once whatever the repeats.
    assert counts == {envelope.header.delivery_id: 2, marker.header.delivery_id: 1}


async def test_refuses_to_start_without_its_dead_letter_topic(
    consumer_settings: ConsumerSettings,
) -> None:
    from consumers.errors import ConfigurationError

    dead_letters = dead_letter_topic(consumer_settings.agency_id, namespace=consumer_settings.topic_namespace)
    ledger = Ledger(consumer_settings.ledger_path)
    try:
        with pytest.raises(ConfigurationError, match=re.escape(dead_letters)):
            await _run_until(_consumer(consumer_settings, ledger), lambda: False, timeout=30)
    finally:
        ledger.close()


@pytest.mark.usefixtures("topics")
async def test_a_consumer_reads_only_its_own_namespace(
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
) -> None:
    """The same agency id under another namespace (another run, or a demo) is not this consumer's inbox."""
    agency = _agency_keys(consumer_settings)
    elsewhere = seal_for(agency, broker_keys, fictional_payload(1))
    ours = seal_for(agency, broker_keys, fictional_payload(2))
    other_inbox = inbox_topic(agency.agency_id, namespace=run_namespace("elsewhere"))
    await ensure_topics(kafka_admin_config, [other_inbox], settings=TopicSettings())
    await publish(kafka_admin_config, other_inbox, [elsewhere.to_bytes()])
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    await publish(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), [ours.to_bytes()])

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    await _run_until(consumer, lambda: bool(inbox.delivery_ids()))
    await asyncio.sleep(1.0)  # time enough for a stray record to show up too
    ledger.close()

    assert inbox.delivery_ids() == [ours.header.delivery_id]
    records = await receipts.wait_for(lambda rs: bool(_receipt_claims(rs, consumer_settings)))
    assert [c["delivery_id"] for c in _receipt_claims(records, consumer_settings)] == [ours.header.delivery_id]

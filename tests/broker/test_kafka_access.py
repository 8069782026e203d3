"""On the real broker, each agency's principal reaches only its own inbox, receipts and dead letters."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from broker.partnership import kafka_access
from schemas.topics import RECEIPTS_TOPIC, dead_letter_topic, inbox_topic
from tests.conftest import provision_principals


@pytest.fixture(scope="module")
def agencies(kafka_admin_config: dict[str, Any]) -> dict[str, str]:
    """Two fresh agency principals with their grants; returns id -> password."""
    ids = {f"ta-{uuid.uuid4().hex[:10]}": secrets.token_urlsafe(18) for _ in range(2)}
    provision_principals(kafka_admin_config, ids)
    return ids


def _as(agency: str, password: str, admin: dict[str, Any]) -> dict[str, Any]:
    return {**admin, "sasl_plain_username": agency, "sasl_plain_password": password}


async def _topics(admin_config: dict[str, Any], names: list[str]) -> None:
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, num_partitions=1, replication_factor=1) for n in names if n not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


async def _read_one(config: dict[str, Any], topic: str, group: str) -> bytes | None:
    consumer = AIOKafkaConsumer(
        topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **config
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
        values = [r.value for records in batch.values() for r in records]
        return values[0] if values else None
    finally:
        await consumer.stop()


async def test_agency_reads_own_inbox_but_not_another(
    agencies: dict[str, str], kafka_admin_config: dict[str, Any]
) -> None:
    (a, a_pw), (b, _) = agencies.items()
    await _topics(kafka_admin_config, [inbox_topic(a), inbox_topic(b)])
    producer = AIOKafkaProducer(enable_idempotence=True, **kafka_admin_config)
    await producer.start()
    try:
        await producer.send_and_wait(inbox_topic(a), b"for-a")
        await producer.send_and_wait(inbox_topic(b), b"for-b")
    finally:
        await producer.stop()
    as_a = _as(a, a_pw, kafka_admin_config)
    assert await _read_one(as_a, inbox_topic(a), kafka_access.consumer_group(a)) == b"for-a"
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_one(as_a, inbox_topic(b), kafka_access.consumer_group(a))


async def test_agency_writes_receipts_and_own_dead_letters_only(
    agencies: dict[str, str], kafka_admin_config: dict[str, Any]
) -> None:
    (a, a_pw), (b, _) = agencies.items()
    await _topics(kafka_admin_config, [RECEIPTS_TOPIC, dead_letter_topic(a), inbox_topic(b)])
    producer = AIOKafkaProducer(enable_idempotence=True, **_as(a, a_pw, kafka_admin_config))
    await producer.start()
    try:
        await producer.send_and_wait(RECEIPTS_TOPIC, b"receipt")
        await producer.send_and_wait(dead_letter_topic(a), b"parked")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(inbox_topic(b), b"forged delivery")
    finally:
        await producer.stop()


async def test_wrong_agency_password_is_refused(
    agencies: dict[str, str], kafka_admin_config: dict[str, Any]
) -> None:
    agency = next(iter(agencies))
    consumer = AIOKafkaConsumer(inbox_topic(agency), **_as(agency, "guessed", kafka_admin_config))
    with pytest.raises(KafkaConnectionError):
        await consumer.start()
    await consumer.stop()


def test_grants_never_use_prefixes_for_agencies() -> None:
    for grant in kafka_access.agency_grants("school-example"):
        assert grant.pattern == "literal"
        assert grant.principal == "school-example"

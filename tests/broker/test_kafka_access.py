"""On the real broker, each agency's principal reaches only its own inbox, receipts and dead letters."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from broker.partnership import kafka_access
from schemas import topics
from tests.conftest import TEST_NAMESPACE, provision_principals, run_agency_id
from transport.kafka import TopicSettings, ensure_topics


def inbox_topic(agency_id: str) -> str:
    return topics.inbox_topic(agency_id, namespace=TEST_NAMESPACE)


def dead_letter_topic(agency_id: str) -> str:
    return topics.dead_letter_topic(agency_id, namespace=TEST_NAMESPACE)


def consumer_group(agency_id: str) -> str:
    return topics.consumer_group(agency_id, namespace=TEST_NAMESPACE)


RECEIPTS_TOPIC = topics.receipts_topic(namespace=TEST_NAMESPACE)


@pytest.fixture(scope="module")
def agencies(kafka_admin_config: dict[str, Any], topic_namespace: str) -> dict[str, str]:
    """Two fresh agency principals with their grants in this run's namespace; returns id -> password."""
    ids = {run_agency_id(): secrets.token_urlsafe(18) for _ in range(2)}
    provision_principals(kafka_admin_config, ids, namespace=topic_namespace)
    return ids


def _as(agency: str, password: str, admin: dict[str, Any]) -> dict[str, Any]:
    return {**admin, "sasl_plain_username": agency, "sasl_plain_password": password}


async def _topics(admin_config: dict[str, Any], names: list[str]) -> None:
    await ensure_topics(admin_config, names, settings=TopicSettings(partitions=1))


async def _read_one(config: dict[str, Any], topic: str, group: str) -> bytes | None:
    consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **config)
    try:
        # A refused topic may fail `start` itself: stopped all the same, or its client's tasks outlive the test
        # on the session's event loop and log "not authorized" into later tests' captures.
        await consumer.start()
        batch = await consumer.getmany(timeout_ms=5000)
        values = [r.value for records in batch.values() for r in records]
        return values[0] if values else None
    finally:
        await consumer.stop()


@pytest.mark.stack  # the stack's Kafka, with this run's agency principals
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
    assert await _read_one(as_a, inbox_topic(a), consumer_group(a)) == b"for-a"
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_one(as_a, inbox_topic(b), consumer_group(a))


@pytest.mark.stack  # the stack's Kafka, with this run's agency principals
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


@pytest.mark.stack  # the stack's Kafka, with this run's agency principals
async def test_wrong_agency_password_is_refused(agencies: dict[str, str], kafka_admin_config: dict[str, Any]) -> None:
    agency = next(iter(agencies))
    consumer = AIOKafkaConsumer(inbox_topic(agency), **_as(agency, "guessed", kafka_admin_config))
    with pytest.raises(KafkaConnectionError):
        await consumer.start()
    await consumer.stop()


def test_grants_never_use_prefixes_for_agencies() -> None:
    for grant in kafka_access.agency_grants("school-example"):
        assert grant.pattern == "literal"
        assert grant.principal == "school-example"


@pytest.mark.parametrize("namespace", ["sgb", TEST_NAMESPACE], ids=["product", "test-run"])
def test_every_grant_stays_inside_its_namespace(namespace: str) -> None:
    grants = [
        *kafka_access.agency_grants("school-example", namespace=namespace),
        *kafka_access.relay_grants(namespace=namespace),
    ]
    assert {g.name.split(".", 1)[0] for g in grants} == {namespace}
    assert {g.name for g in kafka_access.relay_grants(namespace=namespace) if g.pattern == "prefixed"} == {
        f"{namespace}.inbox."
    }


@pytest.mark.stack  # the stack's Kafka, with this run's agency principals
async def test_a_principal_granted_in_one_namespace_reads_nothing_of_another(
    agencies: dict[str, str], kafka_admin_config: dict[str, Any]
) -> None:
    """The same agency id in the product's namespace is another resource: the test run's grant stops at its own."""
    a, a_pw = next(iter(agencies.items()))
    other = f"{TEST_NAMESPACE}-other"
    other_inbox = topics.inbox_topic(a, namespace=other)
    await _topics(kafka_admin_config, [other_inbox])
    as_a = _as(a, a_pw, kafka_admin_config)
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_one(as_a, other_inbox, topics.consumer_group(a, namespace=other))
    producer = AIOKafkaProducer(enable_idempotence=True, **as_a)
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(topics.receipts_topic(namespace=other), b"receipt into another namespace")
    finally:
        await producer.stop()

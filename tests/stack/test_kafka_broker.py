"""The local Kafka broker is real: SASL/SCRAM, idempotent and transactional producers, authorisation."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from transport.kafka import TopicSettings, ensure_topics

# Needs the running stack: the stack's Kafka itself.
pytestmark = pytest.mark.stack


async def _create_topic(config: dict[str, Any], topic: str) -> None:
    assert await ensure_topics(config, [topic], settings=TopicSettings(partitions=1)) == {topic}


async def _consume(config: dict[str, Any], topic: str, group: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        **config,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            values += [record.value for records in batch.values() for record in records if record.value]
            if len(values) >= count:
                break
    finally:
        await consumer.stop()
    return values


async def test_idempotent_producer_round_trip(
    kafka_admin_config: dict[str, Any], unique_name: str, topic_namespace: str
) -> None:
    topic = f"{topic_namespace}.stack.{unique_name}"
    await _create_topic(kafka_admin_config, topic)
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka_admin_config)
    await producer.start()
    try:
        sent = [f"record-{i}".encode() for i in range(5)]
        for value in sent:
            await producer.send_and_wait(topic, value, key=b"pseudonym-1")
    finally:
        await producer.stop()
    assert await _consume(kafka_admin_config, topic, unique_name, 5) == sent


async def test_transactional_producer_commits_and_aborts(
    kafka_admin_config: dict[str, Any], unique_name: str, topic_namespace: str
) -> None:
    topic = f"{topic_namespace}.stack.{unique_name}"
    await _create_topic(kafka_admin_config, topic)
    producer = AIOKafkaProducer(transactional_id=f"tx-{unique_name}", **kafka_admin_config)
    await producer.start()
    try:
        await producer.begin_transaction()
        await (await producer.send(topic, b"aborted"))
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(topic, b"committed")
    finally:
        await producer.stop()
    # A read_committed consumer must see only the committed record.
    assert await _consume(kafka_admin_config, topic, unique_name, 1) == [b"committed"]


async def test_wrong_password_is_refused(kafka_admin_config: dict[str, Any]) -> None:
    config = {**kafka_admin_config, "sasl_plain_password": "not-the-password"}
    producer = AIOKafkaProducer(**config)
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()

"""Tests, benchmarks and the fault suite never touch what a running demo uses.

The demo runs in the product's topic namespace, `sgb`; each test run, benchmark run and fault run
has one of its own. On the real broker, records in one namespace are invisible to consumers of
another, even for the same agency id, because every topic and group name carries the namespace.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.workload import bench_namespace
from broker.partnership import kafka_access
from broker.settings import BrokerSettings
from consumers.settings import ConsumerSettings
from demo.site import NAMESPACE as DEMO_NAMESPACE
from demo.site import create_topics
from devstack.topics import namespace_of
from faults.harness import Site, shared_kafka
from schemas import topics
from tests.conftest import AGENCY_PREFIX, TEST_NAMESPACE, is_run_namespace, run_agency_id, run_namespace
from transport.kafka import TopicSettings, ensure_topics


def _names(namespace: str, agency: str) -> set[str]:
    return {
        topics.inbox_topic(agency, namespace=namespace),
        topics.dead_letter_topic(agency, namespace=namespace),
        topics.receipts_topic(namespace=namespace),
        topics.consumer_group(agency, namespace=namespace),
        topics.relay_group(namespace=namespace),
    }


def test_the_demo_and_a_deployment_use_the_product_namespace() -> None:
    assert DEMO_NAMESPACE == topics.DEFAULT_NAMESPACE == "sgb"
    assert BrokerSettings.model_fields["topic_namespace"].default == "sgb"
    assert ConsumerSettings.model_fields["topic_namespace"].default == "sgb"


@pytest.mark.stack
def test_every_other_run_has_a_namespace_of_its_own(tmp_path: Path) -> None:
    faults = Site(tmp_path, shared_kafka(), "http://127.0.0.1:1", "sqlite://").namespace
    others = [TEST_NAMESPACE, run_namespace("x"), bench_namespace(), bench_namespace(), faults]
    assert len(set(others)) == len(others)
    for namespace in others:
        assert topics.checked_namespace(namespace) != DEMO_NAMESPACE
        # Not one topic, group or ACL name in common with the demo, for the demo's own agency ids.
        assert not _names(namespace, "police-fenmere") & _names(DEMO_NAMESPACE, "police-fenmere")
        # The relay's prefixed grant in the demo's namespace does not reach into another one.
        assert not topics.inbox_topic("police-fenmere", namespace=namespace).startswith(
            topics.inbox_prefix(namespace=DEMO_NAMESPACE)
        )


def test_the_suite_tags_its_principals_and_cleans_only_its_own_topics() -> None:
    assert run_agency_id().startswith(f"{AGENCY_PREFIX}-") and run_agency_id() != run_agency_id()

    def cleaned(topic: str) -> bool:
        return is_run_namespace(namespace_of(topic))

    assert cleaned(topics.inbox_topic("police-fenmere", namespace=TEST_NAMESPACE))
    assert cleaned(topics.receipts_topic(namespace=run_namespace("b")))
    assert not cleaned(topics.inbox_topic("police-fenmere", namespace=DEMO_NAMESPACE))
    assert not cleaned(topics.receipts_topic(namespace=DEMO_NAMESPACE))
    assert not cleaned(topics.receipts_topic(namespace=f"sgbtest-{uuid.uuid4().hex[:8]}"))  # another run


@pytest.mark.parametrize("namespace", ["", "SGB", "sgb.inbox", "a" * 41, "-sgb", "sgb_test"])
def test_a_namespace_that_could_overlap_another_is_refused(namespace: str) -> None:
    with pytest.raises(ValueError):
        topics.inbox_topic("police-fenmere", namespace=namespace)
    with pytest.raises(ValueError):
        kafka_access.relay_grants(namespace=namespace)


async def _read_all(config: dict[str, Any], topic: str, group: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **config)
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
        return [r.value for records in batch.values() for r in records]
    finally:
        await consumer.stop()


@pytest.mark.stack
@pytest.mark.usefixtures("topic_namespace")  # deletes the run's topics afterwards
async def test_records_of_one_namespace_never_reach_a_consumer_of_another(kafka_admin_config: dict[str, Any]) -> None:
    agency = run_agency_id()  # the same agency id in both namespaces
    first, second = run_namespace("a"), run_namespace("b")
    inboxes = {ns: topics.inbox_topic(agency, namespace=ns) for ns in (first, second)}
    await ensure_topics(kafka_admin_config, inboxes.values(), settings=TopicSettings())
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka_admin_config)
    await producer.start()
    try:
        for ns, topic in inboxes.items():
            await producer.send_and_wait(topic, f"for {ns}".encode())
    finally:
        await producer.stop()
    for ns, topic in inboxes.items():
        group = topics.consumer_group(agency, namespace=ns)
        assert await _read_all(kafka_admin_config, topic, group) == [f"for {ns}".encode()]


@pytest.mark.stack
async def test_the_demo_makes_its_topics_afresh_each_run(kafka_admin_config: dict[str, Any]) -> None:
    # A run stopped midway leaves records sealed to keys the next run's partnership does not hold.
    agency, namespace = run_agency_id(), run_namespace("demo")
    inbox = topics.inbox_topic(agency, namespace=namespace)
    await create_topics(kafka_admin_config, [agency], namespace=namespace)
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka_admin_config)
    await producer.start()
    try:
        await producer.send_and_wait(inbox, b"sealed to the last run's keys")
    finally:
        await producer.stop()
    await create_topics(kafka_admin_config, [agency], namespace=namespace)
    assert await _read_all(kafka_admin_config, inbox, topics.consumer_group(agency, namespace=namespace)) == []

"""Kafka client settings and topic creation, against the stack's real broker for the creation part."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError

from tests.conftest import tasks_outliving
from transport.kafka import TopicSettings, client_config, ensure_topics, running

BASE = {"bootstrap": "127.0.0.1:19092", "user": "relay", "password": "fictional-secret"}


def test_client_config_is_scram_over_the_given_protocol() -> None:
    config = client_config(security_protocol="SASL_PLAINTEXT", ca_file=None, **BASE)
    assert config == {
        "bootstrap_servers": "127.0.0.1:19092",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "relay",
        "sasl_plain_password": "fictional-secret",
    }


def test_sasl_ssl_gets_a_verifying_tls_context() -> None:
    config = client_config(security_protocol="SASL_SSL", ca_file=None, **BASE)
    context = config["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_missing_ca_file_fails_at_start_not_at_first_connection(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        client_config(security_protocol="SASL_SSL", ca_file=tmp_path / "absent-ca.pem", **BASE)


@pytest.mark.parametrize(
    ("protocol", "ca_file"),
    [("PLAINTEXT", None), ("SSL", None), ("SASL_PLAINTEXT", Path("ca.pem"))],
    ids=["no-auth", "no-sasl", "ca-without-tls"],
)
def test_refuses_what_would_not_authenticate_or_encrypt_as_configured(protocol: str, ca_file: Path | None) -> None:
    with pytest.raises(ValueError):
        client_config(security_protocol=protocol, ca_file=ca_file, **BASE)


@pytest.mark.parametrize(
    "values",
    [
        {"partitions": 0},
        {"replication_factor": 0},
        {"min_insync_replicas": 0},
        {"replication_factor": 1, "min_insync_replicas": 2},
    ],
    ids=["no-partitions", "no-replicas", "no-isr", "isr-above-rf"],
)
def test_topic_settings_refuse_impossible_values(values: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TopicSettings(**values)


def test_topic_settings_default_to_a_single_development_broker() -> None:
    assert TopicSettings() == TopicSettings(partitions=3, replication_factor=1, min_insync_replicas=1)
    production = TopicSettings(replication_factor=3, min_insync_replicas=2).new_topic("x")
    assert (production.num_partitions, production.replication_factor) == (3, 3)
    assert production.topic_configs == {"min.insync.replicas": "2", "retention.ms": "604800000"}


# --- on the real broker --------------------------------------------------------------------------


async def _describe(admin_config: dict[str, Any], topic: str) -> tuple[int, dict[str, str]]:
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    entries = response.resources[0][4]
    return len(described["partitions"]), {entry[0]: entry[1] for entry in entries}


@pytest.mark.stack
async def test_creates_missing_topics_with_the_settings_once(
    kafka_admin_config: dict[str, Any], topic_namespace: str
) -> None:
    names = [f"{topic_namespace}.create.{uuid.uuid4().hex[:8]}" for _ in range(2)]
    settings = TopicSettings(partitions=2, min_insync_replicas=1)
    assert await ensure_topics(kafka_admin_config, names, settings=settings) == set(names)
    assert await ensure_topics(kafka_admin_config, names, settings=settings) == set()
    partitions, configs = await _describe(kafka_admin_config, names[0])
    assert partitions == 2
    assert configs["min.insync.replicas"] == "1"


@pytest.mark.stack
async def test_two_creators_racing_for_one_topic_both_succeed(
    kafka_admin_config: dict[str, Any], topic_namespace: str
) -> None:
    name = f"{topic_namespace}.race.{uuid.uuid4().hex[:8]}"
    first, second = await asyncio.gather(
        *(ensure_topics(kafka_admin_config, [name], settings=TopicSettings()) for _ in range(2))
    )
    assert first | second == {name}


@pytest.mark.stack
async def test_a_replication_factor_the_cluster_cannot_meet_is_an_error_not_silence(
    kafka_admin_config: dict[str, Any], topic_namespace: str
) -> None:
    name = f"{topic_namespace}.rf3.{uuid.uuid4().hex[:8]}"
    with pytest.raises(KafkaError, match=name):
        await ensure_topics(
            kafka_admin_config, [name], settings=TopicSettings(replication_factor=3, min_insync_replicas=2)
        )


@pytest.mark.stack
async def test_a_client_whose_start_fails_after_connecting_is_stopped(
    kafka_admin_config: dict[str, Any], topic_namespace: str
) -> None:
    # As the receipt reader's consumer when Kafka has just restarted and its topic is not yet known:
    # connected, then refused, with aiokafka's metadata task running until the client is stopped.
    absent = f"{topic_namespace}.absent.{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(absent, request_timeout_ms=1000, **kafka_admin_config)
    before = asyncio.all_tasks()
    with pytest.raises(UnknownTopicOrPartitionError):
        async with running(consumer):
            pytest.fail("started a consumer of a topic that does not exist")
    assert await tasks_outliving(before, grace=1.0) == []

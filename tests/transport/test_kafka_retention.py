"""The retention of the topics the broker creates is the partnership's setting, not the cluster's default.

A shredded case's sealed record stays on an agency's inbox until `retention.ms` ends, so each topic is
created with it, read back here from the stack's real broker, and provisioning can bring an existing
topic's retention into line without losing the topic's other settings.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from broker.delivery.background import kafka_config, topic_settings
from broker.errors import SettingsInvalid
from broker.settings import BrokerSettings, read_settings
from schemas.topics import inbox_topic
from tests.conftest import run_agency_id
from transport.kafka import MAX_RETENTION_HOURS, TopicSettings, ensure_topics

THIRTY_DAYS_MS = "2592000000"  # 720 hours
DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' source of a value set on the topic itself


def test_new_topics_carry_the_retention_and_a_week_by_default() -> None:
    assert TopicSettings().new_topic("x").topic_configs == {"min.insync.replicas": "1", "retention.ms": "604800000"}
    topic = TopicSettings(retention_hours=720).new_topic("x")
    assert topic.topic_configs["retention.ms"] == THIRTY_DAYS_MS


@pytest.mark.parametrize("hours", [0, -1, MAX_RETENTION_HOURS + 1], ids=["zero", "negative", "overflows-ms"])
def test_topic_settings_refuse_a_retention_kafka_would_not_keep(hours: int) -> None:
    with pytest.raises(ValueError, match="retention"):
        TopicSettings(retention_hours=hours)


def test_the_gateway_setting_reaches_the_topics_it_creates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGB_KAFKA_TOPIC_RETENTION_HOURS", "720")
    assert topic_settings(BrokerSettings()).new_topic("x").topic_configs["retention.ms"] == THIRTY_DAYS_MS
    monkeypatch.delenv("SGB_KAFKA_TOPIC_RETENTION_HOURS")
    assert topic_settings(BrokerSettings()).retention_hours == 168


@pytest.mark.parametrize("value", ["0", "-24", "a week", str(MAX_RETENTION_HOURS + 1)])
def test_a_nonsense_retention_refuses_the_start_in_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SGB_KAFKA_TOPIC_RETENTION_HOURS", value)
    with pytest.raises(SettingsInvalid) as raised:
        read_settings()
    message = str(raised.value)
    assert message.startswith("SGB_KAFKA_TOPIC_RETENTION_HOURS: ") and "\n" not in message, message


# --- on the real broker --------------------------------------------------------------------------


async def _configs(admin_config: dict[str, Any], topic: str) -> dict[str, tuple[str, int]]:
    """Each config of `topic` as Kafka reports it now: value and source."""
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    (resource,) = response.to_object()["resources"]
    assert resource["error_code"] == 0, resource
    return {e["config_names"]: (e["config_value"], e["config_source"]) for e in resource["config_entries"]}


async def _create_by_hand(admin_config: dict[str, Any], topic: str, configs: dict[str, str]) -> None:
    """A topic made as an older broker or an operator made it, not through `ensure_topics`."""
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=configs)])
    finally:
        await admin.close()
    assert [code for _, code, *_ in response.topic_errors] == [0]


@pytest.mark.stack
async def test_a_created_topic_has_the_settings_retention_on_the_topic_itself(
    kafka_admin_config: dict[str, Any], topic_namespace: str
) -> None:
    name = f"{topic_namespace}.retention.{uuid.uuid4().hex[:8]}"
    assert await ensure_topics(kafka_admin_config, [name], settings=TopicSettings(retention_hours=720)) == {name}
    # Set on the topic (DYNAMIC_TOPIC_CONFIG), so a cluster default changed later does not reach it.
    assert (await _configs(kafka_admin_config, name))["retention.ms"] == (THIRTY_DAYS_MS, DYNAMIC_TOPIC_CONFIG)


@pytest.mark.stack
async def test_the_relays_own_principal_creates_an_inbox_with_the_gateways_retention(
    kafka_admin_config: dict[str, Any], relay_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The relay's grants allow Create but no config operation: the retention must travel with the creation.
    monkeypatch.setenv("SGB_KAFKA_TOPIC_RETENTION_HOURS", "720")
    settings = BrokerSettings(topic_namespace=relay_namespace)
    inbox = inbox_topic(run_agency_id(), namespace=relay_namespace)
    assert await ensure_topics(kafka_config(settings), [inbox], settings=topic_settings(settings)) == {inbox}
    assert (await _configs(kafka_admin_config, inbox))["retention.ms"] == (THIRTY_DAYS_MS, DYNAMIC_TOPIC_CONFIG)


@pytest.mark.stack
async def test_ensuring_with_alignment_changes_an_existing_topics_retention_and_keeps_its_other_settings(
    kafka_admin_config: dict[str, Any], topic_namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"{topic_namespace}.realign.{uuid.uuid4().hex[:8]}"
    await _create_by_hand(kafka_admin_config, name, {"retention.ms": "3600000", "max.message.bytes": "123456"})
    settings = TopicSettings(partitions=1, retention_hours=720)

    # Without alignment (the relay's way), an existing topic is left as it is.
    assert await ensure_topics(kafka_admin_config, [name], settings=settings) == set()
    assert (await _configs(kafka_admin_config, name))["retention.ms"] == ("3600000", DYNAMIC_TOPIC_CONFIG)

    with caplog.at_level(logging.WARNING, logger="transport.kafka"):
        assert await ensure_topics(kafka_admin_config, [name], settings=settings, align_retention=True) == set()
    configs = await _configs(kafka_admin_config, name)
    assert configs["retention.ms"] == (THIRTY_DAYS_MS, DYNAMIC_TOPIC_CONFIG)
    # AlterConfigs replaces a topic's own settings wholesale: this one must have been sent back.
    assert configs["max.message.bytes"] == ("123456", DYNAMIC_TOPIC_CONFIG)
    assert [r.getMessage() for r in caplog.records if r.name == "transport.kafka"] == [
        f"topic {name}: retention.ms changed from 3600000 to {THIRTY_DAYS_MS}"
    ]

    # Aligned already: nothing is altered or logged a second time.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="transport.kafka"):
        await ensure_topics(kafka_admin_config, [name], settings=settings, align_retention=True)
    assert [r for r in caplog.records if r.name == "transport.kafka"] == []

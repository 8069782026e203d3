"""Kafka for both sides: aiokafka client settings and creating the topics a deployment needs.

The gateway's relay and receipt reader, the agency consumers, the demo, the benchmark and the fault
suite all connect the same way (SASL/SCRAM, TLS in production) and create topics with the same
partition count, replication factor, `min.insync.replicas` and `retention.ms`, which come from
settings: one broker in development, three (and a minimum of two in sync) in production.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from aiokafka.helpers import create_ssl_context

log = logging.getLogger("transport.kafka")

SECURITY_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
# Kafka's own default (log.retention.hours), so a deployment that sets nothing keeps what it had.
DEFAULT_RETENTION_HOURS = 168
# retention.ms is a Java long: more hours than this would overflow it and be refused at creation.
MAX_RETENTION_HOURS = (2**63 - 1) // 3_600_000
# DescribeConfigs' source of a value set on the topic itself, not inherited from the broker.
_DYNAMIC_TOPIC_CONFIG = 1


def client_config(
    *,
    bootstrap: str,
    security_protocol: str,
    user: str,
    password: str,
    ca_file: Path | None,
    sasl_mechanism: str = "SCRAM-SHA-512",
) -> dict[str, Any]:
    """Return aiokafka keyword arguments for one SCRAM principal (producer, consumer or admin).

    `ca_file` is the CA that signed the brokers' certificates (SASL_SSL only); None trusts the
    system's CAs.
    """
    if security_protocol not in SECURITY_PROTOCOLS:
        raise ValueError(f"Kafka security protocol must be one of {SECURITY_PROTOCOLS}")
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "security_protocol": security_protocol,
        "sasl_mechanism": sasl_mechanism,
        "sasl_plain_username": user,
        "sasl_plain_password": password,
    }
    if security_protocol == "SASL_SSL":
        config["ssl_context"] = create_ssl_context(cafile=str(ca_file) if ca_file else None)
    elif ca_file is not None:
        # A CA file with a clear-text protocol means someone believes TLS is on: refuse, not ignore.
        raise ValueError(f"a Kafka CA file is set but the security protocol is {security_protocol}")
    return config


@dataclass(frozen=True)
class TopicSettings:
    """How new topics are made: development's one broker by default."""

    partitions: int = 3
    replication_factor: int = 1
    # With acks=all, a write succeeds only once this many replicas have it.
    min_insync_replicas: int = 1
    # Set on every topic, never left to the cluster's default (which may be "for ever"): a shredded
    # case's sealed record stays on an agency's inbox until this ends, so the partnership states it.
    retention_hours: int = DEFAULT_RETENTION_HOURS

    def __post_init__(self) -> None:
        if self.partitions < 1 or self.replication_factor < 1:
            raise ValueError("a topic needs at least one partition and one replica")
        if not 1 <= self.min_insync_replicas <= self.replication_factor:
            raise ValueError("min.insync.replicas must be between 1 and the replication factor")
        if not 1 <= self.retention_hours <= MAX_RETENTION_HOURS:
            raise ValueError(f"a topic's retention must be between 1 and {MAX_RETENTION_HOURS} hours")

    @property
    def retention_ms(self) -> str:
        """`retention.ms` as Kafka's configs carry it."""
        return str(self.retention_hours * 3_600_000)

    def new_topic(self, name: str) -> NewTopic:
        return NewTopic(
            name,
            num_partitions=self.partitions,
            replication_factor=self.replication_factor,
            topic_configs={"min.insync.replicas": str(self.min_insync_replicas), "retention.ms": self.retention_ms},
        )


# Development's single broker; a frozen value, so safe as a shared default argument.
DEFAULT_TOPIC_SETTINGS = TopicSettings()


class _Client(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


_C = TypeVar("_C", bound=_Client)


@asynccontextmanager
async def running(client: _C) -> AsyncIterator[_C]:
    """`client` (an aiokafka consumer or producer) started, and stopped however the start or the use
    ends. A start can fail after it has connected, as a consumer's does when its topic is not yet known
    to a Kafka that has just restarted, and aiokafka's metadata task then runs on until `stop()`."""
    try:
        await client.start()
        yield client
    finally:
        await client.stop()


async def ensure_topics(
    admin_config: dict[str, Any], names: Iterable[str], *, settings: TopicSettings, align_retention: bool = False
) -> set[str]:
    """Create whichever of `names` do not exist yet; return those this call created.

    A topic someone else created meanwhile is fine; any other refusal (no ACL, a replication factor
    the cluster cannot meet) raises the broker's error, a `KafkaError`. With `align_retention`, every
    other of `names` that already existed gets the settings' `retention.ms` if it has another value
    (logged as a warning with both): it needs DescribeConfigs and AlterConfigs on those topics, which
    the provisioning super-user has and the relay's principal does not (a relay that could shorten an
    inbox's retention could destroy what an agency has not read yet).
    """
    wanted = set(names)
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        missing = sorted(wanted - set(await admin.list_topics()))
        created = await _create(admin, missing, settings) if missing else set()
        if align_retention and wanted - created:
            await _align_retention(admin, sorted(wanted - created), settings)
    finally:
        await admin.close()
    return created


async def _create(admin: AIOKafkaAdminClient, missing: list[str], settings: TopicSettings) -> set[str]:
    response = await admin.create_topics([settings.new_topic(name) for name in missing])
    created = set(missing)
    for topic, code, *message in response.topic_errors:
        if code == TopicAlreadyExistsError.errno:
            created.discard(topic)
        elif code != 0:
            detail = "".join(part for part in message if part) or "refused"
            raise for_code(code)(f"creating topic {topic}: {detail}")
    return created


async def _align_retention(admin: AIOKafkaAdminClient, names: list[str], settings: TopicSettings) -> None:
    """Give each of `names` the settings' `retention.ms` where it has another value.

    aiokafka has only the legacy AlterConfigs, which replaces all of a topic's own settings with the
    ones sent: every value set on the topic itself goes back with the new retention, or a production
    inbox's `min.insync.replicas` of 2 would quietly fall back to the cluster's default.
    """
    (described,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    changes, before = [], {}
    for resource in described.to_object()["resources"]:
        topic, entries = resource["resource_name"], resource["config_entries"]
        _raise_for(resource, f"reading the configuration of topic {topic}")
        current = next((e["config_value"] for e in entries if e["config_names"] == "retention.ms"), None)
        if current == settings.retention_ms:
            continue
        own = {e["config_names"]: e["config_value"] for e in entries if e.get("config_source") == _DYNAMIC_TOPIC_CONFIG}
        if any(value is None for value in own.values()) or any("config_source" not in e for e in entries):
            # A sensitive value is never described, and a broker too old to say where a value comes
            # from cannot say which to send back: altering would lose them.
            raise KafkaError(f"topic {topic}: retention.ms is {current}, not {settings.retention_ms}; not changed")
        own["retention.ms"] = settings.retention_ms
        changes.append(ConfigResource(ConfigResourceType.TOPIC, topic, configs=own))
        before[topic] = current
    if not changes:
        return
    (altered,) = await admin.alter_configs(changes)
    for resource in altered.to_object()["resources"]:
        topic = resource["resource_name"]
        _raise_for(resource, f"changing the retention of topic {topic}")
        log.warning("topic %s: retention.ms changed from %s to %s", topic, before[topic], settings.retention_ms)


def _raise_for(resource: dict[str, Any], doing: str) -> None:
    if resource["error_code"] != 0:
        raise for_code(resource["error_code"])(f"{doing}: {resource['error_message'] or 'refused'}")

"""Kafka for both sides: aiokafka client settings and creating the topics a deployment needs.

The gateway's relay and receipt reader, the agency consumers, the demo, the benchmark and the fault
suite all connect the same way (SASL/SCRAM, TLS in production) and create topics with the same
partition count, replication factor and `min.insync.replicas`, which come from settings: one broker
in development, three (and a minimum of two in sync) in production.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.helpers import create_ssl_context

SECURITY_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")


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

    def __post_init__(self) -> None:
        if self.partitions < 1 or self.replication_factor < 1:
            raise ValueError("a topic needs at least one partition and one replica")
        if not 1 <= self.min_insync_replicas <= self.replication_factor:
            raise ValueError("min.insync.replicas must be between 1 and the replication factor")

    def new_topic(self, name: str) -> NewTopic:
        return NewTopic(
            name,
            num_partitions=self.partitions,
            replication_factor=self.replication_factor,
            topic_configs={"min.insync.replicas": str(self.min_insync_replicas)},
        )


# Development's single broker; a frozen value, so safe as a shared default argument.
DEFAULT_TOPIC_SETTINGS = TopicSettings()


async def ensure_topics(admin_config: dict[str, Any], names: Iterable[str], *, settings: TopicSettings) -> set[str]:
    """Create whichever of `names` do not exist yet; return those this call created.

    A topic someone else created meanwhile is fine; any other refusal (no ACL, a replication factor
    the cluster cannot meet) raises the broker's error, a `KafkaError`.
    """
    wanted = set(names)
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        missing = sorted(wanted - set(await admin.list_topics()))
        if not missing:
            return set()
        response = await admin.create_topics([settings.new_topic(name) for name in missing])
    finally:
        await admin.close()
    created = set(missing)
    for topic, code, *message in response.topic_errors:
        if code == TopicAlreadyExistsError.errno:
            created.discard(topic)
        elif code != 0:
            detail = "".join(part for part in message if part) or "refused"
            raise for_code(code)(f"creating topic {topic}: {detail}")
    return created

"""Kafka principals and ACLs: who may read and write which topics.

Each agency's consumer authenticates as its own SCRAM principal and may read only its own inbox (and
its consumer group), and write only to the receipts topic and its own dead-letter topic. The relay may
create and write inboxes and read receipts. Grants are applied through Kafka's own Admin API by a small
Java program run against the broker's jars (aiokafka has no ACL or SCRAM calls).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from schemas.topics import (
    DEFAULT_NAMESPACE,
    DEFAULT_PARTNERSHIP,
    consumer_group,
    dead_letter_topic,
    inbox_prefix,
    inbox_topic,
    receipts_topic,
    relay_group,
)

JAVA_SOURCE = Path(__file__).with_name("java") / "AccessAdmin.java"
RELAY_PRINCIPAL = "relay"
# The cluster's super-users (devstack/kafka.py, deploy/kafka/start.sh `super.users`). An agency's
# principal is its id, so an agency registered under one of these names would get a super-user's
# SCRAM password (or the relay's grants) instead of its own least privilege.
SUPER_USERS = frozenset({"sgb-admin", "controller"})
RESERVED_PRINCIPALS = SUPER_USERS | {RELAY_PRINCIPAL}


class KafkaAccessError(Exception):
    """Users or ACLs could not be applied to the Kafka cluster."""


@dataclass(frozen=True)
class Grant:
    """One ALLOW ACL: principal may do operation on a resource (literal name or name prefix)."""

    principal: str
    resource_type: str
    pattern: str
    name: str
    operation: str

    def line(self) -> str:
        return f"acl User:{self.principal} {self.resource_type} {self.pattern} {self.name} {self.operation}"


def agency_grants(
    agency_id: str, *, namespace: str = DEFAULT_NAMESPACE, partnership_id: str = DEFAULT_PARTNERSHIP
) -> list[Grant]:
    """Least privilege for one agency's consumer principal (named after the agency) in a namespace."""
    if agency_id in RESERVED_PRINCIPALS:
        raise KafkaAccessError(f"agency id {agency_id!r} is a reserved Kafka principal; register it under another id")
    inbox, dlq = inbox_topic(agency_id, namespace=namespace), dead_letter_topic(agency_id, namespace=namespace)
    group = consumer_group(agency_id, namespace=namespace, partnership_id=partnership_id)
    receipts = receipts_topic(namespace=namespace)
    return [
        Grant(agency_id, "topic", "literal", inbox, "read"),
        Grant(agency_id, "topic", "literal", inbox, "describe"),
        Grant(agency_id, "group", "literal", group, "read"),
        Grant(agency_id, "topic", "literal", receipts, "write"),
        Grant(agency_id, "topic", "literal", receipts, "describe"),
        Grant(agency_id, "topic", "literal", dlq, "write"),
        Grant(agency_id, "topic", "literal", dlq, "describe"),
    ]


def relay_grants(principal: str = RELAY_PRINCIPAL, *, namespace: str = DEFAULT_NAMESPACE) -> list[Grant]:
    """The relay publishes to every inbox of the namespace (creating it on first use) and reads receipts."""
    inboxes, receipts = inbox_prefix(namespace=namespace), receipts_topic(namespace=namespace)
    return [
        Grant(principal, "topic", "prefixed", inboxes, "write"),
        Grant(principal, "topic", "prefixed", inboxes, "describe"),
        Grant(principal, "topic", "prefixed", inboxes, "create"),
        Grant(principal, "topic", "literal", receipts, "read"),
        Grant(principal, "topic", "literal", receipts, "describe"),
        Grant(principal, "topic", "literal", receipts, "create"),
        Grant(principal, "group", "literal", relay_group(namespace=namespace), "read"),
    ]


def apply(*, kafka_libs: Path, admin_properties: str, users: dict[str, str], grants: list[Grant]) -> None:
    """Create or update SCRAM users and add ACLs in one JVM run; passwords travel on stdin only."""
    for name, password in users.items():
        if any(ch.isspace() for ch in name + password):
            raise KafkaAccessError("user names and passwords must not contain white space")
        if name in SUPER_USERS:  # setting its password here would hand a super-user to whoever asked
            raise KafkaAccessError(f"user {name!r} is a reserved super-user; it is not set here")
    script = "".join(f"user {n} {p}\n" for n, p in users.items()) + "".join(g.line() + "\n" for g in grants)
    with tempfile.TemporaryDirectory() as tmp:
        props = Path(tmp) / "admin.properties"
        fd = os.open(props, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(admin_properties)
        result = subprocess.run(  # noqa: S603 - fixed java invocation of our own source file
            ["java", "-Dlog4j2.level=WARN", "-cp", f"{kafka_libs}/*", str(JAVA_SOURCE), str(props)],  # noqa: S607
            input=script,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise KafkaAccessError(f"applying Kafka users and ACLs failed: {tail}")


def admin_properties(*, bootstrap: str, user: str, password: str) -> str:
    """Java client properties for a SCRAM super-user (the stack's set-up identity)."""
    return (
        f"bootstrap.servers={bootstrap}\n"
        "security.protocol=SASL_PLAINTEXT\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";\n'
    )

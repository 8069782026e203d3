"""Kafka topic and consumer-group names, built in one place so the relay, consumers and ACLs agree.

Every name starts with a namespace, `sgb` unless configured::

    <namespace>.inbox.<agency>      what the relay publishes to one agency (only it may read)
    <namespace>.dlq.<agency>        where that agency's consumer parks what it cannot deliver
    <namespace>.receipts            the consumers' signed receipts, read by the gateway
    <namespace>.consumer.<partnership>.<agency>   the agency consumer's group
    <namespace>.relay               the gateway's receipt reader's group

Two namespaces on one cluster share no topic, group or ACL resource, so a test run or a benchmark
(each with its own namespace) can neither read nor disturb the records of a running demo (`sgb`).
A consumer group also names the partnership (the gateway's SGB_PARTNERSHIP_ID, a consumer's
CONSUMER_PARTNERSHIP_ID), so Kafka's own tools show whose consumer a group is.
"""

from __future__ import annotations

import re
from typing import Final

from schemas.policy_input import PARTNERSHIP_ID_PATTERN

DEFAULT_NAMESPACE: Final = "sgb"
# The gateway's default SGB_PARTNERSHIP_ID, so an unconfigured consumer and its grants still agree.
DEFAULT_PARTNERSHIP: Final = "demo-partnership"
# No dots: "." separates a namespace from the rest, so no namespace is a prefix of another's names
# (an ACL on the prefix "sgb.inbox." never matches "sgb-t1.inbox.x").
NAMESPACE_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,39}$"
_NAMESPACE = re.compile(NAMESPACE_PATTERN)
_AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_PARTNERSHIP_ID = re.compile(PARTNERSHIP_ID_PATTERN)


def checked_namespace(namespace: str) -> str:
    """Return `namespace` if it is a valid first component of topic and group names."""
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"topic namespace {namespace!r} must match {NAMESPACE_PATTERN}")
    return namespace


def _checked(agency_id: str) -> str:
    # Topic names become ACL resource names: an id that could widen a prefix match is refused.
    if not _AGENCY_ID.fullmatch(agency_id):
        raise ValueError(f"agency id {agency_id!r} is not a valid topic component")
    return agency_id


def inbox_topic(agency_id: str, *, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The only topic an agency's consumer may read."""
    return f"{inbox_prefix(namespace=namespace)}{_checked(agency_id)}"


def inbox_prefix(*, namespace: str = DEFAULT_NAMESPACE) -> str:
    """What every inbox of the namespace starts with (the relay's ACLs are granted on it)."""
    return f"{checked_namespace(namespace)}.inbox."


def dead_letter_topic(agency_id: str, *, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Where an agency's consumer parks what it cannot verify, open or validate."""
    return f"{checked_namespace(namespace)}.dlq.{_checked(agency_id)}"


def receipts_topic(*, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Where every agency's consumer sends its signed receipts."""
    return f"{checked_namespace(namespace)}.receipts"


def consumer_group(
    agency_id: str, *, namespace: str = DEFAULT_NAMESPACE, partnership_id: str = DEFAULT_PARTNERSHIP
) -> str:
    """The agency consumer's group in its partnership; its ACL is granted on exactly this name."""
    # No dots in a partnership id either: the name must not read as another namespace's or agency's.
    if not _PARTNERSHIP_ID.fullmatch(partnership_id):
        raise ValueError(f"partnership id {partnership_id!r} is not a valid group component")
    return f"{checked_namespace(namespace)}.consumer.{partnership_id}.{_checked(agency_id)}"


def relay_group(*, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The group in which the gateway reads receipts."""
    return f"{checked_namespace(namespace)}.relay"

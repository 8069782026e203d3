"""Seal: one recipient's projection, encrypted to that agency's own key and signed by the broker.

A sealed delivery becomes an outbox row (published now) or a held row (published on release)
only inside the log transaction; until then it is just bytes and routing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import audit
from audit.log import transient
from broker.db.log import DecisionLog
from broker.db.tables import OutboxRow
from broker.partnership.keys import BrokerKeys
from broker.partnership.registry import Registry
from schemas.envelope import EnvelopeHeader, deciding_findings
from schemas.notifications import Notification
from schemas.policy_decision import RecipientDecision
from schemas.policy_input import project
from schemas.topics import inbox_topic
from schemas.vocab import SubjectRole
from transport.sealing import seal_with_bytes

# The roles whose pseudonym keys the Kafka record, so one child's messages stay in order.
_ROUTING_ROLES = (SubjectRole.CHILD, SubjectRole.UNBORN_CHILD, SubjectRole.DECEASED_CHILD)


@dataclass(frozen=True)
class Sealed:
    """A sealed delivery's outbox fields. Its `OutboxRow` (an ORM object, costly to build) is made
    once, inside the log transaction, when its log context is known."""

    delivery_id: str
    notification_id: str
    recipient_agency: str
    topic: str
    key: str
    envelope: bytes
    headers: dict[str, str]
    created_at: datetime

    def row(self, log_context: dict[str, object]) -> OutboxRow:
        values = {
            "delivery_id": self.delivery_id,
            "notification_id": self.notification_id,
            "recipient_agency": self.recipient_agency,
            "topic": self.topic,
            "key": self.key,
            "envelope": self.envelope,
            "headers": self.headers,
            "log_context": log_context,
            "created_at": self.created_at,
        }
        return transient(OutboxRow, values)


class Sealer:
    def __init__(
        self, *, registry: Registry, keys: BrokerKeys, partnership_id: str, namespace: str, decision_log: DecisionLog
    ) -> None:
        self._registry = registry
        self._namespace = namespace
        self._keys = keys
        self._partnership_id = partnership_id
        self._log = decision_log

    async def use(self, registry: Registry) -> None:
        """Seal to the agencies and keys of `registry` from now on (a rotated key, a new agency)."""
        self._registry = registry

    def seal(
        self, notification: Notification, decision: RecipientDecision, *, delivery_id: str, now: datetime
    ) -> Sealed | None:
        """The sealed delivery, or None for an agency the registry does not hold (nothing to seal to)."""
        agency = self._registry.agency(decision.agency_id)
        if agency is None:
            return None
        key = agency.current_encryption_key
        header = EnvelopeHeader(
            delivery_id=delivery_id,
            notification_id=str(notification.notification_id),
            sender_agency=notification.sender.agency_id,
            recipient_agency=agency.id,
            message_type=notification.message_type.value,
            schema_version=notification.schema_version,
            recipient_key_id=key.kid,
            # What decided this share travels signed with it: the agency's delivery leads with it.
            decided_by=deciding_findings(decision),
        )
        _, envelope = seal_with_bytes(
            project(notification, decision.allowed_fields),
            header=header,
            recipient_public_key=key.recipient_key(),
            signing_key=self._keys.signing_key,
            signing_key_id=self._keys.signing_key_id,
            sealed_at=now,
        )
        routing = audit.pseudonymise(self._keys.kafka_key_secret, routing_subject(notification))
        return Sealed(
            delivery_id=delivery_id,
            notification_id=header.notification_id,
            recipient_agency=agency.id,
            topic=inbox_topic(agency.id, namespace=self._namespace),
            key=routing,
            envelope=envelope,
            headers=cloudevents(header, self._partnership_id, now, self._log.checkpoint_note),
            created_at=now,
        )


def routing_subject(notification: Notification) -> str:
    """The child whose records keep their order on an inbox (Kafka key): the same child, the same key,
    whichever agency sent it, when the NHS number links them."""
    sender = notification.sender.agency_id
    for subject in notification.subjects:
        if subject.role_in_case in _ROUTING_ROLES:
            return subject.linking_key(sender)
    return notification.subjects[0].linking_key(sender)


def cloudevents(header: EnvelopeHeader, partnership_id: str, now: datetime, checkpoint: str | None) -> dict[str, str]:
    # The latest signed checkpoint rides with every delivery, so each agency keeps a copy of the
    # log's state and a rewritten history would contradict what they hold.
    extra = {"sgb_checkpoint": checkpoint} if checkpoint else {}
    return {
        **extra,
        "ce_specversion": "1.0",
        "ce_id": header.delivery_id,
        "ce_source": f"/sgb/{partnership_id}",
        "ce_type": f"uk.safeguarding.{header.message_type}.v{header.schema_version}",
        "ce_time": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "content-type": "application/vnd.sgb.envelope+json",
        "sgb_notification_id": header.notification_id,
    }

"""The gateway's side of the shared contract in `schemas/`: parse, ask, read the answer, project.

Every use the sharing flow makes of the notification models and the decision contract goes
through here, so a change of contract touches one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.notifications import Notification, parse_notification
from schemas.policy_decision import PolicyDecision, Reason
from schemas.policy_decision import RecipientDecision as PolicyRecipient
from schemas.policy_input import POLICY_ENTRYPOINT, build_policy_input
from schemas.policy_input import project as _project
from schemas.vocab import ConsentStatus, Outcome, SubjectRole

__all__ = ["POLICY_ENTRYPOINT", "Decision", "Notification", "RecipientDecision"]

# The roles whose pseudonym keys the Kafka record, so one child's messages stay in order.
_ROUTING_ROLES = (SubjectRole.CHILD, SubjectRole.UNBORN_CHILD, SubjectRole.DECEASED_CHILD)


@dataclass(frozen=True)
class RecipientDecision:
    agency_id: str
    role: str
    outcome: str
    reasons: tuple[Reason, ...]
    lawful_basis: str | None
    allowed_fields: tuple[str, ...]
    obligations: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Decision:
    recipients: list[RecipientDecision]
    revision: str
    decision_id: str | None
    registry_revision: str | None


def parse(data: Any) -> Notification:
    return parse_notification(data)


def policy_input(notification: Notification, partnership_id: str) -> dict[str, Any]:
    return build_policy_input(notification, partnership_id).model_dump(mode="json")


def decision(result: dict[str, Any], decision_id: str | None, notification: Notification) -> Decision:
    """Read OPA's answer; raises pydantic.ValidationError if it breaks the contract."""
    parsed = PolicyDecision.model_validate(result)
    recipients = [
        _recipient(parsed.decision_for(r.agency_id, r.role), parsed.errors) for r in notification.recipients
    ]
    revision = parsed.policy_revision
    if parsed.registry_revision:
        revision = f"{revision}+{parsed.registry_revision[:16]}"
    return Decision(recipients, revision[:128], decision_id, parsed.registry_revision)


def _recipient(decided: PolicyRecipient, errors: list[Reason]) -> RecipientDecision:
    outcome, reasons = decided.outcome.value, tuple(decided.reasons)
    if errors:
        # A problem with the notification as a whole overrides any per-recipient answer.
        outcome, reasons = Outcome.NO_SHARE.value, tuple(errors) + reasons
    return RecipientDecision(
        agency_id=decided.agency_id, role=decided.role, outcome=outcome, reasons=reasons,
        lawful_basis=decided.lawful_basis.value if decided.lawful_basis else None,
        allowed_fields=tuple(decided.allowed_fields) if outcome != Outcome.NO_SHARE else (),
        obligations=tuple(
            {"kind": o.kind, "description": o.description, "rule": o.rule,
             "amount": o.due_in.amount if o.due_in else None, "unit": o.due_in.unit.value if o.due_in else None}
            for o in decided.obligations
        ),
    )


def project(notification: Notification, allowed_fields: tuple[str, ...]) -> dict[str, Any]:
    return _project(notification, allowed_fields)


def notification_id(notification: Notification) -> str:
    return str(notification.notification_id)


def in_reply_to(notification: Notification) -> str | None:
    return str(notification.in_reply_to) if notification.in_reply_to else None


def purpose(notification: Notification) -> str | None:
    return notification.purpose.value if notification.purpose else None


def sender_agency(notification: Notification) -> str:
    return notification.sender.agency_id


def sender_role(notification: Notification) -> str:
    return notification.sender.role.value


def message_type(notification: Notification) -> str:
    return notification.message_type.value


def schema_version(notification: Notification) -> str:
    return notification.schema_version


def subject_refs(notification: Notification) -> list[str]:
    return [subject.subject_ref for subject in notification.subjects]


def routing_subject(notification: Notification) -> str:
    for subject in notification.subjects:
        if subject.role_in_case in _ROUTING_ROLES:
            return subject.subject_ref
    return notification.subjects[0].subject_ref


def consent_state(notification: Notification) -> str:
    """One word for the log: the most restrictive consent position recorded."""
    statuses = {record.status for record in notification.consent}
    for status in (ConsentStatus.REFUSED, ConsentStatus.WITHDRAWN, ConsentStatus.UNSURE, ConsentStatus.NOT_SOUGHT):
        if status in statuses:
            return status.value
    if statuses:
        return sorted(s.value for s in statuses)[0]
    return "not_recorded"

"""One item of a review queue: a held share or an urgent share awaiting a person, built from its decision.

It carries no payload value, subject pseudonym or person. An advice request is answered without what
identifies its case (GR3), possibly by a partnership adviser outside the sender's agency: it does not
name its notification or the role it was sent as. An authorisation, answered inside the sender's agency,
and an urgent share, whose reviewers may read its decision, name both in the API (`to_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

import audit
from broker.db.tables import HeldDelivery
from broker.review.access import Action, Viewer
from broker.review.release import deciding_count, deciding_positions, resolves, waiting
from broker.review.scope import sees
from broker.review.timescales import met_on_release
from broker.review.views import field_classes


def data_classes(message_type: str, fields: list[str]) -> list[str]:
    """The data classes of released fields, from the payload model's declared classes."""
    return sorted(set(field_classes(message_type, fields).values()))


@dataclass(frozen=True)
class QueueItem:
    delivery_id: str
    outcome: str
    decided_seq: int
    message_type: str
    sender_agency: str
    recipient_agency: str
    purpose: str | None
    data_classes: list[str]
    reasons: list[dict[str, str]]
    lawful_basis: str | None
    consent_state: str | None
    waiting_since: str
    expires_at: str | None
    # None when a release is possible; otherwise why the only answers are refuse or send again.
    refuse_only: str | None = None
    # The finding(s) that caused the hold, read first on the card, and the answer that would end it.
    deciding_rules: list[str] = field(default_factory=list)
    resolves: str = ""
    # Positions in `reasons` of the finding(s) that caused the hold, as the log's `deciding_reasons`:
    # one rule may also have findings that did not, so the card and the API name findings, not rules.
    deciding_reasons: list[int] = field(default_factory=list)
    # Positions of the findings that did not cause it but would on their own have held or stopped it.
    blocking_reasons: list[int] = field(default_factory=list)
    # An urgent share's review afterwards is due a working day after it went (None for held shares).
    review_due: str | None = None
    # Which notification, and the role it was sent as: an authoriser with several held shares tells them
    # apart, and one notification's shares apart from another's.
    notification_id: str = ""
    sender_role: str = ""
    # A held reply: the deadlines of what it answers that its release would meet (`timescales.met_on_release`),
    # and what it answers: the kind, and its decision's number where this reader may read it.
    meets_on_release: list[dict[str, str | None]] = field(default_factory=list)
    replies_to_type: str | None = None
    replies_to_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The item as `GET /v1/queues` gives it: what the page shows, so an advice request's
        notification and sender role are null there as they are absent from its card."""
        said = dict(self.__dict__)
        if self.outcome == "needs_advice":
            said["notification_id"] = said["sender_role"] = said["replies_to_type"] = said["replies_to_seq"] = None
        return said

    @property
    def why(self) -> list[dict[str, str]]:
        """The findings that caused the hold, in their order."""
        return [self.reasons[i] for i in self.deciding_reasons]

    @property
    def blocking(self) -> list[dict[str, str]]:
        """The findings that did not decide it but would on their own have held or stopped it."""
        return [r for i, r in enumerate(self.reasons) if i in self.blocking_reasons and i not in self.deciding_reasons]

    @property
    def others(self) -> list[dict[str, str]]:
        """The findings that did not decide it, nor would have held or stopped it."""
        skip = {*self.deciding_reasons, *self.blocking_reasons}
        return [r for i, r in enumerate(self.reasons) if i not in skip]


def answering(session: Session, viewer: Viewer, decided: audit.Entry, held_row: HeldDelivery) -> dict[str, Any]:
    """A held reply's `queue_item` keywords: what its release would meet, and what it answers (nothing, for a
    held share that answers nothing): the kind, and the decision's number if `viewer` may read it."""
    parent, stage = held_row.log_context.get("in_reply_to"), held_row.log_context.get("stage")
    if not isinstance(parent, str):
        return {}
    meets = met_on_release(
        session,
        in_reply_to=parent,
        replier=decided.sender_agency,
        waiting=decided.recipient_agency,
        message_type=decided.message_type,
        stage=stage if isinstance(stage, str) else None,
    )
    # The decision of what it answers to the replying agency, which received it.
    query = select(audit.Entry).where(
        col(audit.Entry.notification_id) == parent,
        col(audit.Entry.recipient_agency) == decided.sender_agency,
        col(audit.Entry.kind) == audit.EventKind.DECIDED,
    )
    found = session.execute(query.limit(1)).scalars().first()
    if found is None:
        return {"meets_on_release": meets}
    readable = sees(session, viewer, Action.DECISIONS, found)
    return {
        "meets_on_release": meets,
        "replies_to_type": found.message_type,
        "replies_to_seq": found.seq if readable else None,
    }


def queue_item(
    decided: audit.Entry,
    held_row: HeldDelivery | None,
    *,
    meets_on_release: list[dict[str, str | None]] | None = None,
    replies_to_type: str | None = None,
    replies_to_seq: int | None = None,
) -> QueueItem:
    """The item for a `decided` entry, with its held row's wait where it has one (an urgent share has none)."""
    context = held_row.log_context if held_row is not None else {}
    purpose = context.get("purpose")
    wait = waiting(decided, held_row) if held_row is not None else {}
    return QueueItem(
        delivery_id=decided.delivery_id,
        outcome=decided.outcome,
        decided_seq=decided.seq,
        message_type=decided.message_type,
        sender_agency=decided.sender_agency,
        recipient_agency=decided.recipient_agency,
        purpose=purpose if isinstance(purpose, str) else None,
        data_classes=data_classes(decided.message_type, decided.fields_released),
        reasons=decided.reasons,
        lawful_basis=decided.lawful_basis,
        consent_state=decided.consent_state,
        waiting_since=decided.recorded_at,
        expires_at=wait.get("expires_at"),
        refuse_only=wait.get("refuse_only"),
        deciding_rules=list(decided.deciding_rules) or [r["rule"] for r in decided.reasons[:1]],
        resolves=wait.get("resolves") or resolves(decided, None),
        deciding_reasons=deciding_positions(decided, deciding_count(context)),
        blocking_reasons=list(decided.blocking_reasons),
        notification_id=decided.notification_id,
        sender_role=decided.sender_role,
        meets_on_release=meets_on_release or [],
        replies_to_type=replies_to_type,
        replies_to_seq=replies_to_seq,
    )

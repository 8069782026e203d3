"""Decision-log entries for what happens to a delivery after its decision.

Each follows the `decided` entry of the same delivery (`follows` links them), so the log shows a
delivery's whole path: decided, published, delivered, acknowledged, overdue.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

import audit
from broker.db.tables import OutboxRow


def log_context(entry: audit.Entry) -> dict[str, object]:
    """What `follow_up` needs of a decided entry, kept with the delivery's rows."""
    return {
        "decided_seq": entry.seq,
        "outcome": entry.outcome,
        "sender_agency": entry.sender_agency,
        "sender_role": entry.sender_role,
        "recipient_agency": entry.recipient_agency,
        "message_type": entry.message_type,
    }


def follow_up(
    context: dict[str, object],
    *,
    delivery_id: str,
    notification_id: str,
    kind: audit.EventKind,
    actor: str | None = None,
    actor_role: str | None = None,
    actor_agency: str | None = None,
    reasons: tuple[audit.Reason, ...] = (),
) -> audit.EntryDraft:
    """A draft for a later event on a delivery, from the context stored with its decision."""
    decided_seq = context.get("decided_seq")
    return audit.EntryDraft(
        notification_id=notification_id,
        delivery_id=delivery_id,
        kind=kind,
        outcome=str(context["outcome"]),
        sender_agency=str(context["sender_agency"]),
        sender_role=str(context["sender_role"]),
        recipient_agency=str(context["recipient_agency"]),
        message_type=str(context["message_type"]),
        reasons=reasons,
        actor=actor,
        actor_role=actor_role,
        actor_agency=actor_agency,
        follows=(decided_seq,) if isinstance(decided_seq, int) else (),
    )


def record_published(session: Session, rows: Sequence[OutboxRow]) -> None:
    """Log one `published` entry per row, in the relay's transaction that marks them published.

    A notice row (withdrawal, correction, erasure) is logged as `notice_published` on the delivery
    it is about, so the log links the recall to what it recalls.
    """
    drafts = [
        published_draft(row)
        or follow_up(
            row.log_context,
            delivery_id=row.delivery_id,
            notification_id=row.notification_id,
            kind=audit.EventKind.PUBLISHED,
        )
        for row in rows
    ]
    audit.append(session, drafts)


NOTICE_RULE = "SYS-NOTICE"


def published_draft(row: OutboxRow) -> audit.EntryDraft | None:
    """The `notice_published` entry for a notice row the relay published (None for a delivery row)."""
    about = row.log_context.get("notice_for")
    if not isinstance(about, str):
        return None
    kind = str(row.log_context.get("notice_kind", "withdrawal"))
    said = f"The signed {kind} notice {row.delivery_id} was published to {row.recipient_agency}'s inbox."
    return follow_up(
        row.log_context,
        delivery_id=about,
        notification_id=row.notification_id,
        kind=audit.EventKind.NOTICE_PUBLISHED,
        reasons=(audit.Reason(rule=NOTICE_RULE, message=said),),
    )

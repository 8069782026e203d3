"""The sender's view of a notification: where each recipient's delivery has got to."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import Session

import audit
from broker.db.log import DecisionLog
from broker.errors import NotFound
from broker.review.access import Action, Viewer

# Later events supersede earlier ones in the status; `overdue` is a flag, not a stage.
STAGES = ("decided", "published", "delivered", "acknowledged")


async def for_sender(decision_log: DecisionLog, notification_id: str, viewer: Viewer) -> dict[str, Any]:
    """The sender's side only (the table's `status` scope): the recipients see their deliveries as decisions."""
    entries = await asyncio.to_thread(_entries, decision_log, notification_id)
    first = entries[0] if entries else None
    if first is None or not viewer.covers(
        Action.STATUS, viewer.relation(sender_agency=first.sender_agency, actor=first.actor)
    ):
        # The same answer whether it does not exist or belongs to someone else.
        raise NotFound("no such notification for this agency")
    deliveries: dict[str, dict[str, Any]] = {}
    for entry in entries:
        item = deliveries.setdefault(
            entry.delivery_id,
            {
                "delivery_id": entry.delivery_id,
                "agency_id": entry.recipient_agency,
                "outcome": entry.outcome,
                "status": "decided",
                "overdue": False,
                "events": [],
            },
        )
        item["events"].append({"kind": entry.kind, "at": entry.recorded_at, "seq": entry.seq})
        if entry.kind == "overdue":
            item["overdue"] = True
        elif entry.kind in STAGES and STAGES.index(entry.kind) > STAGES.index(item["status"]):
            item["status"] = entry.kind
    return {"notification_id": notification_id, "recipients": list(deliveries.values())}


def _entries(decision_log: DecisionLog, notification_id: str) -> list[audit.Entry]:
    with Session(decision_log.engine) as session:
        return list(audit.query(session, notification_id=notification_id, limit=1000))

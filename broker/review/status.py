"""The sender's view of a notification: where each recipient's delivery has got to."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col

import audit
from broker.db.log import DecisionLog
from broker.errors import OutOfReach
from broker.review.access import Action, Scope, Viewer
from broker.review.scope import decided_at_all, sees
from broker.review.timescales import deadlines_of

# Later events supersede earlier ones in the status; `overdue` is a flag, not a stage.
STAGES = ("decided", "published", "delivered", "acknowledged")
# A recall ends the story whatever came before it; the notice and its receipt follow in `events`.
RECALLS = ("withdrawn", "corrected", "shredded")


async def for_sender(decision_log: DecisionLog, notification_id: str, viewer: Viewer) -> dict[str, Any]:
    """The sender's side only (the table's `status` scope): the recipients see their deliveries as decisions."""
    entries, deadlines = await asyncio.to_thread(_read, decision_log, notification_id, viewer)
    if not entries:
        # The same answer whether it does not exist or belongs to someone else.
        exists = await asyncio.to_thread(decided_at_all, decision_log.engine, notification_id)
        raise OutOfReach("no such notification whose status you may read", exists=exists)
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
                "deadlines": deadlines.get(entry.delivery_id, []),
            },
        )
        item["events"].append({"kind": entry.kind, "at": entry.recorded_at, "seq": entry.seq})
        if entry.kind == "overdue":
            item["overdue"] = True
        elif _advances(entry.kind, item["status"]):
            item["status"] = entry.kind
    return {"notification_id": notification_id, "recipients": list(deliveries.values())}


def _advances(kind: str, status: str) -> bool:
    """A recall always does; a stage only moves a delivery that was not recalled further on."""
    if kind in RECALLS:
        return True
    return status in STAGES and kind in STAGES and STAGES.index(kind) > STAGES.index(status)


def _read(
    decision_log: DecisionLog, notification_id: str, viewer: Viewer
) -> tuple[list[audit.Entry], dict[str, list[dict[str, str | None]]]]:
    """The notification's entries the viewer may see and, for each delivery, the clocks it started."""
    with Session(decision_log.engine) as session:
        entries = _visible_entries(session, notification_id, viewer)
        return entries, deadlines_of(session, {e.delivery_id for e in entries}, datetime.now(UTC))


def _visible_entries(session: Session, notification_id: str, viewer: Viewer) -> list[audit.Entry]:
    """The notification's entries if the viewer is on its sending side within their scope, else none."""
    # Who looked is an access event, not the sender's to read (the decision detail hides it too),
    # and many looks must not push the real events past the page.
    statement = audit.select_entries(notification_id=notification_id).where(
        col(audit.Entry.kind) != audit.EventKind.VIEWED
    )
    entries = list(session.execute(statement.limit(1000)).scalars())
    first = entries[0] if entries else None
    if first is None:
        return []
    if viewer.covers(Action.STATUS, viewer.relation(sender_agency=first.sender_agency, actor=first.actor)):
        return entries
    # Own scope also covers what they answered or are named on: the clause the lists use.
    own = viewer.scope(Action.STATUS) is Scope.OWN and first.sender_agency == viewer.agency_id
    return entries if own and sees(session, viewer, Action.STATUS, first) else []

"""What a reply's form says, on every step, of the notification it answers: its decision's number and
kind where the reader may read it, and the deadlines a reply from their agency meets with the kind of
reply that meets each. Only the first step had said it, and the rest named what it answers by a
notification id (a school DSL and a MASH officer replying, in the demo).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from broker.db.tables import ObligationClock
from broker.delivery import clocks
from broker.review import access
from broker.review.access import Viewer
from broker.review.scope import first_decision
from broker.ui import plain
from broker.ui import words as say

# Answers that are no message a person sends: a consumer's signed receipt, a review, the notification itself.
_NOT_A_REPLY = frozenset({clocks.ACKNOWLEDGED, clocks.URGENT_REVIEW, clocks.BY_ITSELF})


def may_reply(viewer: Viewer, detail: dict[str, Any], *, ended: frozenset[str]) -> bool:
    """Whether a decision's page offers Reply: to the agency that received the notification, while it stands
    (its state not among `ended`), to a person who may send as one of its roles (a LADO's DSL, whose agency
    sends as its LADO officers, may not)."""
    received = str(detail["outcome"]).startswith("share") or detail["state"] == "released"
    return (
        received
        and detail["recipient_agency"] == viewer.agency_id
        and detail["state"] not in ended
        and access.may_route(viewer, "GET", "/ui/notifications/{notification_id}/reply")
    )


async def reply_context(engine: Engine, viewer: Viewer, notification_id: str) -> dict[str, Any]:
    """`answering` (the decision's seq, its kind and its sender) and `owed`, for a notification one of
    whose decisions the reader may read; nothing for any other, as a posted form may name any id."""
    seq = await asyncio.to_thread(first_decision, engine, viewer, notification_id, viewer.agency_id)
    if seq is None:
        return {}
    answering = await asyncio.to_thread(answered, engine, seq)
    owed = await asyncio.to_thread(owed_by, engine, notification_id, viewer.agency_id)
    return {"answering": answering, "owed": owed}


def answered(engine: Engine, seq: int) -> dict[str, Any]:
    """The decision a reply's reader may read of what it answers: its number, its kind, and the agency
    that sent it, to whom the reply goes."""
    entry = audit.Entry
    query = select(col(entry.message_type), col(entry.sender_agency)).where(col(entry.seq) == seq)
    with Session(engine) as session:
        message_type, sender = session.execute(query).one()
    return {"seq": seq, "message_type": message_type, "sender_agency": sender}


def owed_by(engine: Engine, notification_id: str, agency_id: str) -> list[dict[str, Any]]:
    """The notification's running deadlines that a reply from `agency_id` meets, each with the kinds of
    reply that meet it, in the form's words: the reader chooses the kind their reply is."""
    with Session(engine) as session:
        running = session.exec(
            select(ObligationClock).where(
                col(ObligationClock.notification_id) == notification_id, col(ObligationClock.stopped_at).is_(None)
            )
        ).all()
    owed: list[dict[str, Any]] = []
    for clock in sorted(running, key=lambda c: c.due_at):
        pairs, _ = clocks.answered_by(clock)
        replies = [a for a in clocks.answer_order(clock) if a not in _NOT_A_REPLY]
        kinds = [_kind(a) for a in replies]
        types = sorted({a.partition("@")[0] for a in replies})
        said = {
            "duty": plain.duty(clock.description).text,
            "due_at": clock.due_at,
            "kinds": kinds,
            "types": types,
            "answers": replies,
        }
        if kinds and any(who == agency_id for who, _ in pairs) and said not in owed:
            owed.append(said)  # one per duty: a sender owes it to each recipient alike
    return owed


def _kind(answer: str) -> str:
    """`lado_allegation@amm_record` as “LADO allegation: Record of the AMM”, the form's words."""
    message_type, _, stage = answer.partition("@")
    name = say.type_name(message_type)
    return f"{name}: {say.option(stage, say.PAYLOAD_CHOICES)}" if stage else name

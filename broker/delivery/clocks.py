"""Statutory clocks: started by a decision's obligations, stopped only by the message that answers.

A clock stops on the recipient's acknowledgement (its signed receipt of kind `acknowledged`); a
scheduler marks clocks past their due time as overdue, logs an `overdue` entry linked to the
decision, and exposes them for DSLs (API and metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from broker.db.tables import ObligationClock
from broker.delivery.events import follow_up

log = logging.getLogger("broker.delivery.clocks")

ACKNOWLEDGED = "acknowledged"
URGENT_REVIEW = "urgent_review"
# What answers each obligation (timer ids T.. in policies/safeguarding/obligations): a clock stops
# only on that message or event. An obligation not listed here is answered by the recipient's
# acknowledgement.
STOPS_ON = {
    "acknowledge_referral": ACKNOWLEDGED,
    "decide_referral": "referral_outcome",
    "strategy_meeting": "strategy_discussion_request",
    "review_urgent_share": URGENT_REVIEW,
}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def start_clocks(
    session: Session,
    *,
    delivery_id: str,
    notification_id: str,
    context: dict[str, object],
    obligations: list[dict[str, Any]],
) -> None:
    """One clock per obligation that has a due time (called inside the decision's transaction)."""
    for obligation in obligations:
        if not obligation.get("due_at"):
            continue
        session.add(
            ObligationClock(
                delivery_id=delivery_id,
                notification_id=notification_id,
                recipient_agency=str(context["recipient_agency"]),
                sender_agency=str(context["sender_agency"]),
                kind=obligation["kind"],
                rule=obligation["rule"],
                description=obligation["description"],
                due_at=_utc(datetime.fromisoformat(obligation["due_at"])),
                stops_on=STOPS_ON.get(obligation["kind"], ACKNOWLEDGED),
                log_context=context,
            )
        )


def stop_clocks(session: Session, delivery_id: str, answer: str, now: datetime) -> int:
    """Stop the running clocks of a delivery that this answer stops; return how many."""
    query = select(ObligationClock).where(
        col(ObligationClock.delivery_id) == delivery_id,
        col(ObligationClock.stops_on) == answer,
        col(ObligationClock.stopped_at).is_(None),
    )
    clocks = list(session.exec(query))
    for clock in clocks:
        clock.stopped_at = _utc(now)
        session.add(clock)
    return len(clocks)


def stop_on_reply(session: Session, *, in_reply_to: str, replying_agency: str, message_type: str, now: datetime) -> int:
    """A reply (e.g. the referral outcome) stops the clocks it answers on the original's deliveries."""
    query = select(ObligationClock).where(
        col(ObligationClock.notification_id) == in_reply_to,
        col(ObligationClock.recipient_agency) == replying_agency,
        col(ObligationClock.stops_on) == message_type,
        col(ObligationClock.stopped_at).is_(None),
    )
    clocks = list(session.exec(query))
    for clock in clocks:
        clock.stopped_at = _utc(now)
        session.add(clock)
    return len(clocks)


def mark_overdue(session: Session, now: datetime) -> list[ObligationClock]:
    """Log an `overdue` entry for each running clock past its due time (once per clock)."""
    query = select(ObligationClock).where(
        col(ObligationClock.stopped_at).is_(None),
        col(ObligationClock.overdue_at).is_(None),
        col(ObligationClock.due_at) < _utc(now),
    )
    late = list(session.exec(query))
    drafts = []
    for clock in late:
        clock.overdue_at = _utc(now)
        session.add(clock)
        reason = audit.Reason(
            rule=clock.rule if clock.rule[:1].isalpha() else "GR7", message=f"Overdue: {clock.description}"[:500]
        )
        drafts.append(
            follow_up(
                clock.log_context,
                delivery_id=clock.delivery_id,
                notification_id=clock.notification_id,
                kind=audit.EventKind.OVERDUE,
                reasons=(reason,),
            )
        )
    audit.append(session, drafts)
    return late


def overdue(session: Session, *, agency_id: str | None = None) -> list[ObligationClock]:
    """Overdue clocks, for everyone (IG) or where the agency is sender or recipient (DSL)."""
    query = select(ObligationClock).where(
        col(ObligationClock.overdue_at).is_not(None), col(ObligationClock.stopped_at).is_(None)
    )
    if agency_id is not None:
        query = query.where(
            (col(ObligationClock.recipient_agency) == agency_id) | (col(ObligationClock.sender_agency) == agency_id)
        )
    return list(session.exec(query.order_by(col(ObligationClock.due_at))))


async def run_scheduler(
    engine: Engine,
    stop: asyncio.Event,
    *,
    every: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_overdue: Callable[[int], None] | None = None,
) -> None:
    """Check the clocks every `every` seconds until stopped."""
    while not stop.is_set():
        try:
            late = await asyncio.to_thread(_tick, engine, clock())
            if late and on_overdue is not None:
                on_overdue(late)
        except Exception:  # the next tick retries; a failed check never stops the gateway
            log.exception("overdue check failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def _tick(engine: Engine, now: datetime) -> int:
    with Session(engine) as session:
        late = mark_overdue(session, now)
        session.commit()
        return len(late)

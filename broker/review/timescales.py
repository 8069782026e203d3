"""The clocks a decision started, as its page and `GET /v1/decisions/{seq}` show them.

A share starts the statutory and procedural clocks of its message type (`broker.delivery.clocks`): the
referral's decision within one working day, the allegations meeting within three. The Overdue page lists
those that ran out; a reader of one decision also needs those still running, and those already met, so
they can see at a glance what is owed on this share and whether it came in time. The Overdue page's
own deadline per entry (`deadlines`) is read here too.

A clock stopped by a withdrawal, a case's shredding or a corrected event time was not answered, and says
so: it stopped because the message it ran on no longer stands. A clock carried on to another message
when this one was withdrawn is that message's now, and is shown there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Final, NamedTuple

from sqlalchemy import ColumnElement, Engine, and_, not_, or_
from sqlmodel import Session, col, select

import audit
from broker.db.log import DecisionLog
from broker.db.tables import ObligationClock
from broker.delivery import clocks, event_clocks
from broker.review.access import Viewer

# The clock of an urgent share's review afterwards (policies/safeguarding/obligations, I14).
URGENT_REVIEW_CLOCK: Final = "review_urgent_share"
# Clocks on the sending side's own duty, owed to no recipient: a reader on the recipient's side is not
# given them, as it is given no other agency's internal work (the review is the sender's, C7, I14).
SENDERS_OWN: Final = frozenset({URGENT_REVIEW_CLOCK})
# Why a clock stopped unanswered (`event_clocks.STOP_REASON`), as its state.
_STOPPED: Final = {
    event_clocks.WITHDRAWN: "withdrawn",
    event_clocks.SHREDDED: "shredded",
    event_clocks.SUPERSEDED: "superseded",
}


def _utc(moment: datetime) -> datetime:
    # SQLite gives back the wall time it was given, in UTC, without a zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock_state(clock: ObligationClock, now: datetime) -> tuple[str, datetime | None]:
    """Where a clock stands, and since when (None while it runs)."""
    due = _utc(clock.due_at)
    if clock.stopped_at is not None:
        stopped = _utc(clock.stopped_at)
        reason = clock.log_context.get(event_clocks.STOP_REASON)
        if isinstance(reason, str) and reason in _STOPPED:
            return _STOPPED[reason], stopped
        return ("met" if stopped <= due else "met_late"), stopped
    # Overdue from its due time, whether or not the worker's sweep has logged it yet; and once logged
    # overdue, overdue here too, so the page agrees with the log (even a check run for a later date).
    return ("overdue", due) if due <= now or clock.overdue_at is not None else ("running", None)


Deadlines = list[dict[str, str | None]]


class ClockReading(NamedTuple):
    """A clock as read at a moment: when it is (or was) due, and where it stands (`clock_state`)."""

    due_at: datetime
    state: str
    since: datetime | None
    rule: str
    description: str
    met_by: str | None = None

    def as_deadline(self) -> dict[str, str | None]:
        """As the API gives a clock (`schemas.deadlines.Deadline`), the shape a decision's `deadlines` take."""
        return {
            "rule": self.rule,
            "description": self.description,
            "due_at": self.due_at.isoformat(),
            "state": self.state,
            "since": self.since.isoformat() if self.since is not None else None,
            "met_by": self.met_by,
        }


def deadlines_of(
    session: Session, delivery_ids: Collection[str], now: datetime, *, sender_side: bool = True
) -> dict[str, Deadlines]:
    """The clocks each of these deliveries' decisions started, soonest due first, in one read; for a
    reader not on the sending side (`sender_side` False), without the sender's own (`SENDERS_OWN`)."""
    found: dict[str, Deadlines] = {delivery: [] for delivery in delivery_ids}
    if not found:
        return found
    query = select(ObligationClock).where(col(ObligationClock.delivery_id).in_(list(found)))
    if not sender_side:
        query = query.where(col(ObligationClock.kind).not_in(SENDERS_OWN))
    for clock in session.exec(query.order_by(col(ObligationClock.due_at), col(ObligationClock.id))):
        found[clock.delivery_id].append(reading(clock, now).as_deadline())
    return found


def met_already(engine: Engine, delivery_ids: Collection[str], now: datetime) -> dict[str, set[str]]:
    """The duties each delivery has met already, by their words: a telephone referral's written
    confirmation is met by the very notification that says it was phoned through."""
    with Session(engine) as session:
        found = deadlines_of(session, delivery_ids, now)
    return {d: {str(c["description"]) for c in found[d] if c["state"] in ("met", "met_late")} for d in found}


def senders_own_events(session: Session, delivery_id: str, events: list[audit.Entry]) -> list[audit.Entry]:
    """Of a delivery's later `events`, those that are the sender's own duty (`SENDERS_OWN`): an urgent share's
    review, and the sweep's entry when that review's clock ran out."""
    query = select(ObligationClock.overdue_seq).where(col(ObligationClock.delivery_id) == delivery_id, _senders_own())
    missed = set(session.exec(query)) - {None}
    return [e for e in events if e.kind == audit.EventKind.URGENT_REVIEWED or e.seq in missed]


def others_own_overdue(reader_agency: str) -> ColumnElement[bool]:
    """The `overdue` entries of a sending agency's own clock (`SENDERS_OWN`) that `reader_agency` did not
    send, as a filter on a list's query: a recipient's Overdue page leaves them out, as its decision
    page does."""
    owned = select(col(ObligationClock.overdue_seq)).where(
        _senders_own(), col(ObligationClock.overdue_seq).is_not(None)
    )
    return and_(not_(_sent_by(reader_agency)), col(audit.Entry.seq).in_(owned))


# The one clause every list says "the sender's own clock, unless the reader sent it" with: a clock that is
# the sending agency's own duty (`SENDERS_OWN`), and a log entry its reader's agency sent.
def _senders_own() -> ColumnElement[bool]:
    return col(ObligationClock.kind).in_(SENDERS_OWN)


def _sent_by(reader_agency: str) -> ColumnElement[bool]:
    return col(audit.Entry.sender_agency) == reader_agency


def reading(clock: ObligationClock, now: datetime) -> ClockReading:
    """A clock as a page and the API give it: when it is due, and where it stands at `now`."""
    state, since = clock_state(clock, now)
    return ClockReading(_utc(clock.due_at), state, since, clock.rule, clock.description, clock.met_by)


def met_on_release(
    session: Session, *, in_reply_to: str, replier: str, waiting: str, message_type: str, stage: str | None
) -> Deadlines:
    """The running deadlines of the notification a held reply answers that releasing it to `waiting` would
    meet, soonest due first: so whoever answers the hold knows what hangs on it (`clocks.stop_on_reply`)."""
    answers = clocks.answer_names(message_type, stage)
    query = select(ObligationClock).where(
        col(ObligationClock.notification_id) == in_reply_to, col(ObligationClock.stopped_at).is_(None)
    )
    now = datetime.now(UTC)
    met = []
    for clock in session.exec(query.order_by(col(ObligationClock.due_at))):
        parties, answered = clocks.answered_by(clock)
        if answers & answered and (replier, waiting) in parties:
            met.append(reading(clock, now).as_deadline())
    return met


def held_reply_meets(
    engine: Engine,
    *,
    in_reply_to: str,
    replier: str,
    waiting: list[str],
    message_type: str,
    stage: str | None,
) -> Deadlines:
    """`met_on_release` for a reply held for each of `waiting`, in a session of its own, soonest due first."""
    met: Deadlines = []
    with Session(engine) as session:
        for agency in waiting:
            met += met_on_release(
                session,
                in_reply_to=in_reply_to,
                replier=replier,
                waiting=agency,
                message_type=message_type,
                stage=stage,
            )
    return sorted({d["description"] or "": d for d in met}.values(), key=lambda d: d["due_at"] or "")


def reply_met(engine: Engine, notification_id: str) -> Deadlines:
    """`met_by_reply` for every agency the reply was shared with, in a session of its own."""
    with Session(engine) as session:
        return met_by_reply(session, notification_id)


def met_by_reply(session: Session, notification_id: str, *, waiting: str | None = None) -> Deadlines:
    """The deadlines a reply met (`met_by`), soonest due first: of every agency it answered, or only of
    `waiting`, the agency a decision of the reply shared it with (the reply met that agency's wait)."""
    query = select(ObligationClock).where(col(ObligationClock.met_by) == notification_id)
    if waiting is not None:  # the replier is one of the clock's two agencies, so the waiting one is the other
        query = query.where(
            or_(col(ObligationClock.sender_agency) == waiting, col(ObligationClock.recipient_agency) == waiting)
        )
    now = datetime.now(UTC)
    return [reading(c, now).as_deadline() for c in session.exec(query.order_by(col(ObligationClock.due_at)))]


def deadlines(decision_log: DecisionLog, overdue: list[audit.Entry], now: datetime) -> dict[int, ClockReading]:
    """Each `overdue` entry's clock (by seq): when it was due, and where it stands now. The entry's own time
    is when the sweep noticed, which may be long after, so a page must not give it as the deadline; and
    the entry stays when the clock is answered late, so a worklist must say whether it still is overdue."""
    if not overdue:
        return {}
    query = select(ObligationClock).where(col(ObligationClock.overdue_seq).in_([e.seq for e in overdue]))
    with Session(decision_log.engine) as session:
        return {
            clock.overdue_seq: reading(clock, now) for clock in session.exec(query) if clock.overdue_seq is not None
        }


def reviews_due(session: Session, delivery_ids: Collection[str]) -> dict[str, str]:
    """When each of these urgent shares' review afterwards is due (ISO 8601), by delivery."""
    if not delivery_ids:
        return {}
    query = select(ObligationClock).where(
        col(ObligationClock.delivery_id).in_(list(delivery_ids)), col(ObligationClock.kind) == URGENT_REVIEW_CLOCK
    )
    return {clock.delivery_id: _utc(clock.due_at).isoformat() for clock in session.exec(query)}


def _late(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """`clock_state`'s "overdue", in SQL: not stopped, and past its due time or already logged overdue."""
    due = or_(col(ObligationClock.due_at) <= _utc(now), col(ObligationClock.overdue_at).is_not(None))
    return col(ObligationClock.stopped_at).is_(None), due


def overdue_now(now: datetime, *, reader_agency: str | None = None) -> ColumnElement[bool]:
    """The log entries whose delivery has a clock overdue now, as a filter on a list's query. For a
    reader at `reader_agency` (None: a partnership office, which reads every clock), a sender's own
    clock (`SENDERS_OWN`) counts only on what that agency sent, as the decision page shows it."""
    late = select(col(ObligationClock.delivery_id)).where(*_late(now))
    if reader_agency is None:
        return col(audit.Entry.delivery_id).in_(late)
    anyones = late.where(not_(_senders_own()))
    sent = and_(_sent_by(reader_agency), col(audit.Entry.delivery_id).in_(late))
    return or_(col(audit.Entry.delivery_id).in_(anyones), sent)


def overdue_among(
    session: Session, delivery_ids: Collection[str], now: datetime, *, senders: Collection[str] | None = None
) -> set[str]:
    """Those of these deliveries with a clock overdue now, in one read: a list's marker. A sender's own
    clock (`SENDERS_OWN`) counts only for the deliveries in `senders`, those read from their sending
    side (None: all of them), so a recipient's list marks what its decision page shows overdue."""
    if not delivery_ids:
        return set()
    ids, kind = col(ObligationClock.delivery_id), col(ObligationClock.kind)
    late = session.exec(select(ids, kind).where(ids.in_(list(delivery_ids)), *_late(now)))
    return {delivery for delivery, clock in late if clock not in SENDERS_OWN or senders is None or delivery in senders}


def read_as_sender(viewer: Viewer, entries: Iterable[audit.Entry]) -> set[str]:
    """The deliveries among `entries` the viewer reads from the sending side (`overdue_among`'s `senders`)."""
    return {e.delivery_id for e in entries if viewer.reads_as_sender(e.sender_agency)}

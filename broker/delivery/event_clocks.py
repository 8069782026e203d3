"""Clocks run from an event the payload names (a scene visit, an examination): one per event in a thread.

A thread is every message of one reply chain: its root (a message that replies to nothing, or a
parent the broker never recorded) and all replies below it, siblings included, as `thread_id` on
each delivery's outbox and held rows says (`broker.db.threads`, migration b0007). Every message in
it that names the event (the death notice, then an ICMD record giving the scene visit's time again)
would start the clock owed for it, by the same agency to the same one; but the event happens once,
and its obligation is met once. So a message's clock for an event (`started_at` on its obligation)
is checked against the clocks the whole thread started of the same kind, between the same two
agencies, found by one indexed query:

- one was answered: nothing starts. The obligation was met; a time given later changes nothing owed.
- one runs due at the same time: nothing starts. The same event named again; it is this message's
  clock too (`restarted_by`), so a reply to either answers it.
- one running due at another time is a corrected event time, wherever in the thread it was started
  (above, or in a sibling reply): it stops as superseded by this message (`stop_reason`,
  `superseded_by` in its context), and this one's clock starts. So one clock runs for the event.
- one whose message was withdrawn, or that a correction superseded, does not count: that message
  no longer stands for the event, so a message naming it again starts its clock.

Another agency naming the same event (police and health each giving the visit's time) owes its own
documentation, so its own clock. A clock records why it stopped only when no answer stopped it: a
clock stopped without a reason was answered (or withdrawn before reasons were kept, which starts
nothing, as then). A shredded case's clocks say "shredded": the case was erased, so its messages no
longer stand, and a later message naming the event starts its clock again, as after a withdrawal.

A withdrawal stops the message's clocks (`restore_superseded`, in the withdrawal's commit); for an
event clock, then:

- another standing message of the thread (not withdrawn, its case not shredded; the first shared)
  named the same event at the same due time between the same agencies, and so started none: the
  clock runs on as that message's (its delivery, notification and context, `carried_from` the
  withdrawn one), due when it was, overdue if marked so, answered by a reply to it. What the clock
  had superseded is that message's to give back, should it be withdrawn in turn.
- else, if another clock for the event runs in the thread, nothing comes back: the event has its one.
- else the clocks it had superseded run again (a correction withdrawn gives the event back its
  earlier time), due when they were (overdue if that has passed: at once if they were marked so
  before, else at the scheduler's next tick). Only a clock whose own message still stands: the walk
  goes on back past one whose message was withdrawn, or whose case was shredded, to the one before
  it. Nothing comes back when the correction's clock no longer ran: answered (the obligation was
  met), or superseded itself by a later correction (that one's clock runs, and its withdrawal is
  what gives the time back).

A correction sent through the API replaces the message: its replacement is decided first, so if it
gave another time its clock already superseded the corrected message's; either way the clocks the
corrected message had superseded stay superseded, by the replacement now, and its own withdrawal
gives the time back. A replacement in the same thread that gave the same time carries the clock on.

Not covered: a shredding carries no clock on (a standing message of another case in the thread that
named the event starts its clock again only when a later message names it); a carried clock's
overdue entry was logged for the withdrawn message's decision and is not logged again; rows a
gateway of the earlier release writes during a roll-out have no thread, so their clocks are not
found by the thread's query (the thread of a message replying to one is still followed up its
`in_reply_to`); and a reply to a notification whose only rows (resolved held deliveries) retention
deleted takes that notification's id as its thread, apart from the thread above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from broker.db import threads
from broker.db.tables import CaseKey, ObligationClock, OutboxRow

# The stopped clock's context says why, where no answer stopped it: "superseded" (with `superseded_by`,
# the notification that corrected the event's time), "withdrawn" (its notification was recalled) or
# "shredded" (its case was).
STOP_REASON = "stop_reason"
SUPERSEDED_BY = "superseded_by"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"
SHREDDED = "shredded"
# A clock carried on to a message that named its event when its own message was withdrawn: from which.
CARRIED_FROM = "carried_from"

EventKey = tuple[str, str, str, datetime]
Owed = tuple[str, str, str]


def not_started(session: Session, fresh: list[ObligationClock], *, thread: str) -> list[ObligationClock]:
    """`fresh` less the event clocks its thread (`thread_id`) already started or met; stop those a
    corrected event time supersedes (see the module docstring)."""
    evented = [clock for clock in fresh if _from_event(clock)]
    if not evented:
        return fresh
    own = evented[0].notification_id
    # Its own notification's other deliveries go to other agencies: nothing of theirs is owed alike.
    earlier = [c for c in _thread_clocks(session, thread, {c.kind for c in evented}) if c.notification_id != own]
    kept = [clock for clock in fresh if not _from_event(clock) or _starts(clock, earlier)]
    for clock in kept:
        if _from_event(clock):
            _supersede(session, earlier, by=clock)
    return kept


def restarted_by(session: Session, notification_id: str) -> list[ObligationClock]:
    """The running clocks of events `notification_id` named that are not its own: started elsewhere
    in its thread (`not_started` started none for it), or by a correction of a time it gave. They are
    its clocks too, so a reply to it answers them, as a reply to the message that started them does."""
    query = select(OutboxRow.thread_id, OutboxRow.log_context).where(col(OutboxRow.notification_id) == notification_id)
    rows = list(session.exec(query))
    keys = {key for _thread, context in rows for key in _named(context)}
    if not keys:
        return []
    thread = _thread(session, notification_id, rows[0][0], rows[0][1])
    named = [c for c in _thread_clocks(session, thread, {k[0] for k in keys}) if _event_key(c) in keys]
    found = {clock.id: clock for clock in _current(session, named) if clock.notification_id != notification_id}
    return list(found.values())


def _thread(session: Session, notification_id: str, thread: str | None, context: Mapping[str, object]) -> str:
    # A row written without its thread (an earlier gateway, mid roll-out) is followed up its reply chain.
    return thread if thread is not None else threads.thread_of(session, context.get("in_reply_to"), own=notification_id)


def _thread_clocks(
    session: Session, thread: str, kinds: set[str] | None, *, lock: bool = False
) -> list[ObligationClock]:
    """The event clocks, running or stopped, the thread's deliveries started (of these kinds; None:
    any), by one indexed query (`lock`: for update, the clocks only)."""
    query = select(ObligationClock).join(OutboxRow, col(OutboxRow.delivery_id) == col(ObligationClock.delivery_id))
    query = query.where(col(OutboxRow.thread_id) == thread)
    if kinds is not None:
        query = query.where(col(ObligationClock.kind).in_(kinds))
    if lock:
        query = query.with_for_update(of=ObligationClock.__table__)  # type: ignore[attr-defined]
    return [clock for clock in session.exec(query) if _from_event(clock)]


def _named(context: Mapping[str, object]) -> set[EventKey]:
    """The events a delivery's obligations run from, as the keys of the clocks they start."""
    obligations = context.get("obligations")
    if not isinstance(obligations, list):
        return set()
    agencies = str(context["sender_agency"]), str(context["recipient_agency"])
    return {
        (str(o["kind"]), *agencies, _naive_utc(datetime.fromisoformat(str(o["due_at"]))))
        for o in obligations
        if isinstance(o, dict) and o.get("started_at") and o.get("due_at")
    }


def _from_event(clock: ObligationClock) -> bool:
    """Whether the clock runs from a moment its payload names (its obligation's `started_at`)."""
    obligations = clock.log_context.get("obligations")
    return isinstance(obligations, list) and any(
        isinstance(o, dict) and o.get("kind") == clock.kind and o.get("started_at") for o in obligations
    )


def _event_key(clock: ObligationClock) -> EventKey:
    return (*_owed(clock), _naive_utc(clock.due_at))


def _owed(clock: ObligationClock) -> Owed:
    """What is owed, by whom, to whom: the clock's kind, sender and recipient."""
    return clock.kind, clock.sender_agency, clock.recipient_agency


def _naive_utc(moment: datetime) -> datetime:
    # Stored without a zone (UTC), new ones with it: compared as UTC wall times.
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _event_clocks(
    session: Session, notification_ids: list[str], kinds: set[str], *, lock: bool = False
) -> list[ObligationClock]:
    """The event clocks, running or stopped, these notifications started of these kinds (`lock`: for update)."""
    if not notification_ids:
        return []
    query = select(ObligationClock).where(
        col(ObligationClock.notification_id).in_(notification_ids), col(ObligationClock.kind).in_(kinds)
    )
    return [clock for clock in session.exec(query.with_for_update() if lock else query) if _from_event(clock)]


def _stands(clock: ObligationClock) -> bool:
    """Running or answered: its message still stands for the event (not withdrawn, superseded or shredded)."""
    return clock.log_context.get(STOP_REASON) is None


def _starts(clock: ObligationClock, earlier: list[ObligationClock]) -> bool:
    """Whether no clock above, of a message still standing, owes the same: none answered, none running
    due at the same time. An answered one keeps it from starting whatever time this message gives:
    the documentation was sent for the event, and a corrected time makes nothing more owed; a clock
    started again would only fall overdue, answered by nobody."""
    same = [e for e in earlier if _owed(e) == _owed(clock) and _stands(e)]
    return not any(e.stopped_at is not None or _event_key(e) == _event_key(clock) for e in same)


def _supersede(session: Session, earlier: list[ObligationClock], *, by: ObligationClock) -> None:
    for clock in earlier:
        if clock.stopped_at is None and _owed(clock) == _owed(by) and _event_key(clock) != _event_key(by):
            stop(session, clock, datetime.now(UTC), {STOP_REASON: SUPERSEDED, SUPERSEDED_BY: by.notification_id})


def stop(session: Session, clock: ObligationClock, now: datetime, reason: dict[str, str]) -> None:
    """Stop a clock that no answer stopped, saying why in its context (the JSON column is replaced,
    not changed in place, so the change is written)."""
    clock.stopped_at = now.astimezone(UTC)
    clock.log_context = {**clock.log_context, **reason}
    session.add(clock)


def _current(session: Session, clocks: list[ObligationClock]) -> list[ObligationClock]:
    """The running clocks these stand for: each itself while it runs, and a superseded one's
    successor (the clock the correction started), followed through further corrections."""
    running: list[ObligationClock] = []
    pending = list(clocks)
    for _ in range(threads.MAX_HOPS):
        running += [clock for clock in pending if clock.stopped_at is None]
        pending = [s for clock in pending for s in _successors(session, clock)]
        if not pending:
            break
    return running


def _successors(session: Session, clock: ObligationClock) -> list[ObligationClock]:
    by = clock.log_context.get(SUPERSEDED_BY)
    if clock.log_context.get(STOP_REASON) != SUPERSEDED or not isinstance(by, str):
        return []
    return [c for c in _event_clocks(session, [by], {clock.kind}) if _owed(c) == _owed(clock)]


def restore_superseded(
    session: Session, delivery_id: str, withdrawn: list[ObligationClock], *, replaced_by: str | None
) -> None:
    """For the event clocks of a delivery just withdrawn (`withdrawn`: those it stopped): carry each on
    to a standing message of the thread that named the same event at the same time, else run again
    the clocks it had superseded, unless another clock runs for the event in the thread (or, when
    `replaced_by` took the event over, leave them superseded by it); see the module docstring. In the
    withdrawal's commit, under the chain-head lock it holds."""
    evented = [clock for clock in withdrawn if _from_event(clock)]
    if not evented and replaced_by is None:
        return
    thread = _thread_of_delivery(session, delivery_id)
    if thread is None:
        return
    kinds = {clock.kind for clock in evented} if evented else None
    earlier = _thread_clocks(session, thread, kinds, lock=True)
    gone = _not_standing(session, [e for e in earlier if e.log_context.get(STOP_REASON) == SUPERSEDED])
    # A correction through the API superseded this delivery's clocks already, from its own recording
    # (a sibling in the thread): what they had superseded is the replacement's to give back now.
    for clock in [e for e in earlier if e.delivery_id == delivery_id and _superseded_by(e, replaced_by)]:
        for predecessor in _predecessors(clock, earlier, gone):
            _hand_back(session, predecessor, to=replaced_by)
    replacing = _event_clocks(session, [replaced_by], kinds or set()) if replaced_by is not None else []
    for clock in evented:
        if _carry(session, clock, thread, earlier):
            continue
        taken = any(_owed(r) == _owed(clock) for r in replacing)
        if not taken and any(e.stopped_at is None and _owed(e) == _owed(clock) for e in earlier):
            continue  # another message's clock for the event runs in the thread: the event has its one
        for predecessor in _predecessors(clock, earlier, gone):
            _hand_back(session, predecessor, to=replaced_by if taken else None)


def _superseded_by(clock: ObligationClock, by: str | None) -> bool:
    return (
        by is not None
        and clock.log_context.get(STOP_REASON) == SUPERSEDED
        and clock.log_context.get(SUPERSEDED_BY) == by
    )


def _thread_of_delivery(session: Session, delivery_id: str) -> str | None:
    query = select(OutboxRow.notification_id, OutboxRow.thread_id, OutboxRow.log_context)
    row = session.exec(query.where(col(OutboxRow.delivery_id) == delivery_id)).first()
    return _thread(session, row[0], row[1], row[2]) if row is not None else None


def _carry(session: Session, clock: ObligationClock, thread: str, earlier: list[ObligationClock]) -> bool:
    """Carry a withdrawn clock on as the clock of a standing message of the thread that named the same
    event at the same time between the same agencies (and started none, the event's clock running):
    due when it was, overdue if marked so, answered by a reply to that message. Whatever it had
    superseded is that message's to give back now, should it be withdrawn in turn."""
    heir = _standing_naming(session, thread, clock)
    if heir is None:
        return False
    delivery_id, notification_id, context = heir
    for predecessor in _superseded(clock, earlier):
        predecessor.log_context = {**predecessor.log_context, SUPERSEDED_BY: notification_id}
        session.add(predecessor)
    withdrawn_from = clock.notification_id
    clock.delivery_id, clock.notification_id, clock.stopped_at = delivery_id, notification_id, None
    clock.log_context = {**context, CARRIED_FROM: withdrawn_from}
    session.add(clock)
    return True


def _standing_naming(
    session: Session, thread: str, clock: ObligationClock
) -> tuple[str, str, dict[str, object]] | None:
    """(delivery, notification, log context) of the thread's first shared delivery, of another
    message still standing (not withdrawn, its case not shredded), that named `clock`'s event."""
    query = (
        select(OutboxRow.delivery_id, OutboxRow.notification_id, OutboxRow.log_context, CaseKey.shredded_at)
        .join(CaseKey, col(CaseKey.id) == col(OutboxRow.case_key_id), isouter=True)
        .where(
            col(OutboxRow.thread_id) == thread,
            col(OutboxRow.notification_id) != clock.notification_id,
            col(OutboxRow.recipient_agency) == clock.recipient_agency,
        )
        .order_by(col(OutboxRow.id))
    )
    for delivery_id, notification_id, context, shredded in session.exec(query):
        # A notice's row repeats its delivery's context: only the delivery itself names the event.
        standing = not shredded and not context.get("withdrawn") and not context.get("notice_for")
        if standing and _event_key(clock) in _named(context):
            return delivery_id, notification_id, dict(context)
    return None


def _hand_back(session: Session, clock: ObligationClock, *, to: str | None) -> None:
    """Run a superseded clock again as it was: due when it was, and overdue if it was marked so (else
    the scheduler marks it, past due, at its next tick). With `to`, the replacement that names the
    event in the withdrawn message's place: its clock runs, and this one is superseded by it now."""
    if to is not None:
        clock.log_context = {**clock.log_context, SUPERSEDED_BY: to}
    else:
        clock.stopped_at = None
        clock.log_context = {k: v for k, v in clock.log_context.items() if k not in (STOP_REASON, SUPERSEDED_BY)}
    session.add(clock)


def _predecessors(clock: ObligationClock, earlier: list[ObligationClock], gone: set[str]) -> list[ObligationClock]:
    """The nearest clocks of the thread that `clock` superseded whose message still stands, going on back
    past those whose delivery is `gone` (withdrawn, or its case shredded) to what they superseded."""
    found: list[ObligationClock] = []
    pending = _superseded(clock, earlier)
    for _ in range(threads.MAX_HOPS):
        found += [e for e in pending if e.delivery_id not in gone]
        pending = [s for e in pending if e.delivery_id in gone for s in _superseded(e, earlier)]
        if not pending:
            break
    return found


def _superseded(clock: ObligationClock, earlier: list[ObligationClock]) -> list[ObligationClock]:
    """The clocks of `earlier` that `clock`'s message superseded for the same obligation."""
    return [
        e
        for e in earlier
        if e.log_context.get(STOP_REASON) == SUPERSEDED
        and e.log_context.get(SUPERSEDED_BY) == clock.notification_id
        and _owed(e) == _owed(clock)
    ]


def _not_standing(session: Session, clocks: list[ObligationClock]) -> set[str]:
    """The deliveries of these clocks that no longer stand: withdrawn (their outbox row says so, even
    for a withdrawal earlier in this group commit, whose log entries are not yet written), their case
    shredded, or with no outbox row to say they were shared."""
    ids = {clock.delivery_id for clock in clocks}
    if not ids:
        return set()
    query = (
        select(OutboxRow.delivery_id, OutboxRow.log_context, CaseKey.shredded_at)
        .join(CaseKey, col(CaseKey.id) == col(OutboxRow.case_key_id), isouter=True)
        .where(col(OutboxRow.delivery_id).in_(ids))
    )
    standing = {
        delivery for delivery, context, shredded in session.exec(query) if not context.get("withdrawn") and not shredded
    }
    return ids - standing

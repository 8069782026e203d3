"""Clocks run from an event the payload names (a scene visit, an examination): one per event in a thread.

A thread is the chain of messages a reply answers, followed upward through `in_reply_to` as the
broker recorded it with each delivery. Every message in it that names the event (the death notice,
then an ICMD record giving the scene visit's time again) would start the clock owed for it, by the
same agency to the same one; but the event happens once, and its obligation is met once. So a
message's clock for an event (`started_at` on its obligation) is checked against the clocks the
chain above it started of the same kind, between the same two agencies:

- one was answered: nothing starts. The obligation was met; a time given later changes nothing owed.
- one runs due at the same time: nothing starts. The same event named again; it is this message's
  clock too (`restarted_by`), so a reply to either answers it.
- those running due at another time are a corrected event time: they stop as superseded by this
  message (`stop_reason`, `superseded_by` in their context), and its clock starts.
- one whose message was withdrawn, or that a correction superseded, does not count: that message
  no longer stands for the event, so a message naming it again starts its clock.

Another agency naming the same event (police and health each giving the visit's time) owes its own
documentation, so its own clock. A clock records why it stopped only when no answer stopped it: a
clock stopped without a reason was answered (or withdrawn before reasons were kept, which starts
nothing, as then). A shredded case's clocks say "shredded": the case was erased, so its messages no
longer stand, and a later message naming the event starts its clock again, as after a withdrawal.

A correction withdrawn gives the event back its earlier time (`restore_superseded`, in the
withdrawal's commit): the clocks its withdrawal stops had superseded others, and those run again,
due when they were (overdue if that has passed: at once if they were marked so before, else at the
scheduler's next tick). Only a clock whose own message still stands runs again: the walk goes on
back past one whose message was withdrawn, or whose case was shredded, to the one before it (none
left: nothing runs, even if a message that repeated the withdrawn one's time without a clock of its
own stands). Nothing comes back when the correction's clock no longer ran: answered (the obligation
was met), or superseded itself by a later correction (that one's clock runs, and its withdrawal is
what gives the time back). A correction sent through the API replaces the message: if its
replacement started a clock for the event, that clock runs, and the earlier one stays superseded,
by the replacement now. The walk only looks up the thread: a message elsewhere in it (a reply to
the notice beside the withdrawn correction) that started a clock for the event keeps it running
beside the one restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from broker.db.tables import CaseKey, HeldDelivery, ObligationClock, OutboxRow

# The stopped clock's context says why, where no answer stopped it: "superseded" (with `superseded_by`,
# the notification that corrected the event's time), "withdrawn" (its notification was recalled) or
# "shredded" (its case was).
STOP_REASON = "stop_reason"
SUPERSEDED_BY = "superseded_by"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"
SHREDDED = "shredded"
# A thread deeper than this is followed no further: a loop or a runaway chain must not hold the commit.
MAX_HOPS = 32

EventKey = tuple[str, str, str, datetime]
Owed = tuple[str, str, str]


def not_started(session: Session, fresh: list[ObligationClock], context: dict[str, object]) -> list[ObligationClock]:
    """`fresh` less the event clocks the thread above this delivery already started or met; stop
    those a corrected event time supersedes (see the module docstring)."""
    evented = [clock for clock in fresh if _from_event(clock)]
    if not evented:
        return fresh
    above = _chain_above(session, context.get("in_reply_to"), start=evented[0].notification_id)
    earlier = _event_clocks(session, above, {clock.kind for clock in evented})
    kept = [clock for clock in fresh if not _from_event(clock) or _starts(clock, earlier)]
    for clock in kept:
        if _from_event(clock):
            _supersede(session, earlier, by=clock)
    return kept


def restarted_by(session: Session, notification_id: str) -> list[ObligationClock]:
    """The running clocks of events `notification_id` named that are not its own: started above it
    in its thread (`not_started` started none for it), or by a correction of a time it gave. They are
    its clocks too, so a reply to it answers them, as a reply to the message that started them does."""
    contexts = list(
        session.exec(select(OutboxRow.log_context).where(col(OutboxRow.notification_id) == notification_id))
    )
    keys = {key for context in contexts for key in _named(context)}
    if not keys:
        return []
    parent = next((c.get("in_reply_to") for c in contexts), None)
    above = _chain_above(session, parent, start=notification_id)
    named = [
        c for c in _event_clocks(session, [notification_id, *above], {k[0] for k in keys}) if _event_key(c) in keys
    ]
    found = {clock.id: clock for clock in _current(session, named) if clock.notification_id != notification_id}
    return list(found.values())


def _chain_above(session: Session, parent: object, *, start: str) -> list[str]:
    """The notifications above `start` in its thread, nearest first, from its `in_reply_to` (`parent`);
    at most MAX_HOPS, and a loop ends it (a reply may name an id before that message is sent)."""
    chain: list[str] = []
    while isinstance(parent, str) and parent != start and parent not in chain and len(chain) < MAX_HOPS:
        chain.append(parent)
        parent = _parent(session, parent)
    return chain


def _parent(session: Session, notification_id: str) -> str | None:
    # Each delivery of a notification (shared, or still held) keeps its `in_reply_to`: any one says it.
    context = session.exec(
        select(OutboxRow.log_context).where(col(OutboxRow.notification_id) == notification_id).limit(1)
    ).first()
    if context is None:
        query = select(HeldDelivery.log_context).where(col(HeldDelivery.notification_id) == notification_id)
        context = session.exec(query.limit(1)).first()
    parent = context.get("in_reply_to") if context is not None else None
    return parent if isinstance(parent, str) else None


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
    for _ in range(MAX_HOPS):
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


def restore_superseded(session: Session, withdrawn: list[ObligationClock], *, replaced_by: str | None) -> None:
    """Run again the clocks that these, just stopped as their message was withdrawn, had superseded
    (or, when `replaced_by` started a clock for the event, leave them superseded by it); see the
    module docstring. In the withdrawal's commit, under the chain-head lock it holds."""
    evented = [clock for clock in withdrawn if _from_event(clock)]
    if not evented:
        return
    start, kinds = evented[0].notification_id, {clock.kind for clock in evented}
    above = _chain_above(session, _parent(session, start), start=start)
    earlier = _event_clocks(session, above, kinds, lock=True)
    gone = _not_standing(session, [e for e in earlier if e.log_context.get(STOP_REASON) == SUPERSEDED])
    replacing = _event_clocks(session, [replaced_by], kinds) if replaced_by is not None else []
    for clock in evented:
        taken = replaced_by is not None and any(_owed(r) == _owed(clock) for r in replacing)
        for predecessor in _predecessors(clock, earlier, gone):
            _hand_back(session, predecessor, to=replaced_by if taken else None)


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
    """The nearest clocks above that `clock` superseded whose message still stands, going on back
    past those whose delivery is `gone` (withdrawn, or its case shredded) to what they superseded."""
    found: list[ObligationClock] = []
    pending = _superseded(clock, earlier)
    for _ in range(MAX_HOPS):
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

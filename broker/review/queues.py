"""Queues where a named person decides: advice requests, authorisations, urgent shares to review.

A decision is a new log entry linked to the `decided` entry it answers (`follows`), committed in
the same transaction as what it does to the held delivery: `held.release` puts the sealed share
into the outbox, `held.refuse` destroys its key. Only then is the relay woken. So a release is
never published unrecorded, and a refusal is never recorded without the share being destroyed.

Advice requests are shown pseudonymised (GR3: seek advice without disclosing identity): message
type, purpose, data classes, rules and reasons, never a payload value or a subject pseudonym. An
authorisation, answered inside the sender's agency, also names its notification by the id its sender's
answer gives and the role it was sent as (`broker.review.queue_item`): still no payload value, pseudonym or
person. Once answered, a held share's "Recently answered" row says who answered it, or withdrew or shredded
it first (`answered_for`).

Who answers what is the table in `broker.review.access` (`may_decide`): advice by the sender
agency's advisers or a partnership adviser, authorisation by the sender agency's line managers
and named professionals. What no answer can release is `broker.review.release`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

import audit
from broker.db.log import DecisionLog
from broker.db.tables import HeldDelivery, NamedPerson
from broker.delivery import clocks, events, held
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.outbox import Outbox
from broker.errors import Forbidden, HeldDeliveryGone, NotFound, OutOfReach, ReleaseRefused, ReviewInvalid
from broker.review.access import Action, Scope, Viewer, may_decide
from broker.review.queue_item import QueueItem as QueueItem
from broker.review.queue_item import answering, queue_item
from broker.review.release import deciding_count, deciding_findings, outside_procedure, refusal_only
from broker.review.timescales import reviews_due
from broker.review.views import Filters, Page, page

URGENT = "share_urgent_review_after"
MAX_REASON = 500
# How many resolved held rows are read to find a viewer's latest answered ones.
MAX_ANSWERED_SCAN = 500
# The rule each human decision answers: advice GR3, an authorisation to share without consent GR4, an urgent review C7.
_RULE = {"needs_advice": "GR3", "hold_for_authorisation": "GR4", URGENT: "C7"}
# What a review of an urgent share finds, its entry's outcome: sending it at once was right, or it should
# not have gone (its sender withdraws it from that recipient). Before 2026-12-07: `reviewed`, a note alone.
URGENT_FINDINGS = ("upheld", "not_upheld")


def pending_queues(session: Session, viewer: Viewer) -> dict[str, list[QueueItem]]:
    """Held deliveries this viewer may decide, by outcome; every other one stays invisible, and so do
    the viewer's own shares (someone else answers them) and those whose time ran out (the scheduler
    destroys them at its next check)."""
    queues: dict[str, list[QueueItem]] = {"needs_advice": [], "hold_for_authorisation": []}
    now = datetime.now(UTC)
    for row in held.pending(session):
        context = row.log_context
        seq = context.get("decided_seq")
        if not isinstance(seq, int) or not may_decide(viewer, row.outcome, str(context.get("sender_agency"))):
            continue
        decided = session.get(audit.Entry, seq)
        if decided is None or row.outcome not in queues or held.expired(row, now):
            continue
        if sent_it(viewer, decided, senders_named(session, decided)):
            continue
        queues[row.outcome].append(queue_item(decided, row, **answering(session, viewer, decided, row)))
    return queues


# Golden rule 3 asks for advice from someone else, and an authorisation is another person's
# agreement (the Authorisation-Token route refuses the sender's own token the same way). An urgent
# share went without its authorisation; the review afterwards is that authorisation, given late.
_ANSWERED_BY_ANOTHER = {
    "needs_advice": "give the advice",
    "hold_for_authorisation": "authorise it",
    "share_urgent_review_after": "review it",
}


def sent_it(viewer: Viewer, decided: audit.Entry, named: Collection[str] = ()) -> bool:
    """Whether this viewer is the person who sent the held share (so may not answer it): its actor, or
    one of `named`, the people an agency system sent it for (`senders_named`)."""
    if decided.sender_agency != viewer.agency_id:
        return False
    return (decided.actor is not None and decided.actor == viewer.user) or viewer.named_as in named


def senders_named(session: Session, decided: audit.Entry) -> set[str]:
    """The people of the sending agency the notification names as acting (`sender.user_ref`)."""
    named = select(col(NamedPerson.person)).where(
        col(NamedPerson.notification_id) == decided.notification_id,
        col(NamedPerson.agency_id) == decided.sender_agency,
    )
    return set(session.scalars(named))


def urgent_awaiting(session: Session, viewer: Viewer, limit: int = 200) -> list[QueueItem]:
    """Urgent shares (sent at once) that no reviewer has looked at yet, oldest first; not the viewer's
    own: the review afterwards stands in for the authorisation another person would have given."""
    scope = viewer.scope(Action.URGENT_REVIEW)
    if scope is Scope.NONE:
        return []
    statement = audit.select_entries(outcome=URGENT, kind=audit.EventKind.DECIDED)
    if scope is not Scope.PARTNERSHIP:
        statement = statement.where(col(audit.Entry.sender_agency) == viewer.agency_id)
    newest = statement.order_by(None).order_by(col(audit.Entry.seq).desc()).limit(limit)
    decided = [
        e
        for e in session.execute(newest).scalars()
        if may_decide(viewer, URGENT, e.sender_agency) and not _own(session, viewer, e)
    ]
    reviewed = _reviewed({e.delivery_id for e in decided}, session)
    waiting = [e for e in sorted(decided, key=lambda e: e.seq) if e.delivery_id not in reviewed]
    due = reviews_due(session, [e.delivery_id for e in waiting])
    return [replace(queue_item(e, None), review_due=due.get(e.delivery_id)) for e in waiting]


def _own(session: Session, viewer: Viewer, entry: audit.Entry) -> bool:
    # Only a share of the viewer's own agency can be theirs: the people named as sending it are
    # looked up for those alone, not for every share a partnership office holder may review.
    return entry.sender_agency == viewer.agency_id and sent_it(viewer, entry, senders_named(session, entry))


def _reviewed(delivery_ids: set[str], session: Session) -> set[str]:
    if not delivery_ids:
        return set()
    kind, outcome = col(audit.Entry.kind), col(audit.Entry.outcome)
    statement = select(col(audit.Entry.delivery_id)).where(
        col(audit.Entry.delivery_id).in_(delivery_ids),
        or_(
            kind == audit.EventKind.URGENT_REVIEWED,
            # Before 2026-12-03 a review was logged as advice_given with outcome `reviewed`; the log
            # keeps those entries as they were written, and they still end the review.
            and_(kind == audit.EventKind.ADVICE_GIVEN, outcome == "reviewed"),
        ),
    )
    return set(session.execute(statement).scalars())


def check_reason(reason: str, *, missing: str = "a decision needs a reason: say why") -> str:
    """The reason as the log keeps it (whitespace folded); `missing` is what a blank one is told."""
    text = " ".join(reason.split())
    if not text:
        said = f"{missing} (golden rule 7: record the reasons)"
        raise ReviewInvalid(said, {"reason": said[:1].upper() + said[1:] + "."})
    if len(text) > MAX_REASON:
        raise ReviewInvalid("the reason is too long", {"reason": f"Keep it under {MAX_REASON} characters."})
    return text


async def decide(
    decision_log: DecisionLog,
    viewer: Viewer,
    delivery_id: str,
    *,
    release: bool,
    reason: str,
    outbox: Outbox,
    calendar: WorkingCalendar,
) -> audit.Entry:
    """Answer a held delivery: log who decided and why, and release or destroy it, in one commit."""
    row, decided, named = await asyncio.to_thread(_held, decision_log, delivery_id)
    context = row.log_context
    # Scope before anything else: an item that is not yours answers as if it did not exist.
    if not may_decide(viewer, row.outcome, str(context.get("sender_agency"))):
        raise OutOfReach("no such item in your queues", exists=True)
    if sent_it(viewer, decided, named):
        raise Forbidden(f"you sent this share: someone else must {_ANSWERED_BY_ANOTHER[row.outcome]}")
    now = datetime.now(UTC)
    if row.resolution == "expired" or (row.resolved_at is None and held.expired(row, now)):
        raise HeldDeliveryGone(f"held delivery {delivery_id} expired unanswered at {row.expires_at.isoformat()}")
    text = check_reason(reason)
    blocked = refusal_only(decided, deciding_count(context)) if release else None
    if blocked is None and release and row.outcome == "hold_for_authorisation":
        blocked = outside_procedure(decided, viewer.role, deciding_count(context))
    if blocked is not None:
        raise ReleaseRefused(blocked)
    if row.outcome == "needs_advice":
        kind = audit.EventKind.ADVICE_GIVEN
    elif release:
        kind = audit.EventKind.AUTHORISATION_GRANTED
    else:
        kind = audit.EventKind.AUTHORISATION_REFUSED
    draft = events.follow_up(
        context,
        delivery_id=row.delivery_id,
        notification_id=row.notification_id,
        kind=kind,
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
        reasons=(audit.Reason(rule=_answers_rule(decided, row.outcome, context), message=text),),
    ).model_copy(update={"outcome": "released" if release else "withheld"})

    def apply(session: Session, entries: list[audit.Entry]) -> None:
        # Runs inside the batcher's transaction: the entry and the release/refusal commit together.
        if release:
            held.release(session, row.delivery_id, now=now, calendar=calendar)
        else:
            held.refuse(session, row.delivery_id, now=now)

    entry = (await decision_log.append([draft], apply))[0]
    outbox.wake()
    return entry


def _answers_rule(decided: audit.Entry, outcome: str, context: dict[str, Any]) -> str:
    """The rule an answer is logged under: advice is GR3's; an authorisation or its refusal answers the
    finding that held the share (a GR2 hold for the family's position is not GR4's consent)."""
    if outcome != "hold_for_authorisation":
        return _RULE[outcome]
    held_by = deciding_findings(decided, deciding_count(context))
    return (held_by[0].get("rule") if held_by else None) or _RULE[outcome]


def _held(decision_log: DecisionLog, delivery_id: str) -> tuple[HeldDelivery, audit.Entry, set[str]]:
    with Session(decision_log.engine) as session:
        row = session.get(HeldDelivery, delivery_id)
        seq = row.log_context.get("decided_seq") if row is not None else None
        decided = session.get(audit.Entry, seq) if isinstance(seq, int) else None
        named = senders_named(session, decided) if decided is not None else set()
    # Expired rows come back too: whether the sweep or the answer got there first, the late answer
    # hears "expired unanswered"; released, refused and shredded rows are off every queue.
    if row is None or (row.resolved_at is not None and row.resolution != "expired") or decided is None:
        raise OutOfReach("no such item in your queues", exists=False if row is None else None)  # answered: untold
    return row, decided, named


async def review_urgent(
    decision_log: DecisionLog, viewer: Viewer, seq: int, *, reason: str, finding: str
) -> audit.Entry:
    """Record a reviewer's finding on an urgent share after it went (I14): upheld or not, and why."""
    entry, reviewed, named = await asyncio.to_thread(_urgent, decision_log, seq)
    # Scope first: whether another agency's share was reviewed is not this viewer's to learn.
    if not may_decide(viewer, URGENT, entry.sender_agency):
        raise OutOfReach("no such item in your queues", exists=True)
    if sent_it(viewer, entry, named):
        raise Forbidden(f"you sent this share: someone else must {_ANSWERED_BY_ANOTHER[URGENT]}")
    if reviewed:
        raise NotFound("already reviewed")
    text = _checked_review(reason, finding)
    draft = audit.EntryDraft(
        notification_id=entry.notification_id,
        delivery_id=entry.delivery_id,
        kind=audit.EventKind.URGENT_REVIEWED,
        outcome=finding,
        sender_agency=entry.sender_agency,
        sender_role=entry.sender_role,
        recipient_agency=entry.recipient_agency,
        message_type=entry.message_type,
        reasons=(audit.Reason(rule=_RULE[URGENT], message=text),),
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
        follows=(entry.seq,),
    )

    def stop_clock(session: Session, _: list[audit.Entry]) -> None:
        clocks.stop_clocks(session, entry.delivery_id, clocks.URGENT_REVIEW, datetime.now(UTC))

    return (await decision_log.append([draft], stop_clock))[0]


def _checked_review(reason: str, finding: str) -> str:
    """The note as the log keeps it; a refusal names the note and the finding, each one missing."""
    found = {} if finding in URGENT_FINDINGS else {"finding": "Choose whether it was right to share it, at once."}
    try:
        text = check_reason(reason, missing="a review needs a note: say what you checked")
    except ReviewInvalid as refused:
        raise ReviewInvalid(" ".join((refused.errors | found).values()), refused.errors | found) from None
    if found:
        raise ReviewInvalid("a review needs a finding: upheld or not upheld", found)
    return text


def _urgent(decision_log: DecisionLog, seq: int) -> tuple[audit.Entry, bool, set[str]]:
    with Session(decision_log.engine) as session:
        entry = session.get(audit.Entry, seq)
        if entry is None or entry.kind != audit.EventKind.DECIDED or entry.outcome != URGENT:
            raise OutOfReach("no such item in your queues", exists=False)
        reviewed = entry.delivery_id in _reviewed({entry.delivery_id}, session)
        return entry, reviewed, senders_named(session, entry)


def queues_for(decision_log: DecisionLog, viewer: Viewer) -> dict[str, list[QueueItem]]:
    with Session(decision_log.engine) as session:
        queues = pending_queues(session, viewer)
        queues["urgent_review"] = urgent_awaiting(session, viewer)
        return queues


def overdue_for(decision_log: DecisionLog, viewer: Viewer, filters: Filters) -> list[audit.Entry]:
    return overdue_page(decision_log, viewer, filters).items


def overdue_page(decision_log: DecisionLog, viewer: Viewer, filters: Filters) -> Page:
    """Overdue entries with where each held decision among them stands now (an overdue entry carries
    its decision's outcome, so a held one is found by its delivery as the decision list finds it)."""
    with Session(decision_log.engine) as session:
        return page(session, viewer, filters, kind=audit.EventKind.OVERDUE, action=Action.OVERDUE)


# The log's answers to a held share, each naming the person who gave it (`decide`).
_ANSWERS = (
    audit.EventKind.ADVICE_GIVEN,
    audit.EventKind.AUTHORISATION_GRANTED,
    audit.EventKind.AUTHORISATION_REFUSED,
)
# By how a held share stopped waiting, the acts in the log that ended it: the first names the person a
# "Recently answered" row gives, whoever that was (an answer, or the sender's withdrawal or correction,
# or the case's shredding). An expired share had none.
_ENDED_BY: dict[str, tuple[audit.EventKind, ...]] = {
    "released": _ANSWERS,
    "refused": _ANSWERS,
    "withdrawn": (audit.EventKind.WITHDRAWN, audit.EventKind.CORRECTED),
    "shredded": (audit.EventKind.SHREDDED,),
}


@dataclass(frozen=True)
class Answered:
    """A held decision this viewer could have answered, and how it ended: released, refused, expired,
    withdrawn or shredded."""

    item: QueueItem
    state: str
    resolved_at: datetime
    # Who ended the wait, as the log names an actor (actor, actor_role, actor_agency: what the pages' `who`
    # reads), by what act (kind: an answer, a withdrawal, a correction or a shredding) and their reason:
    # a colleague's answer is in the viewer's list too. None where nobody did (it expired).
    answered_by: dict[str, str | None] | None = None


def answered_for(decision_log: DecisionLog, viewer: Viewer, limit: int = 10) -> list[Answered]:
    """The latest held decisions that are no longer waiting, within the viewer's queues, newest first:
    a card leaves the queue when answered, and the reviewer still sees what became of it, and who answered."""
    with Session(decision_log.engine) as session:
        resolved = select(HeldDelivery).where(col(HeldDelivery.resolved_at).is_not(None))
        newest = resolved.order_by(col(HeldDelivery.resolved_at).desc()).limit(MAX_ANSWERED_SCAN)
        found: list[Answered] = []
        for row in session.execute(newest).scalars():
            if len(found) >= limit:
                break
            context, seq = row.log_context, row.log_context.get("decided_seq")
            if not may_decide(viewer, row.outcome, str(context.get("sender_agency"))):
                continue
            decided = session.get(audit.Entry, seq) if isinstance(seq, int) else None
            if decided is not None and row.resolved_at is not None:
                found.append(Answered(queue_item(decided, None), row.resolution or "refused", row.resolved_at))
        by = _answerers(session, found)
        return [replace(a, answered_by=by.get(a.item.delivery_id)) for a in found]


def _answerers(session: Session, found: list[Answered]) -> dict[str, dict[str, str | None]]:
    """Who ended each held share's wait, by delivery id: the person of the first act that follows its
    decision and ended it as it ended (`_ENDED_BY`), so a share released and later withdrawn names who
    released it."""
    ended = {a.item.delivery_id: a for a in found}
    kinds = {kind for a in found for kind in _ENDED_BY.get(a.state, ())}
    if not kinds:
        return {}
    acts = (
        select(audit.Entry)
        .where(col(audit.Entry.delivery_id).in_(set(ended)), col(audit.Entry.kind).in_(kinds))
        .order_by(col(audit.Entry.seq))
    )
    by: dict[str, dict[str, str | None]] = {}
    for e in session.execute(acts).scalars():
        a = ended[e.delivery_id]
        if e.delivery_id in by or a.item.decided_seq not in e.follows or e.kind not in _ENDED_BY.get(a.state, ()):
            continue
        by[e.delivery_id] = {
            "actor": e.actor,
            "actor_role": e.actor_role,
            "actor_agency": e.actor_agency,
            "kind": str(e.kind),
            # The sending side's own record: this queue is read only there (`may_decide`).
            "reason": next((str(r.get("message")) for r in e.reasons if r.get("message")), None),
        }
    return by


def reviewed_for(decision_log: DecisionLog, viewer: Viewer, limit: int = 10) -> list[audit.Entry]:
    """The latest reviews of urgent shares within the viewer's review queue, newest first: a share
    leaves the queue once reviewed, and the reviewer still sees that it was, by whom and why."""
    with Session(decision_log.engine) as session:
        newest = (
            select(audit.Entry)
            .where(col(audit.Entry.kind) == audit.EventKind.URGENT_REVIEWED)
            .order_by(col(audit.Entry.seq).desc())
            .limit(MAX_ANSWERED_SCAN)
        )
        found = [e for e in session.execute(newest).scalars() if may_decide(viewer, URGENT, e.sender_agency)]
        return found[:limit]

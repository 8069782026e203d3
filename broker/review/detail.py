"""One decision as a person reads it: its findings with their sources, what followed on its delivery, its
clocks, its integrity, and the same notification's other decisions and its replies' that they may read.

The other decisions, and the replies', are list rows, read through the same scope as the Decisions list,
so a reader learns of another recipient only where the list would have shown them that decision; each
shown is recorded as viewed, as a list's rows are.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, String, cast, select
from sqlmodel import Session, col

import audit
from broker.db import threads
from broker.db.log import DecisionLog
from broker.db.tables import HeldDelivery, OutboxRow
from broker.partnership.registry import Registry
from broker.review import addressed
from broker.review.access import Action, Relation, Viewer
from broker.review.recall_state import Later, withdrawn_line
from broker.review.release import deciding_positions, waiting
from broker.review.scope import first_decision
from broker.review.timescales import deadlines_of, met_by_reply, overdue_among, read_as_sender, senders_own_events
from broker.review.views import (
    REVIEWS,
    Filters,
    Page,
    event,
    integrity,
    linked,
    record_views,
    scoped,
    states_now,
    summary,
    title_words,
    visible_decision,
)
from broker.review.withdrawal import replaced_by, replacement_named, unnamed
from schemas.vocab import HELD_OUTCOMES, Outcome


async def read_detail(
    decision_log: DecisionLog, rules: Any, viewer: Viewer, seq: int, *, registry: Registry
) -> dict[str, Any]:
    """One decision with its reasons (rule and source), linked events and integrity badge."""
    read = await asyncio.to_thread(_one, decision_log, viewer, seq)
    entry, events, others = read.entry, read.events, read.others
    await record_views(decision_log, viewer, [*others.items, *read.replies.items], opened=entry)
    badge = await asyncio.to_thread(integrity, decision_log, entry, registry, viewer)
    happened = [
        as_read(e, read.correction, viewer, entry.sender_agency)
        for e in events
        if e.kind != "viewed" or sees_reader(viewer, e)
    ]
    decided_by = {
        "policy_revision": entry.policy_revision,
        "decision_id": entry.decision_id,
        "engine": "OPA policy bundle",
    }
    return {
        **summary(entry, rules, read.state, overdue=any(d["state"] == "overdue" for d in read.deadlines)),
        "reasons": deciding_first(entry, await rules.explain(entry.reasons, message_type=entry.message_type)),
        "fields_released": entry.fields_released,
        "projection_digest": entry.projection_digest,
        "subjects_pseudonymised": len(entry.subjects),
        "decided_by": decided_by,
        "reviewed_by": [shown for shown in happened if shown["kind"] in REVIEWS],
        "events": happened,
        "integrity": badge,
        "deadlines": read.deadlines,
        # A reply's: what it met of the notification it answers, for the agency this decision shared it with.
        "deadlines_met": read.met,
        "waiting": read.waiting,
        "same_notification": [_row(e, rules, others) for e in others.items],
        "corrects": read.corrects,
        "correction": read.correction,
        # The notification it replies to, where the reader may read it: a meeting's record leads to the referral.
        "replies_to": read.replies_to,
        # And back: the referral leads to the meeting's record, so its sender sees the answer at a glance.
        "replies": [_row(e, rules, read.replies) for e in read.replies.items],
    }


def deciding_first(entry: audit.Entry, explained: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reasons marked `deciding` and put first, so a reviewer reads why before everything else noted, then
    those marked `blocking`: they would on their own have held or stopped it, so are not read as met.

    `explained` is the entry's reasons, in order; the deciding ones are those the entry names by position
    (for older entries, see `deciding_positions`), so a rule's other findings are not marked with them;
    entries logged before format 4 name no blocking finding."""
    deciding = set(deciding_positions(entry))
    blocking = set(entry.blocking_reasons) - deciding
    marked = [
        {**r, "title": title_words(r["rule"], r["title"]), "deciding": i in deciding, "blocking": i in blocking}
        for i, r in enumerate(explained)
    ]
    return sorted(marked, key=lambda r: (not r["deciding"], not r["blocking"]))  # stable: the log's order kept


def _row(entry: audit.Entry, rules: Any, page: Page) -> dict[str, Any]:
    return summary(entry, rules, page.states.get(entry.delivery_id), overdue=entry.delivery_id in page.overdue)


async def read_page(
    decision_log: DecisionLog, rules: Any, viewer: Viewer, seq: int, *, registry: Registry
) -> dict[str, Any]:
    """`read_detail` and, for the decision's page, what the notification asked for its recipient: the team
    it went to and each consent record as it bears on that recipient (`addressed`, None where no policy
    input was kept). The API's answer is a closed model (`schemas.api.DecisionDetail`): the page alone has it."""
    detail = await read_detail(decision_log, rules, viewer, seq, registry=registry)
    asked = await addressed.read(decision_log, detail["notification_id"], registry)
    # Only this decision's recipient: the others' are the notification's other recipients, not the reader's.
    fate = fields_fate(detail["outcome"], detail["events"], detail["state"])
    standing = detail["state"] in _STANDING and detail["outcome"] != Outcome.NO_SHARE
    asap = await asyncio.to_thread(asap_duties, decision_log.engine, detail["delivery_id"]) if standing else []
    page = {"addressed": asked.get(seq), "state_line": state_line(detail), "fields_fate": fate, "asap": asap}
    parent = await asyncio.to_thread(_answered, decision_log.engine, viewer, detail)
    return {**detail, **page, "may_resend": may_resend(viewer, detail), "replies_to_decision": parent}


def _answered(engine: Engine, viewer: Viewer, detail: dict[str, Any]) -> dict[str, Any] | None:
    """The decision of the notification a reply answers that its reader may read, the replying agency's
    first (it received what it answers): a page names it by number and kind, not by notification id."""
    if detail["replies_to"] is None:
        return None
    seq = first_decision(engine, viewer, detail["replies_to"], detail["sender_agency"])
    if seq is None:
        return None
    with Session(engine) as session:
        kind = session.execute(select(col(audit.Entry.message_type)).where(col(audit.Entry.seq) == seq)).scalar_one()
    return {"seq": seq, "message_type": kind}


def may_resend(viewer: Viewer, detail: dict[str, Any]) -> bool:
    """Whether the page offers its sender to send the notification again rather than correct it: it reached
    nobody (each of its decisions not shared, or held and then refused or destroyed unanswered), so the
    correction's form sends what was missing. Whether it may be corrected at all is the route's to say."""
    if not (viewer.may(Action.SEND) and viewer.agency_id == detail["sender_agency"]):
        return False
    rows = [detail, *detail["same_notification"]]
    return all(r["outcome"] == Outcome.NO_SHARE or r["state"] in ("refused", "expired") for r in rows)


# Where a share stands and its recipient still owes what it was sent for: not held, withdrawn or ended.
_STANDING = (None, "released", "review_due", "reviewed")


def asap_duties(engine: Engine, delivery_id: str) -> list[dict[str, Any]]:
    """The duties the policy set a delivery without a due time ("as soon as possible": convene a strategy
    discussion, act on an adult's risk to children). They start no clock, so only its row's context keeps
    them, and the recipient's page would otherwise never say what it was sent to do."""
    query = select(col(OutboxRow.log_context)).where(col(OutboxRow.delivery_id) == delivery_id)
    with Session(engine) as session:
        context: dict[str, Any] = session.execute(query).scalar_one_or_none() or {}
    duties = context.get("obligations") or []
    return [o for o in duties if isinstance(o, dict) and o.get("due_at") is None and o.get("description")]


def state_line(detail: dict[str, Any]) -> str | None:
    """Where the decision stands, as its page says it: a withdrawal of a decision whose recipient never
    received it (not shared, or withdrawn while held) tells no agency to delete anything, so its page
    must not say it does, and one its recipient withdrew from its own inbox says so. The API keeps `withdrawn`
    (`schemas.api`: its states are a published contract)."""
    state: str | None = detail["state"]
    if state == "reviewed":  # the review's finding, where it recorded one (before 2026-12-07, a note alone)
        found = [e["outcome"] for e in detail["events"] if e["kind"] == "urgent_reviewed"]
        return f"reviewed_{found[-1]}" if found and found[-1] in ("upheld", "not_upheld") else state
    if state != "withdrawn":
        return state
    later = (Later(e["kind"], e["outcome"], e.get("actor_agency")) for e in detail["events"])
    return withdrawn_line(outcome=detail["outcome"], recipient_agency=detail["recipient_agency"], later=later)


# Who acted, to a reader who may not know: the agency is withheld, not the act.
ANOTHER_AGENCY = "another agency"
# What a recipient reads for an adviser's or authoriser's reason, the sending side's own words.
SENDERS_REASON = "The reason given is the sending agency's record."


def fields_fate(outcome: str, later: list[dict[str, Any]], state: str | None) -> str:
    """What became of the fields a decision names: `released` (shared, or a held share released, even if
    withdrawn since), `held` (still waiting for its answer) or `withheld` (a held share refused, expired, or
    withdrawn before it was released: they never left). Its state alone cannot say: a share released and
    then withdrawn reads `withdrawn`, as one withdrawn while held does."""
    if outcome not in HELD_OUTCOMES:
        return "released"
    if any(e["kind"] in REVIEWS and e["outcome"] == "released" for e in later):
        return "released"
    return "held" if state == "held" else "withheld"


def as_read(entry: audit.Entry, correction: str | None, viewer: Viewer, sender: str) -> dict[str, Any]:
    """An event as its reader may read it: a `corrected` entry names its replacement only to a reader
    who may read the replacement (`correction`, from `_readable`); an act by a person of an agency that
    is neither the reader's nor the sender's (a front door withdrawing a referral sent in error) does
    not name them or their agency, which would tell one recipient who else was sent it. `sender`: the
    decision's sending agency (an event's own is its actor's). An adviser's or authoriser's reason is read
    on the sending side only. A partnership office reads every act."""
    shown = event(entry)
    if entry.kind == audit.EventKind.CORRECTED and correction is None:
        shown["reasons"] = unnamed(entry.reasons)
    if entry.kind in REVIEWS and not viewer.reads_as_sender(sender):
        # The answer is the sending side's deliberation in its own words, which may say what this
        # recipient's minimised share withheld (C3): that it was answered, when and by whom stays.
        shown["reasons"] = [{**r, "message": SENDERS_REASON} for r in entry.reasons]
    # The sender chose every recipient, so may know which of them acted; another recipient may not. The
    # sender's own people are named to a recipient: "another agency" would say a third one acted.
    elsewhere = entry.actor_agency not in (None, viewer.agency_id, sender)
    if elsewhere and viewer.agency_id != sender and viewer.office is None:
        shown |= {"actor": ANOTHER_AGENCY, "actor_role": None, "actor_agency": None}
    return shown


def sees_reader(viewer: Viewer, viewed: audit.Entry) -> bool:
    """Whether the viewer may know who read a decision: as far as their access log reaches, over the
    reader's agency. An agency's IG lead sees their own staff's reads, not another agency's, nor that a
    partnership office holder's case review is looking at this child."""
    relation = Relation.AGENCY if viewed.actor_agency == viewer.agency_id else Relation.OTHER
    return viewer.covers(Action.ACCESS_LOG, relation)


def same_notification(session: Session, viewer: Viewer, entry: audit.Entry) -> Page:
    """The notification's other decisions the viewer may read, in the order they were decided."""
    return _rows(session, viewer, [entry.notification_id], but=entry.seq)


def replies(session: Session, viewer: Viewer, entry: audit.Entry) -> Page:
    """The decisions of the notifications that reply to this one that the viewer may read, as list rows."""
    return _rows(session, viewer, threads.replies(session, entry.notification_id))


def _rows(session: Session, viewer: Viewer, notifications: list[str], *, but: int | None = None) -> Page:
    if not notifications:
        return Page(0)
    statement = scoped(viewer, Filters()).where(col(audit.Entry.notification_id).in_(notifications))
    if but is not None:
        statement = statement.where(col(audit.Entry.seq) != but)
    items = list(session.execute(statement.order_by(None).order_by(col(audit.Entry.seq))).scalars())
    senders = read_as_sender(viewer, items)
    late = overdue_among(session, [e.delivery_id for e in items], datetime.now(UTC), senders=senders)
    return Page(len(items), items, states_now(session, items, viewer), late)


def corrected_by(session: Session, notification_id: str) -> str | None:
    """The notification this one replaced, if it is a correction: the first's `corrected` entries
    name their replacement (`withdrawal._draft`), so an auditor reading the correction is led back."""
    named = cast(col(audit.Entry.reasons), String).like(f"%{replaced_by(notification_id)}%")
    statement = select(col(audit.Entry.notification_id)).where(
        col(audit.Entry.kind) == audit.EventKind.CORRECTED, named
    )
    return session.execute(statement.limit(1)).scalar_one_or_none()


@dataclass(frozen=True)
class _Read:
    """What one decision's detail reads in one session, besides its integrity."""

    entry: audit.Entry
    events: list[audit.Entry]
    state: str | None
    waiting: dict[str, str | None] | None
    deadlines: list[dict[str, str | None]]
    met: list[dict[str, str | None]]
    others: Page
    replies: Page
    corrects: str | None
    correction: str | None
    replies_to: str | None


def _one(decision_log: DecisionLog, viewer: Viewer, seq: int) -> _Read:
    with Session(decision_log.engine) as session:
        entry = visible_decision(session, viewer, seq)
        state = states_now(session, [entry], viewer).get(entry.delivery_id)
        # A share held now says whose answer ends the wait and when it is destroyed unanswered.
        row = session.get(HeldDelivery, entry.delivery_id) if state == "held" else None
        # The sender's own clocks (an urgent share's review afterwards) are not the recipient's to read.
        sender_side = viewer.reads_as_sender(entry.sender_agency)
        due = deadlines_of(session, [entry.delivery_id], datetime.now(UTC), sender_side=sender_side)[entry.delivery_id]
        held = None if row is None else waiting(entry, row)
        met = met_by_reply(session, entry.notification_id, waiting=entry.recipient_agency)
        others = same_notification(session, viewer, entry)
        answers = replies(session, viewer, entry)
        events = linked(session, entry)
        if not sender_side:  # the sender's review and its clock are not the recipient's (as `due`)
            own = senders_own_events(session, entry.delivery_id, events)
            events = [e for e in events if e not in own]
        corrects = corrected_by(session, entry.notification_id)
        parent = threads.replies_to(session, entry.notification_id)
    named = (replacement_named(r["message"]) for e in events if e.kind == audit.EventKind.CORRECTED for r in e.reasons)
    correction = next((n for n in named if n), None)
    readable = [_readable(decision_log, viewer, other) for other in (corrects, correction, parent)]
    return _Read(entry, events, state, held, due, met, others, answers, *readable)


def _readable(decision_log: DecisionLog, viewer: Viewer, notification_id: str | None) -> str | None:
    """The notification, if the viewer may read one of its decisions: a recipient a correction dropped,
    or one it added, did not receive the other notification, and a link would answer 404."""
    if notification_id is None or first_decision(decision_log.engine, viewer, notification_id) is None:
        return None
    return notification_id

"""Reading the decision log as a person: which decisions they may see, and a record that they did.

How far each role reaches is the table in `broker.review.access` (own: what they sent; agency:
what their agency sent or received; partnership: everything); here it becomes a query. A decision
outside the caller's scope is answered exactly like one that does not exist (404), so ids cannot be
probed. Every read appends `viewed` entries before the answer is given: if the log cannot record
the read, the read does not happen.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

import audit
from broker.db.log import DecisionLog
from broker.db.witnessing import witnessing
from broker.errors import LogUnavailable, OutOfReach
from broker.partnership.registry import Registry
from broker.review import recall_state
from broker.review.access import Action, Relation, Viewer
from broker.review.scope import scope_clause, sees
from broker.review.timescales import others_own_overdue, overdue_among, overdue_now, read_as_sender
from schemas.notifications import newest_model

MAX_PAGE = 200


@dataclass(frozen=True)
class Filters:
    agency: str | None = None
    outcome: str | None = None
    message_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    rule_id: str | None = None
    consent_state: str | None = None
    limit: int = 50
    offset: int = 0
    overdue: bool = False  # only those with a deadline overdue now
    sender: str | None = None  # only what this agency sent (`agency` takes sent or received)
    recipient: str | None = None  # only what was decided for this agency
    ended: str | None = None  # only those since withdrawn, corrected or shredded (`ENDINGS`)


@dataclass
class Page:
    total: int
    items: list[audit.Entry] = field(default_factory=list)
    # Delivery id -> where a decision stands now (held one's answer, a recall); absent for a standing share.
    states: dict[str, str] = field(default_factory=dict)
    overdue: set[str] = field(default_factory=set)  # those with a deadline overdue now (`overdue_among`)
    # Delivery id -> a withdrawn one's state as a page says it (`recall_state`); the API keeps `withdrawn`.
    lines: dict[str, str] = field(default_factory=dict)

    def shown(self, delivery_id: str) -> str | None:
        """Where a decision stands, as a page's list says it."""
        return self.lines.get(delivery_id) or self.states.get(delivery_id)


_HELD = ("needs_advice", "hold_for_authorisation")
_URGENT = "share_urgent_review_after"
# A held share's answers, and its end unanswered: the audit page counts how each held share ended by them.
ANSWERS = (
    audit.EventKind.ADVICE_GIVEN,
    audit.EventKind.AUTHORISATION_GRANTED,
    audit.EventKind.AUTHORISATION_REFUSED,
    audit.EventKind.EXPIRED,
)
# A person's answer to a decision: what `reviewed_by` lists. Named, not "everything but ...", so a
# new kind of event (a deadline, a notice, a purge) is never shown as someone's review.
REVIEWS = (
    audit.EventKind.ADVICE_GIVEN,
    audit.EventKind.AUTHORISATION_GRANTED,
    audit.EventKind.AUTHORISATION_REFUSED,
    audit.EventKind.URGENT_REVIEWED,
)
# An urgent share's review afterwards, as its state: the sender's own duty (C7, I14).
_SENDERS_STATES = frozenset({"review_due", "reviewed"})
# What ends any decision, held or sent: the sender withdrew or corrected it, or its case was shredded.
_RECALLS = (audit.EventKind.WITHDRAWN, audit.EventKind.CORRECTED, audit.EventKind.SHREDDED)
# How a decision can end after it was made: the `ended` filter's values.
ENDINGS = tuple(str(kind) for kind in _RECALLS)


def states_now(session: Session, entries: list[audit.Entry], viewer: Viewer | None = None) -> dict[str, str]:
    """Where each decision stands now, from the entries linked to its delivery: a held one's answer
    (none yet: held), an urgent share's review after (none yet: review due), and for any decision a
    withdrawal, correction or shredding, which ends it. Read by `viewer`, an urgent share's review is
    said only to its sending side: the review is the sender's duty, and the recipient's page gives it no
    clock (`timescales.SENDERS_OWN`), so its list and page say only that it was shared."""
    states = _states(session, entries)
    if viewer is not None:
        theirs = {e.delivery_id for e in entries if not viewer.reads_as_sender(e.sender_agency)}
        states = {d: s for d, s in states.items() if d not in theirs or s not in _SENDERS_STATES}
    return states


def _states(session: Session, entries: list[audit.Entry]) -> dict[str, str]:
    states = {e.delivery_id: "held" for e in entries if e.outcome in _HELD}
    states |= {e.delivery_id: "review_due" for e in entries if e.outcome == _URGENT}
    linked = select(audit.Entry).where(
        col(audit.Entry.delivery_id).in_([e.delivery_id for e in entries]),
        col(audit.Entry.kind).in_(ANSWERS + _RECALLS + (audit.EventKind.URGENT_REVIEWED,)),
    )
    for later in session.execute(linked.order_by(col(audit.Entry.seq))).scalars():
        if later.kind in _RECALLS or later.delivery_id in states:
            states[later.delivery_id] = _state(later)
    return states


def _state(later: audit.Entry) -> str:
    # A recall ends the decision whatever was answered before: the latest entry wins.
    if later.kind in _RECALLS or later.kind == audit.EventKind.EXPIRED:
        return str(later.kind)
    # An urgent share's review, upheld or not (before 2026-12-03, an advice_given entry `reviewed`).
    if later.kind == audit.EventKind.URGENT_REVIEWED or later.outcome == "reviewed":
        return "reviewed"
    return "released" if later.outcome == "released" else "refused"


def scoped(
    viewer: Viewer, filters: Filters, kind: audit.EventKind = audit.EventKind.DECIDED, action: Action = Action.DECISIONS
) -> Select[Any]:
    """Entries of `kind` matching `filters`, limited to what `viewer` may see for `action`."""
    statement: Select[Any] = audit.select_entries(
        agency=filters.agency,
        outcome=filters.outcome,
        message_type=filters.message_type,
        kind=kind,
        since=filters.since,
        until=filters.until,
        # A reviewer filtering by rule asks "what did this rule decide", not "where is it mentioned".
        deciding_rule=filters.rule_id,
    )
    if filters.consent_state is not None:
        statement = statement.where(col(audit.Entry.consent_state) == filters.consent_state)
    if filters.sender is not None:
        statement = statement.where(col(audit.Entry.sender_agency) == filters.sender)
    if filters.recipient is not None:
        statement = statement.where(col(audit.Entry.recipient_agency) == filters.recipient)
    if filters.overdue:
        reader = None if viewer.office is not None else viewer.agency_id
        statement = statement.where(overdue_now(datetime.now(UTC), reader_agency=reader))
    if filters.ended is not None:
        statement = statement.where(ended_as(filters.ended))
    if kind == audit.EventKind.OVERDUE and viewer.office is None:
        statement = statement.where(~others_own_overdue(viewer.agency_id))
    clause = scope_clause(viewer, action)
    return statement if clause is None else statement.where(clause)


def ended_as(kind: str) -> Any:
    """The decision's delivery has a later entry of this kind: an IG lead checking that an erasure or a
    withdrawal happened finds it without the person's NHS number in hand."""
    later = aliased(audit.Entry)
    return (
        select(col(later.seq))
        .where(col(later.delivery_id) == col(audit.Entry.delivery_id), col(later.kind) == kind)
        .exists()
    )


def page(
    session: Session,
    viewer: Viewer,
    filters: Filters,
    kind: audit.EventKind = audit.EventKind.DECIDED,
    action: Action = Action.DECISIONS,
) -> Page:
    statement = scoped(viewer, filters, kind, action)
    total = session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    # Newest first: a reviewer starts from what just happened.
    ordered = statement.order_by(None).order_by(col(audit.Entry.seq).desc())
    limit = max(1, min(filters.limit, MAX_PAGE))
    items = list(session.execute(ordered.offset(max(filters.offset, 0)).limit(limit)).scalars())
    senders = read_as_sender(viewer, items)
    late = overdue_among(session, [e.delivery_id for e in items], datetime.now(UTC), senders=senders)
    states = states_now(session, items, viewer)
    return Page(int(total), items, states, late, recall_state.withdrawn_lines(session, items, states))


# True whether the decision is absent or beyond the reader: "no such decision" was untrue of one that exists.
NO_DECISION = "no decision by that number that you may read"


def visible_decision(session: Session, viewer: Viewer, seq: int) -> audit.Entry:
    entry = session.get(audit.Entry, seq)
    real = entry is not None and entry.kind == audit.EventKind.DECIDED
    if entry is None or not real or not sees(session, viewer, Action.DECISIONS, entry):
        raise OutOfReach(NO_DECISION, exists=real)  # the same words whether it is absent or not yours
    return entry


def linked(session: Session, entry: audit.Entry) -> list[audit.Entry]:
    """Every later event on the same delivery (advice, authorisation, published, delivered, ...)."""
    statement = (
        select(audit.Entry)
        .where(col(audit.Entry.delivery_id) == entry.delivery_id, col(audit.Entry.seq) != entry.seq)
        .order_by(col(audit.Entry.seq))
    )
    return list(session.execute(statement).scalars())


# How a decision was read, in its `viewed` entry: "who saw the fields released?" is answered by the
# opened ones; a list row shows a decision's summary only.
VIEW_RULE = "SYS-VIEW"
OPENED = "Opened: the decision's page or detail, its reasons, fields and history, was shown."
LISTED = "Listed: its summary was shown in a list."
IN_CASE_REVIEW = "Listed in a case review: its summary, fields released and what followed were shown."
TO_CORRECT = "Opened to correct it: its kind, the sender's role, its recipients and their teams were shown."


def view_draft(entry: audit.Entry, viewer: Viewer, how: str = LISTED) -> audit.EntryDraft:
    """The `viewed` entry for one read: the fields `audit.record_view` writes, for the batcher, and
    how it was read (`how`: OPENED, LISTED or IN_CASE_REVIEW)."""
    return audit.EntryDraft(
        notification_id=entry.notification_id,
        delivery_id=entry.delivery_id,
        kind=audit.EventKind.VIEWED,
        outcome="viewed",
        sender_agency=entry.sender_agency,
        sender_role=entry.sender_role,
        recipient_agency=entry.recipient_agency,
        message_type=entry.message_type,
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
        follows=(entry.seq,),
        reasons=(audit.Reason(rule=VIEW_RULE, message=how),),
    )


async def record_views(
    decision_log: DecisionLog,
    viewer: Viewer,
    entries: list[audit.Entry],
    *,
    how: str = LISTED,
    opened: audit.Entry | None = None,
) -> None:
    """Log each read: `opened` the one decision shown whole, `entries` those shown `how` (in a list)."""
    shown = [view_draft(opened, viewer, OPENED)] if opened is not None else []
    if not shown and not entries:
        return
    try:
        await decision_log.append(shown + [view_draft(e, viewer, how) for e in entries])
    except (audit.AuditError, OSError) as exc:
        raise LogUnavailable("the read could not be recorded, so it was not shown") from exc


def integrity(
    decision_log: DecisionLog, entry: audit.Entry, registry: Registry, viewer: Viewer | None = None
) -> dict[str, Any]:
    """Prove the entry is in the latest signed checkpoint and check that proof with the broker key; count
    the agencies whose witness has cosigned a checkpoint that covers it, naming as many as `viewer` may
    know of (`witnessed`)."""
    # Only checkpoints a broker key signed: a row an insider inserted would fail every decision's badge.
    keys = decision_log.verify_keys
    with Session(decision_log.engine) as session:
        latest = audit.latest_checkpoint(session, keys)
    if latest is None or latest.size <= entry.seq:
        decision_log.refresh_checkpoint()  # cheap, and saves the reviewer waiting for the next round
        with Session(decision_log.engine) as session:
            latest = audit.latest_checkpoint(session, keys)
    if latest is None:  # not to `inclusion_proof`, which would take the newest stored row unchecked
        return {"status": "pending", "detail": "not yet covered by a signed checkpoint"}
    try:
        with Session(decision_log.engine) as session:
            proof = audit.inclusion_proof(session, entry.seq, latest)
        checkpoint = audit.verify_inclusion_proof(proof, entry.document(), keys)
    except audit.EntryNotFound:
        return {"status": "pending", "detail": "not yet covered by a signed checkpoint"}
    except audit.AuditError as exc:
        return {"status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
    return {
        "status": "verified",
        "checkpoint_size": checkpoint.size,
        "checkpoint_time": checkpoint.time,
        "origin": checkpoint.origin,
        "leaf_hash": entry.leaf_hash,
        "detail": f"included in the checkpoint of {checkpoint.size} entries signed by the broker key",
        **witnessed(decision_log, registry, entry, viewer),
    }


def witnessed(
    decision_log: DecisionLog, registry: Registry, entry: audit.Entry, viewer: Viewer | None
) -> dict[str, Any]:
    """How many agencies' witnesses cosigned a checkpoint covering `entry`, and which of them `viewer` may
    know of: all for those who audit the partnership, else their own agency only (None: none named).
    Whose witness cosigned when says when that agency received a record, which is another agency's
    business."""
    # A witness's newest cosigned tree extends every earlier one it kept, so it covers the entry if it
    # is larger than the entry's position.
    ids = [r.agency_id for r in witnessing(decision_log, registry).rows if (r.size or 0) > entry.seq]
    if viewer is None:
        named = []
    elif viewer.covers(Action.AUDIT, Relation.OTHER):
        named = ids
    else:
        named = [a for a in ids if a == viewer.agency_id]
    return {"witnessed_by": named, "witnesses": len(ids)}


def field_classes(message_type: str, fields: list[str]) -> dict[str, str]:
    """Each released field's data class, from the payload model's declared classes (field names only:
    the log never holds a value)."""
    newest = newest_model(message_type)
    if newest is None:
        return {}
    classes = getattr(newest[1].model_fields["payload"].annotation, "data_classes", {})
    return {f: classes[f].value for f in fields if f in classes}


def deciding_rule(entry: audit.Entry) -> str | None:
    """The one rule a reviewer reads first: the first deciding rule, or, for entries written before the
    log kept deciding rules, the first reason's rule (the policy already put the decisive reason first)."""
    if entry.deciding_rules:
        return entry.deciding_rules[0]
    return entry.reasons[0]["rule"] if entry.reasons else None


def title_words(rule: str, title: str) -> str:
    """The title's words beside its id: "" for a rule whose title is only its id ("I14 I14" stutters)."""
    # Policy titles often repeat the id ("C4 strict need to know"); beside the id that reads as a stutter.
    words = title.removeprefix(rule).strip(" :-")
    return words[:1].upper() + words[1:]


def _headline(entry: audit.Entry, rule: str) -> str:
    # A rule with no title of its own is named by its finding's first clause ("Immediate risk of
    # significant harm"), which the list has and the rule catalogue does not.
    message = next((r["message"] for r in entry.reasons if r["rule"] == rule), "")
    return re.split(r"[:.;]", message, maxsplit=1)[0].strip()


def summary(entry: audit.Entry, rules: Any = None, state: str | None = None, *, overdue: bool) -> dict[str, Any]:
    """A list row: what was decided, between whom, on which rules; never a payload value.

    `rules` (the rule catalogue) puts the deciding rule's title beside its id; without it the id stands alone.
    `state` is where it stands now (`states_now`). `overdue`, whether a deadline it started is overdue now, has
    no default, so no list can leave it out and have its reader take the absence for "on time".
    """
    rule = deciding_rule(entry)
    title = title_words(rule, rules.describe(rule).title) if rules is not None and rule is not None else ""
    title = title or (_headline(entry, rule) if rule is not None else "")
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at,
        "notification_id": entry.notification_id,
        "delivery_id": entry.delivery_id,
        "outcome": entry.outcome,
        "message_type": entry.message_type,
        "sender_agency": entry.sender_agency,
        "sender_role": entry.sender_role,
        "recipient_agency": entry.recipient_agency,
        "lawful_basis": entry.lawful_basis,
        "consent_state": entry.consent_state,
        "rules": sorted({r["rule"] for r in entry.reasons}),
        "deciding_rule": None if rule is None else {"rule": rule, "title": title},
        "deciding_rules": list(entry.deciding_rules) or ([rule] if rule is not None else []),
        "blocking_rules": list(
            dict.fromkeys(entry.reasons[i]["rule"] for i in entry.blocking_reasons if i < len(entry.reasons))
        ),
        "state": state,
        "overdue": overdue,
    }


def event(entry: audit.Entry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "outcome": entry.outcome,
        "recorded_at": entry.recorded_at,
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "actor_agency": entry.actor_agency,
        "reasons": entry.reasons,
        "follows": entry.follows,
    }


async def read_page(decision_log: DecisionLog, viewer: Viewer, filters: Filters) -> Page:
    found = await asyncio.to_thread(_page, decision_log, viewer, filters)
    await record_views(decision_log, viewer, found.items)
    return found


def _page(decision_log: DecisionLog, viewer: Viewer, filters: Filters) -> Page:
    with Session(decision_log.engine) as session:
        return page(session, viewer, filters)

"""Crypto-shredding of one case: destroy the case's keys, so every copy the gateway keeps of what was
shared about one child becomes unreadable at once, immediately and outside retention.

Only the partnership's IG lead and Caldicott Guardian may (the access table's `shred`), with a reason
code and the reference of their decision in their own records (never words: the log keeps them for as
long as it lasts, and must keep nothing about the person). One transaction sets every key of the case
to NULL (the row stays: when, by whom), resolves its pending held deliveries as `shredded`, and
appends one `shredded` entry per affected delivery (following its decision) plus one for the case,
naming the reason and the actor, never a payload value. The log itself keeps every entry: it holds
no payload value to destroy.

Deliveries already published sit in the agencies' inboxes and stores; `on_shredded` is where the
signed erasure notice to each of them is enqueued, in the same transaction. So is one for each
delivery still queued: the relay may have produced it already, in a batch it has not yet marked (or
never will, if the batch then failed), and once the key is gone nothing else could tell the agency.
An agency told to erase a delivery it never received keeps the tombstone, so it never takes it in.
The case's statutory clocks stop with it: an erased delivery cannot be acknowledged or answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

import audit
from audit.log import lock_head
from broker.db.tables import CaseKey, HeldDelivery, OutboxRow
from broker.delivery import clocks
from broker.delivery import held as held_store
from broker.delivery.events import follow_up
from broker.errors import Forbidden, OutOfReach, SharedInAnotherCase
from broker.partnership.roles import a_role
from broker.review import case_review
from broker.review.access import Action, Scope, Viewer

SHRED_RULE = "SYS-SHRED"
NOTHING = "no case keys are kept for this person: nothing was shared about them, or it was shredded already"


@dataclass(frozen=True)
class ShreddedDelivery:
    """Deliveries of one notification already published to one agency's inbox: where an erasure notice
    goes (the inbox topic, and the Kafka key that keeps the child's records in order there)."""

    recipient_agency: str
    topic: str
    key: str
    notification_id: str
    delivery_ids: tuple[str, ...]


# Called inside the shredding's transaction with every delivery an agency may hold: published, or
# queued and perhaps being produced at this instant (possibly none).
ShreddedHook = Callable[[Session, Sequence[ShreddedDelivery]], None]


@dataclass(frozen=True)
class Shredding:
    """What one shredding destroyed, and what it logged."""

    person: str
    keys_destroyed: int
    outbox_envelopes: int
    held_deliveries: int
    deliveries_logged: int
    published: tuple[ShreddedDelivery, ...]
    # Every delivery in the outbox, published or queued: each is sent an erasure notice.
    told: tuple[ShreddedDelivery, ...] = ()


def has_live_case(engine: Engine, case_ref: str) -> bool:
    """Whether the case `case_ref` (a log pseudonym) still has a key, so a shredding would destroy something."""
    live = select(col(CaseKey.id)).where(col(CaseKey.case_ref) == case_ref, col(CaseKey.key).is_not(None))
    with Session(engine) as session:
        return session.execute(live.limit(1)).first() is not None


def shred_case(
    engine: Engine,
    *,
    case_ref: str,
    viewer: Viewer,
    reason_code: str,
    decision_ref: str,
    now: datetime | None = None,
    on_shredded: ShreddedHook | None = None,
) -> Shredding:
    """Destroy every live key of the case `case_ref` (a log pseudonym) and log it; OutOfReach if none."""
    if viewer.scope(Action.SHRED) is not Scope.PARTNERSHIP:
        # The table grants shredding partnership-wide only; a narrower grant would need a scoped search.
        raise Forbidden(f"{a_role(viewer.role)} may not shred a case")
    now = now or datetime.now(UTC)
    with Session(engine) as session, session.begin():
        # The chain head first, as the group commit takes it: no notification about this case is
        # half-written under a key while it is destroyed.
        lock_head(session)
        live = select(col(CaseKey.id)).where(col(CaseKey.case_ref) == case_ref, col(CaseKey.key).is_not(None))
        key_ids = list(session.execute(live).scalars())
        if not key_ids:
            _refuse_if_named_elsewhere(session, case_ref)
            raise OutOfReach(NOTHING)
        outbox = list(
            session.scalars(
                select(OutboxRow).where(col(OutboxRow.case_key_id).in_(key_ids)).order_by(col(OutboxRow.id))
            )
        )
        waiting = list(
            session.scalars(
                select(HeldDelivery).where(
                    col(HeldDelivery.case_key_id).in_(key_ids), col(HeldDelivery.resolved_at).is_(None)
                )
            )
        )
        pending = [row for row in waiting if held_store.shred(session, row, now=now)]
        # A copy a withdrawal or retention already emptied was destroyed then: only what was still stored counts.
        stored = sum(1 for row in outbox if row.envelope)
        session.execute(
            update(CaseKey)
            .where(col(CaseKey.id).in_(key_ids))
            .values(key=None, shredded_at=now, shredded_by=viewer.user, shredded_reason=reason_code)
        )
        message = f"Case shredded ({reason_code}) under the decision {decision_ref}."
        copies: list[OutboxRow | HeldDelivery] = [*outbox, *pending]
        drafts = [_delivery_draft(row, viewer, message) for row in copies]
        audit.append(session, [*drafts, _case_draft(case_ref, viewer, message, len(key_ids), len(drafts))])
        clocks.stop_clocks_of(session, [row.delivery_id for row in copies], now)
        published = _grouped(outbox, _sent_before(session, outbox))
        told = _grouped(outbox)
        if on_shredded is not None:
            on_shredded(session, told)
    return Shredding(case_ref, len(key_ids), stored, len(pending), len(drafts), published, told)


def _refuse_if_named_elsewhere(session: Session, case_ref: str) -> None:
    """Raise `SharedInAnotherCase` if copies naming this person are still readable under another case's
    key: each notification's copies are kept under the case of the child it is routed by, not of
    everyone it names (a sibling, an adult in a child's referral)."""
    named = select(col(audit.Entry.notification_id)).where(
        col(audit.Entry.kind) == audit.EventKind.DECIDED, case_review.names(case_ref)
    )
    readable = set()
    for table in (OutboxRow, HeldDelivery):
        kept = (
            select(col(table.notification_id))
            .join(CaseKey, col(CaseKey.id) == col(table.case_key_id))
            .where(col(CaseKey.key).is_not(None), col(table.notification_id).in_(named))
        )
        readable |= set(session.scalars(kept))
    if readable:
        found = sorted(readable)
        listed = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        where = (
            "1 notification kept under the case of the child it was about"
            if len(found) == 1
            else f"{len(found)} notifications kept under the case of the child each was about"
        )
        raise SharedInAnotherCase(
            f"this person has no case of their own: what was shared about them went in {where} ({listed}). "
            "Shred that child's case, or have the sender withdraw what they sent; nothing was destroyed."
        )


def _delivery_draft(row: OutboxRow | HeldDelivery, viewer: Viewer, message: str) -> audit.EntryDraft:
    return follow_up(
        row.log_context,
        delivery_id=row.delivery_id,
        notification_id=row.notification_id,
        kind=audit.EventKind.SHREDDED,
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
        reasons=(audit.Reason(rule=SHRED_RULE, message=message),),
    ).model_copy(update={"outcome": "shredded"})  # as a withdrawal's: what happened, not what was decided


def _case_draft(case_ref: str, viewer: Viewer, message: str, keys: int, deliveries: int) -> audit.EntryDraft:
    """The case-wide entry: found by the case's pseudonym, whatever deliveries were still kept."""
    ref = f"case-shredding-{uuid.uuid4().hex}"
    counts = (
        f" {keys} case key{'' if keys == 1 else 's'} destroyed; the stored copies of {deliveries}"
        f" deliver{'y' if deliveries == 1 else 'ies'} made unreadable."
    )
    return audit.EntryDraft(
        notification_id=ref,
        delivery_id=ref,
        kind=audit.EventKind.SHREDDED,
        outcome="shredded",
        sender_agency=viewer.agency_id,
        sender_role=viewer.role,
        recipient_agency=viewer.agency_id,
        message_type=case_review.SHREDDING,
        reasons=(audit.Reason(rule=SHRED_RULE, message=(message[: 500 - len(counts)] + counts)),),
        subjects=(case_ref,),
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
    )


def _sent_before(session: Session, rows: Sequence[OutboxRow]) -> set[str]:
    """Of the rows waiting for the relay, those it published before: put back by a republish request,
    they are in the agency's hands already, and the relay will now mark them done without a word."""
    waiting = [row.delivery_id for row in rows if row.published_at is None]
    if not waiting:
        return set()
    logged = select(col(audit.Entry.delivery_id)).where(
        col(audit.Entry.kind) == audit.EventKind.PUBLISHED, col(audit.Entry.delivery_id).in_(waiting)
    )
    return set(session.scalars(logged))


def _grouped(rows: Sequence[OutboxRow], sent_before: set[str] | None = None) -> tuple[ShreddedDelivery, ...]:
    """The deliveries, one group per notification, inbox and Kafka key: those already published, given
    the queued ones `sent_before` (put back by a republish); every one without it."""
    grouped: dict[tuple[str, str, str, str], list[str]] = {}
    for row in rows:
        if sent_before is None or row.published_at is not None or row.delivery_id in sent_before:
            grouped.setdefault((row.recipient_agency, row.topic, row.key, row.notification_id), []).append(
                row.delivery_id
            )
    return tuple(ShreddedDelivery(*where, delivery_ids=tuple(ids)) for where, ids in grouped.items())

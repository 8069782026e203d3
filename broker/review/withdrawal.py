"""Withdrawal and correction: recall a notification from every agency it reached, in one commit.

Who may: the sender (the access table's `withdraw` column, over what they or their agency sent), from
every agency it reached, or from the one it names (a share a review found should not have gone to it);
and children's social care for a notification it received, since the front
door that takes a referral in may find it malicious or misdirected (Working Together to Safeguard
Children 2023, chapter 2, "Making a referral"; UK GDPR Article 16, rectification), from its own inbox
only: each agency controls its own copy, so the police's copy of a referral is the police's (and the
sender's) to recall, not the front door's. A correction is the sender's alone: it puts new content in
the sender's name, which a recipient may not do. The reason is a code, never free text: the log keeps
it, and the log holds no payload value.

What happens, per delivery, in the transaction that appends one `withdrawn` (or `corrected`) entry
for it:

- published, or queued for the relay: the stored envelope is emptied (nothing can be sent again),
  its clocks stop, and a signed notice goes to the recipient's inbox through the outbox. A queued
  row may already be mid-publication, so it too gets a notice; the consumer removes whatever it has,
  remembers the id, and never hands over a delivery that arrives after its withdrawal;
- held for advice or authorisation: its key is destroyed (`held.refuse`), so it can never be released;
- not shared: nothing to recall; the entry still records the withdrawal.

The consumer's `withdrawn` receipt is then logged as `withdrawal_confirmed` (`broker.delivery.receipts`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from sqlmodel import Session, col, select

import audit
from broker.db.log import DecisionLog
from broker.db.tables import HeldDelivery, OutboxRow
from broker.delivery import clocks, held
from broker.delivery.events import follow_up, log_context
from broker.delivery.notices import NoticeWriter, reason_words
from broker.delivery.outbox import Outbox
from broker.errors import AlreadyShredded, AlreadyWithdrawn, Forbidden, HeldDeliveryGone, NotFound, OutOfReach
from broker.partnership.roles import a_role
from broker.review import scope
from broker.review.access import Action, Scope, Viewer
from schemas.vocab import AgencyType

RULE = "SYS-WITHDRAW"
RECALLED = (audit.EventKind.WITHDRAWN, audit.EventKind.CORRECTED)
# The agencies that take referrals in, and may withdraw one they received.
FRONT_DOORS = frozenset({AgencyType.CSC_FRONT_DOOR.value, AgencyType.CSC_TEAM.value, AgencyType.OTHER_LA_CSC.value})


@dataclass(frozen=True)
class Recalled:
    """What a withdrawal did to one recipient's delivery."""

    delivery_id: str
    recipient_agency: str
    was: Literal["published", "queued", "held", "not shared"]
    now: Literal["notice sent", "destroyed", "nothing to recall"]


@dataclass(frozen=True)
class Withdrawal:
    notification_id: str
    kind: Literal["withdrawal", "correction"]
    reason: str
    superseded_by: str | None
    deliveries: list[Recalled]
    seqs: list[int]


class Offer(NamedTuple):
    """What a page may offer the viewer: to withdraw, as whom (the sender, from every agency; the front
    door, from its own inbox), and to correct (the sender, in a role that may send)."""

    withdraw: bool
    as_whom: Literal["sender", "front door"] | None
    correct: bool


def offers(decision_log: DecisionLog, viewer: Viewer, notification_id: str) -> Offer:
    """What the viewer may do to the notification now, in one read: a page offers only what would be done."""
    try:
        checked = _check(decision_log, viewer, notification_id)
    except (NotFound, Forbidden, AlreadyWithdrawn):
        return Offer(False, None, False)
    return Offer(True, checked.may, checked.may == "sender" and viewer.may(Action.SEND))


def check_may_withdraw(
    decision_log: DecisionLog, viewer: Viewer, notification_id: str, *, correction: bool = False
) -> list[audit.Entry]:
    """The notification's decided entries, if the viewer may withdraw (or correct) it and it still stands."""
    return _check(decision_log, viewer, notification_id, correction=correction).decided


class _Checked(NamedTuple):
    decided: list[audit.Entry]
    shown: set[str]  # the deliveries whose recall the viewer is told of
    may: Literal["sender", "front door"]


def _check(
    decision_log: DecisionLog,
    viewer: Viewer,
    notification_id: str,
    *,
    correction: bool = False,
    only: str | None = None,
) -> _Checked:
    """`check_may_withdraw`, with the delivery ids of the decisions the viewer may also read, and as whom;
    `only`: the one recipient agency the sender withdraws it from."""
    if correction and not viewer.may(Action.SEND):
        # A correction is a new notification: whoever may not send may not correct, whatever they sent.
        raise Forbidden(f"{a_role(viewer.role)} may not send notifications")
    with Session(decision_log.engine) as session:
        decided = list(
            session.exec(
                select(audit.Entry)
                .where(col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == "decided")
                .order_by(col(audit.Entry.seq))
            )
        )
        may = _may(session, viewer, decided) if decided else None
        if may is None:
            verb = "correct" if correction else "withdraw"
            raise OutOfReach(f"no such notification that you may {verb}", exists=bool(decided))
        if correction and may != "sender":
            # The front door knows of it (it received it), so a 403 tells it nothing new.
            raise Forbidden("only the agency that sent a notification may correct it; a recipient may withdraw it")
        # The front door recalls its own delivery alone; the sender every one not recalled already, or one.
        mine = viewer.agency_id if may == "front door" else only
        own = [e for e in decided if mine is None or e.recipient_agency == mine]
        if not own:
            raise OutOfReach(f"notification {notification_id} was not sent to {only}")
        ended = dict(
            session.exec(
                select(audit.Entry.delivery_id, audit.Entry.seq).where(
                    col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind).in_(RECALLED)
                )
            ).all()
        )
        decided = [e for e in own if e.delivery_id not in ended]
        recalled = None if decided else min(ended[e.delivery_id] for e in own)
        # Told only of deliveries it may read: whom else the sender asked is the sending agency's to know.
        shown = {
            e.delivery_id
            for e in decided
            if e.sender_agency == viewer.agency_id or scope.sees(session, viewer, Action.DECISIONS, e)
        }
        _not_shredded(session, notification_id)
    if recalled is not None:
        raise AlreadyWithdrawn(f"notification {notification_id} was already withdrawn (log entry {recalled})")
    return _Checked(decided, shown, may)


def _not_shredded(session: Session, notification_id: str) -> None:
    shredded = session.exec(
        select(audit.Entry.seq).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.SHREDDED
        )
    ).first()
    if shredded is not None:
        raise AlreadyShredded(
            f"notification {notification_id} was shredded with its case (log entry {shredded}): every agency it "
            "reached was told to erase it, and nothing of it is left to withdraw or correct"
        )


def _may(session: Session, viewer: Viewer, decided: list[audit.Entry]) -> Literal["sender", "front door"] | None:
    """As whom the viewer may withdraw the notification, if at all."""
    if not viewer.may(Action.WITHDRAW):
        return None
    if any(scope.sees(session, viewer, Action.WITHDRAW, e) and e.sender_agency == viewer.agency_id for e in decided):
        return "sender"
    # The front door may withdraw what it received (shared at once, or held and then released); its
    # `agency` reach is needed, not just `own`.
    wide = viewer.scope(Action.WITHDRAW).rank >= Scope.AGENCY.rank
    if not wide or viewer.agency_type not in FRONT_DOORS:
        return None
    ids = [e.delivery_id for e in decided if e.recipient_agency == viewer.agency_id]
    shared = scope.received(viewer.agency_id).where(col(audit.Entry.delivery_id).in_(ids)).limit(1)
    return "front door" if ids and session.scalars(shared).first() is not None else None


async def withdraw(
    decision_log: DecisionLog,
    viewer: Viewer,
    notification_id: str,
    *,
    reason: str,
    notices: NoticeWriter,
    outbox: Outbox,
    superseded_by: str | None = None,
    then: Callable[[Session, Withdrawal], None] | None = None,
    only: str | None = None,
) -> Withdrawal:
    """Recall `notification_id` from every recipient the viewer may (the sender: or `only`, one agency; see
    the module docstring); one commit.

    `then` runs in that commit with the answer, to keep it with the recall (a correction's retry)."""
    correction = superseded_by is not None
    decided, shown, _ = await asyncio.to_thread(
        _check, decision_log, viewer, notification_id, correction=correction, only=only
    )
    kind: Literal["withdrawal", "correction"] = "correction" if superseded_by else "withdrawal"
    now = datetime.now(UTC)
    drafts = [_draft(entry, viewer, kind, reason, superseded_by) for entry in decided]
    answer: list[Withdrawal] = []

    def apply(session: Session, entries: list[audit.Entry]) -> None:
        answer.clear()  # the batcher may run this twice (a failed batch is retried per request)
        _still_stands(session, notification_id, decided, own=[e.seq for e in entries])
        to = _addressed(session, superseded_by)
        recalled = [_recall(session, entry, kind, reason, superseded_by, notices, now, to) for entry in decided]
        told = [(done, entry.seq) for done, entry in zip(recalled, entries, strict=True) if done.delivery_id in shown]
        done = Withdrawal(notification_id, kind, reason, superseded_by, [d for d, _ in told], [s for _, s in told])
        answer.append(done)
        if then is not None:
            then(session, done)

    await decision_log.append(drafts, apply)
    outbox.wake()
    return answer[0]


def _still_stands(session: Session, notification_id: str, decided: list[audit.Entry], *, own: list[int]) -> None:
    """Refuse a recall another one overtook between the check and this commit (two people at once).

    Asked under the chain-head lock, inside the commit: a recall committed since, or flushed earlier in
    this transaction, is in the log; one earlier in the same group commit (whose entries are written
    only at its COMMIT) has already marked the deliveries' rows. Without this both would be logged,
    and the second told "nothing to recall" as if nothing had been shared.
    """
    # Columns, not rows: `_recall` then reads each row afresh under its lock, not as loaded here.
    ids = [entry.delivery_id for entry in decided]
    logged = session.exec(
        select(audit.Entry.seq).where(
            col(audit.Entry.notification_id) == notification_id,
            col(audit.Entry.delivery_id).in_(ids),
            col(audit.Entry.kind).in_(RECALLED),
            col(audit.Entry.seq).not_in(own),
        )
    ).first()
    held_as = session.exec(select(HeldDelivery.resolution).where(col(HeldDelivery.delivery_id).in_(ids)))
    contexts = session.exec(select(OutboxRow.log_context).where(col(OutboxRow.delivery_id).in_(ids)))
    _not_shredded(session, notification_id)  # a shredding commits under the same lock
    marked = any(resolution == "withdrawn" for resolution in held_as) or any(c.get("withdrawn") for c in contexts)
    if logged is not None or marked:
        raise AlreadyWithdrawn(f"notification {notification_id} was withdrawn a moment ago, by someone else")


# How a `corrected` entry names the notification that replaced it. The decision page links the id
# (`detail`) and the correction's decision finds its way back by it (`detail.corrected_by`), so all
# three read these words from here.
REPLACED_BY = "replaced by notification "


_REPLACED_BY = re.compile(r"\b" + re.escape(REPLACED_BY) + r"([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})\b")


def replaced_by(notification_id: str) -> str:
    """The words of a `corrected` entry that name its replacement."""
    return f"{REPLACED_BY}{notification_id}."


def replacement_named(message: str | None) -> str | None:
    """The notification a `corrected` entry's message says replaced it."""
    found = _REPLACED_BY.search(message or "")
    return found.group(1) if found else None


# What a reader the replacement did not reach reads instead of its id.
NOT_YOURS = "replaced by a correction that was not sent to your agency"


def unnamed(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A `corrected` entry's reasons without the replacement's id: a recipient the correction dropped
    learns that it was corrected, and by whom, but not what replaced it (its withdrawal notice, reason
    `superseded`, names nothing either)."""
    return [{**r, "message": _REPLACED_BY.sub(NOT_YOURS, str(r.get("message") or ""))} for r in reasons]


def _draft(entry: audit.Entry, viewer: Viewer, kind: str, reason: str, superseded_by: str | None) -> audit.EntryDraft:
    said = f"Withdrawn by the {viewer.role.replace('_', ' ')}: {reason_words(reason)}."
    if superseded_by:
        said = f"Corrected by the {viewer.role.replace('_', ' ')}: {replaced_by(superseded_by)}"
    return follow_up(
        log_context(entry),
        delivery_id=entry.delivery_id,
        notification_id=entry.notification_id,
        kind=audit.EventKind.CORRECTED if kind == "correction" else audit.EventKind.WITHDRAWN,
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
        reasons=(audit.Reason(rule=RULE, message=said),),
    ).model_copy(update={"outcome": "corrected" if superseded_by else "withdrawn"})


def _recall(
    session: Session,
    entry: audit.Entry,
    kind: Literal["withdrawal", "correction"],
    reason: str,
    superseded_by: str | None,
    notices: NoticeWriter,
    now: datetime,
    addressed: frozenset[str],
) -> Recalled:
    delivery_id, agency = entry.delivery_id, entry.recipient_agency
    clocks.stop_all_clocks(session, delivery_id, now, replaced_by=superseded_by)
    pending = session.get(HeldDelivery, delivery_id)
    if pending is not None and pending.resolved_at is None:
        try:
            held.refuse(session, delivery_id, now=now, resolution="withdrawn")
        except HeldDeliveryGone:  # resolved a moment ago; if released, its outbox row is handled below
            pass
        else:
            return Recalled(delivery_id, agency, "held", "destroyed")
    row = session.exec(select(OutboxRow).where(col(OutboxRow.delivery_id) == delivery_id).with_for_update()).first()
    if row is None:
        return Recalled(delivery_id, agency, "not shared", "nothing to recall")
    # The log says whether it went out: a row put back by a republish went out before, and a row marked
    # done unpublished (its case shredded as the relay read it) never did.
    went_out = select(col(audit.Entry.seq)).where(
        col(audit.Entry.delivery_id) == delivery_id, col(audit.Entry.kind) == audit.EventKind.PUBLISHED
    )
    was: Literal["published", "queued"] = "published" if session.exec(went_out.limit(1)).first() else "queued"
    # Emptied, and marked done so the relay never (again) sends it: the notice does the rest.
    row.envelope = b""
    row.published_at = row.published_at or now
    row.log_context = {**row.log_context, "withdrawn": True}
    session.add(row)
    # An agency the correction does not address is told of a withdrawal, not of a replacement it will
    # never receive (its reason still says the notification was replaced).
    told = kind if superseded_by is None or agency in addressed else "withdrawal"
    by = superseded_by if told == "correction" else None
    session.add(notices.row(kind=told, delivery=row, reason=reason, now=now, superseded_by=by))
    return Recalled(delivery_id, agency, was, "notice sent")


def _addressed(session: Session, replacement: str | None) -> frozenset[str]:
    """The agencies a correction decided for, whatever it decided: each may yet receive it."""
    if replacement is None:
        return frozenset()
    query = select(audit.Entry.recipient_agency).where(
        col(audit.Entry.notification_id) == replacement, col(audit.Entry.kind) == audit.EventKind.DECIDED
    )
    return frozenset(str(agency) for agency in session.exec(query))

"""The access table's scopes as WHERE clauses over the decision log, for lists and single reads alike.

Own: the deliveries of notifications this person sent, answered (advice, authorisation, an urgent
review) or is named on (`sender.user_ref`, kept in `named_person` when an agency system posts for
them). Agency: what their agency sent or received. Partnership: everything. A single read asks the
same clause, so a list and a detail can never disagree about what someone may see.

"Received" means shared with them: a share, or a held share once it was released. A no-share, or a
share still held (or refused, or expired) is not theirs to see: that a notification about a child
exists is itself what the policy withheld from that agency.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final, TypeVarTuple

from sqlalchemy import ColumnElement, Engine, Select, and_, or_, select
from sqlmodel import Session, col

import audit
from broker.db.tables import NamedPerson
from broker.errors import Forbidden
from broker.partnership.roles import a_role
from broker.review.access import Action, Scope, Viewer

_Row = TypeVarTuple("_Row")
# The entries in which a person acts on a delivery of their agency's: it is then theirs. A `viewed`
# entry is not among them: reading something never widens what one may read.
ACTING: Final = (
    audit.EventKind.DECIDED,
    audit.EventKind.ADVICE_GIVEN,
    audit.EventKind.AUTHORISATION_GRANTED,
    audit.EventKind.AUTHORISATION_REFUSED,
    audit.EventKind.URGENT_REVIEWED,
)
SHARED: Final = ("share", "share_minimised", "share_urgent_review_after")
# The answers that release a held share to its recipient (broker.review.queues.decide).
RELEASES: Final = (audit.EventKind.ADVICE_GIVEN, audit.EventKind.AUTHORISATION_GRANTED)


def scope_clause(viewer: Viewer, action: Action) -> ColumnElement[bool] | None:
    """The viewer's scope for `action` as a WHERE clause over entries (None: the whole partnership)."""
    scope = viewer.scope(action)
    if scope is Scope.NONE:
        raise Forbidden(f"{a_role(viewer.role)} may not read this")
    if scope is Scope.PARTNERSHIP:
        return None
    if scope is Scope.AGENCY:
        return or_(
            col(audit.Entry.sender_agency) == viewer.agency_id,
            and_(
                col(audit.Entry.recipient_agency) == viewer.agency_id,
                col(audit.Entry.delivery_id).in_(received(viewer.agency_id)),
            ),
        )
    acted = select(col(audit.Entry.delivery_id)).where(
        and_(
            col(audit.Entry.kind).in_(ACTING),
            col(audit.Entry.sender_agency) == viewer.agency_id,
            col(audit.Entry.actor) == viewer.user,
            # A `sub` is unique within its agency only: a partnership adviser at another agency with the
            # same staff number answering this agency's item does not make it this person's. A decision
            # is always its sender agency's person's (entries from before `actor_agency` leave it empty).
            or_(
                col(audit.Entry.actor_agency) == viewer.agency_id,
                and_(col(audit.Entry.kind) == audit.EventKind.DECIDED, col(audit.Entry.actor_agency).is_(None)),
            ),
        )
    )
    named = select(col(NamedPerson.notification_id)).where(
        col(NamedPerson.agency_id) == viewer.agency_id, col(NamedPerson.person) == viewer.named_as
    )
    return and_(
        col(audit.Entry.sender_agency) == viewer.agency_id,
        or_(col(audit.Entry.delivery_id).in_(acted), col(audit.Entry.notification_id).in_(named)),
    )


def received(agency_id: str) -> Select[str]:
    """The deliveries shared with `agency_id`: decided as a share, or held and then released."""
    entry = audit.Entry
    return select(col(entry.delivery_id)).where(
        col(entry.recipient_agency) == agency_id,
        or_(
            and_(col(entry.kind) == audit.EventKind.DECIDED, col(entry.outcome).in_(SHARED)),
            and_(col(entry.kind).in_(RELEASES), col(entry.outcome) == "released"),
        ),
    )


def sees(session: Session, viewer: Viewer, action: Action, entry: audit.Entry) -> bool:
    """Whether `entry` is within the viewer's scope for `action`: the list's clause, asked of one row."""
    if not viewer.may(action):
        return False
    clause = scope_clause(viewer, action)
    if clause is None:
        return True
    hit = session.execute(select(col(audit.Entry.seq)).where(col(audit.Entry.seq) == entry.seq, clause).limit(1))
    return hit.first() is not None


def first_decision(engine: Engine, viewer: Viewer, notification_id: str, recipient: str | None = None) -> int | None:
    """The log seq of the notification's first decision the viewer may read, if there is one: where a
    link to a notification (a correction's replacement, named in the log) takes its reader. With a
    `recipient`, that agency's decision first: a correction read from one recipient's decision leads
    to the same recipient's decision of the correction, where there is one."""
    found = sorted((seq, agency) for _, seq, agency in _decided(engine, viewer, notification_id))
    return next((seq for seq, agency in found if agency == recipient), found[0][0] if found else None)


def decisions_of(engine: Engine, viewer: Viewer, notification_id: str) -> dict[str, int]:
    """Each delivery of the notification whose decision the viewer may read, with that decision's log
    seq: so the page that answers a sender links each recipient's decision, and no other."""
    return {delivery: seq for delivery, seq, _ in _decided(engine, viewer, notification_id)}


def decided_at_all(engine: Engine, notification_id: str) -> bool:
    """Whether the notification was decided for anyone: for the access log alone, which tells an IG lead
    whether a refused reader reached for a real notification (`OutOfReach.exists`), never the reader."""
    entry = audit.Entry
    query = select(col(entry.seq)).where(
        col(entry.notification_id) == notification_id, col(entry.kind) == audit.EventKind.DECIDED
    )
    with Session(engine) as session:
        return session.execute(query.limit(1)).first() is not None


def _decided(engine: Engine, viewer: Viewer, notification_id: str) -> list[tuple[str, int, str]]:
    """The notification's decisions the viewer may read: (delivery, log seq, recipient agency)."""
    if not viewer.may(Action.DECISIONS):
        return []
    entry = audit.Entry
    query = select(col(entry.delivery_id), col(entry.seq), col(entry.recipient_agency)).where(
        col(entry.notification_id) == notification_id, col(entry.kind) == audit.EventKind.DECIDED
    )
    with Session(engine) as session:
        return [(str(d), int(seq), str(a)) for d, seq, a in session.execute(_readable_only(query, viewer))]


def readable(engine: Engine, viewer: Viewer, seqs: Collection[int]) -> set[int]:
    """Those of these decisions the viewer may read: where a page about them (a queue's cards) may link."""
    if not seqs or not viewer.may(Action.DECISIONS):
        return set()
    query = select(col(audit.Entry.seq)).where(
        col(audit.Entry.seq).in_(list(seqs)), col(audit.Entry.kind) == audit.EventKind.DECIDED
    )
    with Session(engine) as session:
        return set(session.execute(_readable_only(query, viewer)).scalars())


def _readable_only(query: Select[*_Row], viewer: Viewer) -> Select[*_Row]:
    clause = scope_clause(viewer, Action.DECISIONS)
    return query if clause is None else query.where(clause)

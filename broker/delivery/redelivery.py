"""Redelivery: an agency whose consumer fell behind Kafka's retention asks for a delivery again.

The outbox keeps each delivered envelope for the retention period (`broker.delivery.retention`);
while it does, the recipient agency's system may ask for it to be published once more. The row is
put back in the relay's queue and the request is logged in the same transaction; the relay then
publishes it as any other (a consumer that already holds it keeps the copy it has: deliveries are
idempotent by delivery id). Only the agency the delivery was sealed to may ask: the envelope opens
with its key alone, and an agency asking for another's gets the same answer as for a missing one.
A delivery whose case was shredded is gone too: its stored copy can no longer be read; so is a
withdrawn one, whose stored copy was emptied (`broker.review.withdrawal`).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from audit.log import lock_head
from broker.db.tables import OutboxRow
from broker.delivery.case_keys import is_readable
from broker.delivery.events import follow_up
from broker.errors import OutOfReach

GONE = "no such delivery kept for your agency (a delivered envelope is kept for the retention period only)"


def request_republish(engine: Engine, *, delivery_id: str, agency_id: str, actor: str, actor_role: str) -> bool:
    """Queue the delivery for publishing again; False when it is already waiting to be published."""
    with Session(engine) as session, session.begin():
        lock_head(session)  # before the row, the order every log transaction takes them in (`audit.log`)
        # Locked before it is checked: a withdrawal or retention purge committing between an unlocked
        # read and the write below would leave an emptied row queued for the relay. PostgreSQL hands
        # back the row as that commit left it once the lock is ours; SQLite ignores FOR UPDATE, and
        # needs nothing, as its write transactions begin with the write lock (`audit.engine`).
        query = select(OutboxRow).where(col(OutboxRow.delivery_id) == delivery_id).with_for_update()
        row = session.exec(query).first()
        if row is None or row.recipient_agency != agency_id:
            raise OutOfReach(GONE)
        if not _kept(session, row):
            raise OutOfReach(_gone(session, row))
        if row.published_at is None:
            return False
        row.published_at = None
        session.add(row)
        draft = follow_up(
            row.log_context,
            delivery_id=row.delivery_id,
            notification_id=row.notification_id,
            kind=audit.EventKind.REPUBLISH_REQUESTED,
            actor=actor,
            actor_role=actor_role,
            actor_agency=agency_id,
        )
        audit.append(session, [draft])
    return True


def _gone(session: Session, row: OutboxRow) -> str:
    """Why the agency's own delivery can no longer be sent: its notice told the agency so already."""
    if not is_readable(session, row.case_key_id):
        return f"delivery {row.delivery_id} was shredded with its case: your agency was told to erase it"
    if row.log_context.get("withdrawn"):
        return f"delivery {row.delivery_id} was withdrawn: your agency was told to delete it"
    return GONE


def _kept(session: Session, row: OutboxRow) -> bool:
    """Whether the stored copy can still be sent: not withdrawn or past retention (emptied), nor shredded."""
    return bool(row.envelope) and not row.log_context.get("withdrawn") and is_readable(session, row.case_key_id)

"""Retention: how long each stored copy lives, and the scheduled purge that enforces it.

What the gateway keeps beyond the decision log, and for how long (settings, `SGB_RETENTION_*`):

- a delivered envelope (the sealed projection in the outbox) `delivered_days` after it was
  published, so an agency whose consumer fell behind Kafka's own retention can still be sent it
  again; after that the agency's copy is the only one. The row itself stays, emptied: it holds only
  where the delivery went (inbox, Kafka key, ids), so a later withdrawal or shredding of the case
  still sends that agency its signed notice;
- a held delivery that was released, refused or expired: its key is destroyed when it is resolved
  (`broker.delivery.held`), the unreadable row goes `resolved_days` later;
- an unanswered held delivery expires at its own `expires_at` (`SGB_HOLD_EXPIRY_HOURS`) and its key
  is destroyed then, by the worker's scheduler (`broker.delivery.scheduler`), which logs `expired`;
- an Idempotency-Key's first answer `idempotency_days` after it was given (a retry later than that
  is a new notification);
- a seen token id until the token could no longer be used anyway (its expiry plus the leeway).

Each purge that removes anything appends one `purged` entry with the counts in the same
transaction, so the log says when copies went and how many. The log itself is never purged: it
holds no payload value.

Crypto-shredding a case (`broker.review.shredding`) is not retention: it destroys the case's keys
at once, whatever the periods above, so every copy under them is unreadable from that moment; the
unreadable rows then go when their period here ends. Shredded key rows are kept (when, by whom).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, update
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session, col

import audit
from audit.log import lock_head
from broker.admission.replay import purge_seen_tokens
from broker.db.tables import HeldDelivery, IdempotencyRecord, OutboxRow

log = logging.getLogger("broker.retention")
PURGE_RULE = "SYS-RETENTION"


@dataclass(frozen=True)
class Retention:
    delivered_days: float = 30.0
    resolved_days: float = 30.0
    idempotency_days: float = 7.0


def purge(session: Session, retention: Retention, *, now: datetime) -> dict[str, int]:
    """Destroy what has outlived its retention; returns the count per kind (nothing logged here)."""
    day = timedelta(days=1)
    statements = {
        "delivered envelopes": update(OutboxRow)
        .where(
            col(OutboxRow.published_at).is_not(None),
            col(OutboxRow.published_at) < now - retention.delivered_days * day,
            col(OutboxRow.envelope) != b"",
        )
        .values(envelope=b"", nonce=None),
        "resolved held deliveries": delete(HeldDelivery).where(
            col(HeldDelivery.resolved_at).is_not(None),
            col(HeldDelivery.resolved_at) < now - retention.resolved_days * day,
        ),
        "idempotency records": delete(IdempotencyRecord).where(
            col(IdempotencyRecord.created_at) < now - retention.idempotency_days * day
        ),
    }
    counts = {kind: _destroyed(session, statement) for kind, statement in statements.items()}
    counts["seen token ids"] = purge_seen_tokens(session, now=now)
    return counts


def _destroyed(session: Session, statement: UpdateBase) -> int:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)


def purge_and_log(engine: Engine, retention: Retention, *, now: datetime | None = None) -> dict[str, int]:
    """One purge in one transaction with its `purged` log entry (none when nothing was due)."""
    now = now or datetime.now(UTC)
    with Session(engine) as session, session.begin():
        # The chain head before the rows, as the group commit takes them (see `Relay._mark_published`).
        lock_head(session)
        counts = purge(session, retention, now=now)
        if any(counts.values()):
            audit.append(session, [_purged(counts, retention)])
    return counts


def _purged(counts: dict[str, int], retention: Retention) -> audit.EntryDraft:
    ref = f"purge-{uuid.uuid4().hex}"
    said = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    why = (
        f"Retention: envelopes {retention.delivered_days:g} days after delivery, resolved held items "
        f"{retention.resolved_days:g} days, idempotency records {retention.idempotency_days:g} days, "
        "seen tokens until they expire."
    )
    return audit.EntryDraft(
        notification_id=ref,
        delivery_id=ref,
        kind=audit.EventKind.PURGED,
        outcome="purged",
        sender_agency="partnership",
        sender_role="retention",
        recipient_agency="partnership",
        message_type="retention",
        reasons=(audit.Reason(rule=PURGE_RULE, message=f"Purged {said}. {why}"[:500]),),
        actor="retention@gateway",
        actor_role="agency_system",
    )


async def keep_purging(engine: Engine, retention: Retention, stop: asyncio.Event, *, every: float) -> None:
    """Purge every `every` seconds until `stop`; a failed round is retried at the next."""
    while not stop.is_set():
        try:
            counts = await asyncio.to_thread(purge_and_log, engine, retention)
            if any(counts.values()):
                log.info("purged %s", counts)
        except Exception:  # the next round tries again; nothing is lost by waiting
            log.exception("retention purge failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)

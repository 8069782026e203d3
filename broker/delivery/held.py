"""The pending store: sealed projections held for a person to release (authorisation, advice).

Each held delivery is encrypted again under its own AES-256-GCM key, kept in a separate row.
Refusal or expiry deletes that key, which destroys the share for good (crypto-shredding) while the
decision log keeps its immutable record of what was decided and why (CPSCP-Procedures, LADO >
7. Record keeping and monitoring progress).

What the held key encrypts is the outbox row's envelope as stored: already encrypted under its case
key (`broker.delivery.case_keys`), so shredding the case makes a held copy unreadable too, even
with its held key; releasing it then fails as HeldDeliveryGone.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session, col, select

import audit
from audit.log import lock_head, transient
from broker.db.tables import HeldDelivery, HeldKey, OutboxRow
from broker.delivery import case_keys, clocks
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.events import follow_up
from broker.errors import HeldDeliveryGone

NONCE_BYTES = 12
# The golden rule that held each kind of share: an expiry is that rule still unanswered.
HELD_BY: Final = {"needs_advice": "GR3", "hold_for_authorisation": "GR4"}


def _aad(delivery_id: str, notification_id: str) -> bytes:
    # Binds the ciphertext to its row, so swapping held rows cannot release the wrong share.
    return f"sgb/held/v1\x00{delivery_id}\x00{notification_id}".encode()


def hold(session: Session, row: OutboxRow, *, outcome: str, now: datetime, expires_at: datetime) -> None:
    """Keep a sealed delivery back until a person decides; it is not in the outbox until then."""
    session.add_all(held_rows(row, outcome=outcome, now=now, expires_at=expires_at))


def held_rows(row: OutboxRow, *, outcome: str, now: datetime, expires_at: datetime) -> tuple[HeldKey, HeldDelivery]:
    """The held store's rows for a sealed delivery, not yet added to any session: its key, its ciphertext."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = _nonce()
    ciphertext = AESGCM(key).encrypt(nonce, row.envelope, _aad(row.delivery_id, row.notification_id))
    held = {
        "delivery_id": row.delivery_id,
        "notification_id": row.notification_id,
        "thread_id": row.thread_id,
        "recipient_agency": row.recipient_agency,
        "outcome": outcome,
        "topic": row.topic,
        "key": row.key,
        "headers": row.headers,
        "nonce": nonce,
        "ciphertext": ciphertext,
        "case_key_id": row.case_key_id,
        "case_nonce": row.nonce,
        "log_context": row.log_context,
        "created_at": now,
        "expires_at": expires_at,
    }
    return transient(HeldKey, {"delivery_id": row.delivery_id, "key": key}), transient(HeldDelivery, held)


def _nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def release(session: Session, delivery_id: str, *, now: datetime, calendar: WorkingCalendar) -> OutboxRow:
    """Decrypt a held delivery into the outbox (the relay publishes it) and destroy its key; its
    clocks start now, due as far from now as the policy's obligations say (not from the decision).
    They are those of the share it becomes (the decision's `obligations_on_release`, stored by
    `broker.sharing.record` as the row's `obligations`), not the held outcome's own."""
    held, key = _open_pair(session, delivery_id)
    if expired(held, now):
        raise HeldDeliveryGone(f"held delivery {delivery_id} expired unanswered at {held.expires_at.isoformat()}")
    if not case_keys.is_readable(session, held.case_key_id):
        raise HeldDeliveryGone(f"held delivery {delivery_id} was shredded with its case")
    try:
        aad = _aad(held.delivery_id, held.notification_id)
        envelope = AESGCM(key.key).decrypt(held.nonce, held.ciphertext, aad)
    except InvalidTag as exc:
        raise HeldDeliveryGone(f"held delivery {delivery_id} does not decrypt") from exc
    row = OutboxRow(
        delivery_id=held.delivery_id,
        notification_id=held.notification_id,
        thread_id=held.thread_id,
        recipient_agency=held.recipient_agency,
        topic=held.topic,
        key=held.key,
        headers=held.headers,
        envelope=envelope,
        case_key_id=held.case_key_id,
        nonce=held.case_nonce,
        log_context=held.log_context,
        created_at=now,
    )
    session.add(row)
    _resolve(session, held, key, "released", now)
    obligations = held.log_context.get("obligations")
    if isinstance(obligations, list):
        clocks.start_clocks(
            session,
            delivery_id=held.delivery_id,
            notification_id=held.notification_id,
            context=held.log_context,
            obligations=[_due_from(obligation, now, calendar) for obligation in obligations],
        )
    return row


def _due_from(obligation: dict[str, Any], now: datetime, calendar: WorkingCalendar) -> dict[str, Any]:
    # The decision worked out due times from its own moment; a share held for days would start its
    # clocks already late. Obligations without an amount ("as soon as possible") keep no due time.
    # One that runs from an event the payload names (`started_at`: a death's confirmation) does not
    # wait for anyone's release: it keeps that start, and may open overdue.
    amount, unit = obligation.get("amount"), obligation.get("unit")
    if not isinstance(amount, int) or not isinstance(unit, str):
        return obligation
    started = obligation.get("started_at")
    start = datetime.fromisoformat(started) if isinstance(started, str) else now
    return {**obligation, "due_at": calendar.due(start, amount, unit).isoformat()}


def expired(held: HeldDelivery, now: datetime) -> bool:
    """Whether a held delivery's time to be answered has run out (SQLite gives the time back naive)."""
    expires_at = held.expires_at if held.expires_at.tzinfo else held.expires_at.replace(tzinfo=UTC)
    return expires_at <= now


def refuse(session: Session, delivery_id: str, *, now: datetime, resolution: str = "refused") -> None:
    """Destroy a held delivery's key so it can never be shared; the row stays as a tombstone."""
    held, key = _open_pair(session, delivery_id)
    _resolve(session, held, key, resolution, now)


def shred(session: Session, held: HeldDelivery, *, now: datetime) -> bool:
    """Resolve a pending held delivery whose case was shredded; False when it was already resolved."""
    key = session.get(HeldKey, held.delivery_id)
    if held.resolved_at is not None or key is None:
        return False
    _resolve(session, held, key, "shredded", now)
    return True


def expire(session: Session, *, now: datetime) -> list[str]:
    """Destroy every held delivery whose time ran out, and log an `expired` entry for each in the same
    transaction; return their delivery ids. Several workers may run this at once: each row is locked
    by the first and skipped by the others, so it expires, and is logged, once."""
    query = select(HeldDelivery).where(col(HeldDelivery.resolved_at).is_(None), col(HeldDelivery.expires_at) < now)
    lock_head(session)  # before the rows, the order every log transaction takes them in
    done, drafts = [], []
    for held in session.exec(query.with_for_update(skip_locked=True)):
        key = session.get(HeldKey, held.delivery_id)
        if key is None:
            continue
        waited = held.expires_at - held.created_at
        _resolve(session, held, key, "expired", now)
        done.append(held.delivery_id)
        drafts.append(_expiry_entry(held, hours=round(waited.total_seconds() / 3600)))
    audit.append(session, drafts)
    return done


def _expiry_entry(held: HeldDelivery, *, hours: int) -> audit.EntryDraft:
    message = (
        f"Nobody answered within {hours} hour{'' if hours == 1 else 's'}, so the held share was destroyed "
        "and nothing was sent. "
        "If it is still needed, send it again with the facts as they are now."
    )
    reason = audit.Reason(rule=HELD_BY.get(held.outcome, "GR7"), message=message)
    draft = follow_up(
        held.log_context,
        delivery_id=held.delivery_id,
        notification_id=held.notification_id,
        kind=audit.EventKind.EXPIRED,
        reasons=(reason,),
    )
    return draft.model_copy(update={"outcome": "expired"})


def pending(session: Session) -> list[HeldDelivery]:
    query = select(HeldDelivery).where(col(HeldDelivery.resolved_at).is_(None))
    return list(session.exec(query.order_by(col(HeldDelivery.created_at))))


def _open_pair(session: Session, delivery_id: str) -> tuple[HeldDelivery, HeldKey]:
    held = session.get(HeldDelivery, delivery_id)
    key = session.get(HeldKey, delivery_id)
    if held is None or key is None or held.resolved_at is not None:
        raise HeldDeliveryGone(f"no held delivery {delivery_id} awaiting a decision")
    return held, key


def _resolve(session: Session, held: HeldDelivery, key: HeldKey, resolution: str, now: datetime) -> None:
    session.delete(key)
    held.ciphertext, held.nonce = b"", b""
    held.resolved_at, held.resolution = now, resolution
    session.add(held)


def summary(held: HeldDelivery) -> dict[str, Any]:
    return {
        "delivery_id": held.delivery_id,
        "notification_id": held.notification_id,
        "recipient_agency": held.recipient_agency,
        "outcome": held.outcome,
        "created_at": held.created_at.isoformat(),
        "expires_at": held.expires_at.isoformat(),
    }

"""Idempotency-Key handling: a retried request gets the first answer, never a second decision.

Records live in the database under a unique (agency, key), so every gateway worker sees them and a
race between two workers ends in one decision and one IntegrityError (answered from the winner). A
correction's record also binds the key to the notification it corrects (`digest(correcting=...)`).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime

from sqlalchemy import Engine, Table, bindparam, select
from sqlmodel import Session

from audit.log import transient
from broker.db.tables import IdempotencyRecord
from broker.errors import IdempotencyConflict, InvalidNotification

MAX_KEY_LENGTH = 200
# Printable characters, as a header carries them (Latin-1): what `str.isprintable` takes of that range.
# Published as the header's pattern in the OpenAPI, so a client learns the rule before sending.
KEY_PATTERN = rf"^[\x20-\x7E\xA1-\xAC\xAE-\xFF]{{1,{MAX_KEY_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if _KEY.fullmatch(key) is None:
        # A bad header, named as any bad field is: a 409 conflict would tell the client not to retry.
        message = f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters"
        raise InvalidNotification([{"loc": ["header", "Idempotency-Key"], "msg": message, "type": "value_error"}])
    return key


# A correction's digest: its body's, then this and its target's. Stored from the replacement's decision
# on, so a key cut short before the recall is already bound to the notification it corrects.
_CORRECTING = " corrects "


def digest(body: bytes, *, correcting: str | None = None) -> str:
    """What a retry must match: the first request's bytes, hashed, and of a correction the notification
    it corrects (hashed too: the key's row keeps digests, not a second notification's id)."""
    hashed = hashlib.sha256(body).hexdigest()
    if correcting is None:
        return hashed
    return f"{hashed}{_CORRECTING}{hashlib.sha256(correcting.encode()).hexdigest()}"


async def find(engine: Engine, agency_id: str, key: str, request_digest: str) -> bytes | None:
    """The first answer's bytes for this key, or None; another request under the same key is a conflict."""
    record = await asyncio.to_thread(_get, engine, agency_id, key)
    if record is None:
        return None
    stored, response = record
    if stored != request_digest:
        _check_same_request(stored, request_digest)
    return response.encode()


def _check_same_request(stored: str, asked: str) -> None:
    """Refuse a request the key's first one was not: another body, another route, or a correction of
    another target. A key belongs to one request: a correction's key sent as a plain notification
    would answer with half of the correction's answer (the replacement's receipt, not its recall)."""
    body, _, target = stored.partition(_CORRECTING)
    asked_body, _, asked_target = asked.partition(_CORRECTING)
    if asked_target != target:
        if not asked_target:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used to correct a notification: send under a new key"
            )
        first = "correct another notification" if target else "send a notification, not to correct one"
        raise IdempotencyConflict(f"this Idempotency-Key was already used to {first}: a correction needs a new key")
    if body != asked_body:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different body")


_TABLE: Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
# A Core query, compiled once: the ORM's identity-map load cost more than the lookup itself.
_FIND = select(_TABLE.c.body_digest, _TABLE.c.response).where(
    _TABLE.c.agency_id == bindparam("agency_id"), _TABLE.c.key == bindparam("key")
)


def _get(engine: Engine, agency_id: str, key: str) -> tuple[str, str] | None:
    with engine.connect() as connection:
        row = connection.execute(_FIND, {"agency_id": agency_id, "key": key}).first()
    return None if row is None else (row[0], row[1])


def remember(
    session: Session,
    agency_id: str,
    key: str,
    body_digest: str,
    notification_id: str,
    response: bytes,
    now: datetime,
) -> None:
    session.add(record(agency_id, key, body_digest, notification_id, response, now))


def replace_answer(session: Session, agency_id: str, key: str, response: bytes) -> None:
    """Keep a fuller first answer under a key already answered in this transaction (a correction: its
    new notification's receipt is kept when decided, the whole answer when the first is withdrawn)."""
    kept = session.get(IdempotencyRecord, (agency_id, key))
    if kept is not None:
        kept.response = response.decode()
        session.add(kept)


def record(
    agency_id: str, key: str, body_digest: str, notification_id: str, response: bytes, now: datetime
) -> IdempotencyRecord:
    """The first answer's row, not yet added to any session (the caller chooses how to write it).

    `response` is the answer as it was sent (UTF-8 JSON), kept as its text: a retry is answered with
    the same bytes, and the receipt is encoded once, not again for the database.
    """
    values = {
        "agency_id": agency_id,
        "key": key,
        "body_digest": body_digest,
        "notification_id": notification_id,
        "response": response.decode(),
        "created_at": now,
    }
    return transient(IdempotencyRecord, values)

"""Case keys: every stored copy of what was shared about one child is encrypted under that case's key.

A case is the child a notification is routed by (`broker.sharing.seal.routing_subject`), named by
the partnership's log pseudonym of that child, so the IG lead's case review and a shredding find
the same case. The outbox keeps each sealed envelope as AES-256-GCM(case key, envelope) and the held
store encrypts that ciphertext again under its own per-delivery key. Setting the case key to NULL
(`broker.review.shredding`) makes every stored copy unreadable at once, backups included, while the
decision log keeps its record of what was decided.

At most one live key per case: a partial unique index on `case_ref` where the key is not NULL.
A notification about a child whose case was shredded earlier starts a new generation (a new key).
Writers of case-keyed rows run inside the log's group commit, which holds the chain-head lock, and
a shredding takes that lock first, so a notification is recorded wholly before or wholly after it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from broker.db.tables import CaseKey, OutboxRow
from broker.errors import BrokerError

NONCE_BYTES = 12
# A notification races a shredding of its case at most once per attempt; more means something is wrong.
_ATTEMPTS = 3


class CaseShredded(BrokerError):
    """The case key of a stored copy was destroyed: it can never be read again."""


def live_key(session: Session, ref: str, *, now: datetime) -> tuple[int, bytes]:
    """The case's live key (id, key), made now if it has none; safe under concurrent writers.

    INSERT ... ON CONFLICT DO NOTHING against the partial unique index, then read: whichever writer
    inserted first, every writer ends up with the same key. In a group commit that `prefetch`
    prepared, a key read or made earlier in the transaction is taken as it is; anywhere else (the
    group commit's one-request-at-a-time retry included, where a request's SAVEPOINT may roll back
    the key it made) the table is asked each time.
    """
    known: dict[str, tuple[int, bytes]] | None = session.info.get(_PREFETCHED)
    if known is None:
        return _find_or_make(session, ref, now=now)
    if ref not in known:
        known[ref] = _find_or_make(session, ref, now=now)
    return known[ref]


def _find_or_make(session: Session, ref: str, *, now: datetime) -> tuple[int, bytes]:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for _ in range(_ATTEMPTS):
        found = _live(session, ref)
        if found is not None:
            return found
        values = {"case_ref": ref, "key": AESGCM.generate_key(bit_length=256), "created_at": now}
        session.execute(insert(CASE_KEYS).values(**values).on_conflict_do_nothing())
    found = _live(session, ref)
    if found is None:
        raise CaseShredded(f"case {ref[:12]}… was shredded while its key was being made")
    return found


@dataclass(frozen=True, slots=True)
class Lookup:
    """A group commit's request that will need this case's live key (`DecisionLog.append`'s hint)."""

    case_ref: str


def prefetch(session: Session, hints: list[object]) -> None:
    """Read the live keys of every case the group commit's requests will look up, in one query
    (`audit.Prepare`): one round trip from the commit's thread instead of one a request.

    The group commit holds the chain-head lock, and a shredding takes it first, so a key read here
    is live for the whole transaction. Cases with no key yet are made by `live_key` as before.
    """
    refs = sorted({hint.case_ref for hint in hints if isinstance(hint, Lookup)})
    rows = session.execute(_LIVE_OF, {"refs": refs}).all() if refs else []
    session.info[_PREFETCHED] = {ref: (int(key_id), bytes(key)) for ref, key_id, key in rows}


# Where `prefetch` leaves the keys it read, for this session's `live_key` calls.
_PREFETCHED = "broker.delivery.case_keys.live"


# Core statements on the table: the ORM's versions of these run its autoflush and compile machinery,
# which cost more per notification than the lookup itself (the group commit holds no ORM rows here).
# The relay joins the outbox to it the same way (`broker.delivery.relay`).
CASE_KEYS: Table = CaseKey.__table__  # type: ignore[attr-defined]
_LIVE = select(CASE_KEYS.c.id, CASE_KEYS.c.key).where(
    CASE_KEYS.c.case_ref == bindparam("ref"), CASE_KEYS.c.key.is_not(None)
)
_LIVE_OF = select(CASE_KEYS.c.case_ref, CASE_KEYS.c.id, CASE_KEYS.c.key).where(
    CASE_KEYS.c.case_ref.in_(bindparam("refs", expanding=True)), CASE_KEYS.c.key.is_not(None)
)
_SHREDDED_OF = select(CASE_KEYS.c.id, CASE_KEYS.c.shredded_reason).where(
    CASE_KEYS.c.id.in_(bindparam("ids", expanding=True)), CASE_KEYS.c.key.is_(None)
)


def shredded_reasons(session: Session, key_ids: set[int]) -> dict[int, str | None]:
    """Of these case keys, the shredded ones, with the reason each was shredded for (None before b0004)."""
    if not key_ids:
        return {}
    return {int(key_id): why for key_id, why in session.execute(_SHREDDED_OF, {"ids": sorted(key_ids)})}


def _live(session: Session, ref: str) -> tuple[int, bytes] | None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # what the ORM's autoflush did: the lookup sees this session's own changes
    row = session.execute(_LIVE, {"ref": ref}).first()
    if row is None:
        return None
    key_id, key = row
    return int(key_id), bytes(key)


def _aad(delivery_id: str) -> bytes:
    # Binds the ciphertext to its delivery: one row's envelope pasted into another's never opens.
    return f"sgb/case/v1\x00{delivery_id}".encode()


def encrypt_row(row: OutboxRow, key_id: int, key: bytes) -> None:
    """Replace the row's sealed envelope by its encryption under the case key (before it is stored)."""
    nonce = os.urandom(NONCE_BYTES)
    row.envelope = AESGCM(key).encrypt(nonce, row.envelope, _aad(row.delivery_id))
    row.case_key_id, row.nonce = key_id, nonce


def decrypt(key: bytes | None, *, nonce: bytes, delivery_id: str, ciphertext: bytes) -> bytes:
    """The sealed envelope; CaseShredded when the case key is gone; InvalidTag when the bytes were changed."""
    if key is None:
        raise CaseShredded(f"the case key of delivery {delivery_id} was destroyed")
    return AESGCM(key).decrypt(nonce, ciphertext, _aad(delivery_id))


def opened(row: OutboxRow, key: bytes | None) -> bytes:
    """The sealed envelope of an outbox row, given its case key (as read with it); plaintext rows as stored.

    Rows written before case keys, and rows with no case (system notices), have `case_key_id` NULL.
    """
    if row.case_key_id is None:
        return row.envelope
    return decrypt(key, nonce=row.nonce or b"", delivery_id=row.delivery_id, ciphertext=row.envelope)


def read_envelope(session: Session, row: OutboxRow) -> bytes:
    """The sealed envelope of a stored outbox row, reading its case key (CaseShredded if destroyed)."""
    if row.case_key_id is None:
        return row.envelope
    case_key = session.get(CaseKey, row.case_key_id)
    return opened(row, case_key.key if case_key is not None else None)


def is_readable(session: Session, case_key_id: int | None) -> bool:
    """Whether a copy under this case key can still be read (True for copies with no case key)."""
    if case_key_id is None:
        return True
    case_key = session.get(CaseKey, case_key_id)
    return case_key is not None and case_key.key is not None

"""Appending to the log inside the caller's transaction.

:func:`append` promises what Tessera's storage does: it returns entries with their sequence
numbers assigned, and they are durable once the caller's commit returns (or gone, with
everything else in that transaction, if it rolls back). Appenders serialise on the chain-head
row: ``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite (see
:func:`audit.create_engine_for`), so several processes may append to one database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from audit.canonical import canonical_bytes, format_time
from audit.chain import leaf_hash, link_hash
from audit.errors import AuditError, LogStateError
from audit.merkle import CompactRange
from audit.models import ChainHead, Entry, EntryDraft, entry_document

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass
class HeadState:
    """The chain head as read (and locked) at the start of an append or checkpoint."""

    size: int
    head: bytes
    compact: CompactRange


def lock_head(session: Session) -> HeadState:
    """Lock the chain-head row for the rest of the transaction and return its state."""
    row = session.execute(
        select(col(ChainHead.size), col(ChainHead.head), col(ChainHead.compact_range))
        .where(col(ChainHead.id) == 1)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise LogStateError("the chain head is missing: run audit.upgrade(engine) first")
    size, head, compact = row
    return HeadState(size, bytes.fromhex(head), CompactRange.decode(size, compact))


def append(session: Session, drafts: Sequence[EntryDraft], *, clock: Clock = utc_now) -> list[Entry]:
    """Append ``drafts`` in order within the caller's transaction; return them as entries.

    The entries are flushed, not committed: the caller commits them together with its own rows.
    """
    if not drafts:
        return []
    writer = BatchAppender(session, clock=clock)
    entries = writer.add(drafts)
    writer.finish()
    return entries


class BatchAppender:
    """Several appends under one chain-head lock and one head update (used by group commit)."""

    def __init__(self, session: Session, *, clock: Clock = utc_now) -> None:
        self._session = session
        self._state = lock_head(session)
        # Read the clock only once the lock is held, so that time order follows sequence order.
        self._recorded_at = format_time(clock())

    def add(self, drafts: Sequence[EntryDraft]) -> list[Entry]:
        """Seal ``drafts`` as the next entries and add them to the session."""
        entries = [_seal(self._state, draft, self._recorded_at) for draft in drafts]
        self._session.add_all(entries)
        return entries

    def finish(self) -> None:
        """Move the chain head past everything added and flush."""
        state = self._state
        self._session.execute(
            update(ChainHead)
            .where(col(ChainHead.id) == 1)
            .values(size=state.size, head=state.head.hex(), compact_range=state.compact.encode())
        )
        self._session.flush()


def _seal(state: HeadState, draft: EntryDraft, recorded_at: str) -> Entry:
    """Give ``draft`` the next sequence number and its hashes, advancing ``state``."""
    seq = state.size
    if any(follow >= seq for follow in draft.follows):
        raise AuditError(f"entry {seq} may only follow earlier entries, not {list(draft.follows)}")
    values = _values(draft, seq, recorded_at)
    leaf = leaf_hash(canonical_bytes(entry_document(values)))
    state.head = link_hash(state.head, leaf)
    state.compact.append(leaf)
    state.size += 1
    return Entry(**values, leaf_hash=leaf.hex(), chain_hash=state.head.hex())


def _values(draft: EntryDraft, seq: int, recorded_at: str) -> dict[str, Any]:
    values = draft.model_dump(mode="json")
    values["reasons"] = [{"rule": r.rule, "message": r.message} for r in draft.reasons]
    values["seq"] = seq
    values["recorded_at"] = recorded_at
    return values

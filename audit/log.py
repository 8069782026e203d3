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
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import class_mapper
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel

from audit.canonical import Encoded, canonical_object, encoded, format_time
from audit.chain import leaf_hash, link_hash
from audit.errors import AuditError, LogStateError
from audit.later import insert_later
from audit.merkle import CompactRange
from audit.models import JSON_COLUMNS, ChainHead, Entry, EntryDraft, entry_document

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


# Core statements on the head's table, built once: the ORM's versions (a bulk update evaluating its
# WHERE against the session, an ORM select) cost more than the statements themselves.
_HEAD: Table = ChainHead.__table__  # type: ignore[attr-defined]
_LOCK_HEAD = select(_HEAD.c.size, _HEAD.c.head, _HEAD.c.compact_range).where(_HEAD.c.id == 1).with_for_update()
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)


def lock_head(session: Session) -> HeadState:
    """Lock the chain-head row for the rest of the transaction and return its state."""
    row = session.execute(_LOCK_HEAD).one_or_none()
    if row is None:
        raise LogStateError("the chain head is missing: run audit.upgrade(engine) first")
    size, head, compact = row
    return HeadState(size, bytes.fromhex(head), CompactRange.decode(size, compact))


def append(session: Session, drafts: Sequence[EntryDraft], *, clock: Clock = utc_now) -> list[Entry]:
    """Append ``drafts`` in order within the caller's transaction; return them as entries.

    The entries are flushed, not committed: the caller commits them together with its own rows. In a
    transaction of `audit.one_commit` they join its one appender instead (with that transaction's
    clock), and go in with its COMMIT.
    """
    if not drafts:
        return []
    if _SHARED in session.info:
        return shared_appender(session).add(drafts)
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
        """Seal ``drafts`` as the next entries and insert them in the session's transaction."""
        sealed = [_seal(self._state, draft, self._recorded_at) for draft in drafts]
        if sealed:
            # A Core insert on the table: the same columns, types and bytes as the ORM's flush, without
            # its unit-of-work bookkeeping, which cost more than the hashing. The entries returned are
            # plain (transient) objects; nothing reads them back through this session. In a group
            # commit, one insert for every request's entries just before it commits (each statement is
            # a round trip on PostgreSQL, made from the commit's thread); elsewhere, at once.
            # The JSON columns go in as the texts the entries' hashes were made from.
            insert_later(self._session, _INSERT_ENTRIES, [values | texts for values, texts in sealed])
        return [transient(Entry, values) for values, _ in sealed]

    def finish(self) -> None:
        """Move the chain head past everything added and flush."""
        state = self._state
        values = {"size": state.size, "head": state.head.hex(), "compact_range": state.compact.encode()}
        self._session.execute(_MOVE_HEAD, values)
        # A Core update leaves a head this session loaded as an object stale: it reloads on next use.
        loaded = self._session.identity_map.get(identity_key(ChainHead, 1))
        if loaded is not None:
            self._session.expire(loaded)
        self._session.flush()


# Where a transaction of `audit.one_commit` keeps its one appender.
_SHARED = "audit.log.shared_appender"


@dataclass
class _Shared:
    clock: Clock
    writer: BatchAppender | None = None  # made, and the chain head locked, at the first append


def share_appends(session: Session, *, clock: Clock = utc_now) -> None:
    """From now on, every append in this session's transaction joins one `BatchAppender`: one lock of
    the chain head (taken at the first append) and one move of it (`finish_shared`)."""
    session.info[_SHARED] = _Shared(clock)


def shared_appender(session: Session) -> BatchAppender:
    """The transaction's one appender, made (and the chain head locked) on first use."""
    shared: _Shared = session.info[_SHARED]
    if shared.writer is None:
        shared.writer = BatchAppender(session, clock=shared.clock)
    return shared.writer


def finish_shared(session: Session) -> None:
    """Move the chain head past what the transaction appended (nothing if it appended nothing)."""
    shared: _Shared | None = session.info.pop(_SHARED, None)
    if shared is not None and shared.writer is not None:
        shared.writer.finish()


_TABLE = Entry.__table__  # type: ignore[attr-defined]
_INSERT_ENTRIES = insert(_TABLE)  # built once: its compiled SQL is then cached by the engine
_Model = TypeVar("_Model", bound=SQLModel)


def transient(model: type[_Model], values: dict[str, Any]) -> _Model:
    """A new, unsaved instance of a table model, as ``model(**values)`` makes it, for a tenth of the CPU.

    A table model's constructor does not validate; it sets each attribute through the ORM's change
    events (~8 µs an attribute). This sets the same attributes, fields-set and defaults at once
    (`model_construct`) and then gives the instance its ORM state, so it is an ordinary transient
    object: ``session.add`` inserts it like any other.
    """
    instance = cast(_Model, model.model_construct(**values))
    class_mapper(model).class_manager.setup_instance(instance)
    return instance


def _seal(state: HeadState, draft: EntryDraft, recorded_at: str) -> tuple[dict[str, Any], dict[str, Encoded]]:
    """Give ``draft`` the next sequence number and its hashes, advancing ``state``; the row's values
    and its JSON columns encoded (once: the hash is made from the texts that are stored)."""
    seq = state.size
    if any(follow >= seq for follow in draft.follows):
        raise AuditError(f"entry {seq} may only follow earlier entries, not {list(draft.follows)}")
    values = _values(draft, seq, recorded_at)
    texts = {name: encoded(values[name]) for name in JSON_COLUMNS}
    document = {name: texts.get(name, value) for name, value in entry_document(values).items()}
    leaf = leaf_hash(canonical_object(document).encode("utf-8"))
    state.head = link_hash(state.head, leaf)
    state.compact.append(leaf)
    state.size += 1
    values["leaf_hash"] = leaf.hex()
    values["chain_hash"] = state.head.hex()
    return values, texts


def _values(draft: EntryDraft, seq: int, recorded_at: str) -> dict[str, Any]:
    values = draft.model_dump(mode="json")
    values["reasons"] = [{"rule": r.rule, "message": r.message} for r in draft.reasons]
    values["seq"] = seq
    values["recorded_at"] = recorded_at
    return values

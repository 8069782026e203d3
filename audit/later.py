"""Inserts a group commit collects: each table's rows of every request of the batch in one statement.

`audit.batcher.AppendBatcher` opens the collection for a batch (`collecting`) and writes it just
before it commits (`flush_later`); outside a group commit, `insert_later` inserts at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table, insert
from sqlmodel import Session

# Where a group commit collects the rows its requests leave for one insert per table (`insert_later`).
_LATER = "audit.later.insert_later"
_INSERTS: dict[Table, Insert] = {}


def insert_later(session: Session, table: Table | Insert, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table` in the session's transaction, with the same table's rows of every
    other request of the group commit in one statement just before it commits (the issue #17
    profile: each statement's own overhead cost more than its rows). Outside a group commit, or in
    its one-request-at-a-time retry, the rows go in now. `table` may be an insert statement of its
    own (e.g. one that skips rows already there), built once: its rows are collected under it.

    Only for rows nothing reads back before the commit; `flush_later` writes what is waiting first.
    A failure of the collected insert fails the batch, which is then retried one request at a time,
    so only the request whose rows are at fault fails, as with an insert made at once.
    """
    waiting: dict[Table | Insert, list[dict[str, Any]]] | None = session.info.get(_LATER)
    if waiting is None:
        insert_now(session, table, rows)
    else:
        waiting.setdefault(table, []).extend(rows)


def insert_now(session: Session, table: Table | Insert, rows: list[dict[str, Any]]) -> None:
    """One Core insert of `rows` on the session's connection, now (Session.execute would add ORM
    bookkeeping a Core insert never uses)."""
    session.connection().execute(table if isinstance(table, Insert) else _insert(table), rows)


def flush_later(session: Session) -> None:
    """Write the rows `insert_later` is holding, one statement per table (before reading those tables)."""
    waiting: dict[Table | Insert, list[dict[str, Any]]] | None = session.info.get(_LATER)
    if not waiting:
        return
    for table, rows in waiting.items():
        insert_now(session, table, rows)
    waiting.clear()


def _insert(table: Table) -> Insert:
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = insert(table)  # built once: its SQL is then cached by the engine
    return statement


def collecting(session: Session) -> None:
    """From now on, `insert_later` in this session collects its rows until `flush_later`."""
    session.info[_LATER] = {}


def stop_collecting(session: Session) -> None:
    """`insert_later` inserts at once again (after the batch's `flush_later`)."""
    session.info.pop(_LATER, None)

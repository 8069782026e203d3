"""Each delivery keeps its thread: the root notification of its reply chain, indexed.

A clock run from an event the payload names is one per event in a thread (`broker.delivery.event_clocks`),
and a thread branches: two replies to one notice are siblings that no walk up `in_reply_to` from either
reaches. With `thread_id` on the outbox and held deliveries, every delivery of a thread, and so every
clock it started, is found by one indexed query.

Existing rows are given their thread here, in Python, as the gateway would have recorded it: in
the order their notifications were first recorded, one that replies to nothing (its rows' JSON log
context has no `in_reply_to`) is its own root, a reply takes its parent's thread if the parent was
recorded before it, else the parent's id (a reply may name an id before that message is sent). No
walk up the chain, so no bound is needed and a loop ends where it would have. A backfill rather than
NULL and a fallback: outbox rows stay for as long as the case (retention only empties their
envelope), so a thread query would miss the clocks of rows left NULL for good. It reads three
columns of each row once and updates with one executemany per table. A row written without a thread
after this (an earlier gateway still running during a roll-out) is still followed up its
`in_reply_to` by `broker.db.threads`.

No grants: the application role's privileges are granted per table (`broker.db.privileges`), so they
cover the new columns, and this runs as the tables' owner like every revision.

b0001 builds its baseline from today's table models, so on a new database the columns exist already
when this revision runs; it adds only what is missing (and finds no rows to fill).

Revision ID: b0007
Revises: b0006
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "b0007"
down_revision = "b0006"
branch_labels = None
depends_on = None

_TABLES = ("outbox", "held_delivery")


def _table(name: str) -> sa.TableClause:
    columns = ("notification_id", sa.String()), ("thread_id", sa.String()), ("created_at", sa.DateTime())
    return sa.table(name, *(sa.column(c, t) for c, t in columns), sa.column("log_context", sa.JSON()))


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name in _TABLES:
        if "thread_id" not in {c["name"] for c in inspector.get_columns(name)}:
            op.add_column(name, sa.Column("thread_id", sa.String(), nullable=True))
            op.create_index(f"ix_{name}_thread_id", name, ["thread_id"])
    roots = _roots(_replies(op.get_bind()))
    for name in _TABLES:
        table = _table(name)
        fill = (
            sa.update(table)
            .where(table.c.notification_id == sa.bindparam("n"), table.c.thread_id.is_(None))
            .values(thread_id=sa.bindparam("t"))
        )
        if roots:
            op.get_bind().execute(fill, [{"n": n, "t": t} for n, t in roots.items()])


def _replies(connection: sa.Connection) -> list[tuple[str, str | None]]:
    """(notification, its in_reply_to) for every notification without a thread, first recorded first."""
    found: dict[str, tuple[datetime, str | None]] = {}
    for name in _TABLES:
        table = _table(name)
        query = sa.select(table.c.notification_id, table.c.created_at, table.c.log_context).where(
            table.c.thread_id.is_(None)
        )
        for notification_id, created_at, context in connection.execute(query):
            parent = (context or {}).get("in_reply_to")
            earliest = min(created_at, found[notification_id][0]) if notification_id in found else created_at
            found[notification_id] = earliest, parent if isinstance(parent, str) else None
    return [(n, parent) for n, (_at, parent) in sorted(found.items(), key=lambda item: item[1][0])]


def _roots(replies: list[tuple[str, str | None]]) -> dict[str, str]:
    """Each notification's thread, as the gateway records it (`broker.db.threads`): its own id if it
    replies to nothing, else its parent's thread if the parent was recorded before it, else the
    parent's id. In the order they were recorded, so no walk: a loop (a reply naming an id before
    that message was sent) ends where it would have."""
    roots: dict[str, str] = {}
    for notification_id, parent in replies:
        roots[notification_id] = notification_id if parent is None else roots.get(parent, parent)
    return roots


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_thread_id")
            batch.drop_column("thread_id")

"""Each clock that ran out keeps the seq of its `overdue` log entry, indexed.

A page tells which clock an `overdue` entry is about: when it was due, and whether it is the sending
agency's own duty (an urgent share's review afterwards), which a recipient neither reads on its decision
page nor on its Overdue page. The entry says so only in its words ("Overdue: " and the clock's
description), and two clocks of one delivery may share a description, so a clock now records the entry.

Existing clocks are given theirs here, as the pages matched them until now: the earliest `overdue`
entry of the clock's delivery whose reasons hold "Overdue: <description>" (cut to 500 characters, as
`broker.delivery.clocks.mark_overdue` writes it), one entry to each clock. A backfill rather than
NULL and a fallback on words: clocks stay for as long as their case, so the words would be read for good.
It reads the delivery's `overdue` entries once per clock that ran out.

No grants: the application role's privileges are granted per table (`broker.db.privileges`), so they
cover the new column, and this runs as the tables' owner like every revision.

b0001 builds its baseline from today's table models, so on a new database the column exists already
when this revision runs; it adds only what is missing (and finds no clock to fill).

Revision ID: b0008
Revises: b0007
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "b0008"
down_revision = "b0007"
branch_labels = None
depends_on = None

_CLOCKS = sa.table(
    "obligation_clock",
    sa.column("id", sa.Integer()),
    sa.column("delivery_id", sa.String()),
    sa.column("description", sa.String()),
    sa.column("overdue_at", sa.DateTime()),
    sa.column("overdue_seq", sa.BigInteger()),
)
_ENTRIES = sa.table(
    "audit_entry",
    sa.column("seq", sa.BigInteger()),
    sa.column("delivery_id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("reasons", sa.Text()),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "overdue_seq" not in {c["name"] for c in inspector.get_columns("obligation_clock")}:
        op.add_column("obligation_clock", sa.Column("overdue_seq", sa.BigInteger(), nullable=True))
        op.create_index("ix_obligation_clock_overdue_seq", "obligation_clock", ["overdue_seq"])
    found = _entries_of(op.get_bind())
    if found:
        fill = sa.update(_CLOCKS).where(_CLOCKS.c.id == sa.bindparam("i")).values(overdue_seq=sa.bindparam("s"))
        op.get_bind().execute(fill, [{"i": clock, "s": seq} for clock, seq in found.items()])


def _entries_of(connection: sa.Connection) -> dict[int, int]:
    """Each clock that ran out without its entry's seq, by clock id: its delivery's earliest `overdue`
    entry in its words not already another clock's."""
    clocks = connection.execute(
        sa.select(_CLOCKS.c.id, _CLOCKS.c.delivery_id, _CLOCKS.c.description)
        .where(_CLOCKS.c.overdue_at.is_not(None), _CLOCKS.c.overdue_seq.is_(None))
        .order_by(_CLOCKS.c.overdue_at, _CLOCKS.c.id)
    ).all()
    taken: set[int] = set()
    found: dict[int, int] = {}
    for clock, delivery_id, description in clocks:
        said = f"Overdue: {description}"[:500]
        entries = connection.execute(
            sa.select(_ENTRIES.c.seq, _ENTRIES.c.reasons)
            .where(_ENTRIES.c.delivery_id == delivery_id, _ENTRIES.c.kind == "overdue")
            .order_by(_ENTRIES.c.seq)
        ).all()
        for seq, reasons in entries:
            if seq not in taken and said in _messages(reasons):
                taken.add(seq)
                found[clock] = seq
                break
    return found


def _messages(reasons: Any) -> set[str]:
    listed = json.loads(reasons) if isinstance(reasons, str) else reasons
    return {str(r.get("message")) for r in listed or () if isinstance(r, dict)}


def downgrade() -> None:
    with op.batch_alter_table("obligation_clock") as batch:
        batch.drop_index("ix_obligation_clock_overdue_seq")
        batch.drop_column("overdue_seq")

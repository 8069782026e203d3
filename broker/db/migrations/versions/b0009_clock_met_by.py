"""Each clock a reply met keeps the reply's notification id (`met_by`), indexed.

A clock kept when it stopped, not what stopped it, so the page after sending a reply could not say which
deadline it met, nor the referral's page which reply met its deadline. A reply now records itself on
each clock it stops (`broker.delivery.clocks`), and the reply's decision lists the clocks it met.

No backfill: before this revision nothing tied a stopped clock to the reply that stopped it (a reply
released from a hold stopped its clocks at a moment of its own), so any guess by time could name the
wrong reply. A clock met before it reads "Met on …" as before, naming no reply.

No grants: the application role's privileges are granted per table (`broker.db.privileges`), so they
cover the new column, and this runs as the tables' owner like every revision.

b0001 builds its baseline from today's table models, so on a new database the column exists already
when this revision runs; it adds only what is missing.

Revision ID: b0009
Revises: b0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0009"
down_revision = "b0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "met_by" not in {c["name"] for c in inspector.get_columns("obligation_clock")}:
        op.add_column("obligation_clock", sa.Column("met_by", sa.String(), nullable=True))
        op.create_index("ix_obligation_clock_met_by", "obligation_clock", ["met_by"])


def downgrade() -> None:
    with op.batch_alter_table("obligation_clock") as batch:
        batch.drop_index("ix_obligation_clock_met_by")
        batch.drop_column("met_by")

"""A shredded case key keeps its reason code, so a delivery published in the same instant as the
shredding still gets an erasure notice that says why.

The relay can publish a row it read just before the shredding committed; it then finds the key
gone when it marks the row, and sends the erasure itself, with this reason. Keys shredded before
this revision keep NULL (their shredding's log entries hold the reason).

Revision ID: b0004
Revises: b0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0004"
down_revision = "b0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_key", sa.Column("shredded_reason", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_key") as batch:
        batch.drop_column("shredded_reason")

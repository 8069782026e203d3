"""Who a notification names as acting for the sending agency, so they see it as their own.

Revision ID: b0002
Revises: b0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0002"
down_revision = "b0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "named_person",
        sa.Column("notification_id", sa.String(), nullable=False),
        sa.Column("agency_id", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", "agency_id", "person"),
    )
    op.create_index("ix_named_person_person", "named_person", ["person"])


def downgrade() -> None:
    op.drop_index("ix_named_person_person", table_name="named_person")
    op.drop_table("named_person")

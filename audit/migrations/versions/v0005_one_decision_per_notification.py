"""A notification id is decided once: its policy input is unique per notification.

Revision ID: audit0005
Revises: audit0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit0005"
down_revision: str | None = "audit0004"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "audit_policy_input"
INDEX = f"ix_{TABLE}_notification_id"


def upgrade() -> None:
    """Make the notification id's index unique; refuse, naming them, if ids were already decided twice."""
    # Withdrawal, correction and review find a notification by its id: a second body under the same id
    # would be recalled, corrected and reviewed with the first. The rows cannot be changed (append-only),
    # so a log that already holds such twins is for its IG lead to look at, not for a migration to hide.
    table = sa.table(TABLE, sa.column("notification_id"))
    twice = sa.select(table.c.notification_id).group_by(table.c.notification_id).having(sa.func.count() > 1).limit(5)
    twins = op.get_bind().execute(twice).scalars().all()
    if twins:
        raise RuntimeError(f"notification ids decided more than once, so they cannot be made unique: {twins}")
    op.drop_index(INDEX, table_name=TABLE)
    op.create_index(INDEX, TABLE, ["notification_id"], unique=True)


def downgrade() -> None:
    """Refuse: the decision log is never downgraded."""
    raise RuntimeError("the decision log is never downgraded")

"""Each decision's policy input, kept for replay under another policy revision; append-only.

Revision ID: audit0004
Revises: audit0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit0004"
down_revision: str | None = "audit0003"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "audit_policy_input"


def upgrade() -> None:
    """Create the table and refuse updates and deletes on it, as on the log itself."""
    op.create_table(
        TABLE,
        sa.Column("first_seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("notification_id", sa.String(128), nullable=False),
        sa.Column("seqs", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index(f"ix_{TABLE}_notification_id", TABLE, ["notification_id"])
    if op.get_bind().dialect.name == "postgresql":
        # audit_reject_change() comes from audit0001.
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION audit_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} BEGIN "
            f"SELECT RAISE(ABORT, 'audit: {verb} on {TABLE} refused: the log is append-only'); END"
        )


def downgrade() -> None:
    """Refuse: the inputs are the evidence a replay stands on."""
    raise RuntimeError("the decision log is never downgraded")

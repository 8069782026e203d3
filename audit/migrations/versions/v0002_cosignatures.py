"""Witness cosignatures on checkpoints, append-only like the log.

Revision ID: audit0002
Revises: audit0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit0002"
down_revision: str | None = "audit0001"
branch_labels: str | None = None
depends_on: str | None = None

TABLE = "audit_checkpoint_cosignature"


def upgrade() -> None:
    """Create the cosignature table and refuse updates and deletes on it."""
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tree_size", sa.BigInteger(), sa.ForeignKey("audit_checkpoint.tree_size"), nullable=False),
        sa.Column("witness_name", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.UniqueConstraint("tree_size", "witness_name", "key_id", name="uq_audit_checkpoint_cosignature_witness"),
    )
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
    """Refuse: dropping cosignatures would destroy the witnesses' evidence."""
    raise RuntimeError("the decision log is never downgraded")

"""Each entry names the rules that decided it (entry format 2), and the later event kinds.

Revision ID: audit0003
Revises: audit0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit0003"
down_revision: str | None = "audit0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `deciding_rules` (canonical JSON, `[]` for every entry written before it existed)."""
    # An ADD COLUMN with a default touches no existing row, so the append-only triggers stay quiet,
    # and `[]` keeps earlier entries in format 1 (their documents, and so their hashes, unchanged).
    op.add_column("audit_entry", sa.Column("deciding_rules", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    """Refuse: the decision log is never downgraded."""
    raise RuntimeError("the decision log is never downgraded")

"""Each entry says which of its reasons decided it (entry format 3), not only their rules.

Revision ID: audit0006
Revises: audit0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit0006"
down_revision: str | None = "audit0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `deciding_reasons` (canonical JSON, `[]` for every entry written before it existed)."""
    # As for `deciding_rules`: an ADD COLUMN with a default touches no existing row, and `[]` keeps
    # earlier entries in their format (their documents, and so their hashes, unchanged).
    op.add_column("audit_entry", sa.Column("deciding_reasons", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    """Refuse: the decision log is never downgraded."""
    raise RuntimeError("the decision log is never downgraded")

"""Each decision names the findings that did not decide it but would on their own have held or stopped
it (entry format 4).

Revision ID: audit0007
Revises: audit0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit0007"
down_revision: str | None = "audit0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `blocking_reasons` (canonical JSON, `[]` for every entry written before it existed)."""
    # As for `deciding_reasons`: `[]` keeps earlier entries in their format, so their hashes hold.
    op.add_column("audit_entry", sa.Column("blocking_reasons", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    """Refuse: the decision log is never downgraded."""
    raise RuntimeError("the decision log is never downgraded")

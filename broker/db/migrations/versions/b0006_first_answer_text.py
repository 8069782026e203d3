"""An Idempotency-Key's first answer is kept as the JSON text that was sent, not re-encoded.

The gateway encodes a receipt once and answers a retry with the same bytes. PostgreSQL's `json`
type keeps its input text as given, so the cast to `text` keeps every stored answer as it was.
SQLite already stores JSON as text, so there is nothing to change there.

Revision ID: b0006
Revises: b0005
"""

from __future__ import annotations

from alembic import op

revision = "b0006"
down_revision = "b0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE idempotency ALTER COLUMN response TYPE text USING response::text")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE idempotency ALTER COLUMN response TYPE json USING response::json")

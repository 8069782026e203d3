"""One key per case, so every stored copy about one child can be destroyed at once (crypto-shredding).

Adds the `case_key` table (at most one live key per case: a partial unique index) and, on the outbox
and held deliveries, the case key and nonce their ciphertext was made with. Rows written before this
revision keep NULL there: plaintext, as before.

b0001 builds its baseline from today's table models, so on a new database the two tables already
have the new columns when this revision runs; it adds only what is missing.

Revision ID: b0003
Revises: b0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0003"
down_revision = "b0002"
branch_labels = None
depends_on = None

# (table, column, type, indexed): the columns this revision adds to existing tables.
_COLUMNS = (
    ("outbox", "case_key_id", sa.Integer(), True),
    ("outbox", "nonce", sa.LargeBinary(), False),
    ("held_delivery", "case_key_id", sa.Integer(), True),
    ("held_delivery", "case_nonce", sa.LargeBinary(), False),
)


def upgrade() -> None:
    op.create_table(
        "case_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("shredded_at", sa.DateTime(), nullable=True),
        sa.Column("shredded_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_key_case_ref", "case_key", ["case_ref"])
    live = sa.text("key IS NOT NULL")
    op.create_index("uq_case_key_live", "case_key", ["case_ref"], unique=True, sqlite_where=live, postgresql_where=live)
    inspector = sa.inspect(op.get_bind())
    for table, column, type_, indexed in _COLUMNS:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        op.add_column(table, sa.Column(column, type_, nullable=True))
        if indexed:
            op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, column, _type, indexed in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            if indexed:
                batch.drop_index(f"ix_{table}_{column}")
            batch.drop_column(column)
    op.drop_index("uq_case_key_live", table_name="case_key")
    op.drop_index("ix_case_key_case_ref", table_name="case_key")
    op.drop_table("case_key")

"""Create the decision log, its chain head and checkpoints, with append-only triggers.

Revision ID: audit0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "audit0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

APPEND_ONLY = ("audit_entry", "audit_checkpoint")
_ENTRY_INDEXES = (
    "recorded_at",
    "notification_id",
    "delivery_id",
    "outcome",
    "sender_agency",
    "recipient_agency",
)


def upgrade() -> None:
    """Create the tables, seed the genesis chain head and install the triggers."""
    _create_entry_table()
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("compact_range", sa.Text(), nullable=False),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tree_size", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("chain_head", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    genesis = sa.text("INSERT INTO audit_chain_head (id, size, head, compact_range) VALUES (1, 0, :head, '')")
    op.execute(genesis.bindparams(head="0" * 64))
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    """Refuse: dropping the decision log would destroy the evidence it exists to keep."""
    raise RuntimeError("the decision log is never downgraded")


def _create_entry_table() -> None:
    text = {"reasons", "fields_released", "follows", "subjects"}
    sized = {
        "recorded_at": 27,
        "notification_id": 128,
        "delivery_id": 128,
        "kind": 32,
        "outcome": 64,
        "sender_agency": 64,
        "sender_role": 64,
        "recipient_agency": 64,
        "message_type": 64,
    }
    optional = {
        "lawful_basis": 64,
        "consent_state": 64,
        "projection_digest": 64,
        "policy_revision": 128,
        "decision_id": 128,
        "actor": 128,
        "actor_role": 64,
        "actor_agency": 64,
    }
    columns: list[sa.Column[Any]] = [sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False)]
    columns += [sa.Column(name, sa.String(n), nullable=False) for name, n in sized.items()]
    columns += [sa.Column(name, sa.String(n), nullable=True) for name, n in optional.items()]
    columns += [sa.Column(name, sa.Text(), nullable=False) for name in sorted(text)]
    columns += [sa.Column(name, sa.String(64), nullable=False) for name in ("leaf_hash", "chain_hash")]
    op.create_table("audit_entry", *columns)
    for name in _ENTRY_INDEXES:
        op.create_index(f"ix_audit_entry_{name}", "audit_entry", [name])


def _postgres_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit: % on % refused: the decision log is append-only', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id <> OLD.id OR NEW.size < OLD.size THEN
                RAISE EXCEPTION 'audit: the chain head only moves forward'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()"
        )
    op.execute(
        "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_reject_change()"
    )


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'audit: {verb} on {table} refused: the log is append-only'); END"
            )
    op.execute(
        "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
        "WHEN NEW.id <> OLD.id OR NEW.size < OLD.size BEGIN "
        "SELECT RAISE(ABORT, 'audit: the chain head only moves forward'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head BEGIN "
        "SELECT RAISE(ABORT, 'audit: DELETE on audit_chain_head refused'); END"
    )

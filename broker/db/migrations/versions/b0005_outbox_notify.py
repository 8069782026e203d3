"""On PostgreSQL, a row waiting in the outbox wakes the relay: `NOTIFY sgb_outbox` in its transaction.

A row-level trigger for every outbox row that is (again) unpublished: a new delivery, a released
one, a redelivery. PostgreSQL sends a transaction's identical notifications once, when it commits,
so a group commit of many deliveries wakes the relay once, and only after its rows are visible.
The relay (`broker.delivery.listener`) listens for it and polls only as a fallback; SQLite has no
notifications, so there the relay polls as before.

Revision ID: b0005
Revises: b0004
"""

from __future__ import annotations

from alembic import op

revision = "b0005"
down_revision = "b0004"
branch_labels = None
depends_on = None

# The channel `broker.delivery.listener.CHANNEL` listens on.
_FUNCTION = """
CREATE FUNCTION sgb_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sgb_outbox', '');
    RETURN NULL;
END
$$
"""
_TRIGGER = """
CREATE TRIGGER outbox_waiting AFTER INSERT OR UPDATE OF published_at ON outbox
FOR EACH ROW WHEN (NEW.published_at IS NULL) EXECUTE FUNCTION sgb_outbox_notify()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER outbox_waiting ON outbox")
    op.execute("DROP FUNCTION sgb_outbox_notify()")

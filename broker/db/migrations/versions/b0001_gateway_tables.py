"""The gateway's tables as of the first release.

The baseline is created from the table models themselves; later revisions change them with explicit
Alembic operations, so a deployed database moves forward step by step.

Revision ID: b0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import broker.admission.replay
import broker.ui.sessions  # noqa: F401 - registers the UI session table
from broker.db.tables import BrokerTable

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None


# The tables of the first release. A table added later is created by its own revision, never here.
BASELINE = (
    "outbox",
    "held_delivery",
    "held_key",
    "idempotency",
    "relay_lease",
    "obligation_clock",
    "seen_token",
    "ui_session",
)


def _baseline() -> list[sa.Table]:
    return [BrokerTable.metadata.tables[name] for name in BASELINE]


def upgrade() -> None:
    BrokerTable.metadata.create_all(bind=op.get_bind(), tables=_baseline())


def downgrade() -> None:
    BrokerTable.metadata.drop_all(bind=op.get_bind(), tables=_baseline())

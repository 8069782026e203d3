"""The gateway's tables as of the first release.

The baseline is created from the table models themselves; later revisions change them with explicit
Alembic operations, so a deployed database moves forward step by step.

Revision ID: b0001
Revises:
"""

from __future__ import annotations

from alembic import op

import broker.admission.replay
import broker.ui.sessions  # noqa: F401 - registers the UI session table
from broker.db.tables import BrokerTable

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    BrokerTable.metadata.create_all(bind=op.get_bind())


def downgrade() -> None:
    BrokerTable.metadata.drop_all(bind=op.get_bind())

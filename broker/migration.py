"""The gateway's own tables, migrated with Alembic under their own version table.

The decision log's tables belong to `audit` and its migration history; this history covers only
the outbox, pending store, idempotency and replay records, relay lease, clocks and UI sessions.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

VERSION_TABLE = "broker_alembic_version"
_SCRIPTS = Path(__file__).with_name("migrations")


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(_SCRIPTS / "versions"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

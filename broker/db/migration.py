"""The gateway's own tables, migrated with Alembic under their own version table.

The decision log's tables belong to `audit` and its migration history; this history covers only
the outbox, pending store, idempotency and replay records, relay lease, clocks and UI sessions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

VERSION_TABLE = "broker_alembic_version"
_SCRIPTS = Path(__file__).with_name("migrations")
# Every process migrating one PostgreSQL database takes this same advisory lock ("SGBm").
_MIGRATION_LOCK = 0x5347_426D


@contextlib.contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    """Let gateways and workers that start together migrate one at a time.

    Without it two processes racing on a fresh PostgreSQL database both try to create the version
    tables and one fails to start. SQLite's DDL already takes the file's write lock.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(_SCRIPTS / "versions"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

"""Run the audit package's Alembic migrations programmatically (the gateway does at start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from audit.engine import create_engine_for

VERSION_TABLE = "audit_alembic_version"
"""Kept apart from other packages' ``alembic_version`` so each owns its own migration history."""

_SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """Return an Alembic config pointing at ``audit/migrations`` (no ``alembic.ini`` needed)."""
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(_SCRIPTS / "versions"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the audit tables and triggers on ``engine`` up to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def migrate(url: str) -> None:
    """Create an engine for ``url``, upgrade it to the latest revision and dispose of it."""
    engine = create_engine_for(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()

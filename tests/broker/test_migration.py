"""The gateway's tables come from its own Alembic history, on SQLite and PostgreSQL, repeatably."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

import audit
from broker.db.log import prepare_database

EXPECTED = {
    "outbox",
    "held_delivery",
    "held_key",
    "idempotency",
    "relay_lease",
    "obligation_clock",
    "seen_token",
    "broker_alembic_version",
    "audit_entry",
    "audit_alembic_version",
}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def test_prepare_database_creates_every_table_and_is_repeatable(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = audit.create_engine_for(url)
    try:
        prepare_database(engine)
        prepare_database(engine)  # a restart must find nothing to do
        assert set(inspect(engine).get_table_names()) >= EXPECTED
    finally:
        engine.dispose()

"""The gateway's tables come from its own Alembic history, on SQLite and PostgreSQL, repeatably."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session

import audit
from broker.admission import idempotency
from broker.db import migration
from broker.db.log import prepare_database
from tests.broker.migrations import downgrade

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


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
async def test_a_first_answer_stored_before_b0006_is_answered_again_unchanged(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """b0006 keeps an Idempotency-Key's first answer as text: one stored as JSON before it still answers."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = audit.create_engine_for(url)
    stored = '{"notification_id": "n-old", "recipients": [{"outcome": "share", "agency_id": "a \\u2014 b"}]}'
    try:
        prepare_database(engine)
        downgrade(engine, "b0005")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO idempotency (agency_id, key, body_digest, notification_id, response, created_at) "
                    "VALUES ('a', 'k-old', 'd', 'n-old', :response, :now)"
                ),
                {"response": stored, "now": datetime.now(UTC)},
            )
        migration.upgrade(engine)
        assert await idempotency.find(engine, "a", "k-old", "d") == stored.encode()
        with Session(engine) as session, session.begin():
            idempotency.remember(session, "a", "k-new", "d", "n-new", '{"é":1}'.encode(), datetime.now(UTC))
        assert await idempotency.find(engine, "a", "k-new", "d") == '{"é":1}'.encode()
    finally:
        engine.dispose()

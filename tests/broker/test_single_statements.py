"""One-statement reads run with no transaction around them, on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlmodel import Session

import audit
from broker.admission import idempotency
from broker.db.log import DecisionLog
from tests.audit import conftest as log_fixtures
from tests.statements import sent

db_url = log_fixtures.db_url  # a fresh database on SQLite and on PostgreSQL


@pytest.fixture
async def decision_log(db_url: str) -> AsyncIterator[DecisionLog]:
    signer = audit.Signer("test.broker.invalid/decision-log", Ed25519PrivateKey.generate())
    async with DecisionLog.opened(db_url, signer=signer) as opened:
        yield opened


async def test_the_idempotency_lookup_needs_no_transaction_of_its_own(decision_log: DecisionLog) -> None:
    with Session(decision_log.engine) as session, session.begin():
        now = datetime.now(UTC)
        idempotency.remember(session, "agency-a", "key-1", "digest", "ntf-1", b'{"status":"accepted"}', now)

    with sent(decision_log.lookups) as lookups:
        assert await idempotency.find(decision_log.lookups, "agency-a", "key-1", "digest") == b'{"status":"accepted"}'
    assert [s for s in lookups if s.verb == "BEGIN"] == []  # SQLite would show its BEGIN here (`_on_begin`)
    with sent(decision_log.reader) as snapshot_reads, decision_log.reader.connect() as connection:
        connection.execute(text("SELECT 1")).one()
    if decision_log.engine.dialect.name == "postgresql":
        # No BEGIN before the lookup and no ROLLBACK after it: two of its four round trips.
        with decision_log.lookups.connect() as connection:
            dbapi_connection = connection.connection.dbapi_connection
            assert dbapi_connection is not None and dbapi_connection.autocommit
        with decision_log.reader.connect() as connection:  # the verifiers' snapshot reads keep theirs
            dbapi_connection = connection.connection.dbapi_connection
            assert dbapi_connection is not None and not dbapi_connection.autocommit
            assert connection.get_isolation_level() == "REPEATABLE READ"
    else:
        # SQLite: the lookup emits no BEGIN, so it is one statement in autocommit; the verifiers' snapshot
        # reads on the same pool still begin their own transaction (deferred: no write lock).
        assert snapshot_reads[0].sql == "BEGIN DEFERRED"

"""The gateway's tables come from its own Alembic history, on SQLite and PostgreSQL, repeatably."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, inspect, text
from sqlmodel import Session

import audit
from broker.admission import idempotency
from broker.db import migration
from broker.db.provisioning import prepare_database
from tests.broker.migrations import downgrade
from tests.factories import shared_draft

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


def _delivery(connection: Connection, table: str, notification_id: str, in_reply_to: str | None, at: datetime) -> None:
    """A row of `table` as a gateway before b0007 wrote it: no thread, its parent in its log context."""
    context = json.dumps({"in_reply_to": in_reply_to})
    common = {"d": f"d-{notification_id}", "n": notification_id, "c": context, "at": at}
    if table == "outbox":
        statement = (
            "INSERT INTO outbox (delivery_id, notification_id, recipient_agency, topic, key, headers, envelope, "
            "log_context, created_at) VALUES (:d, :n, 'a', 't', 'k', '{}', :e, :c, :at)"
        )
    else:
        statement = (
            "INSERT INTO held_delivery (delivery_id, notification_id, recipient_agency, outcome, topic, key, "
            "headers, nonce, ciphertext, log_context, created_at, expires_at) "
            "VALUES (:d, :n, 'a', 'hold', 't', 'k', '{}', :e, :e, :c, :at, :at)"
        )
    connection.execute(text(statement), {**common, "e": b"x"})


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def test_b0007_gives_every_existing_delivery_its_thread(backend: str, request: pytest.FixtureRequest) -> None:
    """From b0006 to head: each row gets the root of its reply chain, as the gateway would have recorded it."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = audit.create_engine_for(url)
    start = datetime(2026, 1, 5, 9, 0)
    rows = [  # (table, notification, in_reply_to): in the order they were recorded
        ("outbox", "notice", None),
        ("outbox", "icmd", "notice"),
        ("held_delivery", "held-reply", "icmd"),
        ("outbox", "sibling", "notice"),
        ("outbox", "orphan", "never-recorded"),
        ("outbox", "early", "late"),  # a reply naming an id before that message was sent
        ("outbox", "late", "early"),
    ]
    try:
        prepare_database(engine)
        downgrade(engine, "b0006")
        assert "thread_id" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
        with engine.begin() as connection:
            for minute, (table, notification_id, parent) in enumerate(rows):
                _delivery(connection, table, notification_id, parent, start + timedelta(minutes=minute))
        migration.upgrade(engine)
        with engine.connect() as connection:
            threads: dict[str, str] = dict(
                connection.execute(text("SELECT notification_id, thread_id FROM outbox")).all()
            )
            threads |= dict(connection.execute(text("SELECT notification_id, thread_id FROM held_delivery")).all())
        assert threads == {
            "notice": "notice",
            "icmd": "notice",
            "held-reply": "notice",
            "sibling": "notice",
            "orphan": "never-recorded",
            "early": "late",
            "late": "late",
        }
        assert {"ix_outbox_thread_id"} <= {i["name"] for i in inspect(engine).get_indexes("outbox")}
    finally:
        engine.dispose()


def _clock(connection: Connection, delivery_id: str, description: str, overdue_at: datetime | None) -> int:
    """A clock as a gateway before b0008 kept it: run out (or not), without its entry's seq."""
    values = {"d": delivery_id, "desc": description, "due": datetime(2026, 1, 5, 9, 0), "late": overdue_at}
    connection.execute(
        text(
            "INSERT INTO obligation_clock (delivery_id, notification_id, recipient_agency, sender_agency, kind, "
            "rule, description, due_at, stops_on, overdue_at, log_context) "
            "VALUES (:d, 'n', 'a', 's', 'k', 'I1', :desc, :due, 'x', :late, '{}')"
        ),
        values,
    )
    return int(connection.execute(text("SELECT max(id) FROM obligation_clock")).scalar_one())


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def test_b0008_gives_each_clock_that_ran_out_its_overdue_entry(backend: str, request: pytest.FixtureRequest) -> None:
    """From b0007 to head: a clock that ran out gets the seq of its delivery's `overdue` entry in its words,
    one entry to each clock (two of one delivery may share a description); others get none."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = audit.create_engine_for(url)
    said = "Decide on the referral within one working day"
    late = datetime(2026, 1, 6, 9, 0)
    try:
        prepare_database(engine)
        downgrade(engine, "b0007")
        assert "overdue_seq" not in {c["name"] for c in inspect(engine).get_columns("obligation_clock")}
        with Session(engine) as session:
            reasons = (audit.Reason(rule="I1", message=f"Overdue: {said}"),)
            drafts = [
                shared_draft("n1", "a", kind=audit.EventKind.OVERDUE, reasons=reasons),
                shared_draft("n1", "a", kind=audit.EventKind.DECIDED),
                shared_draft("n1", "a", kind=audit.EventKind.OVERDUE, reasons=reasons),
            ]
            first, _, second = (e.seq for e in audit.append(session, drafts))
            session.commit()
        with engine.begin() as connection:
            clocks = [
                _clock(connection, "n1.a", said, late),
                _clock(connection, "n1.a", said, late),
                _clock(connection, "n1.a", said, None),  # still running
                _clock(connection, "n2.a", said, late),  # another delivery's words are not its own
            ]
        migration.upgrade(engine)
        with engine.connect() as connection:
            found: dict[int, int | None] = dict(
                connection.execute(text("SELECT id, overdue_seq FROM obligation_clock")).all()
            )
        assert [found[c] for c in clocks] == [first, second, None, None]
        assert "ix_obligation_clock_overdue_seq" in {i["name"] for i in inspect(engine).get_indexes("obligation_clock")}
    finally:
        engine.dispose()

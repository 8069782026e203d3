"""`bench.statements` counts what a request asks the database, by statement kind and table."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from bench.statements import StatementCount, kind


def test_a_statement_is_named_by_its_verb_and_tables() -> None:
    assert kind("INSERT INTO outbox (id, envelope) VALUES (?, ?)") == "INSERT outbox"
    assert kind("SELECT o.id FROM outbox o LEFT OUTER JOIN case_key k ON k.id = o.case_key_id") == (
        "SELECT outbox case_key"
    )
    assert kind('UPDATE "audit_chain_head" SET size=?') == "UPDATE audit_chain_head"
    assert kind("  ") == "(empty)"


def test_only_what_runs_while_counting_is_counted_per_request() -> None:
    engine = create_engine("sqlite://")
    count = StatementCount()
    count.install()
    try:
        with engine.begin() as connection:  # not counted: set-up
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        count.counting = True
        for value in (1, 2):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
            with engine.connect() as connection:
                connection.execute(text("SELECT x FROM t")).all()
        count.counting = False
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM t"))
    finally:
        count.remove()
    assert count.per_request(2) == {
        "statements": 2.0,
        "commits": 1.0,
        "rollbacks": 1.0,
        "by_kind": {"INSERT t": 1.0, "SELECT t": 1.0},
    }

"""The engine factory's SQLite WAL checkpoints: inside a commit by default, or left to `checkpoint_wal`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, make_url
from sqlmodel import Session

from audit import EntryDraft, WalCheckpoint, append, checkpoint_wal, create_engine_for, has_wal, upgrade, verify_log
from audit.engine import pipelined
from tests.audit.conftest import autocheckpoint_pages


def _database_file(engine: Engine) -> Path:
    return Path(str(make_url(str(engine.url)).database))


def test_sqlite_checkpoints_inside_commits_unless_told_not_to(sqlite_url: str) -> None:
    default, deferred = create_engine_for(sqlite_url), create_engine_for(sqlite_url, wal_autocheckpoint=False)
    try:
        assert autocheckpoint_pages(default) == 1000  # SQLite's own threshold, in pages
        assert autocheckpoint_pages(deferred) == 0
    finally:
        default.dispose()
        deferred.dispose()


def test_checkpoint_wal_copies_what_commits_left_in_the_wal(
    sqlite_url: str, make_draft: Callable[..., EntryDraft]
) -> None:
    engine = create_engine_for(sqlite_url, wal_autocheckpoint=False)
    try:
        upgrade(engine)
        checkpoint_wal(engine)
        before = _database_file(engine).stat().st_size
        for _ in range(20):
            with Session(engine) as session, session.begin():
                append(session, [make_draft(), make_draft(outcome="no_share")])
        # The commits wrote only to the WAL: the database file is as it was.
        assert _database_file(engine).stat().st_size == before

        done = checkpoint_wal(engine)

        assert isinstance(done, WalCheckpoint)
        assert done.wal_pages > 0
        assert done.checkpointed_pages == done.wal_pages
        assert _database_file(engine).stat().st_size > before
        with Session(engine) as session:
            assert verify_log(session).size == 40
    finally:
        engine.dispose()


def test_checkpoint_wal_has_nothing_to_do_without_a_wal(engine: Engine) -> None:
    # `engine` is SQLite in a file and then PostgreSQL; in-memory SQLite has no WAL either.
    memory = create_engine_for("sqlite://")
    try:
        assert checkpoint_wal(memory) is None
        assert not has_wal(memory)
    finally:
        memory.dispose()
    expected = WalCheckpoint if engine.dialect.name == "sqlite" else type(None)
    assert isinstance(checkpoint_wal(engine), expected)
    assert has_wal(engine) == (engine.dialect.name == "sqlite")


# A table of the tests' own, in its own metadata, so no other test's create_all sees it.
_METADATA = sa.MetaData()
_ROWS = sa.Table("audit_test_pipelined", _METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))


def _pipeline_status(connection: sa.Connection) -> object:
    driver = connection.connection.driver_connection
    return driver.pgconn.pipeline_status if isinstance(driver, psycopg.Connection) else None


def test_pipelined_writes_commit_together(engine: Engine) -> None:
    _METADATA.create_all(engine)
    seen: list[object] = []
    with engine.connect() as connection:

        @sa.event.listens_for(connection, "before_cursor_execute")
        def _status(conn: sa.Connection, _cursor: object, statement: str, *_: object) -> None:
            if statement.startswith("INSERT"):
                seen.append(_pipeline_status(conn))

        with pipelined(connection):
            connection.execute(sa.insert(_ROWS), [{"id": 1}, {"id": 2}])
            connection.execute(sa.insert(_ROWS), {"id": 3})
            connection.commit()
        assert _pipeline_status(connection) in (None, psycopg.pq.PipelineStatus.OFF)
    # PostgreSQL sent both inserts without waiting for either (the COMMIT waited for them); SQLite ran them.
    expected = psycopg.pq.PipelineStatus.ON if engine.dialect.name == "postgresql" else None
    assert seen == [expected, expected]
    with engine.connect() as connection:
        assert connection.execute(sa.select(_ROWS.c.id).order_by(_ROWS.c.id)).scalars().all() == [1, 2, 3]


def test_a_failed_pipeline_commits_nothing_and_hands_back_a_clean_connection(engine: Engine) -> None:
    _METADATA.create_all(engine)
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError), pipelined(connection):
        connection.execute(sa.insert(_ROWS), {"id": 1})
        connection.execute(sa.insert(_ROWS), {"id": 1})
        connection.commit()
    # The pool hands the same connection out again: it must not still be in the failed transaction.
    with engine.connect() as connection:
        connection.execute(sa.insert(_ROWS), {"id": 2})
        connection.commit()
        assert connection.execute(sa.select(_ROWS.c.id)).scalars().all() == [2]

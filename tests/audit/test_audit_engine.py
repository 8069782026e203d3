"""The engine factory's SQLite WAL checkpoints: inside a commit by default, or left to `checkpoint_wal`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, make_url
from sqlmodel import Session

from audit import EntryDraft, WalCheckpoint, append, checkpoint_wal, create_engine_for, has_wal, upgrade, verify_log
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

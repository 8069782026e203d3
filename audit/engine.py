"""Engine factory: SQLite tuned for a write-ahead log, PostgreSQL as it comes.

SQLite: WAL journal, ``synchronous=NORMAL`` (durable against a process crash; a power cut may
lose the last commits, so pass ``sqlite_synchronous="FULL"`` where that matters), a busy timeout,
and every transaction opened with ``BEGIN IMMEDIATE`` so that the write lock (and so the chain
head) is taken up front rather than on the first write. The last part is SQLAlchemy's documented
pysqlite recipe ("Serializable isolation / Savepoints / Transactional DDL"): switch off the
driver's own transaction handling and emit ``BEGIN`` ourselves; it also makes SAVEPOINT work.

`single_statements` gives an engine for reads of one statement each, with no transaction around
them on either database.

SQLite copies the WAL back into the database file (a WAL checkpoint, nothing to do with the log's
signed checkpoints) inside whichever commit takes the WAL past 1,000 pages. ``wal_autocheckpoint=False``
leaves that to `checkpoint_wal`, called from elsewhere, so that no commit pays for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 30_000

# The execution option with which an SQLite connection emits no BEGIN (`single_statements`).
_NO_BEGIN = "sgb_no_begin"


def create_engine_for(
    url: str,
    *,
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    read_only: bool = False,
    wal_autocheckpoint: bool = True,
    echo: bool = False,
    **kwargs: Any,
) -> Engine:
    """Return an engine for ``url`` configured for the decision log (and for sharing with it).

    ``read_only=True`` is for verifiers and exporters: each transaction then reads one consistent
    snapshot (REPEATABLE READ on PostgreSQL; a deferred transaction in SQLite's WAL) without
    taking the write lock, so appends carry on while the log is checked.

    ``wal_autocheckpoint=False`` (SQLite): this engine's commits never checkpoint the WAL; the
    caller runs `checkpoint_wal` instead (the group commit's thread is the log's one sequencing
    point, and a checkpoint inside its COMMIT held every request waiting behind it).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if read_only:
            kwargs.setdefault("isolation_level", "REPEATABLE READ")
        return create_engine(url, echo=echo, pool_pre_ping=True, **kwargs)
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    engine = create_engine(url, echo=echo, connect_args=connect_args, **kwargs)
    in_memory = _in_memory(parsed.database)
    pragmas = [
        f"PRAGMA synchronous={sqlite_synchronous}",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys=ON",
    ]
    if not in_memory:
        pragmas.insert(0, "PRAGMA journal_mode=WAL")
        if not wal_autocheckpoint:
            pragmas.append("PRAGMA wal_autocheckpoint=0")
    _install_sqlite_hooks(engine, pragmas, begin="DEFERRED" if read_only else "IMMEDIATE")
    return engine


@dataclass(frozen=True)
class WalCheckpoint:
    """What one WAL checkpoint did: pages in the WAL, and how many of them are now in the database file."""

    wal_pages: int
    checkpointed_pages: int


def has_wal(engine: Engine) -> bool:
    """Whether `engine` writes through a WAL it may checkpoint: SQLite in a file."""
    return engine.dialect.name == "sqlite" and not _in_memory(engine.url.database)


@contextlib.contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, send what `connection` executes inside without waiting for each answer
    (psycopg's pipeline mode), so that they all go in one round trip with the COMMIT of a
    transaction committed inside. A failed statement fails that COMMIT (or the end of the block) and
    the transaction does not commit. Elsewhere (SQLite) statements run one by one as usual.

    Only for statements whose results nobody reads: SQLAlchemy takes a result that has not arrived
    yet for one without rows (an ORM flush reading back generated keys, a SELECT). The connection
    must stay checked out until the block ends (a pooled connection left in pipeline mode would
    change how its next user's statements behave): hold it with `Engine.connect` and bind the
    session to it.
    """
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection) or not psycopg.Pipeline.is_supported():
        yield
        return
    try:
        with driver.pipeline():
            yield
    except BaseException:
        # A statement that fails in the pipeline aborts the COMMIT queued behind it, so the
        # transaction is still open, in error, while SQLAlchemy counts a failed commit as ended
        # and would hand the connection to the pool like that. A lost connection has nothing to undo.
        with contextlib.suppress(psycopg.Error):
            driver.rollback()
        raise


def single_statements(engine: Engine) -> Engine:
    """`engine` (sharing its pool) for reads of one statement, each with no transaction around it.

    On PostgreSQL that is AUTOCOMMIT: no BEGIN and no ROLLBACK, two round trips of a lookup's four
    with the pool's ping. On SQLite the connection emits no BEGIN (the driver's transaction control
    is already off, so the statement is its own transaction and, in the WAL, reads one snapshot),
    and its ROLLBACK finds nothing to undo: through SQLAlchemy a lookup then costs about half the CPU
    (129 against 233-312 µs alone), most of it the BEGIN's own trip through statement execution.
    Only for single statements: several in one `connect()` block do not see one snapshot.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{_NO_BEGIN: True})


def _in_memory(database: str | None) -> bool:
    return database in (None, "", ":memory:")


def checkpoint_wal(engine: Engine) -> WalCheckpoint | None:
    """Copy what the WAL holds into the database file without waiting for anyone (SQLite's PASSIVE
    checkpoint: readers and writers carry on meanwhile); None where there is no WAL (PostgreSQL, or
    SQLite in memory). The driver releases the GIL while SQLite works, so a thread running this
    does not hold up the event loop.
    """
    if not has_wal(engine):
        return None
    # The raw connection: in autocommit (the connect hook took transaction control away from the
    # driver) and without the BEGIN IMMEDIATE that SQLAlchemy's begin event would add.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            _busy, wal_pages, checkpointed = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            cursor.close()
    finally:
        connection.close()
    return WalCheckpoint(wal_pages=max(wal_pages, 0), checkpointed_pages=max(checkpointed, 0))


def _install_sqlite_hooks(engine: Engine, pragmas: list[str], *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; _on_begin issues BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        # A COMMIT that fails (a deferred constraint, a full disk, SQLITE_BUSY) can leave SQLite's
        # transaction open, and SQLAlchemy, counting the failed commit as the transaction's end,
        # skips the pool's ROLLBACK. Pooled like that, the connection would keep the write lock
        # (every other writer waits out its busy timeout and fails) and refuse its own next BEGIN.
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_NO_BEGIN, False):
            connection.exec_driver_sql(f"BEGIN {begin}")

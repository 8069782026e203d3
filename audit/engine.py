"""Engine factory: SQLite tuned for a write-ahead log, PostgreSQL as it comes.

SQLite: WAL journal, ``synchronous=NORMAL`` (durable against a process crash; a power cut may
lose the last commits, so pass ``sqlite_synchronous="FULL"`` where that matters), a busy timeout,
and every transaction opened with ``BEGIN IMMEDIATE`` so that the write lock (and so the chain
head) is taken up front rather than on the first write. The last part is SQLAlchemy's documented
pysqlite recipe ("Serializable isolation / Savepoints / Transactional DDL"): switch off the
driver's own transaction handling and emit ``BEGIN`` ourselves; it also makes SAVEPOINT work.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 30_000


def create_engine_for(
    url: str,
    *,
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    read_only: bool = False,
    echo: bool = False,
    **kwargs: Any,
) -> Engine:
    """Return an engine for ``url`` configured for the decision log (and for sharing with it).

    ``read_only=True`` is for verifiers and exporters: each transaction then reads one consistent
    snapshot (REPEATABLE READ on PostgreSQL; a deferred transaction in SQLite's WAL) without
    taking the write lock, so appends carry on while the log is checked.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if read_only:
            kwargs.setdefault("isolation_level", "REPEATABLE READ")
        return create_engine(url, echo=echo, pool_pre_ping=True, **kwargs)
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    engine = create_engine(url, echo=echo, connect_args=connect_args, **kwargs)
    in_memory = parsed.database in (None, "", ":memory:")
    _install_sqlite_hooks(
        engine, sqlite_synchronous, in_memory=in_memory, begin="DEFERRED" if read_only else "IMMEDIATE"
    )
    return engine


def _install_sqlite_hooks(engine: Engine, synchronous: str, *, in_memory: bool, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; _on_begin issues BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")

"""One transaction that reaches the database with its COMMIT (`one_commit`).

Its log appends share one lock of the chain head and one move of it, and the rows it leaves for
later (`audit.later`), the head's move and the COMMIT go to PostgreSQL in one round trip
(`audit.pipelined`). Each round trip a thread waits on is also a wait for the GIL, and the chain
head stays locked, for every other appender, until the COMMIT: the group commit (`audit.batcher`),
the relay's marking of what it published and the worker's recording of a receipt each commit this way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine
from sqlmodel import Session

from audit.engine import pipelined
from audit.later import collecting, flush_later, stop_collecting
from audit.log import Clock, finish_shared, share_appends, utc_now


@contextlib.contextmanager
def one_commit(engine: Engine, *, clock: Clock = utc_now) -> Iterator[Session]:
    """A session whose transaction commits when the block ends without an error (and rolls back if not).

    Inside, `audit.append` joins the transaction's one appender (`audit.log.shared_appender`, which
    takes the chain head's lock at the first append) and `audit.insert_later` collects its rows.
    Statements whose results are read run as usual; ORM objects are flushed before the pipeline,
    since they read back their generated keys. The appended entries and collected rows are written
    only at the end, so a query inside the block does not see them.
    """
    # The connection stays checked out until the pipeline has ended (`pipelined`).
    with engine.connect() as connection, Session(connection, expire_on_commit=False) as session:
        collecting(session)
        share_appends(session, clock=clock)
        yield session
        session.flush()
        with pipelined(connection):
            flush_later(session)
            stop_collecting(session)
            finish_shared(session)
            session.commit()

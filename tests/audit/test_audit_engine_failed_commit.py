"""A COMMIT that SQLite refuses leaves its transaction open; the engine must not pool the connection
like that. A real refusal: a deferred foreign key that the COMMIT finds broken (SQLite keeps the
transaction active, as it can after SQLITE_BUSY or a full disk)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from audit import create_engine_for

_METADATA = sa.MetaData()
_PARENT = sa.Table("parent", _METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
_CHILD = sa.Table(
    "child",
    _METADATA,
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", deferrable=True, initially="DEFERRED")),
)


def test_a_refused_commit_leaves_no_transaction_on_the_pooled_connection(sqlite_url: str) -> None:
    engine = create_engine_for(sqlite_url, pool_size=1, max_overflow=0)  # the next user gets the same connection

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    try:
        _METADATA.create_all(engine)
        with engine.connect() as connection, Session(connection) as session:
            session.execute(sa.insert(_CHILD), {"parent_id": 7})
            with pytest.raises(sa.exc.IntegrityError):
                session.commit()
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None and not driver.in_transaction
            connection.execute(sa.insert(_PARENT), {"id": 1})  # its BEGIN IMMEDIATE is refused if still open
            connection.commit()
            assert connection.execute(sa.select(_CHILD.c.parent_id)).scalars().all() == []
            assert connection.execute(sa.select(_PARENT.c.id)).scalars().all() == [1]
    finally:
        engine.dispose()

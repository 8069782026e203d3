"""Alembic environment for the audit tables; run only through :func:`audit.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from audit.migration import VERSION_TABLE


def _run(connection: Connection) -> None:
    context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("audit migrations run programmatically: call audit.upgrade(engine)")
_run(_connection)

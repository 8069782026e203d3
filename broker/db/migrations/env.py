"""Alembic environment for the gateway's tables; run only through `broker.db.migration.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from broker.db.migration import VERSION_TABLE

_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("broker migrations run programmatically: call broker.db.migration.upgrade(engine)")
context.configure(connection=_connection, version_table=VERSION_TABLE, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()

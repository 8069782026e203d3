"""A database brought to the current schema: the decision log's history, then the gateway's tables.

On PostgreSQL the owner migrates and then grants the application role exactly what the gateway
needs (`broker.db.privileges`); as the application role alone, only an already migrated database
opens. Gateways and workers starting together take turns (`broker.db.migration.exclusive`).
"""

from __future__ import annotations

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import OperationalError

import audit
from broker.db import migration, privileges
from broker.errors import LogUnavailable


def prepare_database(engine: Engine, *, grant_to: str | None = None) -> None:
    """Migrate the log (audit's Alembic history) and the gateway's own tables (broker's history).

    With `grant_to` (PostgreSQL, run as the owner) that role is then given exactly what the gateway
    needs and no more (`broker.db.privileges`).
    """
    with migration.exclusive(engine):
        audit.upgrade(engine)
        migration.upgrade(engine)
        if grant_to and engine.dialect.name == "postgresql" and grant_to != engine.url.username:
            with engine.begin() as connection:
                privileges.grant_application_role(connection, grant_to)


def migrate(url: str, *, migration_url: str | None = None, engine: Engine | None = None) -> None:
    """Bring `url`'s database to the current schema: as `migration_url`'s role if it is another one,
    granting `url`'s role its privileges; else as `url`'s own role (`engine`, when the caller has one).

    As the application role alone, this succeeds only on a database already migrated (it then finds
    nothing to do), which is how a gateway runs once migrations are a deployment step of their own.
    """
    target = url if migration_url is None else migration_url
    try:
        _migrate(url, migration_url=migration_url, engine=engine)
    except OperationalError as exc:
        raise unreachable(target, exc) from exc


def _migrate(url: str, *, migration_url: str | None, engine: Engine | None) -> None:
    if migration_url is None or migration_url == url:
        own = engine or audit.create_engine_for(url)
        try:
            prepare_database(own)
        finally:
            if engine is None:
                own.dispose()
        return
    owner = audit.create_engine_for(migration_url)
    try:
        prepare_database(owner, grant_to=make_url(url).username)
    finally:
        owner.dispose()


def unreachable(url: str, exc: OperationalError) -> LogUnavailable:
    """The driver's refusal in one line an operator acts on, naming the database without its password."""
    reason = (str(exc.orig).strip() or type(exc.orig).__name__).splitlines()[0]
    return LogUnavailable(f"cannot open the database {make_url(url).render_as_string(hide_password=True)}: {reason}")

"""Least privilege in PostgreSQL: with the gateway's own credentials the log can be added to, never changed.

The owner (the stack's `sgb`) migrates; the gateway runs as `sgb_app`, which `devstack` creates. Each
refusal below must come from PostgreSQL's privilege check ("permission denied", "must be owner"), not
from the append-only triggers, which stand behind it as a second wall.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

import audit
from broker.db.provisioning import migrate
from devstack.postgres import APP_ROLE, application_url
from tests.broker.conftest import GatewayFactory
from tests.witness.conftest import post_accepted

pytestmark = pytest.mark.stack
LOG_TABLES = ("audit_entry", "audit_checkpoint", "audit_checkpoint_cosignature")
KEY_COLUMN = {"audit_entry": "seq", "audit_checkpoint": "id", "audit_checkpoint_cosignature": "id"}


@pytest.fixture
def app_url(postgres_url: str) -> str:
    migrate(application_url(postgres_url), migration_url=postgres_url)
    return application_url(postgres_url)


@pytest.fixture
def as_app(app_url: str) -> Iterator[Engine]:
    engine = create_engine(app_url)
    yield engine
    engine.dispose()


def _refusal(engine: Engine, statement: str) -> str:
    with engine.connect() as connection, pytest.raises(DBAPIError) as refused:
        connection.execute(text(statement))
    assert getattr(refused.value.orig, "sqlstate", None) == "42501", refused.value  # insufficient_privilege
    return str(refused.value.orig).splitlines()[0]


@pytest.mark.parametrize("table", LOG_TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_changing_the_log_is_refused_by_privileges(as_app: Engine, table: str, statement: str) -> None:
    sql = statement.format(t=table, c=KEY_COLUMN[table])
    assert _refusal(as_app, sql) == f"permission denied for table {table}"


@pytest.mark.parametrize("table", [*LOG_TABLES, "audit_chain_head"])
def test_the_application_role_cannot_disable_triggers_drop_or_alter(as_app: Engine, table: str) -> None:
    assert _refusal(as_app, f"ALTER TABLE {table} DISABLE TRIGGER ALL") == f"must be owner of table {table}"
    assert _refusal(as_app, f"DROP TABLE {table}") == f"must be owner of table {table}"


def test_the_chain_head_moves_only_forward_and_is_never_removed(as_app: Engine) -> None:
    for statement in (
        "DELETE FROM audit_chain_head",
        "TRUNCATE audit_chain_head",
        "INSERT INTO audit_chain_head (id, size, head, compact_range) VALUES (2, 0, '', '')",
    ):
        assert _refusal(as_app, statement) == "permission denied for table audit_chain_head"
    # UPDATE is granted (appends move the head); the trigger keeps it from going back.
    with as_app.connect() as connection, pytest.raises(DBAPIError, match="only moves forward"):
        connection.execute(text("UPDATE audit_chain_head SET size = size - 1"))


def test_no_new_objects_and_no_sequence_rewinds(as_app: Engine) -> None:
    assert _refusal(as_app, "CREATE TABLE shadow_log (seq bigint)").startswith("permission denied for schema")
    assert _refusal(as_app, "SELECT setval('audit_checkpoint_id_seq', 1)") == (
        "permission denied for sequence audit_checkpoint_id_seq"
    )


def test_the_owner_is_still_stopped_by_the_triggers(postgres_url: str, app_url: str) -> None:
    owner = create_engine(postgres_url)
    try:
        with owner.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("TRUNCATE audit_entry"))  # a statement trigger: fires on an empty table
    finally:
        owner.dispose()


def test_migrating_again_revokes_what_was_granted_by_hand(postgres_url: str, app_url: str, as_app: Engine) -> None:
    owner = create_engine(postgres_url)
    try:
        with owner.begin() as connection:
            connection.execute(text(f"GRANT DELETE ON audit_entry TO {APP_ROLE}"))
    finally:
        owner.dispose()
    migrate(app_url, migration_url=postgres_url)
    assert _refusal(as_app, "DELETE FROM audit_entry") == "permission denied for table audit_entry"


async def test_the_gateway_works_as_the_application_role(
    postgres_url: str,
    gateway_factory: GatewayFactory,  # in this order: the database outlives the gateways
) -> None:
    app_url = application_url(postgres_url)
    gateway = await gateway_factory(database_url=app_url, migration_database_url=postgres_url)
    assert gateway.engine.url.username == APP_ROLE
    await post_accepted(gateway)
    gateway.decision_log.refresh_checkpoint()
    with Session(gateway.engine) as session:
        assert session.exec(select(func.count(col(audit.Entry.seq)))).one() >= 3
    # A second gateway with the application role's credentials alone starts on the migrated database.
    again = await gateway_factory(database_url=app_url)
    await post_accepted(again)

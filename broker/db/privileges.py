"""Least privilege in PostgreSQL: the gateway and worker connect as a role that can only add to the log.

Migrations run as the database's owner (`SGB_MIGRATION_DATABASE_URL`); the gateway and the worker
connect as another role (the user of `SGB_DATABASE_URL`) that owns nothing and holds exactly:

    audit_entry, audit_checkpoint, audit_checkpoint_cosignature,  SELECT, INSERT
      audit_policy_input
    audit_chain_head                                              SELECT, UPDATE   the head row moves forward
                                                                                   (a trigger refuses backwards)
    audit_alembic_version, broker_alembic_version                 SELECT           so start-up sees "at head"
    the gateway's own tables (outbox, held deliveries and keys,   SELECT, INSERT, UPDATE, DELETE
      case keys, idempotency, seen tokens, relay lease, clocks,
      UI sessions)
    the schema's sequences                                        USAGE, SELECT    ids for new rows

So UPDATE, DELETE and TRUNCATE on the log are refused by privileges before a trigger is even asked,
and since only a table's owner may ALTER it, the application role cannot disable the triggers, drop
the tables or change the triggers' functions either. An insider with the gateway's credentials can
add entries, and that is all; the owner's credentials belong to the migration step alone.

Every run first revokes whatever the role held on these tables, so a privilege granted by hand
does not survive the next deployment.
"""

from __future__ import annotations

import importlib
import logging
from typing import Final

from sqlalchemy import Connection, text

import audit.models
import audit.trust
from audit.migration import VERSION_TABLE as AUDIT_VERSION_TABLE
from broker.db.migration import VERSION_TABLE as BROKER_VERSION_TABLE
from broker.db.tables import BrokerTable

log = logging.getLogger("broker.db.privileges")

# The log's tables, and the policy inputs kept beside it for replay: added to, never changed.
APPEND_ONLY: Final = (
    *(t for t in audit.trust.LOG_TABLES if t != "audit_chain_head"),
    str(audit.models.PolicyInputRecord.__tablename__),
)
CHAIN_HEAD: Final = "audit_chain_head"
VERSION_TABLES: Final = (AUDIT_VERSION_TABLE, BROKER_VERSION_TABLE)
# Modules whose tables live beside the others in `BrokerTable.metadata` (as the first migration imports
# them); imported when asked, since they import the gateway's other rooms, which import this package.
_TABLE_MODULES: Final = ("broker.admission.replay", "broker.ui.sessions")


def gateway_tables() -> tuple[str, ...]:
    """The gateway's own tables: everything the broker's migrations create."""
    for module in _TABLE_MODULES:
        importlib.import_module(module)
    return tuple(sorted(BrokerTable.metadata.tables))


def grant_application_role(connection: Connection, role: str) -> None:
    """Give `role` exactly the privileges above on this database (PostgreSQL; run as the tables' owner)."""
    quote = connection.dialect.identifier_preparer.quote
    grantee = quote(role)
    privileges = {
        **dict.fromkeys(APPEND_ONLY, "SELECT, INSERT"),
        CHAIN_HEAD: "SELECT, UPDATE",
        **dict.fromkeys(VERSION_TABLES, "SELECT"),
        **dict.fromkeys(gateway_tables(), "SELECT, INSERT, UPDATE, DELETE"),
    }
    for table, granted in privileges.items():
        name = quote(table)
        connection.execute(text(f"REVOKE ALL ON TABLE {name} FROM {grantee}"))
        connection.execute(text(f"GRANT {granted} ON TABLE {name} TO {grantee}"))
    present = set(
        connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
    )
    if unknown := sorted(present - set(privileges)):
        # Closed by default: the role gets nothing on a table this module does not know of.
        log.warning("tables %s give the application role no privileges; list them here if it needs any", unknown)
    schema = quote(connection.execute(text("SELECT current_schema()")).scalar_one())
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {grantee}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}"))
    log.info("granted the application role %s its privileges on %d tables", role, len(privileges))

"""The package surface and its migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect
from sqlmodel import SQLModel

import audit
from audit import VERSION_TABLE, upgrade
from audit.models import ChainHead, CheckpointRecord, CosignatureRecord, Entry, PolicyInputRecord

AUDIT_TABLES = [
    Entry.__table__,  # type: ignore[attr-defined]
    ChainHead.__table__,  # type: ignore[attr-defined]
    CheckpointRecord.__table__,  # type: ignore[attr-defined]
    CosignatureRecord.__table__,  # type: ignore[attr-defined]
    PolicyInputRecord.__table__,  # type: ignore[attr-defined]
]


def test_all_is_sorted_and_complete() -> None:
    # isort-style (ruff RUF022): CONSTANTS, then Classes, then functions.
    assert audit.__all__ == sorted(audit.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in audit.__all__:
        assert hasattr(audit, name), name


def test_migrations_match_the_models(engine: Engine) -> None:
    metadata = MetaData()
    for table in AUDIT_TABLES:
        table.to_metadata(metadata)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        diff = [d for d in compare_metadata(context, metadata) if d[0] != "remove_table"]
    assert diff == []
    assert SQLModel.metadata.tables["audit_entry"] is Entry.__table__  # type: ignore[attr-defined]


def test_upgrade_is_idempotent_and_uses_its_own_version_table(engine: Engine) -> None:
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        VERSION_TABLE,
        "audit_entry",
        "audit_checkpoint",
        "audit_chain_head",
        "audit_checkpoint_cosignature",
    } <= tables
    assert "alembic_version" not in tables

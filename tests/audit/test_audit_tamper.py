"""Any single-byte change made directly in the database is found, at the right entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, Text, select, text, type_coerce
from sqlmodel import Session

from audit import (
    CheckpointInvalid,
    Entry,
    HeadMismatch,
    SequenceGap,
    Signer,
    TamperDetected,
    append,
    verify_log,
    write_checkpoint,
)
from audit.models import JSON_COLUMNS
from tests.audit.conftest import DraftFactory

TARGET = 2  # the entry with every optional column set
ENTRY_COLUMNS = [c.name for c in Entry.__table__.columns]  # type: ignore[attr-defined]

SQLITE_TRIGGERS = [
    "audit_entry_no_update",
    "audit_entry_no_delete",
    "audit_checkpoint_no_update",
    "audit_checkpoint_no_delete",
    "audit_chain_head_forward",
]
POSTGRES_TRIGGERS = [
    ("audit_entry_append_only", "audit_entry"),
    ("audit_checkpoint_append_only", "audit_checkpoint"),
    ("audit_chain_head_forward", "audit_chain_head"),
]


@pytest.fixture
def tampered_engine(
    engine: Engine, make_draft: DraftFactory, signer: Signer, clock: Callable[[], datetime]
) -> Iterator[Engine]:
    """Seven entries with every optional field set, checkpoints at 2 and 7, triggers dropped."""
    with Session(engine) as session, session.begin():
        append(session, [make_draft(), make_draft(outcome="no_share")], clock=clock)
        write_checkpoint(session, signer, clock=clock)
        drafts = [
            make_draft(
                kind="authorisation_granted",
                outcome="released",
                actor="user-0042",
                actor_role="caldicott_guardian",
                actor_agency="csc-fictional",
                follows=[1],
            ),
            *[make_draft(delivery_id=f"ntf-0001.d{i}", outcome="share") for i in range(4)],
        ]
        append(session, drafts, clock=clock)
        write_checkpoint(session, signer, clock=clock)
    _drop_triggers(engine)
    yield engine


def _drop_triggers(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for trigger, table in POSTGRES_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
        else:
            for trigger in SQLITE_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger}"))


def _raw(engine: Engine, column: str, seq: int) -> Any:
    table = Entry.__table__  # type: ignore[attr-defined]
    selected = type_coerce(table.c[column], Text) if column in JSON_COLUMNS else table.c[column]
    with engine.connect() as connection:
        return connection.execute(select(selected).where(table.c.seq == seq)).scalar_one()


def _flip_one_byte(value: Any) -> Any:
    """Change exactly one byte of the stored value's text (or the integer's lowest bit)."""
    if isinstance(value, int):
        return value ^ 1
    position = len(value) // 2
    char = value[position]
    replacement = "0" if char != "0" else "1"
    if not char.isalnum():
        replacement = "#"
    return value[:position] + replacement + value[position + 1 :]


def _set(engine: Engine, column: str, seq: int, value: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE audit_entry SET {column} = :v WHERE seq = :s"),  # noqa: S608 (column names are ours)
            {"v": value, "s": seq},
        )


@pytest.mark.parametrize("column", ENTRY_COLUMNS)
def test_single_byte_change_in_any_column_is_found(tampered_engine: Engine, signer: Signer, column: str) -> None:
    original = _raw(tampered_engine, column, TARGET)
    assert original is not None, f"fixture must set {column}"
    if column == "seq":
        _set(tampered_engine, "seq", TARGET, 1_000_000 + TARGET)
    else:
        _set(tampered_engine, column, TARGET, _flip_one_byte(original))
    with Session(tampered_engine) as session, pytest.raises(TamperDetected) as caught:
        verify_log(session, signer.public_key)
    assert caught.value.seq == TARGET
    if column == "seq":
        assert isinstance(caught.value, SequenceGap)


def test_chain_broken_reports_expected_and_actual(tampered_engine: Engine) -> None:
    original = _raw(tampered_engine, "chain_hash", TARGET)
    _set(tampered_engine, "chain_hash", TARGET, _flip_one_byte(original))
    with Session(tampered_engine) as session, pytest.raises(TamperDetected) as caught:
        verify_log(session)
    error: Any = caught.value
    assert (error.seq, error.column, error.expected, error.actual) == (
        TARGET,
        "chain_hash",
        original,
        _flip_one_byte(original),
    )


@pytest.mark.parametrize("column", ["tree_size", "root_hash", "chain_head", "created_at", "origin", "note"])
def test_single_byte_change_in_a_checkpoint_is_found(tampered_engine: Engine, signer: Signer, column: str) -> None:
    with tampered_engine.connect() as connection:
        value = connection.execute(
            text(f"SELECT {column} FROM audit_checkpoint WHERE tree_size = 2")  # noqa: S608
        ).scalar_one()
    changed = value + 1 if isinstance(value, int) else _flip_one_byte(value)
    with tampered_engine.begin() as connection:
        connection.execute(
            text(f"UPDATE audit_checkpoint SET {column} = :v WHERE tree_size = 2"),  # noqa: S608
            {"v": changed},
        )
    with Session(tampered_engine) as session, pytest.raises((CheckpointInvalid, TamperDetected)):
        verify_log(session, signer.public_key)


def test_deleting_checkpointed_tail_entries_is_found(tampered_engine: Engine) -> None:
    with tampered_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq >= 5"))
    with Session(tampered_engine) as session, pytest.raises(SequenceGap) as caught:
        verify_log(session)
    assert caught.value.seq == 5


def test_a_rewound_chain_head_is_found(tampered_engine: Engine) -> None:
    with tampered_engine.begin() as connection:
        connection.execute(text("UPDATE audit_chain_head SET size = 6"))
    with Session(tampered_engine) as session, pytest.raises(HeadMismatch):
        verify_log(session)


def test_checkpoint_signed_by_another_key_is_refused(tampered_engine: Engine, other_signer: Signer) -> None:
    with Session(tampered_engine) as session, pytest.raises(CheckpointInvalid):
        verify_log(session, other_signer.public_key)


def test_untampered_log_verifies(tampered_engine: Engine, signer: Signer) -> None:
    with Session(tampered_engine) as session:
        report = verify_log(session, signer.public_key)
    assert (report.size, report.checkpoints, report.signatures_checked) == (7, 2, True)

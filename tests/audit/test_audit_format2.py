"""Entry format 2: the deciding rules are part of what the leaf hash covers, and format-1 entries still verify."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, text
from sqlmodel import Session

from audit import ChainBroken, EntryDraft, Signer, append, canonical_bytes, query, verify_log, write_checkpoint
from audit.models import entry_document
from tests.audit.conftest import DraftFactory


def _values(draft: EntryDraft) -> dict[str, Any]:
    return {**draft.model_dump(mode="json"), "seq": 7, "recorded_at": "2026-01-31T09:00:00.000000Z"}


def test_an_entry_without_deciding_rules_is_encoded_as_format_1(make_draft: DraftFactory) -> None:
    document = entry_document(_values(make_draft()))
    assert document["v"] == 1
    assert "deciding_rules" not in document


def test_deciding_rules_are_hashed_as_format_2(make_draft: DraftFactory) -> None:
    plain = entry_document(_values(make_draft()))
    decided = entry_document(_values(make_draft(deciding_rules=["C4", "GR4"])))
    assert decided["v"] == 2
    assert decided["deciding_rules"] == ["C4", "GR4"]
    # Exact bytes: the canonical text ends with the sorted keys ..."subjects":[...],"v":2}.
    encoded = canonical_bytes(decided)
    assert b'"deciding_rules":["C4","GR4"],"decision_id":"opa-dec-0001"' in encoded
    assert encoded.endswith(b',"v":2}')
    assert hashlib.sha256(canonical_bytes(plain)).digest() != hashlib.sha256(encoded).digest()


def test_mixed_formats_verify_and_a_changed_deciding_rule_is_found(
    engine: Engine, make_draft: DraftFactory, signer: Signer, clock: Callable[[], datetime]
) -> None:
    with Session(engine) as session, session.begin():
        append(
            session, [make_draft(), make_draft(deciding_rules=["C4"]), make_draft(deciding_rules=["GR3"])], clock=clock
        )
        write_checkpoint(session, signer, clock=clock)
    public: Ed25519PublicKey = signer.public_key
    with Session(engine) as session:
        assert verify_log(session, public).size == 3
        assert [e.seq for e in query(session, deciding_rule="C4")] == [1]
        assert [e.seq for e in query(session, rule_id="GR6")] == [0, 1, 2]
    with engine.begin() as conn:
        _drop_triggers(conn, engine.dialect.name)
        conn.execute(text("UPDATE audit_entry SET deciding_rules = '[\"GR4\"]' WHERE seq = 1"))
    with Session(engine) as session, pytest.raises(ChainBroken) as found:
        verify_log(session, public)
    assert found.value.seq == 1


def _drop_triggers(conn: object, dialect: str) -> None:
    from sqlalchemy import Connection

    assert isinstance(conn, Connection)
    if dialect == "postgresql":
        conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        return
    names = conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_entry'"))
    for (name,) in list(names):
        conn.execute(text(f"DROP TRIGGER {name}"))


def test_deciding_reasons_are_hashed_as_format_3_beside_earlier_formats(
    engine: Engine, make_draft: DraftFactory, signer: Signer, clock: Callable[[], datetime]
) -> None:
    decided = entry_document(_values(make_draft(deciding_rules=["GR4"], deciding_reasons=[0])))
    assert decided["v"] == 3 and decided["deciding_reasons"] == [0]
    assert entry_document(_values(make_draft(deciding_rules=["GR4"])))["v"] == 2, "format 2 entries unchanged"
    with Session(engine) as session, session.begin():
        drafts = [
            make_draft(),
            make_draft(deciding_rules=["C4"]),
            make_draft(deciding_rules=["GR4"], deciding_reasons=[0]),
        ]
        append(session, drafts, clock=clock)
        write_checkpoint(session, signer, clock=clock)
    with Session(engine) as session:
        assert verify_log(session, signer.public_key).size == 3
    with engine.begin() as conn:
        _drop_triggers(conn, engine.dialect.name)
        conn.execute(text("UPDATE audit_entry SET deciding_reasons = '[1]' WHERE seq = 2"))
    with Session(engine) as session, pytest.raises(ChainBroken) as found:
        verify_log(session, signer.public_key)
    assert found.value.seq == 2

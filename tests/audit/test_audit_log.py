"""append(): sequence numbers, hashes, the caller's transaction, and the append-only triggers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from audit import (
    AuditError,
    ChainHead,
    Entry,
    EntryDraft,
    LogStateError,
    Signer,
    append,
    create_engine_for,
    verify_log,
    write_checkpoint,
)
from audit.canonical import canonical_bytes
from audit.chain import GENESIS, leaf_hash, link_hash
from tests.audit.conftest import DraftFactory

Clock = Callable[[], datetime]


def test_append_assigns_contiguous_seqs_and_chains_hashes(
    engine: Engine, make_draft: DraftFactory, clock: Clock
) -> None:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        first = append(session, [make_draft(), make_draft(outcome="no_share")], clock=clock)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        second = append(session, [make_draft(kind="published", outcome="published", follows=[0])], clock=clock)
    entries = first + second
    assert [e.seq for e in entries] == [0, 1, 2]
    head = GENESIS
    for entry in entries:
        leaf = leaf_hash(canonical_bytes(entry.document()))
        head = link_hash(head, leaf)
        assert (entry.leaf_hash, entry.chain_hash) == (leaf.hex(), head.hex())
    with Session(engine) as session:
        stored = session.exec(select(Entry).order_by(col(Entry.seq))).all()
        assert [e.model_dump() for e in stored] == [e.model_dump() for e in entries]
        chain_head = session.get(ChainHead, 1)
        assert chain_head is not None and (chain_head.size, chain_head.head) == (3, head.hex())
        assert verify_log(session).size == 3


def test_append_joins_the_callers_transaction(engine: Engine, make_draft: DraftFactory) -> None:
    with Session(engine) as session:
        session.begin()
        assert [e.seq for e in append(session, [make_draft()])] == [0]
        session.rollback()
    with Session(engine) as session, session.begin():
        assert session.exec(select(Entry)).all() == []
        assert [e.seq for e in append(session, [make_draft()])] == [0]


def test_entries_are_durable_once_the_commit_returns(db_url: str, make_draft: DraftFactory) -> None:
    writer = create_engine_for(db_url)
    from audit import upgrade

    upgrade(writer)
    with Session(writer) as session, session.begin():
        append(session, [make_draft(), make_draft()])
    writer.dispose()
    reader = create_engine_for(db_url, read_only=True)
    with Session(reader) as session:
        assert verify_log(session).size == 2
    reader.dispose()


def test_append_of_nothing_is_a_no_op(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        assert append(session, []) == []


def test_follows_must_name_earlier_entries(engine: Engine, make_draft: DraftFactory) -> None:
    with Session(engine) as session, session.begin(), pytest.raises(AuditError, match="earlier"):
        append(session, [make_draft(follows=[0])])


def test_append_refuses_an_unmigrated_database(sqlite_url: str, make_draft: DraftFactory) -> None:
    engine = create_engine_for(sqlite_url)
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables[ChainHead.__tablename__]])
    with Session(engine) as session, session.begin(), pytest.raises(LogStateError):
        append(session, [make_draft()])
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET outcome = 'share' WHERE seq = 0",
        "DELETE FROM audit_entry WHERE seq = 0",
        "UPDATE audit_checkpoint SET tree_size = 99",
        "DELETE FROM audit_checkpoint",
        "DELETE FROM audit_chain_head",
        "UPDATE audit_chain_head SET size = 0",
    ],
)
def test_database_refuses_to_change_the_log(
    engine: Engine, make_draft: DraftFactory, signer: Signer, statement: str
) -> None:
    with Session(engine) as session, session.begin():
        append(session, [make_draft(outcome="no_share")])
        write_checkpoint(session, signer)
    with engine.connect() as connection, pytest.raises(DBAPIError, match="audit"):
        connection.execute(text(statement))
    with Session(engine) as session:
        assert verify_log(session, signer.public_key).size == 1


def test_postgres_refuses_truncate(engine: Engine, make_draft: DraftFactory) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("TRUNCATE audit_entry"))


def test_draft_refuses_free_text_where_identifiers_belong(make_draft: DraftFactory) -> None:
    for field, value in [
        ("subjects", ["Jane Doe"]),
        ("fields_released", ["child name: Jane"]),
        ("notification_id", "ref with spaces"),
        ("projection_digest", "not-a-digest"),
        ("follows", [-1]),
    ]:
        with pytest.raises(ValueError):
            make_draft(**{field: value})
    with pytest.raises(ValueError):
        EntryDraft.model_validate({**make_draft().model_dump(), "payload": {"name": "x"}})

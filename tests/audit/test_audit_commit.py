"""one_commit(): a transaction's appends share one head lock and one head move, made with its COMMIT."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from audit import ChainHead, Entry, append, one_commit, verify_log
from audit.log import Clock
from tests.audit.conftest import DraftFactory
from tests.statements import Statement, sent


@pytest.fixture
def sql(engine: Engine) -> Iterator[list[Statement]]:
    with sent(engine) as statements:
        yield statements


def _on_the_head(statements: list[Statement]) -> list[str]:
    """The verbs of the statements on the chain head's row, in the order the database was sent them."""
    return [s.verb for s in statements if s.names("audit_chain_head")]


def _head(engine: Engine) -> ChainHead:
    with Session(engine) as session:
        return session.exec(select(ChainHead)).one()


def test_appends_in_one_commit_share_one_lock_and_one_head_move(
    engine: Engine, make_draft: DraftFactory, clock: Clock, sql: list[Statement]
) -> None:
    with one_commit(engine, clock=clock) as session:
        first = append(session, [make_draft()])
        second = append(session, [make_draft(outcome="no_share"), make_draft(kind="published", follows=[0])])
    entries = first + second
    assert [e.seq for e in entries] == [0, 1, 2]
    assert _on_the_head(sql) == ["SELECT", "UPDATE"], "one lock at the first append, one move at the COMMIT"
    head = _head(engine)
    assert (head.size, head.head) == (3, entries[-1].chain_hash)
    with Session(engine) as session:
        assert verify_log(session).size == 3


def test_what_fails_inside_writes_nothing(engine: Engine, make_draft: DraftFactory, clock: Clock) -> None:
    with pytest.raises(RuntimeError), one_commit(engine, clock=clock) as session:
        append(session, [make_draft()])
        raise RuntimeError("the caller's own step failed")
    with one_commit(engine, clock=clock) as session:
        (entry,) = append(session, [make_draft()])
    assert entry.seq == 0 and _head(engine).size == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Entry)).one() == 1


def test_a_commit_without_appends_leaves_the_head_alone(engine: Engine, sql: list[Statement]) -> None:
    with one_commit(engine) as session:
        assert append(session, []) == []
    assert _on_the_head(sql) == [] and _head(engine).size == 0

"""A group commit reads its requests' case keys in one query, and never reuses a key rolled back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

import audit
from broker.db.provisioning import prepare_database
from broker.db.tables import CaseKey
from broker.delivery import case_keys
from tests.audit import conftest as log_fixtures
from tests.audit.conftest import DraftFactory
from tests.statements import Statement, sent

# The decision log's fixtures: a fresh database on SQLite and on PostgreSQL, and its drafts.
db_url = log_fixtures.db_url
make_draft = log_fixtures.make_draft
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = audit.create_engine_for(db_url)
    prepare_database(engine)
    yield engine
    engine.dispose()


def _case_key_queries(statements: list[Statement]) -> list[Statement]:
    return [s for s in statements if s.verb == "SELECT" and s.names("case_key")]


def _looks_up(ref: str, got: list[tuple[str, int]]) -> Callable[[Session, list[audit.Entry]], None]:
    def rows(session: Session, _: list[audit.Entry]) -> None:
        got.append((ref, case_keys.live_key(session, ref, now=NOW)[0]))

    return rows


def _live_ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {ref: key_id for ref, key_id in session.execute(select(col(CaseKey.case_ref), col(CaseKey.id)))}


async def test_one_query_reads_the_keys_of_the_whole_batch(engine: Engine, make_draft: DraftFactory) -> None:
    with Session(engine) as session, session.begin():
        known = case_keys.live_key(session, "case-known", now=NOW)[0]
    got: list[tuple[str, int]] = []
    refs = ["case-known"] * 4 + ["case-new"] * 3

    with sent(engine) as statements:
        async with audit.AppendBatcher(engine, prepare=case_keys.prefetch) as batcher:
            await asyncio.gather(
                *[
                    batcher.submit([make_draft(delivery_id=f"d{i}")], _looks_up(ref, got), hint=case_keys.Lookup(ref))
                    for i, ref in enumerate(refs)
                ]
            )
            batches = batcher.batches
    asked = len(_case_key_queries(statements))

    assert batches == 1, "the seven requests were queued before the first commit"
    ids = _live_ids(engine)
    assert sorted(got) == sorted((ref, ids[ref]) for ref in refs)
    assert ids["case-known"] == known
    # The batch's query, then the new case's own miss and read-back once it is made; nothing per request.
    assert asked == 3


async def test_a_key_rolled_back_with_its_request_is_not_used_by_the_next(
    engine: Engine, make_draft: DraftFactory
) -> None:
    got: list[tuple[str, int]] = []

    def make_then_fail(session: Session, entries: list[audit.Entry]) -> None:
        case_keys.live_key(session, "case-fresh", now=NOW)
        raise RuntimeError("this request's rows fail after its case key was made")

    async with audit.AppendBatcher(engine, prepare=case_keys.prefetch) as batcher:
        outcomes = await asyncio.gather(
            batcher.submit([make_draft(delivery_id="bad")], make_then_fail, hint=case_keys.Lookup("case-fresh")),
            batcher.submit(
                [make_draft(delivery_id="good")], _looks_up("case-fresh", got), hint=case_keys.Lookup("case-fresh")
            ),
            return_exceptions=True,
        )

    assert isinstance(outcomes[0], RuntimeError) and isinstance(outcomes[1], list)
    # The retry, one request at a time, rolled the failed request's key back with it: the good
    # request's rows are under a key the table holds, not under that one.
    assert got[-1] == ("case-fresh", _live_ids(engine)["case-fresh"])

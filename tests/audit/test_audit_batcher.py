"""Group commit: concurrent requests share transactions; each gets durable entries; failures stay local."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from audit import AppendBatcher, BatcherClosed, Entry, append, create_engine_for, insert_later, verify_log
from tests.audit.conftest import DraftFactory
from tests.statements import sent

# A stand-in for the gateway's outbox, in its own metadata so no other test's create_all sees it.
_METADATA = sa.MetaData()
OUTBOX = sa.Table(
    "audit_test_outbox",
    _METADATA,
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("delivery_id", sa.String(128), nullable=False),
)


async def test_concurrent_submits_share_commits(engine: Engine, make_draft: DraftFactory) -> None:
    _METADATA.create_all(engine)

    def outbox_rows(session: Session, entries: list[Entry]) -> None:
        session.execute(sa.insert(OUTBOX), [{"seq": e.seq, "delivery_id": e.delivery_id} for e in entries])

    async with AppendBatcher(engine) as batcher:
        results = await asyncio.gather(
            *[
                batcher.submit([make_draft(delivery_id=f"d{i}.a"), make_draft(delivery_id=f"d{i}.b")], outbox_rows)
                for i in range(60)
            ]
        )
        batches = batcher.batches
    seqs = sorted(e.seq for entries in results for e in entries)
    assert seqs == list(range(120))
    assert all(entries[1].seq == entries[0].seq + 1 for entries in results)
    assert batches < 60, "concurrent requests should share commits"
    with Session(engine) as session:
        assert verify_log(session).size == 120
        outbox = session.execute(sa.select(OUTBOX.c.seq, OUTBOX.c.delivery_id)).all()
    assert sorted(outbox) == sorted((e.seq, e.delivery_id) for entries in results for e in entries)


async def test_a_failing_request_does_not_sink_its_batch(engine: Engine, make_draft: DraftFactory) -> None:
    def explode(session: Session, entries: list[Entry]) -> None:
        raise RuntimeError("outbox write failed")

    async with AppendBatcher(engine) as batcher:
        outcomes = await asyncio.gather(
            batcher.submit([make_draft(delivery_id="ok.1")]),
            batcher.submit([make_draft(delivery_id="bad.1")], explode),
            batcher.submit([make_draft(delivery_id="ok.2")]),
            return_exceptions=True,
        )
    assert isinstance(outcomes[1], RuntimeError)
    good = [o for o in outcomes if isinstance(o, list)]
    assert sorted(e.delivery_id for entries in good for e in entries) == ["ok.1", "ok.2"]
    assert sorted(e.seq for entries in good for e in entries) == [0, 1]
    with Session(engine) as session:
        assert verify_log(session).size == 2


async def test_rows_inserted_later_commit_with_their_batch_and_fail_alone(
    engine: Engine, make_draft: DraftFactory
) -> None:
    """`insert_later` rows of a whole batch go in together; a bad one fails only its own request."""
    _METADATA.create_all(engine)

    def later_rows(session: Session, entries: list[Entry]) -> None:
        insert_later(session, OUTBOX, [{"seq": e.seq, "delivery_id": e.delivery_id} for e in entries])

    def clashing(session: Session, entries: list[Entry]) -> None:
        insert_later(session, OUTBOX, [{"seq": 0, "delivery_id": "clash"}])  # seq 0 is another request's

    async with AppendBatcher(engine) as batcher:
        outcomes = await asyncio.gather(
            *[batcher.submit([make_draft(delivery_id=f"later.{i}")], later_rows) for i in range(5)],
            batcher.submit([make_draft(delivery_id="clash")], clashing),
            return_exceptions=True,
        )
    assert isinstance(outcomes[-1], sa.exc.IntegrityError)
    good = [o for o in outcomes if isinstance(o, list)]
    assert len(good) == 5
    with Session(engine) as session:
        assert verify_log(session).size == 5
        outbox = session.execute(sa.select(OUTBOX.c.seq, OUTBOX.c.delivery_id)).all()
    assert sorted(outbox) == sorted((e.seq, e.delivery_id) for entries in good for e in entries)


def test_rows_inserted_later_outside_a_batch_go_in_at_once(engine: Engine) -> None:
    _METADATA.create_all(engine)
    with Session(engine) as session, session.begin():
        insert_later(session, OUTBOX, [{"seq": 7, "delivery_id": "now"}])
        assert session.execute(sa.select(OUTBOX.c.delivery_id)).scalars().all() == ["now"]


async def test_submit_needs_a_running_batcher(engine: Engine, make_draft: DraftFactory) -> None:
    batcher = AppendBatcher(engine)
    with pytest.raises(BatcherClosed):
        await batcher.submit([make_draft()])


def test_appends_from_several_writers_serialise_on_the_chain_head(
    db_url: str, engine: Engine, make_draft: DraftFactory
) -> None:
    """Separate engines (as separate processes would have) appending at once keep one clean chain."""
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        own = create_engine_for(db_url)
        try:
            for i in range(15):
                with Session(own) as session, session.begin():
                    append(session, [make_draft(delivery_id=f"{name}.{i}")])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert verify_log(session).size == 60


async def test_a_group_commit_inserts_its_requests_entries_in_one_statement(
    engine: Engine, make_draft: DraftFactory
) -> None:
    with sent(engine) as statements:
        async with AppendBatcher(engine) as batcher:
            await asyncio.gather(*[batcher.submit([make_draft(), make_draft()]) for _ in range(20)])
            batches = batcher.batches
    inserts = [s.rows for s in statements if s.sql.startswith("INSERT INTO audit_entry")]

    assert sum(inserts) == 40
    assert len(inserts) == batches < 20, "one statement per group commit, not one per request"
    with Session(engine) as session:
        assert verify_log(session).size == 40


async def test_prepare_reads_once_for_the_batch_what_its_requests_hinted(
    engine: Engine, make_draft: DraftFactory
) -> None:
    prepared: list[list[object]] = []
    seen: list[tuple[object, object]] = []

    def prepare(session: Session, hints: list[object]) -> None:
        prepared.append(hints)
        session.info["prepared"] = set(hints)

    def rows(hint: object) -> Callable[[Session, list[Entry]], None]:
        return lambda session, _: seen.append((hint, hint in session.info.get("prepared", set())))

    async with AppendBatcher(engine, prepare=prepare) as batcher:
        await asyncio.gather(*[batcher.submit([make_draft()], rows(i), hint=i if i % 2 else None) for i in range(9)])
        batches = batcher.batches

    assert len(prepared) == batches
    assert Counter(h for hints in prepared for h in hints) == Counter([1, 3, 5, 7])  # no hint, nothing to read
    assert sorted(seen) == [(i, i % 2 == 1) for i in range(9)]

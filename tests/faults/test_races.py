"""Where two workers on one PostgreSQL database could race, made to race on purpose.

The fleet run (test_fleet_quick.py) meets these races only by chance; here two threads, each with its
own connection, are released at the same instant by a barrier, many times over.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

import audit
from broker.db.provisioning import migrate
from broker.db.tables import ObligationClock, OutboxRow, RelayLease
from broker.delivery.clocks import mark_overdue
from broker.delivery.events import record_published
from broker.delivery.receipts import record_receipt
from broker.delivery.relay import LEASE, Relay
from broker.partnership.cli import issue_token
from broker.partnership.registry import load_registry
from devstack.partnership import AgencySpec, provision
from faults.harness import AUDIENCE

pytestmark = pytest.mark.stack

T = TypeVar("T")
CONTEXT: dict[str, object] = {
    "outcome": "share",
    "sender_agency": "police-fenmere",
    "sender_role": "agency_system",
    "recipient_agency": "csc-fenmere-mash",
    "message_type": "safeguarding_referral",
}


@pytest.fixture
def engines(postgres_url: str) -> Iterator[list[Engine]]:
    migrate(postgres_url)
    pair = [audit.create_engine_for(postgres_url) for _ in range(2)]
    yield pair
    for engine in pair:
        engine.dispose()


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run each call in its own thread, all released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def relay(engine: Engine) -> Relay:
    return Relay(engine=engine, kafka_config={}, on_published=lambda s, rows, now: record_published(s, rows))


def test_two_relays_never_both_take_an_expired_lease(engines: list[Engine]) -> None:
    relays = [relay(engine) for engine in engines]
    with Session(engines[0]) as session:
        session.add(RelayLease(name=LEASE, holder="a relay that died", expires_at=datetime.now(UTC)))
        session.commit()
    for _ in range(20):
        with Session(engines[0]) as session:
            expired = datetime.now(UTC) - timedelta(seconds=1)
            session.execute(update(RelayLease).values(holder="a relay that died", expires_at=expired))
            session.commit()
        for r in relays:
            r._lease_until = datetime(2000, 1, 1, tzinfo=UTC)  # forget the lease: ask the database
        taken = at_once([r._hold_lease for r in relays])
        assert sorted(taken) == [False, True]


def test_a_batch_marked_by_two_relays_is_logged_published_once(engines: list[Engine]) -> None:
    with Session(engines[0]) as session:
        for i in range(10):
            session.add(outbox_row(f"d{i}"))
        session.commit()
        rows = list(session.exec(select(OutboxRow)))
    relays = [relay(engine) for engine in engines]
    at_once([lambda r=r: r._mark_published(rows) for r in relays])  # type: ignore[misc]
    assert logged(engines[0], audit.EventKind.PUBLISHED) == Counter({f"d{i}": 1 for i in range(10)})


def test_two_workers_log_one_receipt_of_a_delivery_once(engines: list[Engine], tmp_path: Path) -> None:
    recipient = str(CONTEXT["recipient_agency"])
    partnership = provision(tmp_path, "race-partnership", [AgencySpec(recipient, "csc_front_door", "CSC")])
    registry = load_registry(partnership.registry_file)
    keys = partnership.agency_keys(recipient)
    with Session(engines[0]) as session:
        session.add(outbox_row("d0"))
        session.commit()
    for kind in ("delivered", "acknowledged"):
        # Two receipts of one delivery (a consumer re-sends after a crash), read by two workers at once.
        claims = {"kind": kind, "delivery_id": "d0", "notification_id": "n0"}
        tokens = [issue_token(keys, role="agency_system", audience=AUDIENCE, extra_claims=claims) for _ in engines]
        calls = [
            lambda e=e, t=t: record_receipt(e, registry, AUDIENCE, t) for e, t in zip(engines, tokens, strict=True)
        ]
        assert sorted(at_once(calls)) == [False, True]  # type: ignore[arg-type]
    assert logged(engines[0], audit.EventKind.DELIVERED) == Counter({"d0": 1})
    assert logged(engines[0], audit.EventKind.ACKNOWLEDGED) == Counter({"d0": 1})


def test_two_schedulers_mark_each_clock_overdue_once(engines: list[Engine]) -> None:
    for round_ in range(5):
        with Session(engines[0]) as session:
            for i in range(10):
                session.add(clock(f"d{round_}-{i}"))
            session.commit()
        at_once([lambda e=e: tick(e) for e in engines])  # type: ignore[misc]
    overdue = logged(engines[0], audit.EventKind.OVERDUE)
    assert overdue == Counter({f"d{r}-{i}": 1 for r in range(5) for i in range(10)})


def outbox_row(delivery_id: str) -> OutboxRow:
    return OutboxRow(
        delivery_id=delivery_id,
        notification_id=delivery_id.replace("d", "n"),
        recipient_agency=str(CONTEXT["recipient_agency"]),
        topic="t",
        key="k",
        headers={},
        envelope=b"{}",
        log_context=CONTEXT,
        created_at=datetime.now(UTC),
    )


def tick(engine: Engine) -> int:
    with Session(engine) as session:
        late = mark_overdue(session, datetime.now(UTC))
        session.commit()
        return len(late)


def clock(delivery_id: str) -> ObligationClock:
    return ObligationClock(
        delivery_id=delivery_id,
        notification_id="n",
        recipient_agency="csc-fenmere-mash",
        sender_agency="police-fenmere",
        kind="acknowledge_referral",
        rule="GR7",
        description="Acknowledge the referral",
        due_at=datetime.now(UTC) - timedelta(minutes=1),
        stops_on="acknowledged",
        log_context=CONTEXT,
    )


def logged(engine: Engine, kind: audit.EventKind) -> Counter[str]:
    with Session(engine) as session:
        query = select(audit.Entry.delivery_id).where(col(audit.Entry.kind) == kind.value)
        return Counter(str(d) for d in session.exec(query))

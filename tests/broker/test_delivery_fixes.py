"""Defects a code review found in delivery: a republish racing a withdrawal or purge, a relay stalled by
a row it cannot open, acknowledgements stopped at processing time, and calendar days counted in UTC.
Real gateway (SQLite, and PostgreSQL for the race), its own relay, the stack's Kafka and OPA."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

import audit
from broker.db.tables import ObligationClock, OutboxRow
from broker.delivery import redelivery
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.clocks import mark_overdue
from broker.delivery.receipts import record_receipt
from broker.errors import NotFound
from broker.partnership.cli import issue_token
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory
from tests.broker.kafka_reader import wait_published
from tests.broker.people import POLICE
from tests.factories import school_referral

CSC = "csc-fenmere-mash"


def _row(gateway: Gateway, notification_id: str) -> OutboxRow:
    with Session(gateway.engine) as session:
        (row,) = session.exec(select(OutboxRow).where(col(OutboxRow.notification_id) == notification_id)).all()
        return row


def _set(gateway: Gateway, row: OutboxRow, **values: object) -> None:
    with Session(gateway.engine) as session, session.begin():
        session.execute(update(OutboxRow).where(col(OutboxRow.id) == row.id).values(**values))


def _published_entries(gateway: Gateway, delivery_id: str) -> int:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.delivery_id) == delivery_id, col(audit.Entry.kind) == audit.EventKind.PUBLISHED
        )
        return len(session.exec(query).all())


async def _sent(gateway: Gateway) -> OutboxRow:
    body = school_referral(recipients=[POLICE])
    answer = await gateway.post(body)
    assert answer.status_code == 202, answer.text
    return _row(gateway, body["notification_id"])


@pytest.mark.stack
async def test_a_row_the_relay_cannot_open_does_not_stop_the_rows_behind_it(gateway: Gateway) -> None:
    emptied, garbled = await _sent(gateway), await _sent(gateway)
    await wait_published(gateway.outbox)
    assert emptied.case_key_id is not None and garbled.case_key_id is not None  # opened under a case key
    # What a purge (envelope and nonce gone) racing a republish leaves; and a nonce AES-GCM refuses.
    _set(gateway, emptied, envelope=b"", nonce=None, published_at=None)
    _set(gateway, garbled, nonce=b"short", published_at=None)
    good = await _sent(gateway)
    gateway.outbox.wake()

    for _ in range(80):
        if _row(gateway, good.notification_id).published_at is not None:
            break
        await asyncio.sleep(0.25)
    assert _row(gateway, good.notification_id).published_at is not None, "the relay stalled on a bad row"
    assert _published_entries(gateway, good.delivery_id) == 1
    # Nothing left to send: done, never produced or logged again. The garbled one waits, as tampered rows do.
    assert _row(gateway, emptied.notification_id).published_at is not None
    assert _published_entries(gateway, emptied.delivery_id) == 1
    assert _row(gateway, garbled.notification_id).published_at is None


@pytest.mark.stack
async def test_a_republish_racing_a_purge_does_not_queue_the_emptied_row(
    postgres_url: str, gateway_factory: GatewayFactory
) -> None:
    # `postgres_url` first: the gateway stops before its database is dropped.
    # PostgreSQL: SQLite's write transactions begin with the write lock, so they cannot interleave.
    gateway = await gateway_factory(database_url=postgres_url)
    row = await _sent(gateway)
    await wait_published(gateway.outbox)
    answers: list[object] = []

    def republish() -> None:
        try:
            answers.append(
                redelivery.request_republish(
                    gateway.engine,
                    delivery_id=row.delivery_id,
                    agency_id=POLICE["agency_id"],
                    actor="agency_system@police-fenmere",
                    actor_role="agency_system",
                )
            )
        except NotFound as exc:
            answers.append(exc)

    # The purge has emptied the row but not committed when the republish looks at it.
    with gateway.engine.connect() as purge:
        purge.execute(update(OutboxRow).where(col(OutboxRow.id) == row.id).values(envelope=b"", nonce=None))
        asking = threading.Thread(target=republish)
        asking.start()
        await asyncio.sleep(1.0)
        purge.commit()
    await asyncio.to_thread(asking.join, 30)

    (answer,) = answers
    assert isinstance(answer, NotFound), answer
    assert _row(gateway, row.notification_id).published_at is not None


@pytest.mark.stack
async def test_an_acknowledgement_stops_its_clock_when_it_was_signed(gateway: Gateway) -> None:
    body = school_referral()
    assert (await gateway.post(body)).status_code == 202
    with Session(gateway.engine) as session:
        (clock,) = session.exec(
            select(ObligationClock).where(
                col(ObligationClock.recipient_agency) == CSC, col(ObligationClock.kind) == "acknowledge_referral"
            )
        ).all()
    now = datetime.now(UTC).replace(microsecond=0)
    signed, due = now - timedelta(hours=2), now - timedelta(hours=1)
    with Session(gateway.engine) as session, session.begin():
        session.execute(update(ObligationClock).where(col(ObligationClock.id) == clock.id).values(due_at=due))
    # Signed before the clock was due, processed after (it waited on the topic while the gateway was down).
    receipt = issue_token(
        gateway.partnership.agency_keys(CSC),
        role="agency_system",
        audience=AUDIENCE,
        now=signed,
        extra_claims={
            "kind": "acknowledged",
            "delivery_id": clock.delivery_id,
            "notification_id": clock.notification_id,
        },
    )
    assert await asyncio.to_thread(record_receipt, gateway.engine, gateway.registry, AUDIENCE, receipt)

    with Session(gateway.engine) as session, session.begin():
        late = mark_overdue(session, now)
        stopped = session.get(ObligationClock, clock.id)
        assert stopped is not None and stopped.stopped_at is not None
        assert stopped.stopped_at.replace(tzinfo=UTC) == signed
    assert clock.id not in {c.id for c in late}


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Sat 28 Mar 2026 10:00 GMT; BST from Sun 29 Mar: due Sun 10:00 BST, 09:00 UTC.
        (datetime(2026, 3, 28, 10, tzinfo=UTC), 1, datetime(2026, 3, 29, 9, tzinfo=UTC)),
        # Fri 23 Oct 2026 13:00 BST; GMT from Sun 25 Oct: due Wed 28 Oct 13:00 GMT.
        (datetime(2026, 10, 23, 12, tzinfo=UTC), 5, datetime(2026, 10, 28, 13, tzinfo=UTC)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_calendar_days_keep_the_london_time_of_day_across_a_clock_change(
    start: datetime, days: int, expected: datetime
) -> None:
    due = WorkingCalendar().due(start, days, "days")
    assert due == expected and due.tzinfo is UTC

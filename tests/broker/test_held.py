"""The pending store: release moves a held share to the outbox and starts its clocks; refusal shreds it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

import audit
from broker.db.log import prepare_database
from broker.db.tables import HeldDelivery, HeldKey, ObligationClock, OutboxRow
from broker.delivery import held
from broker.errors import HeldDeliveryGone

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONTEXT: dict[str, object] = {
    "decided_seq": 0,
    "outcome": "needs_advice",
    "sender_agency": "school-example",
    "sender_role": "dsl",
    "recipient_agency": "csc-example",
    "message_type": "safeguarding_referral",
    "obligations": [
        {
            "kind": "acknowledge",
            "rule": "GR6",
            "description": "Acknowledge within 1 working day",
            "amount": 1,
            "unit": "working_days",
            "due_at": (NOW + timedelta(days=1)).isoformat(),
        }
    ],
}


def _row(delivery_id: str) -> OutboxRow:
    return OutboxRow(
        delivery_id=delivery_id,
        notification_id="n-1",
        recipient_agency="csc-example",
        topic="sgb.inbox.csc-example",
        key="k",
        headers={"ce_id": delivery_id},
        envelope=b'{"sealed": "bytes"}',
        log_context=CONTEXT,
        created_at=NOW,
    )


@pytest.fixture
def engine(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine = audit.create_engine_for(sqlite_url)
    prepare_database(engine)
    yield engine
    engine.dispose()


def test_release_puts_the_same_bytes_in_the_outbox_and_starts_clocks(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("d-1"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=72))
        session.commit()
        stored = session.get(HeldDelivery, "d-1")
        assert stored is not None and b"sealed" not in stored.ciphertext  # encrypted again at rest
        released = held.release(session, "d-1", now=NOW)
        session.commit()
        assert released.envelope == b'{"sealed": "bytes"}'
        assert session.get(HeldKey, "d-1") is None
        assert [c.kind for c in session.exec(select(ObligationClock))] == ["acknowledge"]
        with pytest.raises(HeldDeliveryGone):
            held.release(session, "d-1", now=NOW)


def test_refusal_destroys_the_key_and_nothing_can_be_released(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("d-2"), outcome="hold_for_authorisation", now=NOW, expires_at=NOW + timedelta(hours=1))
        held.refuse(session, "d-2", now=NOW)
        session.commit()
        assert session.get(HeldKey, "d-2") is None
        assert list(session.exec(select(OutboxRow))) == []
        with pytest.raises(HeldDeliveryGone):
            held.release(session, "d-2", now=NOW)


def test_expiry_destroys_only_what_ran_out(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("old"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=1))
        held.hold(session, _row("new"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=100))
        assert held.expire(session, now=NOW + timedelta(hours=2)) == ["old"]
        session.commit()
        assert session.get(HeldKey, "old") is None
        assert session.get(HeldKey, "new") is not None

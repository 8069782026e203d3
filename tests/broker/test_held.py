"""The pending store: release moves a held share to the outbox and starts its clocks; refusal and expiry
shred it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

import audit
from broker.db.provisioning import prepare_database
from broker.db.tables import HeldDelivery, HeldKey, ObligationClock, OutboxRow
from broker.delivery import held, scheduler
from broker.delivery.calendar import WorkingCalendar
from broker.errors import HeldDeliveryGone

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CALENDAR = WorkingCalendar(school_holidays=())
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
    with Session(engine) as session:  # the decision CONTEXT's decided_seq names, which an expiry follows
        decided = audit.EntryDraft(
            notification_id="n-1",
            delivery_id="d-0",
            kind=audit.EventKind.DECIDED,
            outcome="needs_advice",
            sender_agency="school-example",
            sender_role="dsl",
            recipient_agency="csc-example",
            message_type="safeguarding_referral",
            reasons=(audit.Reason(rule="GR3", message="In doubt: ask for advice."),),
        )
        audit.append(session, [decided])
        session.commit()
    yield engine
    engine.dispose()


def test_release_puts_the_same_bytes_in_the_outbox_and_starts_clocks(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("d-1"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=72))
        session.commit()
        stored = session.get(HeldDelivery, "d-1")
        assert stored is not None and b"sealed" not in stored.ciphertext  # encrypted again at rest
        later = NOW + timedelta(days=2)  # answered two days after the decision
        released = held.release(session, "d-1", now=later, calendar=CALENDAR)
        session.commit()
        assert released.envelope == b'{"sealed": "bytes"}'
        assert session.get(HeldKey, "d-1") is None
        (clock,) = session.exec(select(ObligationClock))
        assert clock.kind == "acknowledge"
        # Due a working day after the release, not after the decision (which would start it late).
        assert clock.due_at.replace(tzinfo=UTC) == CALENDAR.due(later, 1, "working_days")
        with pytest.raises(HeldDeliveryGone):
            held.release(session, "d-1", now=NOW, calendar=CALENDAR)


def test_refusal_destroys_the_key_and_nothing_can_be_released(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("d-2"), outcome="hold_for_authorisation", now=NOW, expires_at=NOW + timedelta(hours=1))
        held.refuse(session, "d-2", now=NOW)
        session.commit()
        assert session.get(HeldKey, "d-2") is None
        assert list(session.exec(select(OutboxRow))) == []
        with pytest.raises(HeldDeliveryGone):
            held.release(session, "d-2", now=NOW, calendar=CALENDAR)


def test_expiry_destroys_only_what_ran_out(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("old"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=1))
        held.hold(session, _row("new"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=100))
        assert held.expire(session, now=NOW + timedelta(hours=2)) == ["old"]
        session.commit()
        assert session.get(HeldKey, "old") is None
        assert session.get(HeldKey, "new") is not None
        (entry,) = session.exec(select(audit.Entry).where(audit.Entry.kind == audit.EventKind.EXPIRED))
        assert (entry.delivery_id, entry.outcome, entry.reasons[0]["rule"]) == ("old", "expired", "GR3")
        assert entry.reasons[0]["message"].startswith("Nobody answered within 1 hour, ")


def test_an_expired_share_is_not_released_even_before_the_scheduler_runs(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("d-3"), outcome="needs_advice", now=NOW, expires_at=NOW + timedelta(hours=1))
        session.commit()
        with pytest.raises(HeldDeliveryGone, match="expired unanswered"):
            held.release(session, "d-3", now=NOW + timedelta(hours=1), calendar=CALENDAR)
        assert list(session.exec(select(OutboxRow))) == []


def test_the_scheduler_expires_held_shares(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        held.hold(session, _row("d-4"), outcome="hold_for_authorisation", now=NOW, expires_at=NOW + timedelta(hours=72))
        session.commit()
    assert scheduler.tick(engine, NOW + timedelta(hours=71)) == 0
    with Session(engine) as session:
        assert session.get(HeldKey, "d-4") is not None
    scheduler.tick(engine, NOW + timedelta(hours=73))
    with Session(engine) as session:
        stored = session.get(HeldDelivery, "d-4")
        assert stored is not None and stored.resolution == "expired" and session.get(HeldKey, "d-4") is None
        (entry,) = session.exec(select(audit.Entry).where(audit.Entry.kind == audit.EventKind.EXPIRED))
        assert entry.reasons[0]["rule"] == "GR4" and "within 72 hours" in entry.reasons[0]["message"]

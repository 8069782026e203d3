"""A held share, once released, starts the clocks of the share it becomes.

A held or advice outcome owes nothing while it waits, so its clocks cannot come from its own
obligations: the policy names the release's (`obligations_on_release`), the gateway's plan and
record steps keep them with the held row, and `held.release` starts them. Each test takes the
real policy's decision (this suite's own OPA), plans and records it into SQLite as the gateway
does, with a stand-in sealer, and releases it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

import audit
from broker.db.log import prepare_database
from broker.db.tables import ObligationClock
from broker.delivery import held
from broker.delivery.calendar import WorkingCalendar
from broker.sharing.decide import read_decision
from broker.sharing.flow import receipt_body
from broker.sharing.plan import Planned, plan
from broker.sharing.record import write_rows
from broker.sharing.seal import Sealed, Sealer
from schemas.notifications import Notification, parse_notification
from schemas.policy_decision import PolicyDecision, RecipientDecision
from schemas.policy_input import build_policy_input
from schemas.vocab import Outcome
from tests.policy.bases import CSC, POLICE, not_sought, patched
from tests.policy.conftest import REGISTRY, Decide

pytestmark = pytest.mark.stack

DECIDED = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
RELEASED = DECIDED + timedelta(days=2)  # answered on the Wednesday
CALENDAR = WorkingCalendar(school_holidays=())
PREJUDICE = not_sought("prejudice_crime")
LIKELY = {"likely_significant_harm": True}
TOLD = {"parents_informed": True, "parent_withheld_permission": False}


class _Sealer(Sealer):
    """Sealing is not what these tests are about: a fixed envelope, routed as the real one."""

    def __init__(self) -> None:
        pass

    def seal(
        self, notification: Notification, decision: RecipientDecision, *, delivery_id: str, now: datetime
    ) -> Sealed:
        return Sealed(
            delivery_id=delivery_id,
            notification_id=str(notification.notification_id),
            recipient_agency=decision.agency_id,
            topic=f"sgb.inbox.{decision.agency_id}",
            key="routing-key",
            envelope=b"sealed",
            headers={},
            created_at=now,
        )


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = audit.create_engine_for(sqlite_url)
    prepare_database(engine)
    yield engine
    engine.dispose()


def _planned(decide: Decide, body: dict[str, Any]) -> tuple[Notification, list[Planned]]:
    notification = parse_notification(body)
    policy_input = build_policy_input(notification, REGISTRY["partnership_id"]).model_dump(mode="json")
    decision = read_decision(PolicyDecision.model_validate(decide(policy_input)), None, notification)
    return notification, plan(notification, decision, sealer=_Sealer(), calendar=CALENDAR, now=DECIDED)


def _record(engine: Engine, notification: Notification, planned: list[Planned]) -> None:
    drafts = [
        audit.EntryDraft(
            notification_id=str(notification.notification_id),
            delivery_id=p.delivery_id,
            kind=audit.EventKind.DECIDED,
            outcome=p.decision.outcome.value,
            sender_agency=notification.sender.agency_id,
            sender_role=notification.sender.role.value,
            recipient_agency=p.decision.agency_id,
            message_type=notification.message_type.value,
            reasons=tuple(audit.Reason(rule=r.rule, message=r.message) for r in p.decision.reasons),
        )
        for p in planned
    ]
    with Session(engine) as session:
        entries = audit.append(session, drafts)
        write_rows(
            session,
            entries,
            notification=notification,
            planned=planned,
            now=DECIDED,
            expires_at=DECIDED + timedelta(days=7),
            first_answer=None,
        )
        session.commit()


def _clocks(engine: Engine, delivery_id: str) -> dict[str, datetime | None]:
    with Session(engine) as session:
        found = session.exec(select(ObligationClock).where(ObligationClock.delivery_id == delivery_id))
        return {c.kind: c.due_at.replace(tzinfo=UTC) if c.due_at else None for c in found}


def _release(engine: Engine, delivery_id: str) -> None:
    with Session(engine) as session:
        held.release(session, delivery_id, now=RELEASED, calendar=CALENDAR)
        session.commit()


def _receipt_kinds(notification: Notification, planned: list[Planned], delivery_id: str) -> list[str]:
    receipt = receipt_body(notification, planned, checkpoint=None)
    (mine,) = [r for r in receipt["recipients"] if r["delivery_id"] == delivery_id]
    return [o["kind"] for o in mine["obligations"]]


def test_a_cpch_strategy_request_signed_off_late_still_gets_its_two_day_meeting_clock(
    decide: Decide, engine: Engine
) -> None:
    body = patched("strategy", {"payload": {"strategy_kind": "cpch"}, "risk": LIKELY, "consent": PREJUDICE})
    notification, planned = _planned(decide, body)
    (waiting,) = planned
    assert waiting.decision.outcome == Outcome.HOLD_FOR_AUTHORISATION
    _record(engine, notification, planned)
    # Held, nothing runs, and the sender's receipt shows nothing running.
    assert _clocks(engine, waiting.delivery_id) == {}
    assert _receipt_kinds(notification, planned, waiting.delivery_id) == []
    _release(engine, waiting.delivery_id)
    clocks = _clocks(engine, waiting.delivery_id)
    # T10: two working days from the line manager's sign-off, not from the decision.
    assert clocks["strategy_meeting"] == CALENDAR.due(RELEASED, 2, "working_days")


def test_a_referral_released_after_advice_starts_the_csc_clocks(decide: Decide, engine: Engine) -> None:
    doubt = {"sender_in_doubt": True, "initial_contact": "phone", "consent": PREJUDICE, "parental_position": TOLD}
    body = patched("referral", {**doubt, "recipients": [CSC, POLICE]})
    notification, planned = _planned(decide, body)
    to_csc = next(p for p in planned if p.decision.agency_id == CSC["agency_id"])
    assert to_csc.decision.outcome == Outcome.NEEDS_ADVICE
    _record(engine, notification, planned)
    assert _clocks(engine, to_csc.delivery_id) == {}
    # What the outcome itself owes (the phone referral's written confirmation) is all the receipt shows.
    assert _receipt_kinds(notification, planned, to_csc.delivery_id) == ["written_confirmation"]
    _release(engine, to_csc.delivery_id)
    clocks = _clocks(engine, to_csc.delivery_id)
    assert {"acknowledge_referral", "decide_referral", "written_confirmation"} <= set(clocks)
    assert clocks["decide_referral"] == CALENDAR.due(RELEASED, 1, "working_days")

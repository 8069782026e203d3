"""Clocks stop on their own answer, and only if that answer was itself shared with whoever waits.

Plain SQLite: the clock rows and the reply's outbox rows as the gateway writes them in one
transaction (broker/sharing/record.py), without the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, create_engine, select

from broker.db.tables import BrokerTable, ObligationClock, OutboxRow
from broker.delivery.clocks import start_clocks, stop_on_reply, stops_on

HOSPITAL, CSC, POLICE, SCHOOL = (
    "hospital-fenmere-general",
    "csc-fenmere-mash",
    "police-fenmere",
    "school-oakfield-primary",
)
ORIGINAL = "00000000-0000-4000-8000-000000000018"
REPLY = "00000000-0000-4000-8000-000000000099"
STARTED = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    BrokerTable.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _start(session: Session, message_type: str, kind: str, *, sender: str, recipient: str) -> None:
    context: dict[str, object] = {"sender_agency": sender, "recipient_agency": recipient, "message_type": message_type}
    obligation = {
        "kind": kind,
        "rule": "GR6",
        "description": f"Fictional {kind}.",
        "due_at": (STARTED + timedelta(days=1)).isoformat(),
    }
    start_clocks(
        session,
        delivery_id=f"d-{kind}-{recipient}",
        notification_id=ORIGINAL,
        context=context,
        obligations=[obligation],
    )


def _reply_row(session: Session, message_type: str, *, sender: str, recipient: str, now: datetime) -> None:
    """The outbox row of a reply shared with `recipient`, sealed at `now` (what write_rows adds)."""
    context: dict[str, Any] = {"sender_agency": sender, "recipient_agency": recipient, "message_type": message_type}
    session.add(
        OutboxRow(
            delivery_id=f"reply-{message_type}-{recipient}-{now.timestamp()}",
            notification_id=REPLY,
            recipient_agency=recipient,
            topic="t",
            key="k",
            headers={},
            envelope=b"sealed",
            log_context=context,
            created_at=now,
        )
    )


def _stopped(engine: Engine) -> dict[str, bool]:
    with Session(engine) as session:
        return {
            f"{c.kind}@{c.recipient_agency}": c.stopped_at is not None for c in session.exec(select(ObligationClock))
        }


def _reply(engine: Engine, message_type: str, *, sender: str, shared_to: tuple[str, ...]) -> int:
    now = datetime.now(UTC)
    with Session(engine) as session:
        for recipient in shared_to:
            _reply_row(session, message_type, sender=sender, recipient=recipient, now=now)
        stopped = stop_on_reply(
            session, in_reply_to=ORIGINAL, replying_agency=sender, message_type=message_type, now=now, by=REPLY
        )
        session.commit()
    return stopped


@pytest.mark.parametrize("answer", ["strategy_discussion_request", "referral_outcome"])
def test_discharge_hold_stops_on_strategy_or_outcome_shared_with_the_hospital(engine: Engine, answer: str) -> None:
    with Session(engine) as session:
        _start(session, "hospital_discharge_hold", "strategy_before_discharge", sender=HOSPITAL, recipient=CSC)
        session.commit()
    assert _reply(engine, "referral_acknowledgement", sender=CSC, shared_to=(HOSPITAL,)) == 0
    assert _reply(engine, answer, sender=CSC, shared_to=(HOSPITAL,)) == 1
    assert _stopped(engine) == {f"strategy_before_discharge@{CSC}": True}
    with Session(engine) as session:
        assert [c.met_by for c in session.exec(select(ObligationClock))] == [REPLY]


def test_an_answer_not_shared_with_the_waiting_party_stops_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        _start(session, "hospital_discharge_hold", "strategy_before_discharge", sender=HOSPITAL, recipient=CSC)
        session.commit()
    # Withheld or held from the hospital: only police got it, or nobody did.
    assert _reply(engine, "strategy_discussion_request", sender=CSC, shared_to=(POLICE,)) == 0
    assert _reply(engine, "strategy_discussion_request", sender=CSC, shared_to=()) == 0
    assert _stopped(engine) == {f"strategy_before_discharge@{CSC}": False}


def test_only_the_party_that_owes_the_answer_can_give_it(engine: Engine) -> None:
    with Session(engine) as session:
        _start(session, "child_on_child_harm_referral", "decide_referral", sender=SCHOOL, recipient=CSC)
        _start(session, "child_on_child_harm_referral", "strategy_meeting", sender=SCHOOL, recipient=CSC)
        session.commit()
    # The police cannot answer children's social care's duty.
    assert _reply(engine, "referral_outcome", sender=POLICE, shared_to=(SCHOOL,)) == 0
    assert _reply(engine, "referral_outcome", sender=CSC, shared_to=(SCHOOL,)) == 1
    assert _stopped(engine) == {f"decide_referral@{CSC}": True, f"strategy_meeting@{CSC}": False}
    assert _reply(engine, "strategy_discussion_request", sender=CSC, shared_to=(SCHOOL, POLICE)) == 1


def test_advice_is_answered_by_the_advisers_reply(engine: Engine) -> None:
    gp, adviser = "gp-willow-lane", "gp-willow-lane-safeguarding"
    with Session(engine) as session:
        _start(session, "advice_request", "give_advice", sender=gp, recipient=adviser)
        session.commit()
    assert _reply(engine, "advice_request", sender=adviser, shared_to=(gp,)) == 1


def test_a_duty_that_runs_on_with_the_sender_is_answered_by_its_next_message(engine: Engine) -> None:
    with Session(engine) as session:
        _start(session, "plan_review_notice", "next_plan_review", sender=CSC, recipient=SCHOOL)
        _start(session, "suicide_response", "cdr_information_sharing_meeting", sender=CSC, recipient=SCHOOL)
        session.commit()
    # The school cannot hold the lead's review; the lead's next notice, shared with the school, does.
    assert _reply(engine, "plan_review_notice", sender=SCHOOL, shared_to=(CSC,)) == 0
    assert _reply(engine, "plan_review_notice", sender=CSC, shared_to=(SCHOOL,)) == 1
    assert _reply(engine, "suicide_response", sender=CSC, shared_to=(SCHOOL,)) == 1


def test_a_released_answer_stops_the_clock_when_its_context_names_the_original(engine: Engine) -> None:
    with Session(engine) as session:
        _start(session, "professional_disagreement", "answer_escalation", sender=SCHOOL, recipient=CSC)
        context: dict[str, object] = {
            "sender_agency": CSC,
            "recipient_agency": SCHOOL,
            "message_type": "referral_outcome",
            "in_reply_to": ORIGINAL,
        }
        start_clocks(session, delivery_id="released", notification_id="reply", context=context, obligations=[])
        session.commit()
    assert _stopped(engine) == {f"answer_escalation@{CSC}": True}


def test_an_answer_to_one_clock_leaves_the_others_running(engine: Engine) -> None:
    with Session(engine) as session:
        _start(
            session,
            "domestic_abuse_school_notification",
            "acknowledge_before_school_day",
            sender=POLICE,
            recipient=SCHOOL,
        )
        _start(session, "prebirth_concern", "decide_referral", sender="health-visiting-fenmere", recipient=CSC)
        session.commit()
    assert _reply(engine, "referral_outcome", sender=CSC, shared_to=("health-visiting-fenmere",)) == 1
    # The school's clock stops only on its own acknowledgement (a receipt), never on a reply.
    assert _stopped(engine) == {f"acknowledge_before_school_day@{SCHOOL}": False, f"decide_referral@{CSC}": True}


@pytest.mark.parametrize(
    ("message_type", "kind", "answer"),
    [
        ("domestic_abuse_school_notification", "acknowledge_before_school_day", "acknowledged"),
        ("hospital_discharge_hold", "strategy_before_discharge", "strategy_discussion_request|referral_outcome"),
        ("child_on_child_harm_referral", "strategy_meeting", "strategy_discussion_request"),
        ("strategy_discussion_request", "strategy_meeting", "sender:strategy_discussion_request"),
        ("child_on_child_harm_referral", "written_confirmation", "itself"),
        ("advice_request", "give_advice", "advice_request"),
        ("professional_disagreement", "answer_escalation", "referral_outcome"),
        ("suicide_response", "review_suicide_response", "sender:suicide_response"),
    ],
)
def test_what_answers_each_timescale(message_type: str, kind: str, answer: str) -> None:
    assert stops_on(message_type, kind) == answer

"""Statutory clocks on the real gateway: started by a referral, stopped only by the answer, else overdue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

import audit
from broker.db.tables import ObligationClock
from broker.delivery.clocks import ACKNOWLEDGED, mark_overdue, stop_clocks
from tests.broker.conftest import Gateway
from tests.factories import school_referral
from tests.policy.bases import BASES

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack


def _clocks(gateway: Gateway) -> dict[str, ObligationClock]:
    with Session(gateway.engine) as session:
        rows = session.exec(select(ObligationClock).where(ObligationClock.recipient_agency == "csc-fenmere-mash"))
        return {clock.kind: clock for clock in rows}


def _outcome_reply(referral: dict[str, object]) -> dict[str, object]:
    return {
        **{k: referral[k] for k in ("schema_version", "created_at", "consent", "parental_position", "authorisation")},
        "message_type": "referral_outcome",
        "notification_id": str(uuid.uuid4()),
        "purpose": "referral_feedback",
        "purpose_statement": "Fictional: telling the referrer the outcome.",
        "lawful_basis": "legal_obligation_statutory",
        "in_reply_to": referral["notification_id"],
        "risk": {
            "immediate_significant_harm": False,
            "likely_significant_harm": False,
            "serious_harm_to_adult": False,
            "risk_to_others": False,
            "crime_suspected": False,
        },
        "subjects": referral["subjects"],
        "sender": {
            "agency_id": "csc-fenmere-mash",
            "role": "team_manager",
            "user_ref": "tm-1",
            "is_professional": True,
        },
        "recipients": [{"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "feedback_to_referrer"}],
        "payload": {
            "referral_reference": "REF-FICTION-1",
            "outcome": "child_and_family_assessment",
            "child": {"given_name": "Alpha", "family_name": "Testchild"},
        },
    }


async def test_referral_starts_clocks_an_acknowledgement_stops_one_and_the_outcome_both(gateway: Gateway) -> None:
    referral = school_referral()
    assert (await gateway.post(referral)).status_code == 202
    started = _clocks(gateway)
    assert {"acknowledge_referral", "decide_referral"} <= set(started)
    assert all(clock.stopped_at is None for clock in started.values())
    # The outcome must itself be shared (a manager's own authorisation) to answer the clock.
    from tests.broker.test_clock_gateway import post_outcome  # here: that module imports this one

    with Session(gateway.engine) as session:  # the front door's system acknowledges it: that one alone
        assert stop_clocks(session, started["acknowledge_referral"].delivery_id, ACKNOWLEDGED, datetime.now(UTC)) == 1
        session.commit()
    assert [k for k, c in _clocks(gateway).items() if c.stopped_at is not None] == ["acknowledge_referral"]
    reply = await post_outcome(gateway, _outcome_reply(referral), authorised=True)
    assert reply.status_code == 202, reply.text
    after = _clocks(gateway)
    assert after["decide_referral"].stopped_at is not None, "the outcome answers the decision clock"
    assert after["decide_referral"].met_by == reply.json()["notification_id"]


async def test_an_outcome_before_any_acknowledgement_meets_both(gateway: Gateway) -> None:
    """T03's acknowledgement to the referrer is met by the outcome too, which tells the referrer more (a
    reader of the demo found the acknowledgement still running, to fall overdue, after the outcome came)."""
    referral = school_referral()
    assert (await gateway.post(referral)).status_code == 202
    from tests.broker.test_clock_gateway import post_outcome  # here: that module imports this one

    reply = await post_outcome(gateway, _outcome_reply(referral), authorised=True)
    assert reply.status_code == 202, reply.text
    after = _clocks(gateway)
    met = {kind: after[kind].met_by for kind in ("acknowledge_referral", "decide_referral")}
    assert met == dict.fromkeys(met, reply.json()["notification_id"]), met


async def test_a_clock_past_due_is_logged_overdue_once(gateway: Gateway) -> None:
    referral = school_referral()
    assert (await gateway.post(referral)).status_code == 202
    later = datetime.now(UTC) + timedelta(days=10)
    with Session(gateway.engine, expire_on_commit=False) as session:
        first = mark_overdue(session, later)
        session.commit()
        again = mark_overdue(session, later)
        session.commit()
        overdue = list(session.exec(select(audit.Entry).where(audit.Entry.kind == "overdue")))
    assert {c.kind for c in first} >= {"acknowledge_referral", "decide_referral"}
    assert again == []
    assert len(overdue) == len(first)
    decided = {e.delivery_id: e.seq for e in _decided(gateway)}
    assert all(e.follows == [decided[e.delivery_id]] for e in overdue), "overdue entries link to the decision"


def _decided(gateway: Gateway) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(audit.Entry).where(audit.Entry.kind == "decided")))


async def test_the_front_doors_acknowledgement_in_reply_answers_the_acknowledgement_clock(gateway: Gateway) -> None:
    """M02 (T03): children's social care acknowledges a referral to its referrer within a working day;
    its acknowledgement, sent in reply, answers the clock as its system's signed receipt does."""
    referral = school_referral()
    assert (await gateway.post(referral)).status_code == 202
    acknowledgement = {
        **BASES["acknowledgement"],
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "in_reply_to": referral["notification_id"],
        "subjects": referral["subjects"],
    }
    answer = await gateway.post(acknowledgement)
    assert answer.status_code == 202, answer.text
    assert [r["outcome"] for r in answer.json()["recipients"]] == ["share"], answer.text
    after = _clocks(gateway)
    assert after["acknowledge_referral"].stopped_at is not None, "the acknowledgement answers it"
    assert after["decide_referral"].stopped_at is None, "only the outcome answers the decision"

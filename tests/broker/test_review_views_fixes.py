"""What the review views say about a decision after it was made: where an overdue one stands now,
the sender's status without who looked, reviews apart from other events, and a shredding's outcome.
Real gateway (SQLite) and the stack's OPA; no relay: nothing here needs a delivery to reach Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.delivery.clocks import mark_overdue
from broker.review import views
from broker.review.access import Viewer
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import URGENT_RISK, Person
from tests.broker.test_case_review import nhs_number
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}


@pytest.fixture
async def quiet(gateway_factory: GatewayFactory) -> Gateway:
    started: Gateway = await gateway_factory(run_relay_in_gateway=False)
    return started


async def _refer(sender: Person, **overrides: Any) -> dict[str, Any]:
    """A referral to CSC alone from `sender`; its one recipient's receipt with the notification id."""
    body = school_referral(recipients=[TO_CSC], **overrides)
    body["sender"] = {"agency_id": sender.agency, "role": "dsl", "user_ref": sender.user_ref, "is_professional": True}
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    (recipient,) = response.json()["recipients"]
    return {"notification_id": response.json()["notification_id"], **recipient}


async def _withdraw(person: Person, notification_id: str) -> None:
    answer = await person.api(
        "POST", f"/v1/notifications/{notification_id}/withdrawal", json={"reason": "sent_in_error"}
    )
    assert answer.status_code == 200, answer.text


def _decided(gateway: Gateway, delivery_id: str) -> audit.Entry:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.delivery_id) == delivery_id, col(audit.Entry.kind) == audit.EventKind.DECIDED
        )
        return session.exec(query).one()


def _run_out_the_clocks(gateway: Gateway) -> None:
    with Session(gateway.engine) as session:  # what the worker's clock check does, ten days on
        assert mark_overdue(session, datetime.now(UTC) + timedelta(days=10)), "the referral started clocks"
        session.commit()


async def test_overdue_entries_over_the_api_say_where_their_decision_stands_now(quiet: Gateway) -> None:
    sender = Person(quiet, SCHOOL, "dsl", "dsl-fix-01")
    sent = await _refer(sender)
    _run_out_the_clocks(quiet)
    await _withdraw(sender, sent["notification_id"])
    answer = await sender.api("GET", "/v1/overdue")
    assert answer.status_code == 200, answer.text
    mine = [e for e in answer.json() if e["delivery_id"] == sent["delivery_id"]]
    assert mine and {e["state"] for e in mine} == {"withdrawn"}, mine  # as the overdue page says it


async def test_the_senders_status_shows_no_views_and_many_views_hide_no_event(quiet: Gateway) -> None:
    sender = Person(quiet, SCHOOL, "dsl", "dsl-fix-02")
    sent = await _refer(sender)
    decided = _decided(quiet, sent["delivery_id"])
    assert (await sender.api("GET", f"/v1/decisions/{decided.seq}")).status_code == 200  # one look, logged
    agency = quiet.registry.agency(CSC)
    assert agency is not None
    reader = Viewer(CSC, agency.type, "dsl", "csc-dsl-fix-02", None)
    await quiet.decision_log.append([views.view_draft(decided, reader)] * 1000)  # more looks than a page holds
    await _withdraw(sender, sent["notification_id"])
    status = await sender.api("GET", f"/v1/notifications/{sent['notification_id']}")
    assert status.status_code == 200, status.text
    (recipient,) = status.json()["recipients"]
    assert [e["kind"] for e in recipient["events"]] == ["decided", "withdrawn"]
    assert recipient["status"] == "withdrawn"


async def test_reviewed_by_lists_reviews_and_nothing_else(quiet: Gateway) -> None:
    sender, reviewer = Person(quiet, SCHOOL, "dsl", "dsl-fix-03"), Person(quiet, SCHOOL, "dsl", "dsl-fix-04")
    sent = await _refer(sender, risk=URGENT_RISK)
    assert sent["outcome"] == "share_urgent_review_after", sent
    decided = _decided(quiet, sent["delivery_id"])
    reviewed = await reviewer.api(
        "POST", f"/v1/urgent/{decided.seq}", json={"reason": "Right to send at once.", "finding": "upheld"}
    )
    assert reviewed.status_code == 200, reviewed.text
    _run_out_the_clocks(quiet)
    await _withdraw(sender, sent["notification_id"])
    detail = await sender.api("GET", f"/v1/decisions/{decided.seq}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert {"overdue", "withdrawn"} <= {e["kind"] for e in body["events"]}, body["events"]
    assert [(e["kind"], e["actor"]) for e in body["reviewed_by"]] == [("urgent_reviewed", "dsl-fix-04")]


async def test_a_shredded_deliverys_entry_says_shredded_not_what_was_decided(quiet: Gateway) -> None:
    sender = Person(quiet, SCHOOL, "dsl", "dsl-fix-05")
    child = [
        {"subject_ref": "pupil-fix-05", "role_in_case": "child", "age_years": 7, "nhs_number": nhs_number("400000072")}
    ]
    shared = await _refer(sender, subjects=child)
    held = await _refer(sender, subjects=child, sender_in_doubt=True)
    assert (shared["outcome"], held["outcome"]) == ("share", "needs_advice")
    lead = Person(quiet, CSC, "ig_lead", "csc-ig-lead-fix-05")
    shredding = {"nhs_number": child[0]["nhs_number"], "reason_code": "sent_in_error", "decision_ref": "IG-2026-0103"}
    answer = await lead.api("POST", "/v1/case-shredding", json=shredding)
    assert answer.status_code == 200 and answer.json()["deliveries_logged"] == 2, answer.text
    with Session(quiet.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.kind) == audit.EventKind.SHREDDED,
            col(audit.Entry.delivery_id).in_([shared["delivery_id"], held["delivery_id"]]),
        )
        assert {e.outcome for e in session.exec(query)} == {"shredded"}
    # The status still names what was decided (from the decision), and the stage the shredding.
    status = await sender.api("GET", f"/v1/notifications/{shared['notification_id']}")
    (recipient,) = status.json()["recipients"]
    assert (recipient["outcome"], recipient["status"]) == ("share", "shredded"), recipient


async def test_a_viewed_entry_says_whether_the_decision_was_opened_or_only_listed(quiet: Gateway) -> None:
    # "Who saw the fields released?" is answered by those who opened it, not by every list it was a row of.
    sender = Person(quiet, SCHOOL, "dsl", "dsl-school-61")
    sent = await _refer(sender)
    decided = _decided(quiet, sent["delivery_id"])
    reader = Person(quiet, CSC, "ig_lead", "csc-ig-lead-61")
    assert (await reader.api("GET", "/v1/decisions", params={"sender": SCHOOL})).status_code == 200
    assert (await reader.api("GET", f"/v1/decisions/{decided.seq}")).status_code == 200
    with Session(quiet.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.delivery_id) == sent["delivery_id"], col(audit.Entry.kind) == audit.EventKind.VIEWED
        )
        seen = [(e.actor, e.reasons[0]["message"]) for e in session.exec(query.order_by(col(audit.Entry.seq)))]
    assert seen == [("csc-ig-lead-61", views.LISTED), ("csc-ig-lead-61", views.OPENED)]

"""Defects found in withdrawal and shredding, each pinned: what the answer shows a front door, two
withdrawals at once, and an erasure notice for a delivery put back in the relay's queue.

On the real gateway (SQLite, the stack's OPA); the relay is this test where it matters, as in
`tests/broker/test_case_shredding.py`.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select

from broker.db.tables import OutboxRow
from broker.delivery.background import build_relay
from broker.metrics import Metrics
from schemas.notice import Notice
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_withdrawal import _entries, _withdraw
from tests.factories import school_referral

pytestmark = pytest.mark.stack
SCHOOL, CSC, POLICE = "school-oakfield-primary", "csc-fenmere-mash", "police-fenmere"
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}
CHILD = nhs_number("400000047")


async def test_a_front_door_withdrawing_is_told_only_of_its_own_delivery(gateway: Gateway) -> None:
    """CSC withdraws a school referral it received: the recall is of its own delivery, and the answer
    names only that, never the police's delivery or what was decided for it."""
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    notification = response.json()["notification_id"]
    recipients = {r["agency_id"] for r in response.json()["recipients"]}
    assert {CSC, POLICE} <= recipients
    answer = await _withdraw(Person(gateway, CSC, "dsl", "dsl-csc-41"), notification, "malicious")
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert {d["agency_id"] for d in shown["deliveries"]} == {CSC}, shown["deliveries"]
    assert len(shown["seqs"]) == 1, shown["seqs"]
    # The police's copy stands: a front door recalls its own (`broker.review.withdrawal`).
    assert {e.recipient_agency for e in _entries(gateway, notification, "withdrawn")} == {CSC}
    # The sender, who sees every recipient, is told of each.
    again = await gateway.post(school_referral())
    sender = Person(gateway, SCHOOL, "agency_system", None)
    both = await _withdraw(sender, again.json()["notification_id"])
    assert {d["agency_id"] for d in both.json()["deliveries"]} == recipients


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_withdrawals_at_once_recall_once(
    backend: str, gateway_factory: GatewayFactory, request: pytest.FixtureRequest
) -> None:
    """Two people withdraw the same notification at the same moment: one recall, one 409, not two of each."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    gateway = await gateway_factory(run_relay_in_gateway=False, database_url=url)
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-42")
    colleague = Person(gateway, SCHOOL, "dsl", "dsl-oak-43")
    sent = await sender.send("hold_for_authorisation")
    first, second = await asyncio.gather(
        _withdraw(sender, sent["notification_id"], "wrong_person"),
        _withdraw(colleague, sent["notification_id"], "sent_in_error"),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    assert len(_entries(gateway, sent["notification_id"], "withdrawn")) == 1
    (done,) = [a for a in (first, second) if a.status_code == 200]
    assert [(d["was"], d["now"]) for d in done.json()["deliveries"]] == [("held", "destroyed")]


async def test_a_delivery_queued_again_when_its_case_is_shredded_gets_an_erasure_notice(
    gateway_factory: GatewayFactory,
) -> None:
    """A delivery went out, its agency asked for it again (the row waits for the relay once more), then
    the case is shredded: the agency already holds it, so it must be told to erase it."""
    gateway = await gateway_factory(run_relay_in_gateway=False)  # this test is the relay
    body = school_referral(
        recipients=[TO_CSC],
        subjects=[{"subject_ref": "pupil-4401", "role_in_case": "child", "age_years": 6, "nhs_number": CHILD}],
    )
    response = await gateway.post(body)
    assert response.status_code == 202, response.text
    (recipient,) = response.json()["recipients"]
    relay = build_relay(settings=gateway.settings, engine=gateway.engine, metrics=Metrics())
    (row,) = [r for r, _ in relay._pending() if r.delivery_id == recipient["delivery_id"]]
    relay._mark_published([row])  # as `publish_once` marks the batch it produced
    csc_system = Person(gateway, CSC, "agency_system", None)
    republish = await csc_system.api("POST", f"/v1/deliveries/{row.delivery_id}/republish")
    assert republish.status_code in (200, 202), republish.text
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-44")
    shredding = {"nhs_number": CHILD, "reason_code": "court_order", "decision_ref": "IG-2026-0101"}
    answer = await lead.api("POST", "/v1/case-shredding", json=shredding)
    assert answer.status_code == 200, answer.text
    assert answer.json()["published_deliveries"] == 1, answer.json()
    with Session(gateway.engine) as session:
        notices = [r for r in session.exec(select(OutboxRow)) if r.log_context.get("notice_for") == row.delivery_id]
    ((notice,),) = [notices]
    parsed = Notice.from_bytes(notice.envelope)
    assert (parsed.kind, parsed.reason, notice.key) == ("erasure", "court_order", row.key)


async def test_a_correction_reusing_the_corrected_id_is_refused_before_anything_is_decided(gateway: Gateway) -> None:
    """The corrected referral sent under the first one's notification_id would be withdrawn with it, at
    once, while the answer said it replaced it: refused (422 naming the field), and nothing changes."""
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-45")
    sent = await sender.send("share")
    corrected = sender.notification("share")
    corrected["notification_id"] = sent["notification_id"]
    url = f"/v1/notifications/{sent['notification_id']}/correction"
    answer = await sender.api("POST", url, json=corrected)
    assert answer.status_code == 422, answer.text
    assert [e["loc"] for e in answer.json()["errors"]] == [["notification_id"]]
    assert len(_entries(gateway, sent["notification_id"], "decided")) == 1, "the correction decided nothing"
    assert _entries(gateway, sent["notification_id"], "corrected") == []
    # With a new id it goes through, and the replacement stands.
    fresh = sender.notification("share")
    done = await sender.api("POST", url, json=fresh)
    assert done.status_code == 202, done.text
    status = await sender.api("GET", f"/v1/notifications/{fresh['notification_id']}")
    assert [r["status"] for r in status.json()["recipients"]] != ["corrected"], status.text


async def test_a_front_door_may_withdraw_a_share_released_to_it(gateway: Gateway) -> None:
    """A held share, once a school adviser released it, reached CSC as any share does: CSC's front door
    may withdraw it as it may any referral it received (before, only a share at once counted)."""
    response = await gateway.post(school_referral(recipients=[TO_CSC], sender_in_doubt=True))
    assert response.status_code == 202, response.text
    (held,) = response.json()["recipients"]
    assert held["outcome"] == "needs_advice", held
    front_door = Person(gateway, CSC, "dsl", "dsl-csc-44")
    refused = await _withdraw(front_door, response.json()["notification_id"], "malicious")
    assert refused.status_code == 404, refused.text  # not shared with CSC yet: not CSC's to know of
    adviser = Person(gateway, SCHOOL, "dsl", "dsl-oak-44")
    answer = {"decision": "release", "reason": "Fictional: the adviser agrees the referral is needed."}
    released = await adviser.api("POST", f"/v1/queues/{held['delivery_id']}", json=answer)
    assert released.status_code == 200, released.text
    answer = await _withdraw(front_door, response.json()["notification_id"], "malicious")
    assert answer.status_code == 200, answer.text
    assert [d["now"] for d in answer.json()["deliveries"]] == ["notice sent"], answer.text


async def test_a_correction_retried_with_its_idempotency_key_gets_its_first_answer(gateway: Gateway) -> None:
    """A retry after a lost answer: before, the first one read as already withdrawn (409)."""
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-46")
    sent = await sender.send("share")
    fresh, url = sender.notification("share"), f"/v1/notifications/{sent['notification_id']}/correction"

    def headers() -> dict[str, str]:  # a fresh token each time: a jti is used once
        return {**sender.headers(), "Idempotency-Key": "correction-46"}

    first = await gateway.client.post(url, json=fresh, headers=headers())
    assert first.status_code == 202, first.text
    again = await gateway.client.post(url, json=fresh, headers=headers())
    assert again.status_code == 200, again.text
    assert again.content == first.content, "byte for byte"
    assert len(_entries(gateway, fresh["notification_id"], "decided")) == 1, "decided once"
    assert len(_entries(gateway, sent["notification_id"], "corrected")) == 1, "withdrawn once"
    # A key belongs to one route: sent as a notification, never half of the correction's first answer.
    as_notification = await gateway.client.post("/v1/notifications", json=fresh, headers=headers())
    assert as_notification.status_code == 409, as_notification.text
    assert "already used to correct a notification" in as_notification.json()["detail"], as_notification.text
    other = await gateway.client.post(url, json=sender.notification("share"), headers=headers())
    assert other.status_code == 409 and "different body" in other.text, other.text


async def test_a_key_that_sent_a_notification_corrects_nothing(gateway: Gateway) -> None:
    """Before, this stood in for a correction cut short between its two commits, and the correction
    route finished it; but a key that sent a notification is bound to no notification to correct, so
    it went on to withdraw whichever one the path named. A correction cut short by a real fault is in
    `tests/broker/test_correction_key.py`."""
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-47")
    sent = await sender.send("share")
    fresh, url = sender.notification("share"), f"/v1/notifications/{sent['notification_id']}/correction"

    def headers() -> dict[str, str]:  # a fresh token each time: a jti is used once
        return {**sender.headers(), "Idempotency-Key": "correction-47"}

    decided = await gateway.client.post("/v1/notifications", json=fresh, headers=headers())
    assert decided.status_code == 202, decided.text
    refused = await gateway.client.post(url, json=fresh, headers=headers())
    assert refused.status_code == 409, refused.text
    assert "to send a notification, not to correct one" in refused.json()["detail"], refused.text
    assert _entries(gateway, sent["notification_id"], "corrected") == [], "the first one stands"
    again = await gateway.client.post("/v1/notifications", json=fresh, headers=headers())
    assert (again.status_code, again.content) == (200, decided.content), "its own retry is answered"

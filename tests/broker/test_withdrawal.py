"""Who may withdraw or correct a notification, and what a withdrawal does to what is not yet out.

On the real gateway (SQLite, the stack's OPA), without consumers: the end-to-end path through Kafka
and the agencies' inboxes is `tests/witness/test_withdrawal.py`.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import HeldDelivery, HeldKey, ObligationClock, OutboxRow
from broker.delivery.background import build_relay
from broker.errors import Forbidden, NotFound
from broker.metrics import Metrics
from broker.review import withdrawal
from broker.review.access import Viewer
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack
SCHOOL, CSC, HV = "school-oakfield-primary", "csc-fenmere-mash", "health-visiting-fenmere"
POLICE = "police-fenmere"


def _entries(gateway: Gateway, notification_id: str, kind: str) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == kind
        )
        return list(session.exec(query))


async def _withdraw(person: Person, notification_id: str, reason: str = "sent_in_error") -> Any:
    return await person.api("POST", f"/v1/notifications/{notification_id}/withdrawal", json={"reason": reason})


async def test_a_held_share_is_destroyed_and_can_no_longer_be_released(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-01")
    sent = await sender.send("hold_for_authorisation")
    answer = await _withdraw(sender, sent["notification_id"], "wrong_person")
    assert answer.status_code == 200, answer.text
    (recalled,) = answer.json()["deliveries"]
    assert (recalled["was"], recalled["now"]) == ("held", "destroyed")
    with Session(gateway.engine) as session:
        held = session.get(HeldDelivery, sent["delivery_id"])
        assert held is not None and held.resolution == "withdrawn" and held.ciphertext == b""
        assert session.get(HeldKey, sent["delivery_id"]) is None
    manager = Person(gateway, SCHOOL, "line_manager", "lm-oak-01")
    release = await manager.api(
        "POST", f"/v1/queues/{sent['delivery_id']}", json={"decision": "release", "reason": "ok"}
    )
    assert release.status_code in (404, 409), release.text
    (entry,) = _entries(gateway, sent["notification_id"], "withdrawn")
    assert (entry.actor, entry.actor_role, entry.outcome) == ("dsl-oak-01", "dsl", "withdrawn")
    assert "about the wrong person" in entry.reasons[0]["message"]
    # The decision's page leads with the recall, before what was decided.
    await sender.sign_in()
    try:
        page = (await sender.page("GET", f"/ui/decisions/{entry.follows[0]}")).text
    finally:
        await sender.close()
    recall = page.index('class="recalled"')
    assert recall < page.index("Decided by") and "Withdrawn</strong>" in page[recall : recall + 200]
    # Held, it reached no agency: its page does not say any was told to delete it.
    assert 'Now: <span class="state">withdrawn before it was released: no agency received it</span>' in page


async def test_a_queued_share_is_never_published_and_its_clocks_stop(gateway_factory: GatewayFactory) -> None:
    # No relay: the row waits in the outbox, as it would while Kafka is down.
    gateway = await gateway_factory(run_relay_in_gateway=False)
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-02")
    sent = await sender.send("share")
    answer = await _withdraw(sender, sent["notification_id"])
    assert [(d["was"], d["now"]) for d in answer.json()["deliveries"]] == [("queued", "notice sent")]
    with Session(gateway.engine) as session:
        rows = list(session.exec(select(OutboxRow).where(col(OutboxRow.notification_id) == sent["notification_id"])))
        clocks = list(
            session.exec(select(ObligationClock).where(col(ObligationClock.delivery_id) == sent["delivery_id"]))
        )
    delivery = next(r for r in rows if r.delivery_id == sent["delivery_id"])
    notice = next(r for r in rows if r.delivery_id != sent["delivery_id"])
    assert delivery.envelope == b"" and delivery.published_at is not None, "marked done: the relay never sends it"
    assert notice.published_at is None and notice.log_context["notice_for"] == sent["delivery_id"]
    assert all(c.stopped_at is not None for c in clocks)
    # The sender's decision list says the share no longer stands; the withdrawal is no decision row.
    listed = (await sender.api("GET", "/v1/decisions", params={"limit": 50})).json()["items"]
    assert {i["delivery_id"]: i["state"] for i in listed}[sent["delivery_id"]] == "withdrawn"


async def test_who_may_withdraw(gateway: Gateway) -> None:
    sender = Person(gateway, HV, "practitioner", "hv-nurse-oak-01")
    sent = await sender.send("share")
    notification = sent["notification_id"]
    colleague = Person(gateway, HV, "practitioner", "hv-nurse-oak-02")  # own scope: not theirs
    police = Person(gateway, "police-fenmere", "dsl", "dsl-police-01")  # received it, not a front door
    office = Person(gateway, CSC, "ig_lead", "ig-csc-01")  # reads everything, withdraws nothing
    for person in (colleague, police):
        assert (await _withdraw(person, notification)).status_code == 404
    assert (await _withdraw(office, notification)).status_code == 403
    assert (await _withdraw(sender, notification, "because")).status_code == 422
    # `superseded` is a correction's own: a plain withdrawal claiming it names no replacement.
    claimed = await _withdraw(sender, notification, "superseded")
    assert claimed.status_code == 422, claimed.text
    assert claimed.json()["detail"] == [
        {
            "loc": ["reason"],
            "msg": "Input should be 'sent_in_error', 'wrong_person', 'malicious', 'factually_wrong' or 'not_upheld'",
            "type": "literal_error",
        }
    ]
    assert _entries(gateway, notification, "withdrawn") == []
    assert (await _withdraw(sender, notification)).status_code == 200


async def test_the_front_door_may_withdraw_a_referral_it_received_from_its_own_inbox(gateway: Gateway) -> None:
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    notification = response.json()["notification_id"]
    outcomes = {r["agency_id"]: r["outcome"] for r in response.json()["recipients"]}
    assert outcomes[CSC].startswith("share") and outcomes[POLICE].startswith("share"), outcomes
    front_door = Person(gateway, CSC, "dsl", "dsl-csc-01")
    answer = await _withdraw(front_door, notification, "malicious")
    assert answer.status_code == 200, answer.text
    # Its own copy only: the police's is the police's and the school's to recall (readers of the demo,
    # session 55: a MASH withdrew a GP's referral from the police too).
    withdrawn = _entries(gateway, notification, "withdrawn")
    assert {(e.recipient_agency, e.actor_agency) for e in withdrawn} == {(CSC, CSC)}
    assert (await _withdraw(front_door, notification, "malicious")).status_code == 409
    (to_police,) = [e for e in _entries(gateway, notification, "decided") if e.recipient_agency == POLICE]
    police = await Person(gateway, POLICE, "dsl", "dsl-police-09").api("GET", f"/v1/decisions/{to_police.seq}")
    assert police.status_code == 200 and police.json()["state"] != "withdrawn", police.text
    assert not [e for e in police.json()["events"] if e["kind"] == "withdrawn"], police.text
    # The sender reads who withdrew its referral from CSC, and may still withdraw the rest.
    (to_csc,) = [e for e in _entries(gateway, notification, "decided") if e.recipient_agency == CSC]
    school = Person(gateway, SCHOOL, "dsl", "dsl-oak-09")
    detail = await school.api("GET", f"/v1/decisions/{to_csc.seq}")
    (event,) = [e for e in detail.json()["events"] if e["kind"] == "withdrawn"]
    assert (event["actor_agency"], event["actor"]) == (CSC, "dsl-csc-01"), repr(event)
    rest = await _withdraw(school, notification)
    assert rest.status_code == 200, rest.text
    recipients = set(outcomes)
    assert {d["agency_id"] for d in rest.json()["deliveries"]} == recipients - {CSC}, rest.json()
    assert {e.recipient_agency for e in _entries(gateway, notification, "withdrawn")} == recipients


async def test_a_correction_nobody_may_make_decides_nothing(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-03")
    sent = await sender.send("share")
    stranger = Person(gateway, "police-fenmere", "dsl", "dsl-police-02")
    replacement = stranger.notification("share")
    refused = await stranger.api("POST", f"/v1/notifications/{sent['notification_id']}/correction", json=replacement)
    assert refused.status_code == 404, refused.text
    assert _entries(gateway, replacement["notification_id"], "decided") == []
    corrected = sender.notification("share")
    answer = await sender.api("POST", f"/v1/notifications/{sent['notification_id']}/correction", json=corrected)
    assert answer.status_code == 202, answer.text
    assert answer.json()["corrected"]["superseded_by"] == corrected["notification_id"]
    (entry,) = _entries(gateway, sent["notification_id"], "corrected")
    assert corrected["notification_id"] in entry.reasons[0]["message"]
    status = await sender.api("GET", f"/v1/notifications/{sent['notification_id']}")
    assert [r["status"] for r in status.json()["recipients"]] == ["corrected"]


async def test_only_a_role_that_may_send_may_correct_what_its_agency_sent(gateway: Gateway) -> None:
    # A correction is a new notification. The access table gives every role that may withdraw the
    # right to send too, so this is asked of the rule itself, with a role that may do neither.
    sent = await Person(gateway, SCHOOL, "dsl", "dsl-oak-04").send("share")
    reader = Viewer(SCHOOL, "education_school", "ig_lead", "ig-oak-01")
    with pytest.raises(Forbidden, match=r"^an ig_lead may not send notifications$"):
        withdrawal.check_may_withdraw(gateway.decision_log, reader, sent["notification_id"], correction=True)
    with pytest.raises(NotFound):  # nor withdraw it: the page offers neither
        withdrawal.check_may_withdraw(gateway.decision_log, reader, sent["notification_id"])
    assert withdrawal.offers(gateway.decision_log, reader, sent["notification_id"]) == (False, None, False)


async def test_a_share_put_back_by_a_republish_was_published_as_the_log_says(gateway_factory: GatewayFactory) -> None:
    """A republish queues a published delivery again; withdrawn before the relay runs, it was still
    published (the agency holds it), as the log's `published` entry says, not merely queued."""
    gateway = await gateway_factory(run_relay_in_gateway=False)  # this test marks what the relay would
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-07")
    sent = await sender.send("share")
    relay = build_relay(settings=gateway.settings, engine=gateway.engine, metrics=Metrics())
    (row,) = [r for r, _ in relay._pending() if r.delivery_id == sent["delivery_id"]]
    relay._mark_published([row])
    recipient = Person(gateway, row.recipient_agency, "agency_system", None)
    again = await recipient.api("POST", f"/v1/deliveries/{sent['delivery_id']}/republish")
    assert again.status_code == 202 and again.json()["queued"], again.text
    answer = await _withdraw(sender, sent["notification_id"])
    assert [(d["was"], d["now"]) for d in answer.json()["deliveries"]] == [("published", "notice sent")]


async def test_the_sender_may_withdraw_it_from_one_recipient_alone(gateway: Gateway) -> None:
    # An urgent share a review found should not have gone to one agency is taken back from that agency
    # alone (readers of the demo, session 55: the whole notification was the only choice).
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    notification = response.json()["notification_id"]
    recipients = {r["agency_id"] for r in response.json()["recipients"]}
    assert {CSC, POLICE} <= recipients
    school = Person(gateway, SCHOOL, "dsl", "dsl-oak-31")
    url = f"/v1/notifications/{notification}/withdrawal"
    one = await school.api("POST", url, json={"reason": "sent_in_error", "agency_id": POLICE})
    assert one.status_code == 200, one.text
    assert [d["agency_id"] for d in one.json()["deliveries"]] == [POLICE], one.json()
    assert {e.recipient_agency for e in _entries(gateway, notification, "withdrawn")} == {POLICE}
    again = await school.api("POST", url, json={"reason": "sent_in_error", "agency_id": POLICE})
    assert again.status_code == 409, again.text
    other = next(a for a in sorted(gateway.registry.agencies) if a not in recipients)
    stranger = await school.api("POST", url, json={"reason": "sent_in_error", "agency_id": other})
    assert stranger.status_code == 404, stranger.text  # not one of its recipients: nothing recalled
    # The front door names another agency: it still recalls its own copy, never the police's or the GP's.
    front_door = await Person(gateway, CSC, "dsl", "dsl-csc-31").api(
        "POST", url, json={"reason": "malicious", "agency_id": POLICE}
    )
    assert front_door.status_code == 200 and [d["agency_id"] for d in front_door.json()["deliveries"]] == [CSC]
    rest = await school.api("POST", url, json={"reason": "sent_in_error"})
    assert rest.status_code == 200, rest.text
    assert {d["agency_id"] for d in rest.json()["deliveries"]} == recipients - {POLICE, CSC}
    assert {e.recipient_agency for e in _entries(gateway, notification, "withdrawn")} == recipients

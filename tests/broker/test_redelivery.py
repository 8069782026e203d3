"""Issue 14: an inbox consumer that fell behind Kafka's retention asks for a delivery again while the
outbox keeps it; only the agency it was sealed to may ask; the request and the new publication are
logged. Real gateway, its own relay, the stack's Kafka."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from tests.broker.conftest import Gateway
from tests.broker.people import POLICE, Person
from tests.broker.test_case_review import nhs_number
from tests.factories import school_referral

pytestmark = pytest.mark.stack


def _row(gateway: Gateway, delivery_id: str) -> OutboxRow | None:
    with Session(gateway.engine) as session:
        return session.exec(select(OutboxRow).where(col(OutboxRow.delivery_id) == delivery_id)).first()


def _published(gateway: Gateway, delivery_id: str) -> int:
    with Session(gateway.engine) as session:
        entries = session.exec(
            select(audit.Entry).where(
                col(audit.Entry.delivery_id) == delivery_id, col(audit.Entry.kind) == audit.EventKind.PUBLISHED
            )
        )
        return len(list(entries))


async def _until_published(gateway: Gateway, delivery_id: str, times: int) -> int:
    for _ in range(120):
        if _published(gateway, delivery_id) >= times:
            break
        await asyncio.sleep(0.25)
    return _published(gateway, delivery_id)


async def test_the_recipient_asks_for_a_delivery_again_and_it_is_published_again(gateway: Gateway) -> None:
    sent = await gateway.post(school_referral(recipients=[POLICE]))
    (delivery,) = sent.json()["recipients"]
    delivery_id = delivery["delivery_id"]
    assert await _until_published(gateway, delivery_id, 1) == 1
    url = f"/v1/deliveries/{delivery_id}/republish"

    other = await Person(gateway, "csc-fenmere-mash", "agency_system", None).api("POST", url)
    assert other.status_code == 404, other.text  # sealed to the police: as if it did not exist
    person = await Person(gateway, "police-fenmere", "practitioner", "pc-0042").api("POST", url)
    assert person.status_code == 403, person.text  # the agency's system asks, not a person
    asked = await Person(gateway, "police-fenmere", "agency_system", None).api("POST", url)
    assert asked.status_code == 202 and asked.json() == {"delivery_id": delivery_id, "queued": True}, asked.text

    assert await _until_published(gateway, delivery_id, 2) == 2
    row = _row(gateway, delivery_id)
    assert row is not None and row.published_at is not None
    with Session(gateway.engine) as session:
        (request,) = session.exec(
            select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.REPUBLISH_REQUESTED)
        ).all()
    assert (request.delivery_id, request.actor_agency, request.actor_role) == (
        delivery_id,
        "police-fenmere",
        "agency_system",
    )


async def test_a_withdrawn_or_shredded_delivery_is_refused_saying_which(gateway: Gateway) -> None:
    """Its agency was told already, by a notice; "past retention" would send its operator looking for a
    setting. Another agency still learns nothing of it."""
    police_system = Person(gateway, "police-fenmere", "agency_system", None)
    withdrawn = await gateway.post(school_referral(recipients=[POLICE]))
    school = Person(gateway, "school-oakfield-primary", "agency_system", None)
    recalled = await school.api(
        "POST", f"/v1/notifications/{withdrawn.json()['notification_id']}/withdrawal", json={"reason": "sent_in_error"}
    )
    assert recalled.status_code == 200, recalled.text
    child = {
        "subject_ref": "pupil-8101",
        "role_in_case": "child",
        "age_years": 7,
        "nhs_number": nhs_number("400000081"),
    }
    shredded = await gateway.post(school_referral(recipients=[POLICE], subjects=[child]))
    lead = Person(gateway, "csc-fenmere-mash", "ig_lead", "csc-ig-lead-81")
    erased = {"nhs_number": child["nhs_number"], "reason_code": "court_order", "decision_ref": "IG-2026-0181"}
    assert (await lead.api("POST", "/v1/case-shredding", json=erased)).status_code == 200

    for sent, said in ((withdrawn, "was withdrawn: your agency"), (shredded, "was shredded with its case")):
        (delivery,) = sent.json()["recipients"]
        url = f"/v1/deliveries/{delivery['delivery_id']}/republish"
        asked = await police_system.api("POST", url)
        assert asked.status_code == 404 and said in asked.json()["detail"], asked.text
        other = await Person(gateway, "csc-fenmere-mash", "agency_system", None).api("POST", url)
        assert other.status_code == 404 and "withdrawn" not in other.text and "shredded" not in other.text

"""A notification whose case was shredded stays shredded: every agency it reached was told to erase
it, so its sender can neither withdraw it (that overwrote "shredded" with "withdrawn" and sent fresh
notices) nor correct it (that sent its content again, under a new id). Real gateway, stack's OPA."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, _refer

pytestmark = pytest.mark.stack

CHILD = nhs_number("400000071")


def _kinds(gateway: Gateway, notification_id: str) -> list[str]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry.kind).where(col(audit.Entry.notification_id) == notification_id)
        return sorted(str(kind) for kind in session.exec(query))


async def test_a_shredded_notification_can_be_neither_withdrawn_nor_corrected(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-71")
    sent = str((await _refer(sender, "pupil-7101", CHILD, [TO_CSC]))["notification_id"])
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-71")
    erased = {"nhs_number": CHILD, "reason_code": "court_order", "decision_ref": "IG-2026-0101"}
    assert (await lead.api("POST", "/v1/case-shredding", json=erased)).status_code == 200
    before = _kinds(gateway, sent)
    assert "shredded" in before, before

    withdrawn = await sender.api("POST", f"/v1/notifications/{sent}/withdrawal", json={"reason": "sent_in_error"})
    replacement = sender.notification("share")
    corrected = await sender.api("POST", f"/v1/notifications/{sent}/correction", json=replacement)

    for refused in (withdrawn, corrected):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "already_shredded", refused.text
        assert "shredded with its case" in refused.json()["detail"], refused.text
    assert _kinds(gateway, sent) == before, "nothing more was logged of it"
    assert _kinds(gateway, str(replacement["notification_id"])) == [], "the correction decided nothing"
    status = await sender.api("GET", f"/v1/notifications/{sent}")
    assert {r["status"] for r in status.json()["recipients"]} == {"shredded"}, status.text

"""A shredding counts only the copies it destroyed: one a withdrawal had already emptied was destroyed
then, and an IG lead's file must not record a live copy destroyed twice (readers of the demo, session 58).
Real gateway, the stack's Kafka and OPA."""

from __future__ import annotations

import pytest

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, TO_POLICE, _refer

pytestmark = pytest.mark.stack

CHILD = nhs_number("400000047")


async def test_a_copy_a_withdrawal_emptied_is_not_counted_again(gateway: Gateway) -> None:  # noqa: F811
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-47")
    sent = await _refer(sender, "pupil-4701", CHILD, [TO_CSC, TO_POLICE])
    recalled = await sender.api(
        "POST",
        f"/v1/notifications/{sent['notification_id']}/withdrawal",
        json={"reason": "sent_in_error", "agency_id": "police-fenmere"},
    )
    assert recalled.status_code in (200, 202), recalled.text
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-47")
    asked = {"nhs_number": CHILD, "reason_code": "sent_in_error", "decision_ref": "IG-2026-0147"}
    shredded = await lead.api("POST", "/v1/case-shredding", json=asked)
    assert shredded.status_code == 200, shredded.text
    assert shredded.json()["unreadable"] == {"outbox_envelopes": 1, "held_deliveries": 0}, "the police's was emptied"
    assert shredded.json()["deliveries_logged"] == 2, "both deliveries still say they were shredded"
    # The case review says when, by whom and why the case was shredded, not only that nothing is kept.
    reviewed = await lead.api("POST", "/v1/case-review", json={"nhs_number": CHILD})
    assert reviewed.status_code == 200, reviewed.text
    (shredding,) = reviewed.json()["shreddings"]
    assert shredding["actor"] == "csc-ig-lead-47" and "IG-2026-0147" in shredding["message"], shredding

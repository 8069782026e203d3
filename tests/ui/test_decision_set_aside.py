"""A decision's page says when the policy set a consent aside as not its giver's to give: a six-year-old
recorded as not Gillick competent cannot consent for themselves (policies/safeguarding/context/capacity.rego),
so the page must not read as if the share rested on their consent. On the real gateway and OPA; the
people are fictional.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import logged_decision, school_referral
from tests.ui.test_ui_correction import SCHOOL, _words

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "social_worker", "need_to_know": "assess_and_decide"}
GIVEN = {"subject_ref": "pupil-7601", "status": "given_explicit", "privacy_notice_given": True}
SET_ASIDE = (
    "Given by the young person themselves; set aside: the young person is recorded as not Gillick competent, "
    "so the policy does not rely on it; covers this agency; privacy notice given."
)


async def _decided(sender: Person, gillick: str) -> tuple[dict[str, Any], str]:
    """A referral to the front door about a six-year-old, on the child's own consent: its receipt for the
    front door, and that decision's page as the sender reads it."""
    pupil = {"subject_ref": "pupil-7601", "role_in_case": "child", "age_years": 6, "gillick_competent": gillick}
    consent = [{**GIVEN, "giver": "child"}]
    # On consent as the lawful basis: on another, the referral's recorded risk is an exception to seeking it.
    body = school_referral(recipients=[TO_CSC], subjects=[pupil], consent=consent, lawful_basis="consent")
    body["sender"] = {"agency_id": SCHOOL, "role": "dsl", "user_ref": sender.user_ref, "is_professional": True}
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    (receipt,) = response.json()["recipients"]
    entry = logged_decision(sender.gateway.engine, body["notification_id"], CSC)
    return receipt, await sender.opened(f"/ui/decisions/{entry.seq}")


def _consent_lines(page: str) -> list[str]:
    return re.findall(r"<li>([^<]*)</li>", page.split('<ul class="consent-records">', 1)[1].split("</ul>", 1)[0])


async def test_a_not_competent_childs_own_consent_reads_as_set_aside(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    receipt, page = await _decided(Person(gateway, SCHOOL, "dsl", "dsl-set-aside-01"), "no")
    assert receipt["outcome"] == "hold_for_authorisation", receipt
    deciding = _words(page.split('<section class="deciding"', 1)[1].split("</section>", 1)[0])
    assert "GR4" in deciding and "Consent is recorded from the child, recorded as not competent" in deciding, deciding
    assert _consent_lines(page) == [SET_ASIDE], _words(page)


async def test_a_competent_childs_own_consent_is_not_said_to_be_set_aside(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    receipt, page = await _decided(Person(gateway, SCHOOL, "dsl", "dsl-set-aside-02"), "yes")
    assert receipt["outcome"] == "share", receipt
    assert _consent_lines(page) == [
        "Given by the young person themselves; covers this agency; privacy notice given."
    ], _words(page)
    assert "set aside" not in _words(page)

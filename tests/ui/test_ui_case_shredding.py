"""Shredding a case from the Case review page: the partnership's IG lead finds one child's decisions,
gives a reason and confirms, and the case's keys are destroyed as `POST /v1/case-shredding` destroys
them. A mistake is named by its field and destroys nothing; a second shredding is told nothing is left;
an agency's own IG lead, whose grant is not partnership-wide, is not offered the form and is refused it.
On the real gateway and OPA."""

from __future__ import annotations

import html
import re
from typing import get_args

import pytest
from httpx import Response
from sqlmodel import Session, col, select

import audit
from broker.db.tables import CaseKey
from broker.ui.words import SHRED_REASONS
from schemas.case_api import ShredReasonCode
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CSC, HV, SCHOOL, nhs_number
from tests.factories import school_referral

pytestmark = pytest.mark.stack

CHILD = nhs_number("400000004")
_PERSON = re.compile(r'name="person" value="([0-9a-f]{64})"')


def _words(response: Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def _live_keys(gateway: Gateway, person: str) -> int:
    with Session(gateway.engine) as session:
        query = select(CaseKey).where(col(CaseKey.case_ref) == person, col(CaseKey.key).is_not(None))
        return len(list(session.exec(query)))


def test_every_reason_a_case_may_be_shredded_for_is_offered_in_words() -> None:
    assert set(SHRED_REASONS) == set(get_args(ShredReasonCode))


async def test_the_partnerships_ig_lead_shreds_a_case_from_its_review_and_a_mistake_destroys_nothing(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    # To children's social care, the police and housing: housing's is not shared, so nothing of it is kept.
    child = {"subject_ref": "pupil-4101", "role_in_case": "child", "age_years": 6, "nhs_number": CHILD}
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-school-41")
    body = school_referral(subjects=[child])
    body["sender"]["user_ref"] = dsl.user_ref  # a person's token sends only as themselves
    sent = await dsl.api("POST", "/v1/notifications", json=body)
    assert sorted(r["outcome"] for r in sent.json()["recipients"]) == ["no_share", "share", "share"], sent.text
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-41")  # the partnership's IG lead
    await lead.sign_in()
    try:
        found = await lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD})
        assert "Shred this case" in found.text, found.text
        named = _PERSON.search(found.text)
        assert named is not None
        person = named.group(1)
        assert _live_keys(gateway, person) == 1
        asked = {"person": person, "reason_code": "sent_in_error", "decision_ref": "IG-2026-0411"}

        unconfirmed = await lead.page("POST", "/ui/case-shredding", data=asked)
        assert unconfirmed.status_code == 422, unconfirmed.text
        said = _words(unconfirmed)
        assert "Nothing was destroyed." in said and "Confirmation: Confirm that nothing of this case" in said, said
        assert 'value="IG-2026-0411"' in unconfirmed.text, "what was typed is kept"
        worded = {**asked, "decision_ref": "Sent about the wrong pupil", "confirm": "yes"}
        blank = await lead.page("POST", "/ui/case-shredding", data=worded)
        assert blank.status_code == 422, blank.text
        assert "The decision's reference: Give the decision's reference in your records" in _words(blank)
        assert lead.ui is not None
        forged = await lead.ui.post(
            "/ui/case-shredding", data={**asked, "confirm": "yes", "csrf_token": "from-another-site"}
        )
        assert forged.status_code == 403, forged.text  # a form posted from elsewhere
        assert _live_keys(gateway, person) == 1, "a mistake, or a forgery, destroys nothing"

        done = await lead.page("POST", "/ui/case-shredding", data={**asked, "confirm": "yes"})
        assert done.status_code == 200, done.text
        said = _words(done)
        assert "Case shredded" in said and "1 case key destroyed." in said, said
        assert "2 stored copies of what was shared (2 sealed envelopes, 0 held shares)" in said, said
        assert "a “shredded” entry in the decision log" in said
        assert _live_keys(gateway, person) == 0

        again = await lead.page("POST", "/ui/case-shredding", data={**asked, "confirm": "yes"})
        assert again.status_code == 404 and "Nothing of this case is left to shred." in _words(again)
        after = await lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD})
        assert "now: shredded with its case" in _words(after) and "Shred this case" not in after.text
        # When, by whom and why, where it had said only that nothing was kept (a reader, session 58).
        shredded = _words(after).split("Shredded", 1)[1]
        assert "csc-ig-lead-41 (Information Governance lead)" in shredded, shredded
        assert "Case shredded (sent in error) under the decision IG-2026-0411. 1 case key destroyed" in shredded
        assert "own case to shred" not in shredded and "can shred it" not in shredded, shredded
    finally:
        await lead.close()
    with Session(gateway.engine) as session:
        logged = session.exec(select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.SHREDDED)).all()
    said_by = {(e.actor, e.message_type, e.reasons[0]["message"]) for e in logged}
    assert said_by == {
        ("csc-ig-lead-41", "safeguarding_referral", "Case shredded (sent_in_error) under the decision IG-2026-0411."),
        (
            "csc-ig-lead-41",
            "case_shredding",
            "Case shredded (sent_in_error) under the decision IG-2026-0411. 1 case key destroyed; the stored copies"
            " of 2 deliveries made unreadable.",
        ),
    }

    hv_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-41")  # their agency's IG lead: no shredding
    await hv_lead.sign_in()
    try:
        mine = await hv_lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD})
        assert mine.status_code == 200 and "Shred this case" not in mine.text
        assert "IG-2026-0411" in _words(mine).split("Shredded", 1)[1], "every reviewer reads that it was shredded"
        refused = await hv_lead.page("POST", "/ui/case-shredding", data={**asked, "confirm": "yes"})
        assert refused.status_code == 403, refused.text
    finally:
        await hv_lead.close()

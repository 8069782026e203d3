"""The case review page: an IG lead or Caldicott Guardian names one person by NHS number (or an agency's
reference) in a posted form and sees every decision about them within their scope, as `POST
/v1/case-review` answers it; the search is logged; a mistake is named by its field; the identifier is
never written back into the page. On the real gateway and OPA."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CHILD, CSC, HV, SCHOOL, _refer, nhs_number

pytestmark = pytest.mark.stack

_LINK = re.compile(r'href="/ui/decisions/(\d+)"')


def _searches(engine: Engine) -> list[audit.Entry]:
    with Session(engine) as session:
        query = select(audit.Entry).where(col(audit.Entry.message_type) == "case_review")
        return list(session.exec(query.order_by(col(audit.Entry.seq))))


async def test_a_case_review_page_finds_one_childs_decisions_within_the_readers_scope(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    await _refer(gateway, Person(gateway, HV, "dsl", "hv-dsl-31"), "hv-case-31", CHILD)
    from_school = await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-school-31"), "pupil-3101", CHILD)
    withdrawn = await Person(gateway, SCHOOL, "dsl", "dsl-school-31").api(
        "POST", f"/v1/notifications/{from_school}/withdrawal", json={"reason": "sent_in_error"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-school-31"), "pupil-3102", nhs_number("400000003"))
    await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-school-31"), "pupil-3103", None)  # no NHS number
    api = await Person(gateway, CSC, "ig_lead", "csc-ig-lead-31").api(
        "POST", "/v1/case-review", json={"nhs_number": CHILD}
    )
    expected = [d["seq"] for d in api.json()["decisions"]]
    assert len(expected) == 2, api.text
    (recalled,) = [d["seq"] for d in api.json()["decisions"] if d["notification_id"] == from_school]

    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-32")  # the partnership's IG lead
    await lead.sign_in()
    try:
        form = (await lead.page("GET", "/ui/case-review")).text
        assert 'action="/ui/case-review"' in form and 'href="/ui/case-review"' in form, "offered in the navigation"
        spaced = f"{CHILD[:3]} {CHILD[3:6]} {CHILD[6:]}"  # as it is often written
        assert "Finds what every agency sent about the person." in form, "the partnership's office finds every one"
        found = await lead.page("POST", "/ui/case-review", data={"nhs_number": spaced, "agency_id": CSC})
        assert found.status_code == 200, found.text
        assert [int(s) for s in _LINK.findall(found.text)] == expected, "the API's decisions, oldest first"
        assert "2 decisions found" in html.unescape(found.text)
        # Who looked this child up before: the API's search by csc-ig-lead-31, with what it found.
        before = html.unescape(found.text.split('id="h-searches"', 1)[1].split("</section>", 1)[0])
        assert "csc-ig-lead-31" in before and "Case review of one person: 2 decisions found." in before, before
        rows = {int(seq): row for seq, row in re.findall(r'href="/ui/decisions/(\d+)"(.*?)</tr>', found.text, re.S)}
        assert [seq for seq, row in rows.items() if "now: withdrawn" in row] == [recalled], "where each stands now"
        assert CHILD not in found.text and spaced not in found.text, "the identifier is not written back"
        wrong = await lead.page(
            "POST", "/ui/case-review", data={"nhs_number": CHILD[:9] + str((int(CHILD[9]) + 1) % 10)}
        )
        assert wrong.status_code == 422 and "NHS number: Its check digit does not match." in html.unescape(
            re.sub(r"<[^>]+>", "", wrong.text)
        )
        empty = await lead.page("POST", "/ui/case-review", data={"agency_id": CSC})
        assert empty.status_code == 422 and "Give an NHS number, or an agency&#39;s reference." in empty.text
        both = await lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD, "subject_ref": "pupil-3101"})
        assert both.status_code == 422 and "not both" in both.text
        by_ref = await lead.page("POST", "/ui/case-review", data={"agency_id": SCHOOL, "subject_ref": "pupil-3103"})
        assert len(_LINK.findall(by_ref.text)) == 1, "a reference finds what that agency sent without an NHS number"
    finally:
        await lead.close()
    assert [e.actor for e in _searches(gateway.engine)][-3:] == ["csc-ig-lead-31", "csc-ig-lead-32", "csc-ig-lead-32"]

    hv_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-31")  # their agency's decisions only
    await hv_lead.sign_in()
    try:
        mine = await hv_lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD})
        assert len(_LINK.findall(mine.text)) == 1, mine.text
        # Their own agency's searches only: the partnership's IG leads' are not theirs to see.
        assert "Nobody at your agency had looked this person up before." in html.unescape(mine.text)
        assert "Shred this case" not in mine.text, "shredding is the partnership's office holders'"
        assert "the partnership's IG lead or Caldicott Guardian can shred it" in html.unescape(mine.text)
        # The NHS number's hint promises only what their scope finds, as the page's heading does.
        asked = html.unescape((await hv_lead.page("GET", "/ui/case-review")).text)
        assert "Finds every decision about the person that your agency sent or received." in asked
        assert "what every agency sent" not in asked
    finally:
        await hv_lead.close()
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-school-32")
    await dsl.sign_in()
    try:
        assert (await dsl.page("GET", "/ui/case-review")).status_code == 403
        assert (await dsl.page("POST", "/ui/case-review", data={"nhs_number": CHILD})).status_code == 403
        assert 'href="/ui/case-review"' not in (await dsl.page("GET", "/ui/decisions")).text
    finally:
        await dsl.close()

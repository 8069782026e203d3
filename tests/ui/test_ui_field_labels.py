"""A decision's page and the Case review page name each field released as the guided form asked for it
on its type ("Where the child is now"), not by the schema's name with spaces ("current location"), which
read as code to a DSL ("dsm record signed"). Over HTTP on the real gateway and OPA; the people are
fictional."""

from __future__ import annotations

import html

import pytest

from broker.ui.form_payload import field_label
from broker.ui.form_types import payload_of
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CHILD, CSC, SCHOOL, _refer
from tests.factories import logged_decision

pytestmark = pytest.mark.stack


def test_a_field_reads_as_the_form_asked_for_it() -> None:
    lado = payload_of("lado_allegation")
    assert field_label(lado, "dsm_record_signed") == "Record signed and dated by the DSM"
    # The stages the form names a field's need at are the form's: a page names the field alone.
    assert field_label(lado, "meeting_at") == "When the AMM is or was held"
    adult = payload_of("adult_safeguarding_referral")
    assert field_label(adult, "abuse_or_neglect") == "The abuse or neglect experienced or risked"
    assert field_label(None, "a_field_of_no_type") == "a field of no type"


async def test_the_pages_name_the_fields_released_as_the_form_asked_for_them(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    notification = await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-labels-01"), "pupil-labels-01", CHILD)
    entry = logged_decision(gateway.engine, notification, CSC)
    payload = payload_of(entry.message_type)
    named = {f: field_label(payload, f) for f in entry.fields_released}
    renamed = {f: words for f, words in named.items() if words.lower() != f.replace("_", " ")}
    assert renamed, named

    page = html.unescape(await Person(gateway, SCHOOL, "dsl", "dsl-labels-02").opened(f"/ui/decisions/{entry.seq}"))
    released = page.split('<ul class="fields">', 1)[1].split("</ul>", 1)[0]
    for field, words in renamed.items():
        assert f"<li>{words}" in released and f"<li>{field.replace('_', ' ')} " not in released, (field, released)

    lead = Person(gateway, CSC, "ig_lead", "csc-ig-labels-01")  # the partnership's IG lead
    await lead.sign_in()
    try:
        found = await lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD, "agency_id": CSC})
    finally:
        await lead.close()
    assert found.status_code == 200, found.text[-2000:]
    reviewed = html.unescape(found.text)
    assert all(words in reviewed for words in renamed.values()), reviewed[-3000:]

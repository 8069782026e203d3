"""What became of a held share's fields, on its decision's page and in a case review: a reader auditing a
housing officer's concern found a share released since still listed as "held back, released only if the
share is". Released, its fields read as released; refused, as never released; still waiting, as held back;
and the Audit page counts how the held shares ended.
On the real gateway, OPA and database; the people are fictional."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from broker.ui import audit_page
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, MASH = "school-oakfield-primary", "csc-fenmere-mash"
CHILD = nhs_number("400000071")
HELD = "held back, released only if the share is:"
NEVER = "held back, never released:"


async def _held(gateway: Gateway, ref: str) -> dict[str, Any]:
    """A school's referral about CHILD, held because its sender is in doubt."""
    body = school_referral(
        recipients=[{"agency_id": MASH, "role": "mash_intake", "need_to_know": "assess_and_decide"}],
        subjects=[{"subject_ref": ref, "role_in_case": "child", "age_years": 6, "nhs_number": CHILD}],
    )
    body["sender"] = {**body["sender"], "role": "designated_senior_manager", "user_ref": "dsm-fate-01"}
    body["sender_in_doubt"] = True
    sent = await gateway.post(body)
    assert sent.status_code == 202, sent.text
    (held,) = sent.json()["recipients"]
    assert held["outcome"] in ("hold_for_authorisation", "needs_advice"), held
    return dict(held)


async def _answer(gateway: Gateway, held: dict[str, Any], decision: str) -> None:
    role = "line_manager" if held["outcome"] == "hold_for_authorisation" else "dsl"
    answerer = Person(gateway, SCHOOL, role, f"answerer-fate-{decision}")
    said = {"decision": decision, "reason": f"Fictional: {decision} it."}
    answered = await answerer.api("POST", f"/v1/queues/{held['delivery_id']}", json=said)
    assert answered.status_code == 200, answered.text


async def test_a_held_shares_fields_read_as_what_became_of_them(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    released, refused, waiting = [await _held(gateway, f"pupil-fate-{n}") for n in range(3)]
    await _answer(gateway, released, "release")
    await _answer(gateway, refused, "refuse")

    lead = Person(gateway, MASH, "ig_lead", "csc-ig-lead-fate")  # the partnership's IG lead
    await lead.sign_in()
    try:
        found = await lead.page("POST", "/ui/case-review", data={"nhs_number": CHILD, "agency_id": MASH})
        assert found.status_code == 200, found.text
        rows = re.findall(r'href="/ui/decisions/(\d+)"(.*?)</tr>', found.text, re.S)
        said = [html.unescape(row) for _, row in rows]
        assert len(said) == 3, said
        assert [(HELD in row, NEVER in row) for row in said] == [(False, False), (False, True), (True, False)], said
        # What followed says what the answer was, not only that advice or an authorisation was given.
        assert ": released (" in said[0] and ": refused (" in said[1], said
        pages = [html.unescape((await lead.page("GET", f"/ui/decisions/{seq}")).text) for seq, _ in rows]
    finally:
        await lead.close()
    headings = ["Fields released", "Fields held back, never released", "Fields held back (released only if"]
    assert [heading in page for heading, page in zip(headings, pages, strict=True)] == [True, True, True]
    assert "Fields held back" not in pages[0], "released since: its fields left"
    # A field and its data class are two phrases to a screen reader and to whoever copies the list.
    assert '<span class="visually-hidden">,</span> <span class="dc">' in pages[0]
    # Headed with the answer too: "Needs advice" alone read to a recipient as a task of theirs.
    heads = [re.search(r"<h1>(.*?)</h1>", page, re.S) for page in pages]
    said = [re.sub(r"<[^>]+>", "", h.group(1)) if h else "" for h in heads]
    assert said[0].endswith(", then released") and said[1].endswith(", then refused"), said
    assert "then" not in said[2], "still waiting: no answer to head it with"
    assert waiting["outcome"] in ("hold_for_authorisation", "needs_advice"), "the third is still held"
    # The Audit page says how the held shares ended, where its outcome totals count all three as held.
    assert [n for _, n in audit_page.totals(gateway.decision_log)["held"]] == [1, 1, 0, 0, 1]

"""The Caldicott Guardian reads every case search and every shredding in one list: the access log, asked
for them by name. Before, a search was found only by searching for the same person again, and a shredding
only among the decisions it ended (a reader of the demo as the partnership's Caldicott Guardian, session 58).
Over HTTP on the real gateway, the stack's OPA and database."""

from __future__ import annotations

import html
from typing import Any

import pytest

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, _refer

pytestmark = pytest.mark.stack

HV = "health-visiting-fenmere"
CHILD = nhs_number("400000051")


async def _events(person: Person, subject: str | None = None) -> list[dict[str, Any]]:
    answer = await person.api("GET", "/v1/access-events", params={"subject": subject} if subject else None)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def test_case_searches_and_shreddings_are_listed_for_those_who_audit(gateway: Gateway) -> None:  # noqa: F811
    await _refer(Person(gateway, SCHOOL, "dsl", "dsl-school-51"), "pupil-5101", CHILD, [TO_CSC])
    searcher = Person(gateway, HV, "ig_lead", "hv-ig-lead-51")
    searched = await searcher.api("POST", "/v1/case-review", json={"nhs_number": CHILD})
    assert searched.status_code == 200, searched.text
    shredder = Person(gateway, CSC, "ig_lead", "csc-ig-lead-51")  # the partnership's IG lead (registry offices)
    asked = {"nhs_number": CHILD, "reason_code": "sent_in_error", "decision_ref": "IG-2026-0151"}
    assert (await shredder.api("POST", "/v1/case-shredding", json=asked)).status_code == 200
    guardian = Person(gateway, CSC, "caldicott_guardian", "csc-guardian-51")  # the partnership's
    searches = await _events(guardian, "case_review")
    assert [(e["actor"], e["agency"], e["outcome"]) for e in searches] == [("hv-ig-lead-51", HV, "searched")]
    (shredding,) = await _events(guardian, "case_shredding")
    assert (shredding["actor"], shredding["outcome"]) == ("csc-ig-lead-51", "shredded")
    assert "IG-2026-0151" in shredding["reasons"][0]["message"], shredding
    assert CHILD not in str([*searches, shredding]), "a pseudonym, never the NHS number"
    # Whose case, as the log keeps it: one person's search and shredding are told apart from others'.
    person = searches[0]["person"]
    assert len(person) == 64 and shredding["person"] == person, (searches, shredding)
    # Neither buries the refusals and registry changes the log opens with; an agency's lead reads their own.
    assert {e["subject"] for e in await _events(guardian)} <= {"access", "registry"}
    assert [e["actor"] for e in await _events(searcher, "case_review")] == ["hv-ig-lead-51"]
    assert await _events(searcher, "case_shredding") == [], "another agency's shredding"
    await guardian.sign_in()
    try:
        read = html.unescape((await guardian.page("GET", "/ui/access?subject=case_shredding")).text)
    finally:
        await guardian.close()
    assert "csc-ig-lead-51" in read and "IG-2026-0151" in read and "hv-ig-lead-51" not in read, read[-3000:]
    assert f"Person {person[:12]}" in read

"""Issue 14, one child across agencies: the NHS number (never stored) links two agencies' records
about the same child under one keyed pseudonym, keeps them in order on Kafka (the same record key),
and an IG lead's case review finds them together, within their scope, and is itself logged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

HV, SCHOOL, CSC = "health-visiting-fenmere", "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = [{"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}]


def nhs_number(first_nine: str) -> str:
    """A made-up number with a valid modulus 11 check digit (fictional: not issued to anyone known)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    assert check != 10, "pick other digits: no valid check digit"
    return first_nine + str(0 if check == 11 else check)


CHILD, OTHER_CHILD = nhs_number("400000001"), nhs_number("400000002")


async def _refer(gateway: Gateway, sender: Person, ref: str, nhs: str | None) -> str:
    body = school_referral(
        recipients=TO_CSC, subjects=[{"subject_ref": ref, "role_in_case": "child", "age_years": 6, "nhs_number": nhs}]
    )
    body["sender"] = {
        "agency_id": sender.agency,
        "role": sender.sends_as,
        "user_ref": sender.user_ref,
        "is_professional": True,
    }
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["notification_id"])


async def _review(person: Person, **query: Any) -> Any:
    return await person.api("POST", "/v1/case-review", json=query)


async def test_one_child_across_agencies_is_found_together_in_order_and_the_search_is_logged(gateway: Gateway) -> None:
    from_hv = await _refer(gateway, Person(gateway, HV, "dsl", "hv-dsl-03"), "hv-case-77", CHILD)
    from_school = await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-school-07"), "pupil-0415", CHILD)
    elsewhere = await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-school-07"), "pupil-0416", OTHER_CHILD)
    with Session(gateway.engine) as session:
        keys = {r.notification_id: r.key for r in session.exec(select(OutboxRow))}
    assert keys[from_hv] == keys[from_school] != keys[elsewhere]  # one child, one Kafka key: kept in order

    school_dsl = Person(gateway, SCHOOL, "dsl", "dsl-school-07")
    withdrawn = await school_dsl.api(
        "POST", f"/v1/notifications/{from_school}/withdrawal", json={"reason": "sent_in_error"}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    partnership = Person(gateway, CSC, "ig_lead", "csc-ig-lead-04")  # the partnership's IG lead
    found = await _review(partnership, nhs_number=CHILD)
    assert found.status_code == 200, found.text
    review = found.json()
    assert {d["notification_id"] for d in review["decisions"]} == {from_hv, from_school}
    # Where each stands now, as the Decisions list says: the withdrawn one is not "a share that still stands".
    states = {d["notification_id"]: (d["state"], d["overdue"]) for d in review["decisions"]}
    assert states == {from_hv: (None, False), from_school: ("withdrawn", False)}, states
    assert all(d["fields_released"] is not None and d["then"] is not None for d in review["decisions"])
    assert CHILD not in found.text  # the answer names the person by pseudonym only

    hv_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-04")  # their agency's decisions only
    assert {d["notification_id"] for d in (await _review(hv_lead, nhs_number=CHILD)).json()["decisions"]} == {from_hv}
    assert (await _review(Person(gateway, HV, "practitioner", "hv-pr-04"), nhs_number=CHILD)).status_code == 403
    refused = await _review(partnership, nhs_number=CHILD[:9] + str((int(CHILD[9]) + 1) % 10))
    assert refused.status_code == 422 and "nhs_number" in refused.json()["errors"], refused.text

    with Session(gateway.engine) as session:
        searches = list(
            session.exec(
                select(audit.Entry).where(col(audit.Entry.message_type) == "case_review").order_by(col(audit.Entry.seq))
            )
        )
    assert [(s.actor, s.outcome, s.subjects) for s in searches] == [
        ("csc-ig-lead-04", "searched", [review["person"]]),
        ("hv-ig-lead-04", "searched", [review["person"]]),
    ]
    assert CHILD not in str([s.model_dump() for s in searches])


async def test_a_case_review_says_who_looked_the_person_up_before_within_the_readers_scope(gateway: Gateway) -> None:
    # "Who looked this child up?" is a Caldicott Guardian's question; the log's searches answer it.
    await _refer(gateway, Person(gateway, HV, "dsl", "hv-dsl-05"), "hv-case-78", CHILD)
    partnership = Person(gateway, CSC, "ig_lead", "csc-ig-lead-05")
    hv_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-05")
    first = (await _review(partnership, nhs_number=CHILD)).json()
    assert first["searches"] == []
    await _review(hv_lead, nhs_number=CHILD)
    await _review(hv_lead, nhs_number=OTHER_CHILD)  # another child: not among this one's
    again = (await _review(partnership, nhs_number=CHILD)).json()
    said = [(s["actor"], s["actor_agency"], s["message"]) for s in again["searches"]]
    assert said == [
        ("hv-ig-lead-05", HV, "Case review of one person: 1 decision found."),
        ("csc-ig-lead-05", CSC, "Case review of one person: 1 decision found."),
    ]
    # An agency's IG lead sees their own agency's searches only: that another looked is about the child.
    own = (await _review(hv_lead, nhs_number=CHILD)).json()
    assert [s["actor"] for s in own["searches"]] == ["hv-ig-lead-05"]

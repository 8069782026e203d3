"""A consent the policy set aside as its giver's not to give, as a decision's reader is told of it
(`broker.review.addressed.set_aside`): the policy's own conditions (`unfit` in
policies/safeguarding/context/capacity.rego), read from the kept input on a real SQLite decision log, and
checked case by case against what the stack's OPA sets aside. The people are fictional."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

import audit
from broker.db.log import DecisionLog
from broker.review.addressed import (
    ADULT_LACKS_CAPACITY,
    CHILD_LACKS_CAPACITY,
    NOT_GILLICK_COMPETENT,
    addressed,
    set_aside,
)
from schemas.notifications import parse_notification
from schemas.policy_input import build_policy_input
from tests.factories import keeping, school_referral, shared_draft

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "social_worker", "need_to_know": "assess_and_decide"}


def _child(gillick: str, capacity: str = "not_assessed", age: int = 6) -> dict[str, Any]:
    return {"role_in_case": "child", "age_years": age, "gillick_competent": gillick, "mental_capacity": capacity}


def _adult(capacity: str, role: str = "adult_at_risk") -> dict[str, Any]:
    return {"role_in_case": role, "age_years": 40, "gillick_competent": "not_assessed", "mental_capacity": capacity}


def _own(giver: str, status: str = "given_explicit") -> dict[str, Any]:
    return {"giver": giver, "status": status}


# (consent, subjects, why it is set aside or None), each as capacity.rego and its tests read it.
CASES: list[tuple[dict[str, Any], list[dict[str, Any]], str | None]] = [
    (_own("child"), [_child("no")], NOT_GILLICK_COMPETENT),
    (_own("child"), [_child("yes", "no")], CHILD_LACKS_CAPACITY),
    (_own("child"), [_child("no", "no")], NOT_GILLICK_COMPETENT),
    (_own("child"), [_child("not_assessed", "not_assessed")], None),  # not assessed is no finding
    (_own("child"), [_child("yes", "yes")], None),
    (_own("child", "refused"), [_child("no", "no")], None),  # only explicit consent is set aside
    (_own("parent_pr"), [_child("no", "no")], None),  # a parent's, never for the child's competence
    (_own("referrer"), [_child("no", "no")], None),
    # A sibling able to decide: the policy takes the consent as the able child's own.
    (_own("child"), [_child("no"), _child("yes", age=15)], None),
    # A sibling recorded "yes" and "no" at once is not able to decide: the consent is still set aside.
    (_own("child"), [_child("no"), _child("yes", "no", age=15)], NOT_GILLICK_COMPETENT),
    (_own("adult_subject"), [_adult("no")], ADULT_LACKS_CAPACITY),
    (_own("adult_subject"), [_adult("no", "adult_victim")], ADULT_LACKS_CAPACITY),
    (_own("adult_subject"), [_child("not_assessed"), _adult("no")], ADULT_LACKS_CAPACITY),
    (_own("adult_subject"), [_adult("yes")], None),
    (_own("adult_subject"), [_adult("not_assessed")], None),
    (_own("adult_subject"), [_child("no", "no")], None),  # a child not competent says nothing of the adult
    (_own("adult_subject"), [{**_adult("no"), "role_in_case": "carer"}], None),  # not an adult subject
    (_own("child"), [_adult("no")], None),  # an adult lacking capacity says nothing of the child's
    (_own("child"), [], None),
]


@pytest.mark.parametrize(("consent", "subjects", "why"), CASES)
def test_a_consent_is_set_aside_as_the_policy_sets_it_aside(
    consent: dict[str, Any], subjects: list[dict[str, Any]], why: str | None
) -> None:
    assert set_aside(consent, subjects) == why


@pytest.mark.stack
async def test_the_stacks_policy_sets_aside_exactly_those(opa_url: str) -> None:
    """Each case against the served policy's `unfit_givers` (empty: nothing set aside), so a change to
    capacity.rego that this reading does not follow fails here."""
    async with httpx.AsyncClient(base_url=opa_url, timeout=10) as client:
        for consent, subjects, why in CASES:
            asked = {"input": {"consent": [consent], "subjects": subjects}}
            answered = await client.post("/v1/data/safeguarding/context/unfit_givers", json=asked)
            assert answered.status_code == 200, answered.text
            unfit = answered.json()["result"] != ""
            assert unfit == (why is not None) == (set_aside(consent, subjects) is not None), (consent, subjects)


async def test_addressed_reads_a_consent_set_aside_from_the_kept_input(sqlite_url: str) -> None:
    """A referral about a six-year-old recorded not Gillick competent, with the child's own consent and a
    parent's, decided into a fresh log with its policy input as the gateway keeps it."""
    pupil = {"subject_ref": "pupil-7501", "role_in_case": "child", "age_years": 6, "gillick_competent": "no"}
    given = {"subject_ref": "pupil-7501", "status": "given_explicit", "privacy_notice_given": True}
    consent = [{**given, "giver": "child"}, {**given, "giver": "parent_pr"}]
    body = school_referral(recipients=[TO_CSC], subjects=[pupil], consent=consent)
    document = build_policy_input(parse_notification(body), "fenmere").model_dump(mode="json")

    signer = audit.Signer("test.broker.invalid/decision-log", Ed25519PrivateKey.generate())
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        (entry,) = await decision_log.append([shared_draft(body["notification_id"], CSC)], keeping(document))
        with Session(decision_log.engine) as session:
            asked = addressed(session, body["notification_id"], {CSC: "csc_front_door"})
    child, parent = asked[entry.seq].consent
    assert (child.giver, child.set_aside) == ("child", NOT_GILLICK_COMPETENT)
    assert (parent.giver, parent.set_aside) == ("parent_pr", None), "a parent's consent stands"

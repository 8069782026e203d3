"""The person a guided form's notification is about: two children sent through the form are two
cases (they once shared one pseudonym per agency, so shredding one erased the other), and a child's
NHS number given on the form links their record to every agency's, for a case review to find.
Over HTTP on the real gateway; its OPA answers each dry run."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from broker.ui import form_subject
from broker.ui.form_types import find, sendable
from broker.ui.forms import NEED_TO_KNOW
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CSC, _refer, nhs_number
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_ui_review_fixes import _hidden

HV = "health-visiting-fenmere"
CHILD = nhs_number("400000061")
NOTE = "0d7c6a0e-5b1c-4d8e-9a51-4f3e2b1a0c9d"


def test_a_child_of_18_or_over_is_refused_at_their_age() -> None:
    """The schema's refusal (a child is under 18), on the age the form asked; an adult's age stands."""
    said = form_subject.check({"subject_role": "child", "age_years": "40"})
    assert list(said) == ["age_years"] and said["age_years"].startswith("Their age: a child is under 18"), said
    assert form_subject.check({"subject_role": "adult_at_risk", "age_years": "40"}) == {}
    assert form_subject.check({"subject_role": "child", "age_years": "17"}) == {}


def test_with_neither_number_nor_reference_the_notification_names_its_own_case() -> None:
    assert form_subject.subject({"notification_id": NOTE})["subject_ref"] == f"form-{NOTE}"
    corrected = {"notification_id": "another", form_subject.CORRECTS: NOTE}
    assert form_subject.subject(corrected)["subject_ref"] == f"form-{NOTE}", "a correction stays in its case"
    given = form_subject.subject({"notification_id": NOTE, "subject_ref": "pupil-77", "nhs_number": "400 000 0061"})
    assert (given["subject_ref"], given["nhs_number"]) == ("pupil-77", "4000000061")


@pytest.mark.parametrize(
    ("age", "gillick", "capacity"),
    [
        ("15", "no", "not_assessed"),
        ("16", "not_assessed", "no"),
        ("17", "not_assessed", "yes"),
        ("", "yes", "not_assessed"),
    ],
)
def test_whether_a_child_can_decide_is_recorded_as_the_law_asks_it(age: str, gillick: str, capacity: str) -> None:
    """Gillick competence under 16; at 16 or 17 capacity for the decision (Mental Capacity Act 2005)."""
    answer = {"15": "no", "16": "no", "17": "yes", "": "yes"}[age]
    said = {"notification_id": NOTE, "subject_role": "child", "age_years": age, "gillick_competent": answer}
    subject = form_subject.subject(said)
    assert (subject["gillick_competent"], subject["mental_capacity"]) == (gillick, capacity), subject
    adult = form_subject.subject({**said, "subject_role": "adult_at_risk", "age_years": "17", "mental_capacity": "no"})
    assert (adult["gillick_competent"], adult["mental_capacity"]) == ("not_assessed", "no"), adult


@pytest.mark.parametrize(
    ("answers", "field", "said"),
    [
        ({"nhs_number": "12345"}, "nhs_number", "Their NHS number: give its 10 digits."),
        ({"nhs_number": CHILD[:9] + str((int(CHILD[9]) + 1) % 10)}, "nhs_number", "check digit does not match"),
        ({"subject_ref": "Jo Bloggs"}, "subject_ref", "use letters, digits and . _ : - only"),
    ],
)
def test_a_number_or_reference_that_cannot_be_one_is_refused_by_name(
    answers: dict[str, str], field: str, said: str
) -> None:
    errors = form_subject.check({"notification_id": NOTE, **answers})
    assert said in errors[field], errors


async def _send(gateway: Gateway, opa_url: str, csrf: str, on_details: dict[str, str]) -> str:
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    check, answers = await walk(gateway.client, csrf, types, form, "health_community", on_details=on_details)
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    return answers["notification_id"]


def _keys(gateway: Gateway, notification_id: str) -> set[tuple[str, ...]]:
    with Session(gateway.engine) as session:
        decided = session.exec(
            select(audit.Entry).where(
                col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.DECIDED
            )
        )
        subjects = {tuple(e.subjects or ()) for e in decided}
        rows = session.exec(select(OutboxRow.key).where(col(OutboxRow.notification_id) == notification_id))
        return subjects | {(str(key),) for key in rows}


@pytest.mark.stack
async def test_two_children_sent_through_the_form_are_two_cases_and_a_number_finds_its_child(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="subject-tester-01"))
    first = await _send(gateway, opa_url, csrf, {})
    second = await _send(gateway, opa_url, csrf, {})
    numbered = await _send(gateway, opa_url, csrf, {"nhs_number": f"{CHILD[:3]} {CHILD[3:6]} {CHILD[6:]}"})

    assert _keys(gateway, first) and _keys(gateway, second)
    assert not _keys(gateway, first) & _keys(gateway, second), "each child sent through the form is a case of its own"

    partnership = Person(gateway, CSC, "ig_lead", "csc-ig-lead-61")
    found = await partnership.api("POST", "/v1/case-review", json={"nhs_number": CHILD})
    assert found.status_code == 200, found.text
    assert {d["notification_id"] for d in found.json()["decisions"]} == {numbered}
    by_ref = await partnership.api("POST", "/v1/case-review", json={"agency_id": HV, "subject_ref": f"form-{first}"})
    assert {d["notification_id"] for d in by_ref.json()["decisions"]} == {first}


def test_a_correction_of_a_child_named_by_number_must_name_them_again() -> None:
    named = {"notification_id": NOTE, form_subject.CORRECTS: NOTE, form_subject.NAMED: "yes"}
    assert form_subject.check(named)["nhs_number"] == form_subject.NAMED_AGAIN
    assert "nhs_number" not in form_subject.check({**named, "nhs_number": CHILD})
    assert "nhs_number" not in form_subject.check({**named, "subject_ref": "pupil-77"})
    chained = {"notification_id": "new", form_subject.CORRECTS: "second", form_subject.CASE_OF: NOTE}
    assert form_subject.subject(chained)["subject_ref"] == f"form-{NOTE}", "a chain stays in its first's case"


async def _correct(person: Person, opa_url: str, first: str, on_details: dict[str, str]) -> tuple[int, str, str]:
    """Walk the correction's form for `first` as its sender; (status of the details step, its page, new id)."""
    assert person.ui is not None
    start = f"/ui/notifications/{first}/correction"
    carried = _hidden((await person.page("GET", start)).text)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), person.gateway.registry, person.agency)
    form = find(types, "safeguarding_referral")
    assert form is not None
    given = {k: v for k, v in carried.items() if k not in ("csrf_token", "step", "notification_id")}
    given |= {k.replace("to:", "ntk:"): NEED_TO_KNOW[0][0] for k in carried if k.startswith("to:")}
    try:
        check, answers = await walk(person.ui, person.csrf, types, form, "school", given=given, on_details=on_details)
    except AssertionError as refused:
        return 422, str(refused), ""
    sent = await person.ui.post(start, data={**answers, **_hidden(check), "csrf_token": person.csrf, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    return 200, check, answers["notification_id"]


@pytest.mark.stack
async def test_a_correction_made_through_the_form_stays_in_the_childs_case(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, "school-oakfield-primary", "dsl", "dsl-subject-62")
    child = nhs_number("400000062")
    first = await _refer(gateway, sender, "pupil-6201", child)
    await sender.sign_in()
    try:
        status, said, _ = await _correct(sender, opa_url, first, {})
        assert status == 422 and "named the child by their NHS number" in said, said
        status, _, corrected = await _correct(sender, opa_url, first, {"nhs_number": child})
        assert status == 200
        again = _hidden((await sender.page("GET", f"/ui/notifications/{corrected}/correction")).text)
    finally:
        await sender.close()
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-62")
    found = await lead.api("POST", "/v1/case-review", json={"nhs_number": child})
    assert {d["notification_id"] for d in found.json()["decisions"]} == {first, corrected}
    # Corrected again, the first of the chain names the case; the number is asked again.
    assert (again[form_subject.CASE_OF], again.get(form_subject.NAMED)) == (first, "yes"), again


@pytest.mark.stack
async def test_a_young_person_whose_age_is_disputed_is_referred_without_one(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    """An age assessment must not delay an NRM referral (domain brief §5.8, Modern Slavery Act s51): the
    front door refers a young person of disputed age with the age left blank, as a child."""
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(CSC, role="practitioner", subject="sw-nrm-01"))
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, CSC)
    form = find(types, "nrm_referral")
    assert form is not None
    check, answers = await walk(gateway.client, csrf, types, form, "csc_front_door", on_details={"age_years": ""})
    assert answers["age_years"] == "" and "What each recipient would get" in check
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    with Session(gateway.engine) as session:
        decided = session.exec(
            select(audit.Entry).where(
                col(audit.Entry.notification_id) == answers["notification_id"],
                col(audit.Entry.kind) == audit.EventKind.DECIDED,
            )
        ).all()
    assert decided and all(e.outcome.startswith("share") for e in decided), [(e.outcome, e.reasons) for e in decided]

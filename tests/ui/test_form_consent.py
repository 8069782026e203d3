"""The guided form records whether the person was given the privacy notice, where it records consent,
and never labels optional what it then asks for.

Since sg-policy-0.7.0, Caldicott 8 holds a share that relies on consent unless the consent record
says the privacy notice was given (missing input denies). A form that never asked would send every
consent-based notification to the authorisation queue; so the consent step asks, requires an answer
when consent was given, and the notification it builds carries it. The types come from the
policy pack file itself, so no stack is needed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from broker.ui.form_answers import answered
from broker.ui.form_fields import Field, Step
from broker.ui.form_types import FormType, find, offered
from broker.ui.forms import build_notification, schema_errors, steps_for, validate_step
from broker.ui.policy_pack import rules_of
from schemas.notifications import parse_notification
from tests.factories import ui_session
from tests.policy.bases import patched

PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())
HEALTH = "health_community"
NOW = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def _types() -> list[FormType]:
    return offered({mt: rules_of(mt, entry) for mt, entry in PACK["message_types"].items()}, HEALTH)


def _form(message_type: str) -> FormType:
    form = find(_types(), message_type)
    assert form is not None, message_type
    return form


def _step(form: FormType, key: str, answers: dict[str, str]) -> Step:
    (step,) = [s for s in steps_for(_types(), form, answers, HEALTH) if s.key == key]
    return step


def test_the_consent_step_asks_whether_the_privacy_notice_was_given() -> None:
    consent = _step(_form("early_help_assessment_share"), "consent", {})
    (field,) = [f for f in consent.fields if f.name == "privacy_notice_given"]
    assert field.kind == "radio" and [code for code, _ in field.choices] == ["yes", "no"]
    assert "privacy notice" in field.label


def test_consent_given_needs_an_answer_about_the_privacy_notice() -> None:
    consent = _step(_form("early_help_assessment_share"), "consent", {})
    given = {"consent_status": "given_explicit", "lawful_basis": "consent"}
    assert "privacy_notice_given" in validate_step(consent, given)
    assert validate_step(consent, {**given, "privacy_notice_given": "yes"}) == {}
    # "No" is an answer: the policy then holds the share until the notice is given.
    assert validate_step(consent, {**given, "privacy_notice_given": "no"}) == {}
    assert "privacy_notice_given" in validate_step(consent, {**given, "privacy_notice_given": "maybe"})
    # Without consent there is nothing the notice would be about: the exception is asked instead.
    not_sought = {
        "consent_status": "not_sought",
        "not_sought_reason": "risk_significant_harm",
        "lawful_basis": "public_interest",
    }
    assert "privacy_notice_given" not in validate_step(consent, not_sought)


def _built(answers: dict[str, str]) -> dict[str, object]:
    form = _form("safeguarding_referral")
    session = ui_session("health-visiting-fenmere", HEALTH, "hv-01", NOW)
    return build_notification(answers, session, NOW, form, _step(form, "details", answers))


def test_the_notification_says_whether_the_notice_was_given() -> None:
    given = {"message_type": "safeguarding_referral", "consent_status": "given_explicit", "lawful_basis": "consent"}
    for answer, recorded in (("yes", True), ("no", False)):
        consent = _built({**given, "privacy_notice_given": answer})["consent"]
        assert isinstance(consent, list)
        assert consent[0]["privacy_notice_given"] is recorded
    # Unanswered stays unstated: the form never invents an answer.
    not_sought = {**given, "consent_status": "not_sought", "not_sought_reason": "cannot_consent"}
    consent = _built(not_sought)["consent"]
    assert isinstance(consent, list)
    assert consent[0]["privacy_notice_given"] is None


def test_an_answer_to_a_question_its_case_does_not_ask_is_neither_sent_nor_repeated_back() -> None:
    # A radio once chosen cannot be cleared, and an exception beside consent given would reach the
    # policy as one the sender relies on: the form asks each in the case its label names, and only then.
    given = {
        "message_type": "safeguarding_referral",
        "consent_status": "given_explicit",
        "privacy_notice_given": "yes",
        "not_sought_reason": "risk_significant_harm",
        "lawful_basis": "consent",
        "parents_informed": "yes",
        "reason_not_informed": "risk_significant_harm",
    }
    built: Any = _built(given)
    assert built["consent"][0]["not_sought_reason"] is None and built["consent"][0]["privacy_notice_given"] is True
    assert built["parental_position"]["reason_not_informed"] is None
    refused: Any = _built({**given, "consent_status": "refused", "parents_informed": "no"})
    assert refused["consent"][0]["not_sought_reason"] == "risk_significant_harm"
    assert refused["consent"][0]["privacy_notice_given"] is None
    assert refused["parental_position"]["reason_not_informed"] == "risk_significant_harm"
    form = _form("safeguarding_referral")
    said = answered([_step(form, "consent", given)], given, choices={}, agencies={}, need_to_know=[])
    assert [label for _, _, rows in said for label, _ in rows] == [
        "Parent or carer's consent",
        "If consent was given: were they given the privacy notice saying how their information is used?",
        "Do the parents know you are sending this?",
        "Lawful basis for sharing",
    ]


def test_the_check_step_writes_a_day_and_a_time_as_the_other_pages_do() -> None:
    day = Field("p:dob", "Date of birth", "date")
    moment = Field("p:seen", "Last seen", "datetime-local")
    step = Step("details", "Details", "", (day, moment))
    answers = {"p:dob": "2015-03-04", "p:seen": "2026-12-05T20:00"}
    said = answered([step], answers, choices={}, agencies={}, need_to_know=[])
    assert said == [(0, "Details", [("Date of birth", "4 Mar 2015"), ("Last seen", "5 Dec 2026, 20:00")])]


def test_a_question_needed_in_the_case_its_label_names_is_never_labelled_optional() -> None:
    form = _form("safeguarding_referral")
    # Each answer that makes another needed, and the one it makes needed.
    cases = [
        ({"consent_status": "given_explicit"}, "privacy_notice_given"),
        ({"consent_status": "refused"}, "not_sought_reason"),
        ({"parents_informed": "no"}, "reason_not_informed"),
        ({"authoriser_role": "line_manager"}, "authoriser_ref"),
        ({"authoriser_ref": "mgr-01"}, "authorisation_reason"),
        ({"authorisation_reason": "Risk to the child."}, "authoriser_role"),
    ]
    for given, needed in cases:
        step = _step(form, "consent" if "authoris" not in needed else "authorisation", given)
        assert needed in validate_step(step, given), (given, needed)
        (field,) = [f for f in step.fields if f.name == needed]
        assert "optional" not in field.suffix, f"{needed} is asked for when {given}, but labelled{field.suffix}"


def test_an_age_out_of_range_says_the_range() -> None:
    form = _form("safeguarding_referral")
    for age in ("-3", "131", "seven"):
        step = _step(form, "details", {"age_years": age})
        assert validate_step(step, {"age_years": age})["age_years"] == "Give the age in whole years, from 0 to 130."


def test_the_schemas_refusal_is_named_by_the_question_that_asked() -> None:
    form = _form("safeguarding_referral")
    steps = steps_for(_types(), form, {}, HEALTH)
    tomorrow = (datetime.now(LONDON).date() + timedelta(days=1)).isoformat()
    born = {"child": {"given_name": "Test", "family_name": "Child Alpha", "date_of_birth": tomorrow}}
    referrer = {"name": "Pat Example", "job_title": "DSL", "work_email": "not-an-email"}
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched("referral", {"payload": {**born, "referrer": referrer}}))
    first, errors = schema_errors(steps, len(steps) - 1, caught.value)
    assert steps[first].key == "details"
    assert errors["p:child.date_of_birth"] == (
        "Child's names, date of birth, gender: Date of birth: is in the future: give the date the person was born."
    )
    assert errors["p:referrer.work_email"].startswith("The professional making the referral: Work email: String should")

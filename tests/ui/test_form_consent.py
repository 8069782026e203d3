"""The guided form records whether the person was given the privacy notice, whose consent it is and
which of the chosen agencies it covers, where it records consent, and never labels optional what it
then asks for.

Since sg-policy-0.7.0, Caldicott 8 holds a share that relies on consent unless the consent record
says the privacy notice was given (missing input denies). A form that never asked would send every
consent-based notification to the authorisation queue; so the consent step asks, requires an answer
when consent was given, and the notification it builds carries it. Consent is specific (golden rule
4): the record names whose it is (a young person's own, an adult's own, or a parent's) and the
agencies it covers, which the policy keeps a share on consent to (`broker.ui.form_consent`). The
types come from the policy pack file itself, so no stack is needed.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from broker.ui import form_consent
from broker.ui.form_answers import answered
from broker.ui.form_fields import Field, Step
from broker.ui.form_types import FormType, find, offered
from broker.ui.forms import build_notification, schema_errors, steps_for, validate_step
from broker.ui.policy_pack import rules_of
from schemas.common import ConsentRecord
from schemas.notifications import parse_notification
from tests.factories import ui_session
from tests.policy.bases import patched

PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())
HEALTH = "health_community"
GP = "gp-willow-lane"
MASH, POLICE = "csc-fenmere-mash", "police-fenmere"
# A referral to the front door and the police, each said to need it.
TWO = {
    f"to:{MASH}": "mash_intake",
    f"ntk:{MASH}": "protect_child",
    f"to:{POLICE}": "police_public_protection",
    f"ntk:{POLICE}": "investigate_crime",
}
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
    given = {
        "consent_status": "given_explicit",
        "consent_giver": "parent_pr",
        f"to:{MASH}": "mash_intake",
        f"consent_scope:{MASH}": "on",
        "lawful_basis": "consent",
    }
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
        "Consent",
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
        ({"consent_status": "refused"}, "consent_giver"),
        ({"consent_status": "given_explicit", f"to:{MASH}": "mash_intake"}, "consent_scope"),
        ({"consent_status": "not_sought"}, "not_sought_reason"),
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


# Consent given, by a parent, to the front door only (of the two agencies chosen).
GIVEN = {
    "message_type": "safeguarding_referral",
    **TWO,
    "consent_status": "given_explicit",
    "consent_giver": "parent_pr",
    "privacy_notice_given": "yes",
    f"consent_scope:{MASH}": "on",
    "parents_informed": "yes",
    "lawful_basis": "consent",
}


def _record(answers: dict[str, str]) -> dict[str, Any]:
    built: Any = _built(answers)
    (record,) = built["consent"]
    assert isinstance(record, dict)
    return record


def test_the_consent_record_says_whose_it_is_and_which_agencies_it_covers() -> None:
    record = _record(GIVEN)
    assert (record["giver"], record["status"], record["scope_agencies"]) == ("parent_pr", "given_explicit", [MASH])
    # Every agency ticked is still a list: the consent names them, rather than "no limit stated".
    assert _record({**GIVEN, f"consent_scope:{POLICE}": "on"})["scope_agencies"] == [MASH, POLICE]
    # A refusal covers no agencies, and is someone's: the parents withheld permission only if it is theirs.
    refused = {**GIVEN, "consent_status": "refused", "not_sought_reason": "risk_significant_harm"}
    assert _record(refused)["scope_agencies"] is None
    position: Any = _built(refused)["parental_position"]
    assert position["parent_withheld_permission"] is True
    position = _built({**refused, "consent_giver": "child"})["parental_position"]
    assert position["parent_withheld_permission"] is None


def test_consent_given_with_no_agency_ticked_is_refused_naming_the_question() -> None:
    consent = _step(_form("safeguarding_referral"), "consent", GIVEN)
    assert validate_step(consent, GIVEN) == {}
    unticked = {k: v for k, v in GIVEN.items() if not k.startswith("consent_scope:")}
    errors = validate_step(consent, unticked)
    assert errors.keys() == {"consent_scope"}, errors
    asked = "If consent was given: which of the agencies you chose did they agree to?"
    assert errors["consent_scope"].startswith(asked), errors
    # Whose consent it is is asked of every answer about consent, a refusal too, by the question's name.
    refused = {**unticked, "consent_status": "refused", "not_sought_reason": "risk_significant_harm"}
    del refused["consent_giver"]
    assert validate_step(consent, refused) == {"consent_giver": "Whose consent is this? Please answer."}


def test_an_agency_ticked_then_taken_off_the_recipients_is_not_sent() -> None:
    both = {**GIVEN, f"consent_scope:{POLICE}": "on"}
    # The police taken off the recipients step: their tick, kept in the form, is not sent.
    unchosen = {k: v for k, v in both.items() if k not in (f"to:{POLICE}", f"ntk:{POLICE}")}
    assert f"consent_scope:{POLICE}" in unchosen
    assert _record(unchosen)["scope_agencies"] == [MASH]
    # Nor does it count as an agency ticked: a consent whose agencies were all taken off is asked again.
    only_police = {k: v for k, v in unchosen.items() if k != f"consent_scope:{MASH}"}
    consent = _step(_form("safeguarding_referral"), "consent", only_police)
    assert "consent_scope" in validate_step(consent, only_police)


def test_a_young_persons_explicit_consent_is_sent_as_theirs() -> None:
    # Forced marriage outside child protection procedures: only the young person's own consent will do (I19).
    theirs = {**GIVEN, "consent_giver": "child"}
    consent = _step(_form("safeguarding_referral"), "consent", theirs)
    assert validate_step(consent, theirs) == {}
    record = _record(theirs)
    assert (record["giver"], record["status"], record["scope_agencies"]) == ("child", "given_explicit", [MASH])
    # And an adult's own, for an adult safeguarding referral (Making Safeguarding Personal).
    assert _record({**GIVEN, "consent_giver": "adult_subject"})["giver"] == "adult_subject"


def test_the_check_step_repeats_whose_consent_and_the_agencies_by_name() -> None:
    form = _form("safeguarding_referral")
    names = {MASH: "Fenmere Children's Social Care MASH", POLICE: "Fenmere Constabulary"}
    answers = {**GIVEN, "consent_giver": "child", f"consent_scope:{POLICE}": "on"}
    (consent,) = [s for s in steps_for(_types(), form, answers, HEALTH, names) if s.key == "consent"]
    said = answered([consent], answers, choices={}, agencies=names, need_to_know=[])
    rows = dict(row for _, _, step_rows in said for row in step_rows)
    assert rows["Whose consent is this?"].startswith("The young person themselves"), rows
    assert rows["If consent was given: which of the agencies you chose did they agree to?"] == (
        "Fenmere Children's Social Care MASH; Fenmere Constabulary"
    )


def _field(step: Step, name: str) -> Field:
    (field,) = [f for f in step.fields if f.name == name]
    return field


def test_a_refusal_or_withdrawal_needs_no_exception_but_not_seeking_consent_does() -> None:
    # Refused with no exception is an answer the policy decides (GR4: an adviser first; a request for
    # services, no share): the form no longer makes a sender pick a false exception to get past it.
    form = _form("safeguarding_referral")
    for status in ("refused", "withdrawn"):
        refused = {**GIVEN, "consent_status": status, "lawful_basis": "unsure"}
        consent = _step(form, "consent", refused)
        assert validate_step(consent, refused) == {}, status
        assert _field(consent, "not_sought_reason").applies(refused), "still asked, for one that does apply"
        record = _record(refused)
        assert (record["status"], record["not_sought_reason"]) == (status, None)
        ConsentRecord.model_validate(record)
    not_sought = {**GIVEN, "consent_status": "not_sought", "lawful_basis": "public_interest"}
    assert "not_sought_reason" in validate_step(_step(form, "consent", not_sought), not_sought)
    # Never "(optional)", since not seeking consent needs it; its hint says which case needs it and what
    # becomes of a refusal without one, as the policy decides it (tests/ui/test_form_consent_refused.py).
    exception = _field(_step(form, "consent", {}), "not_sought_reason")
    assert exception.suffix == "" and exception.hint.startswith("Needed if consent was not sought."), exception
    assert "waits for an adviser at your agency" in exception.hint
    services = _field(_step(form, "consent", {"purpose": "request_for_services"}), "not_sought_reason")
    assert "a request for services always needs consent" in services.hint and "adviser" not in services.hint


def test_whose_consent_it_is_is_asked_only_of_someone_who_answered() -> None:
    # A LADO allegation's consent is not required, and consent not sought is nobody's answer: whose it is
    # is asked of consent given, refused or withdrawn only.
    form = _form("safeguarding_referral")
    for status in ("not_required", "not_applicable", "not_sought", "unsure"):
        answers = {"consent_status": status, "not_sought_reason": "risk_significant_harm", "lawful_basis": "unsure"}
        consent = _step(form, "consent", answers)
        assert "consent_giver" not in validate_step(consent, answers), status
        assert not _field(consent, "consent_giver").applies(answers), status
        # The schema requires a giver: the parents', as before the form asked, and valid. An answer
        # given before the status changed is not sent.
        record = _record({**GIVEN, **answers, "consent_giver": "child"})
        assert record["giver"] == "parent_pr", (status, record)
        ConsentRecord.model_validate(record)
    for status in ("given_explicit", "refused", "withdrawn"):
        answers = {"consent_status": status}
        assert "consent_giver" in validate_step(_step(form, "consent", answers), answers), status


def test_the_consent_question_does_not_announce_the_questions_right_below_it() -> None:
    consent = _step(_form("safeguarding_referral"), "consent", {})
    assert "asked next" not in _field(consent, "consent_status").hint
    assert "would be asked" not in _field(consent, "consent_giver").hint


def test_which_agencies_a_consent_covers_is_said_to_decide_nothing_where_no_consent_is_needed() -> None:
    """A police officer ticked two of four agencies a parent agreed to on a missing child notice, read
    "one left unticked gets nothing", and saw all four get it: that type goes on its lawful basis."""

    def hint(form: FormType) -> str:
        answers = {"message_type": form.message_type, "consent_status": "given_explicit", f"to:{GP}": "gp"}
        (scope,) = [f for f in form_consent.step(form, answers).fields if f.name == form_consent.SCOPE]
        return scope.hint

    police = offered({mt: rules_of(mt, entry) for mt, entry in PACK["message_types"].items()}, "police")
    missing = find(police, "missing_child")
    assert missing is not None
    assert hint(missing) == (
        "This kind of notification does not rest on consent: it goes on its lawful basis to every agency you "
        "chose, ticked here or not. What you tick is recorded with it."
    )
    assert hint(_form("safeguarding_referral")).startswith("Consent covers only the agencies it names (golden rule 4)")


def test_the_authorisation_step_says_a_recorded_authorisation_releases_nothing_by_itself() -> None:
    """A police officer recorded their sergeant's agreement here and saw the share held all the same: only
    the authoriser's own release from their queue counts (the gateway verifies their token)."""
    steps = steps_for(_types(), _form("safeguarding_referral"), {}, HEALTH)
    (authorisation,) = [s for s in steps if s.key == "authorisation"]
    assert "Recording it releases nothing: a share held for authorisation waits until someone who may " in (
        authorisation.intro
    )
    assert "releases it from their queue, signed in as themselves, and that release is what the decision log" in (
        authorisation.intro
    )


def test_consent_nobody_answered_is_refused_as_the_lawful_basis() -> None:
    """Sent, such a share would be held with only a refusal possible: a reader of the demo learnt it only
    after sending (GR1, GR4). A refusal stays an answer the policy decides (GR4)."""
    consent = _step(_form("safeguarding_referral"), "consent", {})
    base = {"consent_status": "not_sought", "not_sought_reason": "risk_significant_harm", "lawful_basis": "consent"}
    refused = validate_step(consent, base)
    assert refused.get("lawful_basis", "").startswith("Nobody gave consent, so it cannot be the lawful basis"), refused
    assert "lawful_basis" not in validate_step(consent, {**base, "lawful_basis": "public_interest"})
    for status in ("unsure", "not_required"):
        assert "lawful_basis" in validate_step(consent, {**base, "consent_status": status})
    given = {**base, "consent_status": "given_explicit", "consent_giver": "parent_pr", "privacy_notice_given": "yes"}
    assert "lawful_basis" not in validate_step(consent, given)
    assert "lawful_basis" not in validate_step(consent, {**given, "consent_status": "refused"})


def test_a_reply_is_not_asked_how_the_concern_first_reached_its_recipients() -> None:
    """A referral phoned through is confirmed in writing (I15, T06); an outcome answering one is no such
    referral, and a reader of the demo was asked the question on a reply."""
    form = _form("safeguarding_referral")
    asked = _step(form, "risk", {})
    replying = [s for s in steps_for(_types(), form, {"in_reply_to": str(uuid.uuid4())}, HEALTH) if s.key == "risk"]
    assert "initial_contact" in {f.name for f in asked.fields}
    assert "initial_contact" not in {f.name for f in replying[0].fields}

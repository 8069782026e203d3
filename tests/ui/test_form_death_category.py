"""The form names a child death's category at its own question when it does not fit the child's age
(SUDI is under 12 months, SUDC a year or more: CPSCP-Procedures, Child death > 1.5 Definitions), from a
date of birth or from the age the form asked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from broker.ui import form_consent, form_risk, form_subject
from broker.ui.forms import schema_errors, steps_for
from schemas.notifications import parse_notification
from tests.policy.bases import patched
from tests.ui.test_form_consent import HEALTH, _form, _types

SUDC = "Sudden unexpected death in childhood (SUDC: from 1 year to 18)"
SUDI = "Sudden unexpected death in infancy (SUDI: a baby under 12 months)"


@pytest.mark.parametrize(
    ("patch", "aged", "fits"),
    [
        ({"payload": {"child": {"date_of_birth": "2017-01-01"}}}, "a child aged a year or more", SUDC),
        ({"subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 8}]}, "a child aged 8", SUDC),
        (
            {
                "payload": {"death_type": "sudc"},
                "subjects": [{"subject_ref": "c", "role_in_case": "child", "age_years": 0}],
            },
            "a child under 12 months",
            SUDI,
        ),
    ],
)
def test_a_category_that_does_not_fit_the_age_is_named_at_its_question(
    patch: dict[str, Any], aged: str, fits: str
) -> None:
    steps = steps_for(_types(), _form("child_death_notification"), {}, HEALTH)
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched("death", patch))
    first, errors = schema_errors(steps, len(steps) - 1, caught.value)
    assert steps[first].key == "details"
    assert list(errors) == ["p:death_type"], errors
    # The schema names its paths and codes for agency systems; the form names the category it means.
    assert errors["p:death_type"] == f"Category of death: it does not fit {aged} at death: choose “{fits}”."


def test_whether_the_child_who_died_could_decide_is_not_asked() -> None:
    """A child who has died decides nothing: the details step asks who and how old, not whether they could."""

    def asked(message_type: str) -> set[str]:
        steps = steps_for(_types(), _form(message_type), {"subject_role": "child"}, HEALTH)
        (details,) = [s for s in steps if s.key == "details"]
        return {f.name for f in details.fields}

    death = asked("child_death_notification")
    assert {"subject_role", "age_years"} <= death and not death & {"gillick_competent", "mental_capacity"}, death
    assert "gillick_competent" in asked("safeguarding_referral")


def test_consent_about_a_child_who_died_is_the_parents_alone() -> None:
    """Whose consent it is offers only a parent's on a child death notification, and the child's wish that
    the parents not be told is not asked; a referral about a living child asks both."""

    def consent(message_type: str) -> dict[str, Any]:
        answers = {"message_type": message_type, "consent_status": "refused", "parents_informed": "no"}
        step = form_consent.step(_form(message_type), answers)
        return {f.name: [value for value, _ in f.choices] for f in step.fields}

    death = consent("child_death_notification")
    assert death["consent_giver"] == ["parent_pr"] and "child_asked_not_told" not in death, death
    referral = consent("safeguarding_referral")
    assert referral["consent_giver"] == ["parent_pr", "child", "adult_subject"], referral
    assert "child_asked_not_told" in referral


def test_a_child_death_notification_is_about_the_child_who_has_died() -> None:
    """Whom it is mainly about is the child who has died, chosen for the sender and the one role offered:
    "Child" would send a living child's role, whose consent and wishes the policy reads."""
    death = {"message_type": "child_death_notification", "notification_id": "n-1", "age_years": "0"}
    (role,) = [f for f in form_subject.fields("child_death_notification") if f.name == "subject_role"]
    assert [value for value, _ in role.choices] == ["deceased_child"]
    assert form_subject.check({**death, "subject_role": "child"}) == {
        "subject_role": "Who is this mainly about?: choose one of the options."
    }
    assert form_subject.check({**death, "subject_role": "deceased_child"}) == {}
    assert form_subject.subject(death)["role_in_case"] == "deceased_child"
    # Its age question says nothing of a young person's disputed age (a reader of the demo, session 55).
    (age,) = [f for f in form_subject.fields("child_death_notification") if f.name == "age_years"]
    assert age.hint == "Leave it blank if it is not known."
    # Elsewhere every role is offered, and the adult types choose their adult.
    (anyone,) = [f for f in form_subject.fields("safeguarding_referral") if f.name == "subject_role"]
    assert len(anyone.choices) == 11 and form_subject.check({"subject_role": "child"}) == {}
    assert form_subject.main_person("safeguarding_referral") is None
    assert form_subject.main_person("marac_referral") == "adult_victim"
    assert form_subject.main_person("adult_safeguarding_referral") == "adult_at_risk"


def test_the_risk_step_of_a_child_death_asks_about_the_children_still_living() -> None:
    """A nurse was asked whether the baby who had died was at immediate risk, and answered for the
    siblings: the question now says so, and a referral still asks about its child."""
    asked = {f.name: f.label for f in form_risk.step("child_death_notification").fields}
    other = "any other child (a brother or sister, or another child in the household)"
    assert asked["immediate_significant_harm"] == f"Is {other} at immediate risk of significant harm?"
    assert asked["likely_significant_harm"] == f"Is {other} likely to suffer significant harm?"
    referral = {f.name: f.label for f in form_risk.step("safeguarding_referral").fields}
    assert referral["immediate_significant_harm"] == "Is the child at immediate risk of significant harm?"

"""A notification about an adult asks whether the person knows, not the parents, on the consent step
and on the check step; a child's still asks about the parents (`broker.ui.form_consent`).

A practitioner sending an adult safeguarding referral for an 81-year-old, or a MARAC referral for an
adult victim, was asked "Do the parents know you are sending this?" and whether "the young person"
asked that their parents not be told. The answers still go as `parental_position`, which the policy
reads for both; only whom the form asks about changes. Over HTTP on the real gateway, whose OPA
decides the check step's dry run, as a GP and a health visitor would walk the form. The people are
fictional.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from broker.ui import form_subject
from broker.ui.form_consent import CHILD_ASKED
from broker.ui.forms import build_notification, validate_step
from schemas.fields import DATA_CLASS_KEY
from schemas.notifications import NOTIFICATION_MODELS
from schemas.vocab import DataClass
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import ui_session
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_consent import NOW, _form, _step
from tests.ui.test_form_risk import ADULT, BASIS, GP, HEALTH, HV, SURGERY, VICTIM
from tests.ui.test_form_risk import _form as _served_form

PERSON_KNOWS = "Does the person this is about know you are sending this?"
PERSON_WHY = "If the person does not know: why telling them is unsafe or inappropriate"
PARENTS_KNOW = "Do the parents know you are sending this?"
# The person (or the parents) not told, for a reason whose words in the policy's findings name neither.
NOT_TOLD = {"parents_informed": "no", "reason_not_informed": "risk_significant_harm"}
ADULT_TYPES = ("adult_safeguarding_referral", "marac_referral")


def _shown(step: Any) -> str:
    """Everything a step shows a person: its intro, each question, its hint and its options."""
    said = [step.intro, *(f"{f.label} {f.hint} {' '.join(t for _, t in f.choices)}" for f in step.fields)]
    return " ".join(said)


@pytest.mark.parametrize("message_type", ADULT_TYPES)
def test_the_consent_step_of_an_adults_notification_asks_about_the_person(message_type: str) -> None:
    consent = _step(_form(message_type), "consent", {"message_type": message_type})
    shown = _shown(consent)
    assert PERSON_KNOWS in shown and PERSON_WHY in shown, shown
    assert "parents" not in shown, shown
    # A young person's wish that their parents not be told is no question about an adult.
    assert CHILD_ASKED not in {f.name for f in consent.fields}


def test_the_consent_step_of_a_childs_notification_still_asks_about_the_parents() -> None:
    consent = _step(_form("safeguarding_referral"), "consent", {"message_type": "safeguarding_referral"})
    shown = _shown(consent)
    assert PARENTS_KNOW in shown and "did the young person ask that their parents not be told?" in shown
    assert PERSON_KNOWS not in shown


def test_an_adults_refusals_name_the_person_and_their_own_consent() -> None:
    answers = {"message_type": "adult_safeguarding_referral", "parents_informed": "no", "lawful_basis": "unsure"}
    consent = _step(_form("adult_safeguarding_referral"), "consent", answers)
    # A young person's wish carried from another type is no reason about an adult.
    errors = validate_step(consent, {**answers, CHILD_ASKED: "yes"})
    assert errors["reason_not_informed"] == "Say why the person is not being told (golden rule 2).", errors
    # The adult gave consent themselves, so they know: "no" contradicts it, as a parent's does for a child.
    given = {**answers, "consent_status": "refused", "consent_giver": "adult_subject", **NOT_TOLD}
    assert validate_step(consent, given)["parents_informed"].startswith("The person gave or refused consent"), given
    assert "parents_informed" not in validate_step(consent, {**given, "consent_giver": "parent_pr"})
    child = {**given, "message_type": "safeguarding_referral", "consent_giver": "parent_pr"}
    said = validate_step(_step(_form("safeguarding_referral"), "consent", child), child)
    assert said["parents_informed"].startswith("A parent gave or refused consent, so the parents know"), said


def test_a_young_persons_wish_is_not_sent_for_an_adult() -> None:
    form = _form("adult_safeguarding_referral")
    answers = {"message_type": form.message_type, **NOT_TOLD, CHILD_ASKED: "yes"}
    session = ui_session("gp-willow-lane", "health_gp", "gp-01", NOW)
    built: Any = build_notification(answers, session, NOW, form, _step(form, "details", answers))
    assert built["parental_position"] == {
        "parents_informed": False,
        "parent_withheld_permission": None,
        "reason_not_informed": "risk_significant_harm",
        "child_asked_not_told": None,
    }


def _subject(payload: Any) -> str:
    """What the payload says of the person the notification is about: its first field of the identity
    class ("The adult at risk"); none for a de-identified advice request."""
    found = (f.description or "" for f in payload.model_fields.values() if _classed(f) == DataClass.IDENTITY)
    return next(found, "")


def _classed(field: Any) -> Any:
    extra = field.json_schema_extra
    return extra.get(DATA_CLASS_KEY) if isinstance(extra, dict) else None


def test_the_types_about_an_adult_are_those_whose_person_is_an_adult_and_that_name_no_child() -> None:
    # A type added about an adult would otherwise ask about the parents again.
    about_adult = set()
    for (kind, _), model in NOTIFICATION_MODELS.items():
        payload: Any = model.model_fields["payload"].annotation
        if "child" not in payload.model_fields and _subject(payload).startswith("The adult"):
            about_adult.add(kind.value)
    assert about_adult == set(form_subject.ADULT_TYPES) == set(ADULT_TYPES)
    # The policy words an exception for an adult on the same types (`adult_message_types`, sg-policy-0.7.21).
    pack = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())
    assert set(pack["adult_message_types"]) == about_adult


_HIDDEN = re.compile(r'<input type="hidden"[^>]*>')


def _visible(page: str) -> str:
    """The words a person reads on a page (not the answers it carries in hidden inputs)."""
    main = page.split('<main id="main">', 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", _HIDDEN.sub("", main))).split())


async def _pages(
    gateway: Gateway, opa_url: str, sender: tuple[str, str], message_type: str, given: dict[str, str]
) -> tuple[str, str]:
    """The consent step and the check step of a notification walked with `given` answered, as read."""
    agency, agency_type = sender
    csrf = await sign_in(gateway.client, gateway.token(agency, role="practitioner", subject=f"{agency}-words-01"))
    types, form = await _served_form(gateway, opa_url, agency, message_type)
    seen: list[str] = []
    check, _ = await walk(gateway.client, csrf, types, form, agency_type, given=given, seen=seen)
    (consent,) = [p for p in seen if re.search(r"<h2>Step \d+ of \d+: Consent and the exceptions</h2>", p)]
    assert "What each recipient would get" in check, _visible(check)[-2000:]
    return _visible(consent), _visible(check)


@pytest.mark.stack
async def test_an_adult_safeguarding_referral_asks_whether_the_person_knows_and_says_so_before_sending(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**ADULT, **NOT_TOLD}
    consent, check = await _pages(gateway, opa_url, (GP, SURGERY), "adult_safeguarding_referral", given)
    assert PERSON_KNOWS in consent and PERSON_WHY in consent, consent
    assert "parents" not in consent.lower(), consent
    # The check step repeats the answers under the same questions.
    assert f"{PERSON_KNOWS} No" in check and f"{PERSON_WHY} It would put" in check, check
    assert "parents" not in check.lower(), check


@pytest.mark.stack
async def test_a_marac_referral_asks_whether_the_victim_knows(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**BASIS, **VICTIM, "da_high_risk_marac": "yes", **NOT_TOLD}
    consent, check = await _pages(gateway, opa_url, (HV, HEALTH), "marac_referral", given)
    assert PERSON_KNOWS in consent and "parents" not in consent.lower(), consent
    assert f"{PERSON_KNOWS} No" in check and "parents" not in check.lower(), check


@pytest.mark.stack
async def test_a_childs_referral_still_asks_whether_the_parents_know(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    consent, check = await _pages(gateway, opa_url, (HV, HEALTH), "safeguarding_referral", {**BASIS, **NOT_TOLD})
    assert PARENTS_KNOW in consent and "did the young person ask that their parents not be told?" in consent
    assert PERSON_KNOWS not in consent, consent
    assert f"{PARENTS_KNOW} No" in check and PERSON_KNOWS not in check, check


@pytest.mark.parametrize("message_type", ADULT_TYPES)
def test_an_adults_notification_is_about_an_adult(message_type: str) -> None:
    # A housing officer's adult safeguarding referral offered "Child", "Unborn child" and "Child who has died",
    # and its age question said to treat a disputed age as a child's (readers of the demo, session 55).
    asked = {f.name: f for f in form_subject.fields(message_type)}
    assert [value for value, _ in asked["subject_role"].choices] == ["adult_victim", "adult_at_risk"]
    assert asked["age_years"].hint == "Leave it blank if it is not known."
    answers = {"message_type": message_type, "notification_id": "n-1"}
    assert form_subject.check({**answers, "subject_role": "child"}) == {
        "subject_role": "Who is this mainly about?: choose one of the options."
    }
    assert form_subject.check({**answers, "subject_role": "adult_victim", "age_years": "79"}) == {}

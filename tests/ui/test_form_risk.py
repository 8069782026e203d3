"""The guided form's risk step says what the policy reads of the risk (`broker.ui.form_risk`).

A reviewer acting as a partnership's safeguarding business manager found that no MARAC referral
from the form could be recorded as high-risk domestic abuse (so each was sent for advice, GR6), that
a GP's adult safeguarding referral without consent could not record an adult at risk of serious harm
(so each was held for a health adviser, GR3), and that the form sent no concern tags, which several
rules act on. Each is now asked on the risk step; over HTTP on the real gateway, whose OPA decides
what the form sends, each answer is shown to change the real decision. The people are fictional.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

import audit
from broker.ui import form_risk
from broker.ui.form_fields import Step
from broker.ui.form_types import FormType, find, sendable
from broker.ui.forms import build_notification, validate_step
from broker.ui.policy_pack import PolicyPack
from schemas.common import RiskFlags
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import logged_decision, ui_session
from tests.ui import test_form_safety as safety
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_consent import NOW, _step, _types
from tests.ui.test_form_safety import MASH, TO_THE_SOCIAL_WORKER, WITHHELD
from tests.ui.test_ui_review_fixes import _hidden

HV, HEALTH = "health-visiting-fenmere", "health_community"
GP, SURGERY = "gp-willow-lane", "health_gp"
MARAC, ASC = "marac-fenmere", "asc-fenmere"
# Shared without consent on the basis that fits (the walk would pick consent, which holds every share).
BASIS = {"lawful_basis": "safeguarding_children_individuals_at_risk"}
# The MARAC referral is about the adult victim of the abuse.
VICTIM = {"subject_role": "adult_victim", "age_years": "34", f"to:{MARAC}": "marac_coordinator"}
# A GP's referral of an older patient at risk: no child is at risk, and consent was not sought.
ADULT = {
    **BASIS,
    "subject_role": "adult_at_risk",
    "age_years": "81",
    "likely_significant_harm": "no",
    f"to:{ASC}": "adult_safeguarding_officer",
    f"ntk:{ASC}": "protect_adult",
}
DA, TAGS = form_risk.DA_HIGH_RISK, form_risk.TAGS
HIGH_RISK_UNSAID = "MARAC is for high-risk domestic abuse, and this case is not recorded as high risk"
HEALTH_DOUBT = "Confidential health information would go to a non-health agency without a recorded risk of harm"
DA_PERPETRATOR = "would pass information to an alleged perpetrator of domestic abuse"


async def _form(gateway: Gateway, opa_url: str, agency: str, message_type: str) -> tuple[list[FormType], FormType]:
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, agency)
    form = find(types, message_type)
    assert form is not None, f"{agency} is not offered {message_type}"
    return types, form


async def _sent(
    gateway: Gateway, opa_url: str, sender: tuple[str, str], message_type: str, given: dict[str, str]
) -> tuple[str, str]:
    """A notification walked through the form with `given` answered, and sent; its id and the sent page."""
    agency, agency_type = sender
    csrf = await sign_in(gateway.client, gateway.token(agency, role="practitioner", subject=f"{agency}-risk-01"))
    types, form = await _form(gateway, opa_url, agency, message_type)
    check, answers = await walk(gateway.client, csrf, types, form, agency_type, given=given)
    assert "What each recipient would get" in check, check[-2000:]
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    return answers["notification_id"], html.unescape(sent.text)


def _decided(gateway: Gateway, notification_id: str, recipient: str) -> audit.Entry:
    return logged_decision(gateway.engine, notification_id, recipient)


def _said(entry: audit.Entry) -> str:
    return " ".join(r["message"] for r in entry.reasons)


@pytest.mark.stack
async def test_a_marac_referral_found_high_risk_reaches_the_marac_and_one_not_found_so_waits_for_advice(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    decided = {}
    for answer in ("yes", "no"):
        given = {**BASIS, **VICTIM, DA: answer}
        notification_id, _ = await _sent(gateway, opa_url, (HV, HEALTH), "marac_referral", given)
        decided[answer] = _decided(gateway, notification_id, MARAC)
    high, not_high = decided["yes"], decided["no"]
    assert high.outcome in ("share", "share_minimised"), (high.outcome, high.reasons)
    assert HIGH_RISK_UNSAID not in _said(high), high.reasons
    assert not_high.outcome == "needs_advice", (not_high.outcome, not_high.reasons)
    assert HIGH_RISK_UNSAID in _said(not_high), not_high.reasons


@pytest.mark.stack
async def test_a_gps_adult_safeguarding_referral_without_consent_is_shared_when_the_adult_is_at_risk(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    decided = {}
    for answer in ("yes", "no"):
        given = {**ADULT, "serious_harm_to_adult": answer}
        notification_id, _ = await _sent(gateway, opa_url, (GP, SURGERY), "adult_safeguarding_referral", given)
        decided[answer] = _decided(gateway, notification_id, ASC)
    at_risk, not_at_risk = decided["yes"], decided["no"]
    assert at_risk.outcome in ("share", "share_minimised"), (at_risk.outcome, at_risk.reasons)
    assert at_risk.consent_state == "not_sought", at_risk.consent_state
    assert not_at_risk.outcome == "needs_advice", (not_at_risk.outcome, not_at_risk.reasons)
    assert HEALTH_DOUBT in _said(not_at_risk), not_at_risk.reasons


@pytest.mark.stack
async def test_a_domestic_abuse_tag_reaches_the_policy(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    # The social worker will go through the concern with the mother's partner: told it is domestic abuse, the
    # policy asks for advice before anything reaches them (GR5); untold, it shares what is safe.
    gateway = await gateway_factory(ui_cookie_secure=False)
    tagged = {**WITHHELD, f"{TAGS}:domestic_abuse": "on", DA: "unknown"}
    plain = await safety._sent(gateway, *await safety._check_page(gateway, opa_url, WITHHELD))
    abuse = await safety._sent(gateway, *await safety._check_page(gateway, opa_url, tagged))
    untold, told = _decided(gateway, plain, MASH), _decided(gateway, abuse, MASH)
    assert DA_PERPETRATOR not in _said(untold) and untold.outcome != "needs_advice", untold.reasons
    assert told.outcome == "needs_advice" and DA_PERPETRATOR in _said(told), (told.outcome, told.reasons)


@pytest.mark.stack
async def test_a_child_of_16_harming_a_high_risk_parent_asks_the_referrer_to_refer_to_the_marac(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    # CPCH policy, 5: a high-risk parent or carer and a child causing harm aged 16 or over: a MARAC referral.
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**TO_THE_SOCIAL_WORKER, **BASIS, "age_years": "16", f"{TAGS}:cpch": "on"}
    said = {}
    for answer in ("yes", "no"):
        _, page = await _sent(gateway, opa_url, (HV, HEALTH), "safeguarding_referral", {**given, DA: answer})
        said[answer] = re.sub(r"\s+", " ", page)
    assert "make a MARAC referral" in said["yes"], said["yes"][-1500:]
    assert "make a MARAC referral" not in said["no"], said["no"][-1500:]


@pytest.mark.stack
async def test_the_check_step_repeats_each_new_answer_with_its_change_button(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {
        "serious_harm_to_adult": "yes",
        f"{TAGS}:domestic_abuse": "on",
        f"{TAGS}:parental_substance_misuse": "on",
        DA: "unknown",
    }
    check, _ = await safety._check_page(gateway, opa_url, given)
    assert "What each recipient would get" in check, "the schema and the policy took the notification"
    said = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", check.split('id="h-answers"', 1)[1])))
    for answer in (
        "Risk Change",
        "Is an adult at risk of serious harm? Yes",
        "What kind of concern is this? Domestic abuse; A parent's or carer's drug or alcohol misuse",
        "found it to be high risk (MARAC threshold)? Don't know",
    ):
        assert answer in said, (answer, said[:3000])
    steps = re.findall(r'<li (?:aria-current="step" class="current")?\s*>([^<]+)</li>', check)
    assert f'value="change:{steps.index("Risk")}"' in check, "its Change button opens the risk step"


def _risk_step(message_type: str) -> Step:
    return _step(_of(message_type), "risk", {})


def _of(message_type: str) -> FormType:
    return next(t for t in _types() if t.message_type == message_type)


def _built(message_type: str, answers: dict[str, str]) -> dict[str, Any]:
    """The notification the form builds from these answers, as a health visitor sends it."""
    session = ui_session(HV, HEALTH, "hv-01", NOW)
    form = _of(message_type)
    return build_notification(answers, session, NOW, form, _step(form, "details", answers))


def test_the_high_risk_question_is_asked_only_where_the_policy_reads_it() -> None:
    def asking(name: str) -> set[str]:
        return {t.message_type for t in _types() if name in {f.name for f in _risk_step(t.message_type).fields}}

    assert asking(form_risk.DA_HIGH_RISK) == {"marac_referral", "safeguarding_referral"}
    assert asking("serious_harm_to_adult") == {t.message_type for t in _types()}, "who it is about comes later"


@pytest.mark.parametrize(
    ("message_type", "answers", "field", "said"),
    [
        ("marac_referral", {}, DA, "found the domestic abuse to be high risk (MARAC threshold)? Please answer."),
        ("adult_safeguarding_referral", {}, "serious_harm_to_adult", "adult at risk of serious harm? Please answer."),
        ("marac_referral", {DA: "maybe"}, DA, "(MARAC threshold)?: choose one of the options."),
        ("safeguarding_referral", {f"{TAGS}:cpch": "on"}, DA, "found it to be high risk (MARAC threshold)? Please"),
        ("safeguarding_referral", {f"{TAGS}:domestic_abuse": "on"}, DA, "(MARAC threshold)? Please answer."),
    ],
    ids=["marac-unanswered", "adult-unanswered", "not-an-option", "cpch-ticked", "domestic-abuse-ticked"],
)
def test_each_refusal_names_its_question(message_type: str, answers: dict[str, str], field: str, said: str) -> None:
    errors = validate_step(_risk_step(message_type), answers)
    assert said in errors.get(field, ""), errors


def test_a_safeguarding_referral_without_domestic_abuse_need_not_say_how_high_the_risk_is() -> None:
    assert DA not in validate_step(_risk_step("safeguarding_referral"), {f"{TAGS}:neglect": "on"})


def test_the_answers_are_sent_as_the_schema_has_them() -> None:
    answers = {
        "serious_harm_to_adult": "yes",
        DA: "unknown",
        f"{TAGS}:cpch": "on",
        f"{TAGS}:domestic_abuse": "on",
        f"{TAGS}:not_a_tag": "on",
    }
    built = _built("safeguarding_referral", answers)
    assert built["risk"]["serious_harm_to_adult"] is True
    assert built["risk"][DA] is None, "don't know is sent as unknown, never as a no"
    assert built["concern_tags"] == ["domestic_abuse", "cpch"], "only the tags offered, in the form's order"
    assert _built("safeguarding_referral", {**answers, DA: "no"})["risk"][DA] is False
    assert RiskFlags.model_validate(built["risk"]).da_high_risk_marac is None
    assert _built("safeguarding_referral", {})["concern_tags"] == []


def test_a_high_risk_answer_given_for_another_type_is_not_sent() -> None:
    # Answered for a MARAC referral, then the type changed: a missing-child notice does not ask it.
    assert DA not in _built("missing_child", {DA: "yes"})["risk"]
    assert _built("marac_referral", {DA: "yes"})["risk"][DA] is True


@pytest.mark.parametrize(
    ("message_type", "whom"),
    [
        ("safeguarding_referral", "the child"),
        ("adult_safeguarding_referral", "any child in this case"),
        ("marac_referral", "any child in this case"),
    ],
)
def test_the_child_protection_questions_name_the_child_only_where_the_type_is_about_one(
    message_type: str, whom: str
) -> None:
    """A reviewer found an adult safeguarding referral asking whether "the child" was at risk, when the
    form is about an adult; the flags still matter there, for any child the case names."""
    titles = {f.name: f.title for f in form_risk.step(message_type).fields}
    assert titles["immediate_significant_harm"] == f"Is {whom} at immediate risk of significant harm?"
    assert titles["likely_significant_harm"] == f"Is {whom} likely to suffer significant harm?"

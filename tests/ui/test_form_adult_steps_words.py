"""The guided form speaks of the person, not a child, on every step of an adult's notification, and
does not promise an adviser's yes where only a refusal can end the wait (`broker.ui.form_consent`,
`form_safety`, `form_subject`, the step and answer templates).

Readers of the demo found an adult safeguarding referral offering "a parent or carer with parental
responsibility" as whose consent it was, the first exception "it would put the child at risk of
significant harm", a family member as "member of the child's family", an NHS number held "for the
same child", and a banner for a child in danger only; and the consent step's hint said the adult
decides, before capacity is asked. A lawful basis left "unsure" was offered as an adviser deciding
before anything is sent, and the check page said the adviser would "say yes or no"; but with no
basis recorded an adviser can only refuse it (`broker.review.release`), so the adviser says which
basis applies and the sender sends again. Over HTTP on the real gateway, whose OPA decides each dry
run and each share. The people are fictional.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from broker.ui import form_consent, form_risk
from broker.ui.form_fields import Field, Step
from broker.ui.forms import build_notification, validate_step
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import ui_session
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_adult_words import ADULT_TYPES, NOT_TOLD, _visible
from tests.ui.test_form_consent import NOW, _form, _step
from tests.ui.test_form_risk import ADULT, ASC, GP, HEALTH, HV, SURGERY
from tests.ui.test_form_risk import _form as _served_form
from tests.ui.test_form_safety import MASH, TO_THE_SOCIAL_WORKER
from tests.ui.test_ui_review_fixes import _hidden

BANNER = "If a child or adult is in immediate danger, phone 999 now."
CHILD_GIVERS = ["parent_pr", "child", "adult_subject"]
PERSON_AT_RISK = "It would put the person at risk of serious harm"
CHILD_AT_RISK = "It would put the child at risk of significant harm"
CAPACITY_HINT = "The adult themselves, not their family (if they lack capacity for this decision, say so on the details"
# What the form said of an adult's notification before, step by step: none of it may be read there now.
CHILD_WORDS = {
    "consent": (
        "parental responsibility",
        "The young person themselves",
        "Gillick",
        CHILD_AT_RISK,
        "A young person faces serious harm",
        "they decide what happens to their information",
        "If a child is in immediate danger",
    ),
    "risk": ("If a child is in immediate danger",),
    "safety": ("Member of the child's family", "put the child or", "If a child is in immediate danger"),
    "details": ("for the same child", "If a child is in immediate danger", "Gillick competent"),
    "check": (CHILD_AT_RISK, "Member of the child's family", "If a child is in immediate danger"),
}
TITLES = {
    "consent": "Consent and the exceptions",
    "risk": "Risk",
    "safety": "Who must not know",
    "details": "Details",
    "check": "Check before sending",
}
# A family member the person must not be told through: their son, by the GP's own reference.
SON = {
    "withheld_any": "yes",
    "withheld.1.ref": "WH-SON-01",
    "withheld.1.relation": "family_member",
    f"conveys:{ASC}:none": "on",
}
REFUSE_ONLY = "Waits for an adviser at your agency to say which lawful basis applies; then send it again with it."
YES_OR_NO = "to say yes or no"


def _field(step: Step, name: str) -> Field:
    (found,) = [f for f in step.fields if f.name == name]
    return found


@pytest.mark.parametrize("message_type", ADULT_TYPES)
def test_an_adults_consent_is_the_persons_own_and_its_exception_names_their_harm(message_type: str) -> None:
    answers = {"message_type": message_type}
    consent = _step(_form(message_type), "consent", answers)
    assert _field(consent, form_consent.GIVER).choices == [("adult_subject", "The person themselves")]
    for name in ("not_sought_reason", "reason_not_informed"):
        words = dict(_field(consent, name).choices)
        assert words["risk_significant_harm"] == PERSON_AT_RISK, words
    hint = _field(consent, "parents_informed").hint
    assert hint.startswith(CAPACITY_HINT) and "decide" not in hint, hint
    # The words are the person's; the code sent is the same E1.
    form = _form(message_type)
    given = {**answers, "consent_status": "not_sought", "not_sought_reason": "risk_significant_harm", **NOT_TOLD}
    session = ui_session("gp-willow-lane", "health_gp", "gp-01", NOW)
    built: Any = build_notification(given, session, NOW, form, _step(form, "details", given))
    assert built["consent"][0]["not_sought_reason"] == "risk_significant_harm"
    assert built["consent"][0]["giver"] == "adult_subject", "nobody else's consent it would have been"
    assert built["parental_position"]["reason_not_informed"] == "risk_significant_harm"


@pytest.mark.parametrize(("status", "refused"), [("not_sought", False), ("refused", True)])
def test_a_parents_consent_carried_to_an_adults_notification_is_refused_only_where_it_is_asked(
    status: str, refused: bool
) -> None:
    # Chosen for a child's referral, then the type changed: not sought, whose it was is not asked.
    answers = {"message_type": "adult_safeguarding_referral", "consent_status": status, "consent_giver": "parent_pr"}
    consent = _step(_form("adult_safeguarding_referral"), "consent", answers)
    errors = validate_step(consent, {**answers, "not_sought_reason": "risk_significant_harm", "lawful_basis": "unsure"})
    assert (errors.get(form_consent.GIVER) == "Whose consent is this?: choose one of the options.") is refused, errors


def test_an_allegations_consent_is_not_the_accused_adults() -> None:
    # On a LADO allegation "the adult the concern is about" read as the member of staff it is about.
    consent = _step(_form("lado_allegation"), "consent", {"message_type": "lado_allegation"})
    assert [code for code, _ in _field(consent, form_consent.GIVER).choices] == ["parent_pr", "child"]


def test_a_childs_consent_keeps_its_givers_and_its_exception() -> None:
    consent = _step(_form("safeguarding_referral"), "consent", {"message_type": "safeguarding_referral"})
    assert [code for code, _ in _field(consent, form_consent.GIVER).choices] == CHILD_GIVERS
    assert dict(_field(consent, "not_sought_reason").choices)["risk_significant_harm"] == CHILD_AT_RISK


def test_unsure_of_the_basis_says_the_adviser_names_one_and_the_sender_sends_again() -> None:
    consent = _step(_form("safeguarding_referral"), "consent", {"message_type": "safeguarding_referral"})
    unsure = dict(_field(consent, "lawful_basis").choices)["unsure"]
    assert "a DSL, IG lead, Caldicott Guardian or named professional other than you, says which basis applies" in unsure
    assert unsure.endswith("and you send it again with it)") and "decides before" not in unsure, unsure
    # An advice request identifies nobody, so it needs no settled basis (GR1): nothing waits for one.
    advice = _step(_form("advice_request"), "consent", {"message_type": "advice_request"})
    asked = dict(_field(advice, "lawful_basis").choices)["unsure"]
    assert asked == form_consent.ADVICE_UNSURE and "names nobody" in asked, asked
    # Doubt about sharing at all is another matter: an adviser may answer it either way.
    doubt = dict(_field(form_risk.step("safeguarding_referral"), "in_doubt").choices)["unsure"]
    # A DSL reads it too, so the adviser is any at the agency but the sender, never "your DSL".
    assert doubt == form_risk.ASK_ADVISER and "named professional at your agency, not you, decides" in doubt


def _page(seen: list[str], key: str) -> str:
    title = re.escape(TITLES[key])
    (page,) = [p for p in seen if re.search(rf"<h2>Step \d+ of \d+: {title}</h2>", p)]
    return _visible(page)


async def _walked(
    gateway: Gateway, opa_url: str, sender: tuple[str, str], message_type: str, given: dict[str, str], **kw: Any
) -> tuple[str, dict[str, str], list[str]]:
    agency, agency_type = sender
    csrf = await sign_in(gateway.client, gateway.token(agency, role="practitioner", subject=f"{agency}-steps-01"))
    types, form = await _served_form(gateway, opa_url, agency, message_type)
    seen: list[str] = []
    check, answers = await walk(gateway.client, csrf, types, form, agency_type, given=given, seen=seen, **kw)
    assert "What each recipient would get" in check, _visible(check)[-2000:]
    return check, answers, seen


@pytest.mark.stack
async def test_an_adult_safeguarding_referral_speaks_of_the_person_on_every_step(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**ADULT, **NOT_TOLD, **SON}
    sender, adults = (GP, SURGERY), "adult_safeguarding_referral"
    _, _, seen = await _walked(gateway, opa_url, sender, adults, given, first_agency=False)
    pages = {key: _page(seen, key) for key in TITLES}
    for key, page in pages.items():
        assert BANNER in page, (key, page[:600])
        found = [words for words in CHILD_WORDS[key] if words in page]
        assert not found, (key, found, page)
    assert "The person themselves" in pages["consent"] and PERSON_AT_RISK in pages["consent"]
    assert "The person faces serious harm and it is urgent" in pages["consent"], pages["consent"]
    assert CAPACITY_HINT in pages["consent"], pages["consent"]
    assert "Your judgement of the risk now. If a child or adult is in immediate danger, phone 999." in pages["risk"]
    assert "Member of the person's family" in pages["safety"], pages["safety"]
    assert "for the same person" in pages["details"], pages["details"]
    # The check step repeats both answers in the person's words.
    assert PERSON_AT_RISK in pages["check"] and "Member of the person's family" in pages["check"], pages["check"]


@pytest.mark.stack
async def test_a_childs_referral_keeps_its_givers_and_its_words(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**TO_THE_SOCIAL_WORKER, "lawful_basis": "safeguarding_children_individuals_at_risk", **NOT_TOLD}
    _, _, seen = await _walked(gateway, opa_url, (HV, HEALTH), "safeguarding_referral", given)
    consent = next(p for p in seen if "<h2>Step 4 of" in p and "Consent and the exceptions" in p)
    givers = re.findall(r'name="consent_giver" value="([^"]+)"', consent)
    assert givers == CHILD_GIVERS, givers
    said = _visible(consent)
    assert (
        "A parent or carer with parental responsibility" in said
        and "(Gillick competent, or at 16 or 17 with capacity)" in said
    ), said
    assert CHILD_AT_RISK in said and BANNER in said, said
    assert "Member of the child's family" in _page(seen, "safety")
    assert "for the same child" in _page(seen, "details")


@pytest.mark.stack
async def test_the_recipients_step_offers_each_team_with_a_capital_letter(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**TO_THE_SOCIAL_WORKER, "lawful_basis": "safeguarding_children_individuals_at_risk"}
    _, _, seen = await _walked(gateway, opa_url, (HV, HEALTH), "safeguarding_referral", given)
    recipients = next(p for p in seen if 'id="f-as:' in p)
    teams = re.search(rf'<select id="f-as:{MASH}".*?</select>', recipients, re.S)
    assert teams is not None, recipients[-3000:]
    offered = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', teams.group(0)))
    assert offered["social_worker"] == "Social worker" and offered["mash_intake"] == "MASH intake", offered
    assert all(html.unescape(words)[:1].isupper() for words in offered.values()), offered


@pytest.mark.stack
async def test_a_share_unsure_of_its_basis_waits_for_the_basis_not_a_yes(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**TO_THE_SOCIAL_WORKER, "lawful_basis": "unsure", "immediate_significant_harm": "no"}
    check, answers, _ = await _walked(gateway, opa_url, (HV, HEALTH), "safeguarding_referral", given)
    before = _visible(check)
    assert "Needs advice" in before and REFUSE_ONLY in before and YES_OR_NO not in before, before[-3000:]
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    after = _visible(sent.text)
    assert "What would resolve it: The sender sends it again with a lawful basis" in after, after[:3000]
    assert "until you send it again with what is missing, since an answer can only refuse it" in after, after[:800]
    assert "until someone says yes" not in after and YES_OR_NO not in after, after[:800]


@pytest.mark.stack
async def test_a_share_an_adviser_may_release_still_waits_for_a_yes_or_no(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    given = {**TO_THE_SOCIAL_WORKER, "lawful_basis": "safeguarding_children_individuals_at_risk", "in_doubt": "unsure"}
    check, _, _ = await _walked(gateway, opa_url, (HV, HEALTH), "safeguarding_referral", given)
    before = _visible(check)
    assert "Needs advice" in before and REFUSE_ONLY not in before, before[-3000:]
    assert f"Caldicott Guardian or named professional) {YES_OR_NO}." in before, before[-3000:]

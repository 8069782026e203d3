"""Who can decide for themselves, asked by the guided form and decided by the real policy.

A young person able to decide for themselves (Gillick competent) gives or refuses their own consent and
may ask that their parents not be told; that wish is respected unless the conditions for sharing
without consent apply (CPSCP-Procedures, Self-harm > Information Sharing and Consent; the domain brief,
§5.8). A child who cannot decide gives no consent of their own: a person with parental responsibility
does. The details step asks whether the child is Gillick competent, and the consent step whether the
young person asked that the parents not be told; over HTTP on the real gateway, whose OPA decides what
the form sends, each answer is decided as the policy's GR2 and GR4 say (sg-policy-0.7.14, 0.7.15). The
people are fictional.
"""

from __future__ import annotations

import html

import pytest

import audit
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import logged_decision, school_referral
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_safety import BASIS, HEALTH, HV, MASH, TO_THE_SOCIAL_WORKER, _referral
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

# A health visitor's referral about a 14-year-old, on a basis other than consent, parents not told.
NOT_TOLD = {
    **TO_THE_SOCIAL_WORKER,
    **BASIS,
    "purpose": "safeguarding_concern",
    "subject_role": "child",
    "age_years": "14",
    "consent_status": "not_sought",
    "not_sought_reason": "risk_significant_harm",
    "parents_informed": "no",
    "reason_not_informed": "",
    "child_asked_not_told": "yes",
    "likely_significant_harm": "no",
}
SCHOOL = "school-oakfield-primary"
RESPECTED = "The parents have not been told because the young person, competent to decide, asked that they not be"
NOT_RECORDED = "The young person asked that the parents not be told, but is not recorded as able to decide that"
# The child's own consent, given, scoped to the front door, the parents told.
OWN_CONSENT = {
    **TO_THE_SOCIAL_WORKER,
    "lawful_basis": "consent",
    "purpose": "safeguarding_concern",
    "subject_role": "child",
    "age_years": "6",
    "consent_status": "given_explicit",
    "consent_giver": "child",
    f"consent_scope:{MASH}": "on",
    "privacy_notice_given": "yes",
    "parents_informed": "yes",
    "likely_significant_harm": "no",
}
SET_ASIDE = "Consent is recorded from the child, recorded as not competent to decide this"


async def _sent(gateway: Gateway, opa_url: str, given: dict[str, str], who: str) -> audit.Entry:
    return (await _sent_page(gateway, opa_url, given, who))[0]


async def _sent_page(gateway: Gateway, opa_url: str, given: dict[str, str], who: str) -> tuple[audit.Entry, str]:
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject=who))
    types, form = await _referral(gateway, opa_url)
    check, answers = await walk(gateway.client, csrf, types, form, HEALTH, given=given, first_agency=False)
    assert "What each recipient would get" in check, check[-2000:]
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    return logged_decision(gateway.engine, answers["notification_id"], MASH), html.unescape(sent.text)


@pytest.mark.parametrize(
    ("age", "gillick", "outcome", "says"),
    [
        ("14", "yes", "share", RESPECTED),
        ("14", "not_assessed", "hold_for_authorisation", NOT_RECORDED),
        # At 16 or 17 the form's answer is capacity for the decision, and GR2 names it (sg-policy-0.7.26).
        ("16", "no", "hold_for_authorisation", f"{NOT_RECORDED} (Gillick competent, or at 16 or 17 with capacity"),
        ("17", "yes", "share", RESPECTED),
    ],
    ids=["competent", "not-assessed", "16-lacking-capacity", "17-with-capacity"],
)
async def test_a_young_persons_wish_that_the_parents_not_be_told(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    age: str,
    gillick: str,
    outcome: str,
    says: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    answers = {**NOT_TOLD, "age_years": age, "gillick_competent": gillick}
    decided = await _sent(gateway, opa_url, answers, f"hv-wish-{age}-{gillick}")
    assert decided.outcome == outcome, (decided.outcome, decided.reasons)
    assert any(r["rule"] == "GR2" and r["message"].startswith(says) for r in decided.reasons), decided.reasons


async def test_the_reason_is_needed_unless_the_young_person_asked(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="hv-wish-unasked"))
    types, form = await _referral(gateway, opa_url)
    seen: list[str] = []
    with pytest.raises(AssertionError, match="or that the young person asked that they not be"):
        await walk(
            gateway.client, csrf, types, form, HEALTH, given={**NOT_TOLD, "child_asked_not_told": "no"}, seen=seen
        )
    assert 'id="f-child_asked_not_told' in seen[-1], seen[-1][-2000:]


async def test_a_childs_own_consent_counts_only_if_they_can_decide(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    decided = await _sent(gateway, opa_url, {**OWN_CONSENT, "gillick_competent": "yes"}, "hv-own-yes")
    assert decided.outcome == "share", (decided.outcome, decided.reasons)
    assert not [r for r in decided.reasons if r["message"].startswith(SET_ASIDE)], decided.reasons
    # The form does not let a sender record a child's own consent and then that the child cannot decide.
    with pytest.raises(AssertionError, match="You recorded consent as the young person"):
        await _sent_page(gateway, opa_url, {**OWN_CONSENT, "gillick_competent": "no"}, "hv-own-no")


async def test_a_consent_set_aside_waits_for_consent_not_a_lawful_basis(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    # An agency system can still send it: the policy sets the consent aside (GR4) and the share waits.
    gateway = await gateway_factory()
    pupil = {"subject_ref": "pupil-8101", "role_in_case": "child", "age_years": 6, "gillick_competent": "no"}
    own = {"subject_ref": "pupil-8101", "giver": "child", "status": "given_explicit", "privacy_notice_given": True}
    told = {"parents_informed": True, "parent_withheld_permission": None}
    body = school_referral(lawful_basis="consent", subjects=[pupil], consent=[own], parental_position=told)
    sent = await gateway.post(body)
    assert sent.status_code == 202, sent.text
    held = {r["agency_id"]: r for r in sent.json()["recipients"]}[MASH]
    assert held["outcome"] == "hold_for_authorisation", held
    assert any(r["message"].startswith(SET_ASIDE) for r in held["reasons"]), held["reasons"]
    token = gateway.token(SCHOOL, role="line_manager", subject="lm-capacity-01")
    queues = await gateway.client.get("/v1/queues", headers={"Authorization": f"Bearer {token}"})
    (item,) = [i for i in queues.json()["hold_for_authorisation"] if i["delivery_id"] == held["delivery_id"]]
    # What ends the wait is consent from someone able to give it, not the lawful basis the sender gave.
    assert item["resolves"] == "The sender sends it again with consent, or the exception relied on instead.", item


async def test_a_parents_consent_and_parents_who_do_not_know_contradict_each_other(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="hv-parent-asked"))
    types, form = await _referral(gateway, opa_url)
    parents = {**OWN_CONSENT, "consent_giver": "parent_pr", "parents_informed": "no", "child_asked_not_told": "yes"}
    with pytest.raises(AssertionError, match="A parent gave or refused consent, so the parents know"):
        await walk(gateway.client, csrf, types, form, HEALTH, given=parents)

"""A refusal with no exception is sent as it is, and the form says beforehand what the policy makes of it.

A reviewer found the form demanding an exception whenever consent was refused, lawful basis "unsure"
too: a practitioner whose case has none picked a false one, and the policy then shared it "for a
recorded reason". Now the exception is asked, not required, for a refusal or a withdrawal (it stays
required where consent was not sought), and its hint says what becomes of a refusal with none. Over
HTTP on the real gateway, whose OPA decides what the form sends, each case the hint names is decided
as the hint says. The people are fictional.
"""

from __future__ import annotations

import html
import re

import pytest

import audit
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import logged_decision
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_safety import BASIS, HEALTH, HV, MASH, TO_THE_SOCIAL_WORKER, _referral
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

# A parent's refusal, no exception (posted blank, as a select left at "—" is), the parents told.
REFUSED = {
    **TO_THE_SOCIAL_WORKER,
    **BASIS,
    "purpose": "safeguarding_concern",
    "consent_status": "refused",
    "consent_giver": "parent_pr",
    "not_sought_reason": "",
    "parents_informed": "yes",
    "likely_significant_harm": "no",
}
ADVISER = (
    "the share then waits for an adviser at your agency (DSL, IG lead, Caldicott Guardian or named professional) "
    "to say yes or no"
)
SERVICES = "a request for services always needs consent: refused or withdrawn, it is not shared, exception or not"
HARM = "If you record a likely risk of significant harm (next step), the refusal alone no longer holds back a share"
# GR4 names whose refusal it weighs (sg-policy-0.7.22).
REFUSED_NO_EXCEPTION = "Consent was refused by a person with parental responsibility, and no exception is recorded."
WITHDRAWN_NO_EXCEPTION = "Consent was withdrawn by a person with parental responsibility, and no exception is recorded."
# What GR4 said when the form made the sender pick an exception the case did not have.
FALSE_REASON = "No consent is relied on"


def _decided(gateway: Gateway, notification_id: str) -> audit.Entry:
    return logged_decision(gateway.engine, notification_id, MASH)


def _hint(page: str) -> str:
    """The hint under the exception's question, as the consent step shows it."""
    found = re.search(r'<label for="f-not_sought_reason">.*?<p class="hint">(.*?)</p>', page, re.S)
    assert found is not None, page[-3000:]
    return html.unescape(found.group(1))


@pytest.mark.parametrize(
    ("given", "hint", "outcome", "deciding"),
    [
        ({}, ADVISER, "needs_advice", ("GR4", REFUSED_NO_EXCEPTION)),
        ({"lawful_basis": "unsure"}, ADVISER, "needs_advice", ("GR4", REFUSED_NO_EXCEPTION)),
        ({"consent_status": "withdrawn"}, ADVISER, "needs_advice", ("GR4", WITHDRAWN_NO_EXCEPTION)),
        # "On a lawful basis other than consent": on consent itself, it is held until another is declared.
        ({"lawful_basis": "consent"}, ADVISER, "hold_for_authorisation", ("GR4", "Consent has not been given, but")),
        ({"purpose": "request_for_services"}, SERVICES, "no_share", ("GR4", "Consent is always needed to request")),
        ({"likely_significant_harm": "yes"}, HARM, "share_urgent_review_after", ("C7", "The duty to share outweighs")),
    ],
    ids=["refused", "basis-unsure", "withdrawn", "basis-consent", "request-for-services", "likely-harm"],
)
async def test_a_refusal_with_no_exception_is_sent_and_decided_as_the_hint_says(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    given: dict[str, str],
    hint: str,
    outcome: str,
    deciding: tuple[str, str],
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="hv-refused-01"))
    types, form = await _referral(gateway, opa_url)
    seen: list[str] = []
    check, answers = await walk(gateway.client, csrf, types, form, HEALTH, given={**REFUSED, **given}, seen=seen)
    assert "What each recipient would get" in check, check[-2000:]
    (consent_page,) = [p for p in seen if re.search(r"<h2>Step \d+ of \d+: Consent and the exceptions</h2>", p)]
    assert hint in _hint(consent_page), _hint(consent_page)

    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    decided = _decided(gateway, answers["notification_id"])
    assert decided.outcome == outcome, (decided.outcome, decided.reasons)
    rule, message = deciding
    assert rule in decided.deciding_rules, (decided.deciding_rules, decided.reasons)
    assert any(r["rule"] == rule and r["message"].startswith(message) for r in decided.reasons), decided.reasons
    # The refusal is sent as one, no exception invented for it.
    assert not any(r["message"].startswith(FALSE_REASON) for r in decided.reasons), decided.reasons

"""Consent recorded through the guided form covers only the agencies the person agreed to (golden rule 4).

Before, the form's consent record named no agencies, so consent given reached every recipient the
sender chose. Over HTTP on the real gateway, whose OPA decides what the form sends: a health
visitor's referral to the front door and the police, on the basis of a parent's consent to the front
door only, is shared with the front door on that consent and not with the police, whom it does not
cover (GR4 says so). The people are fictional.
"""

from __future__ import annotations

import html
import re

import pytest

import audit
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.factories import logged_decision
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_safety import HEALTH, HV, MASH, POLICE, TO_THE_SOCIAL_WORKER, _referral
from tests.ui.test_ui_review_fixes import _hidden

# A parent's explicit consent, with the privacy notice given, to the front door only; relied on. No
# risk of significant harm is recorded: with one, the duty to share would outweigh an objection that
# rests on consent alone (C7), and the police would get it now, reviewed afterwards.
TO_THE_FRONT_DOOR_ONLY = {
    **TO_THE_SOCIAL_WORKER,
    f"to:{POLICE}": "police_public_protection",
    f"ntk:{POLICE}": "investigate_crime",
    "consent_status": "given_explicit",
    "consent_giver": "parent_pr",
    "privacy_notice_given": "yes",
    f"consent_scope:{MASH}": "on",
    "parents_informed": "yes",
    "lawful_basis": "consent",
    "likely_significant_harm": "no",
}
COVERED = "Explicit consent was given by a person with parental responsibility, and it covers this recipient"


def _decided(gateway: Gateway, notification_id: str, recipient: str) -> audit.Entry:
    return logged_decision(gateway.engine, notification_id, recipient)


def _said(entry: audit.Entry) -> str:
    return " ".join(f"{r['rule']}: {r['message']}" for r in entry.reasons)


@pytest.mark.stack
async def test_consent_to_one_of_two_recipients_is_shared_on_consent_with_that_one_only(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="hv-consent-01"))
    types, form = await _referral(gateway, opa_url)
    check, answers = await walk(gateway.client, csrf, types, form, HEALTH, given=TO_THE_FRONT_DOOR_ONLY)
    assert "What each recipient would get" in check, check[-2000:]
    # The check page repeats whose consent it is and the agency it covers, by name.
    front_door, police = gateway.registry.agencies[MASH].name, gateway.registry.agencies[POLICE].name
    said = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", check.split('id="h-answers"', 1)[1])))
    assert "Whose consent is this? A parent or carer with parental responsibility" in said, said[:3000]
    assert f"which of the agencies you chose did they agree to? {front_door} " in said, said[:3000]

    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(check), **answers, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    covered = _decided(gateway, answers["notification_id"], MASH)
    assert covered.outcome in ("share", "share_minimised"), (covered.outcome, covered.reasons)
    assert COVERED in _said(covered), covered.reasons
    # The police are not covered: not shared with on the strength of that consent, and GR4 says why.
    left_out = _decided(gateway, answers["notification_id"], POLICE)
    assert left_out.outcome == "no_share" and "GR4" in left_out.deciding_rules, (left_out.outcome, left_out.reasons)
    # It names the police alone: the agencies the consent covers would tell them who else was sent it.
    assert f"The consent recorded does not cover {police}." in _said(left_out), left_out.reasons
    assert front_door not in _said(left_out), left_out.reasons
    assert COVERED not in _said(left_out)


@pytest.mark.stack
async def test_taking_off_the_only_agency_the_consent_covers_asks_the_consent_step_again(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="hv-consent-02"))
    types, form = await _referral(gateway, opa_url)
    check, answers = await walk(gateway.client, csrf, types, form, HEALTH, given=TO_THE_FRONT_DOOR_ONLY)
    opened = await gateway.client.post("/ui/submit", data={**_hidden(check), **answers, "go": "change:2"})
    assert opened.status_code == 200 and "Who needs to know" in opened.text
    # The front door taken off, the police kept: the front door's tick is still in the form, unsent.
    police = {k: v for k, v in answers.items() if k in (f"to:{POLICE}", f"ntk:{POLICE}")}
    kept = {**_hidden(opened.text), **police, "step": "2", "go": "next"}
    assert f"consent_scope:{MASH}" in kept and f"to:{MASH}" not in kept
    again = await gateway.client.post("/ui/submit", data=kept)
    assert again.status_code == 422, again.text[-2000:]
    assert re.search(r"<h2>Step \d+ of \d+: Consent and the exceptions</h2>", again.text)
    assert 'href="#f-consent_scope"' in again.text, again.text[-3000:]

"""A refused answer's message sits under its question's label and hint, before the choices or the box
to type in, and the control names it (`aria-describedby`), as the GOV.UK Design System's error
message does.

A reviewer found the message for a question with many choices (the kind of concern has 21) printed
below the last of them, out of sight of the question, and no control pointing a screen reader at it.
Over HTTP on the real gateway and OPA; the people are fictional.
"""

from __future__ import annotations

import html
import re
import uuid

import pytest

from broker.ui import form_consent, form_risk, form_safety
from broker.ui.forms import steps_for
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.form_walk import sign_in
from tests.ui.test_form_safety import HEALTH, HV, MASH, POLICE, TO_THE_SOCIAL_WORKER, WITHHELD, _referral

pytestmark = pytest.mark.stack


def _field(page: str, name: str) -> str:
    """The markup of one question: from its `field` wrapper to the next one."""
    start = page.index(f'id="f-{name}"')
    start = page.rindex('<div class="field', 0, start)
    end = page.find('<div class="field', start + 1)
    return page[start : end if end != -1 else len(page)]


async def _posted(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    step_key: str,
    given: dict[str, str],
    gateway: Gateway | None = None,
) -> str:
    gateway = gateway or await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="hv-error-place-01"))
    types, form = await _referral(gateway, opa_url)
    answers = {"message_type": form.message_type, "notification_id": str(uuid.uuid4()), **TO_THE_SOCIAL_WORKER}
    index = next(i for i, s in enumerate(steps_for(types, form, answers, HEALTH)) if s.key == step_key)
    data = {**answers, **given, "csrf_token": csrf, "step": str(index)}
    posted = await gateway.client.post("/ui/submit", data=data)
    assert posted.status_code == 422, posted.text[-2000:]
    return html.unescape(posted.text)


async def test_a_refused_choice_is_said_under_its_question_before_its_choices(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    # Domestic abuse ticked on a referral, and whether it is high risk left unsaid (form_risk.check).
    given = {f"{form_risk.TAGS}:domestic_abuse": "on", "in_doubt": "sure", "initial_contact": "written"}
    given |= {name: "no" for name in ("immediate_significant_harm", "likely_significant_harm", "crime_suspected")}
    given |= {"serious_harm_to_adult": "no", "risk_to_others": "no"}
    field = _field(await _posted(gateway_factory, opa_url, form_risk.KEY, given), form_risk.DA_HIGH_RISK)
    error = re.search(r'<p class="field-error" id="e-([^"]+)">', field)
    assert error is not None and error.group(1) == form_risk.DA_HIGH_RISK, field
    assert f'aria-describedby="e-{form_risk.DA_HIGH_RISK}"' in field.split("<legend>", 1)[0], field
    assert field.index("</legend>") < error.start() < field.index('type="radio"'), field


async def test_a_refused_typed_answer_is_said_before_its_box(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    named = {**WITHHELD, "withheld.1.ref": "Ezra Fictionalson"}
    field = _field(await _posted(gateway_factory, opa_url, form_safety.KEY, named), "withheld.1.ref")
    box = re.search(r'<input id="f-withheld\.1\.ref"[^>]*>', field)
    assert box is not None and 'aria-describedby="e-withheld.1.ref"' in box.group(0), field
    assert field.index('id="e-withheld.1.ref"') < box.start(), field


def _summary(page: str) -> list[str]:
    """The error summary's links, as the page lists them."""
    return re.findall(r'<li><a href="#f-[^"]+">([^<]+)</a></li>', page)


async def test_under_its_question_a_blank_answer_is_not_the_question_again(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    # A parent's refusal, whose it is left unsaid: the summary names the question, the message under it does not.
    page = await _posted(gateway_factory, opa_url, form_consent.KEY, {"consent_status": "refused"})
    assert "Whose consent is this? Please answer." in _summary(page), _summary(page)
    field = _field(page, form_consent.GIVER)
    assert '<p class="field-error" id="e-consent_giver">Answer this question.</p>' in field, field
    assert "Please answer" not in field, field


async def test_the_summary_names_each_agency_left_without_a_reason(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    both = {f"to:{POLICE}": "police_public_protection", f"ntk:{MASH}": ""}
    gateway = await gateway_factory(ui_cookie_secure=False)
    page = await _posted(gateway_factory, opa_url, "recipients", both, gateway)
    names = [gateway.registry.agencies[a].name for a in (MASH, POLICE)]
    assert [f"Say why {name} needs to know." for name in names] == _summary(page), _summary(page)

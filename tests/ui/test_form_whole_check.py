"""The details step is checked as the whole notification will be, so a refusal that falls on its
answers is said at their question before the person walks on: a child death's category that the age
given does not fit (SUDI is under 12 months, SUDC a year or more: CPSCP-Procedures, Child death > 1.5
Definitions) was refused only after the authorisation step, then placed back at its question. A
stage's record left without what the stage needs (an ICMD's minutes) is refused at each blank question.

Over HTTP as a browser posts, against the real gateway and its OPA, in the demo partnership.
"""

from __future__ import annotations

import html
import re

import pytest
from pydantic import ValidationError

from broker.partnership.cli import issue_token
from broker.ui.form_fields import PAYLOAD
from broker.ui.form_types import sendable
from broker.ui.forms import schema_errors, steps_for
from broker.ui.policy_pack import PolicyPack
from schemas.notifications import parse_notification
from tests.broker.conftest import AUDIENCE, GatewayFactory, gateway_factory  # noqa: F401
from tests.policy.bases import patched
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_form_consent import HEALTH, _form, _types

GP, DEATH = "gp-willow-lane", "child_death_notification"
SUDC = "Sudden unexpected death in childhood (SUDC: from 1 year to 18)"
SUDI = "Sudden unexpected death in infancy (SUDI: a baby under 12 months)"


def _summary(page: str) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'<li><a href="#f-[^"]+">([^<]+)</a></li>', page)]


@pytest.mark.parametrize(
    ("age", "death_type", "fits", "said"),
    [
        ("6", "sudi", "sudc", f"a child aged 6 at death: choose “{SUDC}”"),
        ("0", "sudc", "sudi", f"a child under 12 months at death: choose “{SUDI}”"),
    ],
)
async def test_a_category_the_age_does_not_fit_is_refused_on_the_details_step(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
    age: str,
    death_type: str,
    fits: str,
    said: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    token = issue_token(gateway.partnership.agency_keys(GP), role="practitioner", audience=AUDIENCE, subject="gp-1")
    csrf = await sign_in(gateway.client, token)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, GP)
    (form,) = [t for t in types if t.message_type == DEATH]
    preview, answers = await walk(gateway.client, csrf, types, form, "health_gp")
    assert "What each recipient would get" in preview, preview[-2000:]
    steps = steps_for(types, form, answers, "health_gp")
    details = next(i for i, s in enumerate(steps) if s.key == "details")

    # The age alone, no date of birth: the category is checked against the age the form asked.
    answers = {k: v for k, v in answers.items() if k != f"{PAYLOAD}child.date_of_birth"}
    posted = {**answers, "age_years": age, f"{PAYLOAD}death_type": death_type, "csrf_token": csrf, "step": str(details)}
    response = await gateway.client.post("/ui/submit", data=posted)

    assert response.status_code == 422, response.text[-2000:]
    assert f"<h2>Step {details + 1} of" in response.text
    assert _summary(response.text) == [f"Category of death: it does not fit {said}."]

    # Answered to fit, the step is accepted and the authorisation step follows.
    accepted = await gateway.client.post("/ui/submit", data={**posted, f"{PAYLOAD}death_type": fits})
    assert accepted.status_code == 200, _summary(accepted.text)
    assert f"<h2>Step {details + 2} of" in accepted.text


@pytest.mark.parametrize(
    ("stage", "blank", "needed_for"),
    [
        ("icmd_record", ["p:meeting_at", "p:actions_agreed"], "Record of the initial case management discussion"),
        ("scene_documentation", ["p:scene_visit_record"], "Scene documentation"),
    ],
)
def test_each_field_a_stage_needs_is_refused_at_its_own_question(stage: str, blank: list[str], needed_for: str) -> None:
    # The schema names every field the stage needs; the form marks each, in its words, not the schema's paths.
    steps = steps_for(_types(), _form(DEATH), {}, HEALTH)
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched("death", {"payload": {"stage": stage}}))
    first, errors = schema_errors(steps, len(steps) - 1, caught.value)
    assert steps[first].key == "details"
    assert list(errors) == blank
    assert all(said.endswith(f": needed for “{needed_for}”.") for said in errors.values()), errors
    assert all("payload." not in said for said in errors.values()), errors

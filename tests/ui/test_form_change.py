"""The check step's Change buttons, over HTTP on the real gateway (its OPA answers the dry run): a
Change opens its step with every answer kept, and Continue comes straight back to the check step with
the new answer repeated; changing the kind of notification walks every later step again."""

from __future__ import annotations

import html
import re

import pytest

from broker.ui.form_types import FormType, sendable
from broker.ui.forms import steps_for
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

HV = "health-visiting-fenmere"
_CHANGE = re.compile(r'<h4>([^<]+)</h4><button type="submit" name="go" value="change:(\d+)"')


async def _checked(gateway: Gateway, opa_url: str) -> tuple[str, dict[str, str], FormType, list[FormType]]:
    csrf = await sign_in(gateway.client, gateway.token(HV, role="practitioner", subject="changer-01"))
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    check, answers = await walk(gateway.client, csrf, types, form, "health_community")
    assert 'id="h-answers"' in check, check[-2000:]
    return check, answers, form, types


def _repeated(page: str) -> str:
    return html.unescape(page.split('id="h-answers"', 1)[1].split("</section>", 1)[0])


async def test_a_change_opens_its_step_and_continue_comes_back_to_the_check_step(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    check, answers, form, types = await _checked(gateway, opa_url)
    steps = steps_for(types, form, answers, "health_community")
    purpose = next(i for i, s in enumerate(steps) if s.key == "purpose")
    # Every answered step has its Change, under its own title, opening that step.
    offered = {int(at): title for title, at in _CHANGE.findall(check)}
    assert offered[purpose] == steps[purpose].title and set(offered) >= {0, purpose}, offered
    opened = await gateway.client.post("/ui/submit", data={**_hidden(check), **answers, "go": f"change:{purpose}"})
    assert opened.status_code == 200
    assert f'name="step" value="{purpose}"' in opened.text
    assert answers["purpose_statement"] in html.unescape(opened.text), "the answer is kept on its step"
    said = "Please add this to the family's record before the strategy meeting."
    back = await gateway.client.post(
        "/ui/submit", data={**answers, **_hidden(opened.text), "purpose_statement": said, "go": "next"}
    )
    assert back.status_code == 200, back.text[-2000:]
    repeated = _repeated(back.text)
    assert f"<dd>{said}</dd>" in repeated and answers["purpose_statement"] not in repeated
    assert "What each recipient would get" in back.text, "the dry run is asked afresh"


async def test_changing_the_kind_of_notification_walks_the_steps_after_it_again(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    check, answers, _, _ = await _checked(gateway, opa_url)
    opened = await gateway.client.post("/ui/submit", data={**_hidden(check), **answers, "go": "change:0"})
    assert 'name="step" value="0"' in opened.text
    going = await gateway.client.post("/ui/submit", data={**answers, **_hidden(opened.text), "go": "next"})
    assert going.status_code == 200
    assert 'name="step" value="1"' in going.text and 'id="h-answers"' not in going.text

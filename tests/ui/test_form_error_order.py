"""The error summary lists a step's refusals in the order the page asks their questions.

A reviewer found the summary in the order the form's checks ran: on the consent step, "Lawful basis
for sharing", the step's last question, came first, above whose consent it is and why the parents are
not told, which the page asks before it (the GOV.UK Design System's error summary follows the page).
Over HTTP on the real gateway and OPA; the people are fictional.
"""

from __future__ import annotations

import re

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.test_form_error_place import _posted

pytestmark = pytest.mark.stack


def _summary(page: str) -> list[str]:
    summary = page.split('<div class="error"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#f-([^"]+)">', summary)


def _page_order(page: str, names: list[str]) -> list[str]:
    body = page.split('<div class="error"', 1)[1].split("</div>", 1)[1]
    return sorted(names, key=lambda name: body.index(f'id="f-{name}"'))


async def test_the_consent_steps_refusals_follow_its_questions(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    # Consent given, but not whose, nor the agencies, nor the notice; parents not told, no reason; no basis.
    given = {"consent_status": "given_explicit", "parents_informed": "no", "lawful_basis": ""}
    page = await _posted(gateway_factory, opa_url, "consent", given)
    listed = _summary(page)
    assert {"consent_giver", "reason_not_informed", "lawful_basis"} <= set(listed), listed
    assert listed == _page_order(page, listed), listed
    assert listed[-1] == "lawful_basis", listed

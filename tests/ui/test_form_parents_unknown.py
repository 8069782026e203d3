""" "Don't know" whether the parents know of a referral, answered on the guided form, decided by the real
policy: GR2 holds it saying the parents' position is not recorded, not that the parents "have not been
told" (sg-policy-0.7.20; a reader of the demo read the second beside their own "Don't know"). The
people are fictional."""

from __future__ import annotations

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.test_form_capacity import NOT_TOLD, _sent_page

pytestmark = pytest.mark.stack

UNKNOWN = {**NOT_TOLD, "parents_informed": "unknown", "child_asked_not_told": "", "gillick_competent": "not_assessed"}


async def test_dont_know_is_held_as_not_recorded(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    decided, page = await _sent_page(gateway, opa_url, UNKNOWN, "hv-parents-unknown-01")
    assert decided.outcome == "hold_for_authorisation", decided.reasons
    (gr2,) = [r["message"] for r in decided.reasons if r["rule"] == "GR2"]
    assert gr2.startswith("It is not recorded whether the parents know about this referral"), gr2
    assert "have not been told" not in page, "the answer page repeats what the sender did not say"

"""The guided form asks what the schema and the policy require, so what it accepts is never held for a
missing field; the types it offers are derived from the schema and the policy pack (issue #12).

Over HTTP against the real gateway (its OPA decides every dry run): every type a health visitor and
a police officer may send, answered only where the form says an answer is required.
"""

from __future__ import annotations

import pytest

from broker.partnership.cli import issue_token
from broker.ui.form_types import offered, sendable
from broker.ui.policy_pack import PolicyPack, TypeRules
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.form_walk import sign_in, walk

pytestmark = pytest.mark.stack

# What the policy says when a field, or the parents' position, it needs is missing (GR6, GR2).
HELD_FOR_MISSING = ("The notification is not adequate", "does not say whether the parents know")
SENDERS = {"health-visiting-fenmere": "health_community", "police-fenmere": "police"}
# The types issue #12 names; each is offered wherever the schema and the pack both have it.
NAMED = {"M01", "M14", "M18", "M20", "M26", "M29", "M32"}


async def _pack(opa_url: str) -> dict[str, TypeRules]:
    return await PolicyPack(opa_url, timeout=5).types()


async def test_the_types_on_offer_come_from_the_schema_and_the_pack(opa_url: str) -> None:
    pack = await _pack(opa_url)
    health = {t.rules.catalogue_id: t for t in offered(pack, "health_community")}
    police = {t.rules.catalogue_id: t for t in offered(pack, "police")}
    assert health.keys() >= NAMED and police.keys() >= NAMED
    # The police notice to a pupil's school is the police's alone (the pack's sender types).
    assert "M35" in police and "M35" not in health
    assert "M02" not in health, "a referral's acknowledgement is children's social care's to send"
    assert health["M01"].label == "Safeguarding referral: to children's social care"  # no catalogue id: no codes


@pytest.mark.parametrize("agency", sorted(SENDERS))
async def test_nothing_the_form_accepts_is_held_for_a_missing_field(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
    opa_url: str,
    agency: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    token = issue_token(partnership.agency_keys(agency), role="practitioner", audience=AUDIENCE, subject="walker-01")
    csrf = await sign_in(gateway.client, token)
    types = sendable(await _pack(opa_url), gateway.registry, agency)
    held: dict[str, list[str]] = {}
    for form in types:
        page, _ = await walk(gateway.client, csrf, types, form, SENDERS[agency])
        assert "What each recipient would get" in page, f"{form.label}: no dry run"
        reasons = [text for text in HELD_FOR_MISSING if text in page]
        if reasons:
            held[form.label] = reasons
    assert held == {}, "held for a missing field although the form accepted it"

"""A share sent with no consent recorded reads alike on its card and in its findings: GR4 holds it as
"Consent was not sought", and the card said "Consent: not recorded" beside it, as if the two disagreed
(a reader of the demo, session 58). Over HTTP on the real gateway, its OPA and database."""

from __future__ import annotations

import html
import uuid

import pytest

from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.policy.bases import patched

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"
CARD = "<dt>Consent</dt><dd>none recorded, so taken as not sought"


async def test_no_consent_recorded_reads_as_the_finding_reads_it(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway: Gateway = await gateway_factory()
    body = patched("strategy", {"consent": [], "authorisation": None})
    body["notification_id"] = str(uuid.uuid4())
    answer = await gateway.post(body)
    assert answer.status_code == 202, answer.text
    (held,) = answer.json()["recipients"]
    assert held["outcome"] == "hold_for_authorisation", held
    assert any(r["message"].startswith("Consent was not sought") for r in held["decided_by"]), held
    manager = Person(gateway, CSC, "line_manager", "csc-consent-manager")
    try:
        await manager.sign_in()
        queue = html.unescape((await manager.page("GET", "/ui/queues")).text)
    finally:
        await manager.close()
    guardian = Person(gateway, CSC, "caldicott_guardian", "csc-consent-guardian")  # reads the agency's list
    try:
        await guardian.sign_in()
        decisions = html.unescape((await guardian.page("GET", "/ui/decisions")).text)
    finally:
        await guardian.close()
    assert CARD in queue and "Consent was not sought" in queue, queue[-3000:]
    assert '<td class="small">none recorded, so taken as not sought</td>' in decisions, decisions[-3000:]

"""Second UI review, pinned over HTTP on the real gateway (its OPA decides every share): the pages say
what a person reading them means, in their words and their time.

- an evidence pack for some days holds the London days the other pages count, not UTC days;
- the Sent page says a share held for advice released nothing yet, and sets its deadlines on release;
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broker.ui.form_types import sendable
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

SCHOOL, CSC, HV = "school-oakfield-primary", "csc-fenmere-mash", "health-visiting-fenmere"
LONDON = ZoneInfo("Europe/London")


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_evidence_pack_for_some_days_spans_those_days_in_london(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    ig = Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await ig.sign_in()
        pack = await ig.page("POST", "/ui/audit/export", {"since": "2026-06-01", "until": "2026-06-30"})
        form = await ig.page("GET", "/ui/audit")
    finally:
        await ig.close()
    assert pack.status_code == 200, pack.text[:600]
    header = json.loads(pack.text.splitlines()[0])
    since, until = _instant(header["since"]).astimezone(LONDON), _instant(header["until"]).astimezone(LONDON)
    # Midnight starting 1 June and midnight ending 30 June, as a clock in England reads them (BST).
    assert (since.date().isoformat(), since.hour, since.minute) == ("2026-06-01", 0, 0), header
    assert (until.date().isoformat(), until.hour, until.minute) == ("2026-07-01", 0, 0), header
    assert "Whole days in London time" in form.text


async def _sent(gateway: Gateway, opa_url: str, given: dict[str, str]) -> str:
    """The Sent page for an M01 a health visitor sends through the guided form, answered as `given`."""
    token = gateway.token(HV, role="practitioner", subject="walker-01")
    csrf = await sign_in(gateway.client, token)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    preview, _ = await walk(gateway.client, csrf, types, form, "health_community", given)
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(preview), "go": "send"})
    assert sent.status_code == 200, sent.text[-1500:]
    return html.unescape(sent.text.split('<main id="main">', 1)[1])


async def test_the_sent_page_says_a_held_share_released_nothing_yet(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    asks = {"in_doubt": "unsure", "lawful_basis": "safeguarding_children_individuals_at_risk"}  # "ask an adviser"
    sent = await _sent(gateway, opa_url, asks)
    assert "Needs advice" in sent, sent[:3000]
    assert "Held back (released only if the share is):" in sent
    assert "Released:" not in sent and "Fields released" not in sent
    assert "Set when the share is released" in sent and "None set" not in sent

"""Second UI review, pinned over HTTP on the real gateway (its OPA decides every share): the pages say
what a person reading them means, in their words and their time.

- an evidence pack for some days holds the London days the other pages count, not UTC days;
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
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

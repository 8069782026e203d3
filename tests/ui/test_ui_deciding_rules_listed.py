"""A decisions list row names every rule that decided it, the first in full and the rest beside it, so a
reader filtering by a rule that decided a row alongside another sees that rule in the row. Over HTTP on the
real gateway and OPA: a school refers a child without recording why the parents were not told or consent
not sought, which golden rules 2 and 4 both hold. The people are fictional."""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import logged_decision, school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}


async def test_a_row_names_each_rule_that_decided_it(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    body = school_referral(
        recipients=[TO_CSC],
        consent=[{"subject_ref": "child-1", "giver": "parent_pr", "status": "not_sought"}],
        parental_position={"parents_informed": False, "parent_withheld_permission": None},
    )
    sent = await gateway.post(body)
    assert sent.status_code == 202, sent.text
    entry = logged_decision(gateway.engine, body["notification_id"], CSC)
    first, *also = entry.deciding_rules
    assert also, entry.deciding_rules
    page = await Person(gateway, SCHOOL, "dsl", "dsl-rules-01").opened(f"/ui/decisions?rule_id={also[0]}&limit=200")
    (cell,) = re.findall(rf'<a href="/ui/decisions/{entry.seq}".*?<td class="deciding-rule">(.*?)</td>', page, re.S)
    words = html.unescape(re.sub(r"<[^>]+>", " ", cell))
    assert words.split()[0] == first and f"also {', '.join(also)}" in " ".join(words.split()), words

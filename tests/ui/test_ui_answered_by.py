"""The queue page's "Recently answered" says who answered each held share, a colleague's answer included.

A line manager or adviser sees what was answered in their agency's queues, by them or by a colleague; each
row names the person who answered as the decision page names an actor: their staff reference, their role
in words and their agency. A row still links to a decision only where its reader may read it
(tests/ui/test_ui_answered_links.py). Over HTTP on the real gateway and OPA; the people are fictional.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import HELD, POLICE, Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
_ANSWERED_BY = re.compile(r'<h3 id="a-([^"]+)">.*?<dt>Answered by</dt><dd class="answerer">([^<]+)</dd>', re.S)


def _answered_by(page: str) -> dict[str, str]:
    """Each "Recently answered" row's answerer, by the held share's delivery id."""
    rows = page.split('id="h-answered"', 1)[1].split('<section class="card answered"')[1:]
    found = {}
    for row in rows:
        named = _ANSWERED_BY.search(row)
        if named is not None:
            found[named.group(1)] = html.unescape(named.group(2))
    return found


async def _pages(*people: Person) -> dict[str, str]:
    pages = {}
    for person in people:
        await person.sign_in()
        try:
            pages[person.user] = (await person.page("GET", "/ui/queues")).text
        finally:
            await person.close()
    return pages


async def _held(gateway: Gateway, agency: str, outcome: str, **body: object) -> str:
    sent = await gateway.post(school_referral(**body))
    assert sent.status_code == 202, sent.text
    held = {r["agency_id"]: r for r in sent.json()["recipients"]}[agency]
    assert held["outcome"] == outcome, held
    return str(held["delivery_id"])


async def test_a_colleague_reads_who_answered_a_held_share(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    school = gateway.registry.agency(SCHOOL)
    assert school is not None
    authorisation = await _held(gateway, CSC, "hold_for_authorisation", lawful_basis=None)
    advice = await _held(gateway, POLICE["agency_id"], "needs_advice", recipients=[POLICE], **HELD["needs_advice"])
    answerer, colleague = (Person(gateway, SCHOOL, "line_manager", f"lm-by-0{n}") for n in (1, 2))
    adviser, other_adviser = (Person(gateway, SCHOOL, "dsl", f"dsl-by-0{n}") for n in (1, 2))
    for person, delivery_id, decision in ((answerer, authorisation, "refuse"), (adviser, advice, "release")):
        answer = await person.api("POST", f"/v1/queues/{delivery_id}", json={"decision": decision, "reason": "Seen."})
        assert answer.status_code == 200, answer.text

    pages = await _pages(answerer, colleague, adviser, other_adviser)

    by_manager = f"lm-by-01, Line manager at {school.name}"
    by_adviser = f"dsl-by-01, Designated Safeguarding Lead at {school.name}"
    for reader in ("lm-by-01", "lm-by-02"):
        assert _answered_by(pages[reader]) == {authorisation: by_manager}, pages[reader][-3000:]
    for reader in ("dsl-by-01", "dsl-by-02"):
        assert _answered_by(pages[reader]) == {advice: by_adviser}, pages[reader][-3000:]
    # Naming who answered widens nothing: the colleague still has no link to a decision they may not read.
    assert "/ui/decisions/" not in pages["lm-by-02"].split('id="h-answered"', 1)[1]

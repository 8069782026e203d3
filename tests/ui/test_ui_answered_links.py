"""A line manager's "Recently answered" links to a decision only where they may read it.

A reviewer followed the links under "Recently answered" on a line manager's queue page: each held share
another line manager had answered gave 404, and each click was logged as a refused access. A line
manager reads what they sent or answered (README, Who can see and do what), so the card links only
those. Over HTTP on the real gateway and OPA; the people are fictional.
"""

from __future__ import annotations

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"


async def test_recently_answered_links_only_what_its_reader_may_read(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sent = await gateway.post(school_referral(lawful_basis=None))
    assert sent.status_code == 202, sent.text
    held = {r["agency_id"]: r for r in sent.json()["recipients"]}[CSC]
    assert held["outcome"] == "hold_for_authorisation", held
    answerer, colleague = (
        Person(gateway, SCHOOL, "line_manager", "lm-ans-01"),
        Person(gateway, SCHOOL, "line_manager", "lm-ans-02"),
    )
    refused = await answerer.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "refuse", "reason": "No basis given."}
    )
    assert refused.status_code == 200, refused.text
    pages = {}
    for person in (answerer, colleague):
        await person.sign_in()
        try:
            pages[person.user] = (await person.page("GET", "/ui/queues")).text
        finally:
            await person.close()
    answered = {user: page.split('id="h-answered"', 1)[1] for user, page in pages.items()}
    assert "Refused" in answered["lm-ans-02"] or "refused" in answered["lm-ans-02"], answered["lm-ans-02"][:2000]
    assert "/ui/decisions/" not in answered["lm-ans-02"], answered["lm-ans-02"][:3000]
    assert "/ui/decisions/" in answered["lm-ans-01"], answered["lm-ans-01"][:3000]
    # A colleague reads why it was refused, as the answerer wrote it.
    for page in answered.values():
        assert '<dt>Their reason</dt><dd class="answer-reason">No basis given.</dd>' in page, page[:3000]

"""A form the broker refuses answers with what to put right and a way back to the page it was posted
from, not a dead end: a blank reason for a held share or an urgent review (golden rule 7), and an
evidence pack whose last day is before its first, which would otherwise be a signed pack of nothing.
And an answer that is taken leaves its page with a record of it: a reviewed urgent share is listed as
reviewed, by whom and why. Through the UI as a browser posts, on the real gateway and its OPA."""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person

pytestmark = pytest.mark.stack

HV, CSC = "health-visiting-fenmere", "csc-fenmere-mash"


def _said(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def test_a_refused_answer_says_why_and_leads_back(gateway: Gateway) -> None:  # noqa: F811
    held = await Person(gateway, HV, "practitioner", "hv-back-01").send("hold_for_authorisation")
    await Person(gateway, HV, "practitioner", "hv-back-02").send("share_urgent_review_after")
    manager, dsl, ig = (
        Person(gateway, HV, "line_manager", "hv-back-lm"),
        Person(gateway, HV, "dsl", "hv-back-dsl"),
        Person(gateway, CSC, "ig_lead", "ig-back-01"),  # the partnership's IG lead
    )
    try:
        for person in (manager, dsl, ig):
            await person.sign_in()
        blank = {"decision": "refuse", "reason": "   "}
        answered = await manager.page("POST", f"/ui/queues/{held['delivery_id']}", blank)
        (urgent,) = (await dsl.api("GET", "/v1/queues")).json()["urgent_review"]
        reviewed = await dsl.page("POST", f"/ui/urgent/{urgent['decided_seq']}", {"reason": " "})
        backwards = await ig.page("POST", "/ui/audit/export", {"since": "2026-12-31", "until": "2026-12-01"})
    finally:
        for person in (manager, dsl, ig):
            await person.close()
    assert answered.status_code == 422
    assert "A decision needs a reason: say why (golden rule 7: record the reasons)." in _said(answered.text)
    assert '<a href="/ui/queues">Back to Queues</a>' in answered.text
    assert reviewed.status_code == 422
    assert "A review needs a note: say what you checked (golden rule 7: record the reasons)." in _said(reviewed.text)
    assert "Choose whether it was right to share it, at once." in _said(reviewed.text), "both are named"
    assert '<a href="/ui/urgent">Back to Urgent review</a>' in reviewed.text
    assert backwards.status_code == 422, backwards.text[:300]
    assert backwards.headers["content-type"].startswith("text/html"), "no pack of nothing is downloaded"
    assert "The last day is before the first day (From): nothing was exported." in _said(backwards.text)
    assert '<a href="/ui/audit">Back to Audit</a>' in backwards.text


async def test_a_review_leaves_the_queue_and_is_listed_as_reviewed(gateway: Gateway) -> None:  # noqa: F811
    await Person(gateway, HV, "practitioner", "hv-rev-01").send("share_urgent_review_after")
    dsl, elsewhere = Person(gateway, HV, "dsl", "hv-rev-dsl"), Person(gateway, "police-fenmere", "dsl", "pol-rev-dsl")
    try:
        await dsl.sign_in()
        await elsewhere.sign_in()
        (urgent,) = (await dsl.api("GET", "/v1/queues")).json()["urgent_review"]
        seq = urgent["decided_seq"]
        note = "Checked next morning: the right call."
        done = await dsl.page("POST", f"/ui/urgent/{seq}", {"reason": note, "finding": "upheld"})
        assert done.status_code == 303, done.text[:300]
        listed = _said((await dsl.page("GET", "/ui/urgent")).text)
        theirs = _said((await elsewhere.page("GET", "/ui/urgent")).text)
    finally:
        await dsl.close()
        await elsewhere.close()
    queue, reviewed = listed.split("Recently reviewed", 1)
    assert f"#{seq}" not in queue and "No urgent shares awaiting review." in queue
    hv = gateway.registry.agencies[HV].name
    assert (
        f"#{seq}" in reviewed and note in reviewed and f"hv-rev-dsl, Designated Safeguarding Lead at {hv}" in reviewed
    )
    assert "Reviewed: upheld, it was right to share it at once" in reviewed
    assert "Recently reviewed" not in theirs, "another agency's review is not theirs to see"


async def test_a_refused_page_keeps_the_menu_and_who_is_signed_in(gateway: Gateway) -> None:  # noqa: F811
    """A reader refused the Audit page lost the menu and their own name, as if signed out."""
    dsl = Person(gateway, HV, "dsl", "hv-dsl-refused-01")
    await dsl.sign_in()
    try:
        refused = await dsl.page("GET", "/ui/audit")
        replay = await dsl.page("GET", "/ui/replay")
    finally:
        await dsl.close()
    assert refused.status_code == 403, refused.text[:500]
    assert 'aria-label="Main"' in refused.text and 'href="/ui/decisions"' in refused.text, refused.text[:2000]
    said = _said(refused.text)
    assert "hv-dsl-refused-01 · Designated Safeguarding Lead" in said and "Sign out" in said, said[:800]
    # Policy replay is refused as the audit it is part of, in words that name it (a reader met "audit" alone).
    assert replay.status_code == 403, replay.text[:500]
    assert "decision log (its totals, evidence packs and policy replays)" in _said(replay.text), _said(replay.text)

"""A withdrawn decision's page says whether its recipient was told to delete anything
(`broker.review.detail.state_line`).

Before, every withdrawn decision read "withdrawn; every agency it reached is told to delete it", also a
share withdrawn while held for authorisation and a no-share, which reached no agency: a DSL could read
that a held referral had gone out. Over HTTP on the real gateway, OPA and Kafka; the people are fictional.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, _refer
from tests.factories import logged_decision, school_referral

pytestmark = pytest.mark.stack

TOLD = "withdrawn; the agency it reached was told to delete it"
HELD = "withdrawn before it was released: no agency received it"
UNSHARED = "withdrawn; it was not shared, so no agency received it"
_NOW = re.compile(r'<p class="state-line">Now: <span class="state">([^<]+)</span>')


async def test_a_withdrawn_decision_says_whether_its_recipient_received_it(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    dsl, adviser = (Person(gateway, SCHOOL, "dsl", f"dsl-wd-0{n}") for n in (1, 2))
    recipients = school_referral()["recipients"]
    both = await _refer(dsl, "pupil-wd-1", nhs_number("400000057"), recipients)
    outcomes = {r["agency_id"]: r["outcome"] for r in both["recipients"]}
    shared, unshared = (next(a for a, o in outcomes.items() if test(o)) for test in (_shares, _no_share))
    held = await _refer(dsl, "pupil-wd-2", nhs_number("400000058"), [TO_CSC], lawful_basis=None)
    advised = await _refer(dsl, "pupil-wd-3", nhs_number("400000059"), [TO_CSC], sender_in_doubt=True)
    assert [held["recipients"][0]["outcome"], advised["recipients"][0]["outcome"]] == [
        "hold_for_authorisation",
        "needs_advice",
    ]
    released = await adviser.api(
        "POST",
        f"/v1/queues/{advised['recipients'][0]['delivery_id']}",
        json={"decision": "release", "reason": "Share."},
    )
    assert released.status_code == 200, released.text
    for sent in (both, held, advised):
        recall = await dsl.api(
            "POST", f"/v1/notifications/{sent['notification_id']}/withdrawal", json={"reason": "sent_in_error"}
        )
        assert recall.status_code == 200, recall.text

    async def now(notification_id: str, recipient: str) -> str:
        seq = logged_decision(gateway.engine, notification_id, recipient).seq
        reader = Person(gateway, SCHOOL, "dsl", "dsl-wd-01")  # `opened` closes its reader's client
        found = _NOW.search(await reader.opened(f"/ui/decisions/{seq}"))
        assert found is not None, seq
        return html.unescape(found.group(1))

    assert await now(both["notification_id"], shared) == TOLD
    assert await now(both["notification_id"], unshared) == UNSHARED
    assert await now(held["notification_id"], CSC) == HELD
    assert await now(advised["notification_id"], CSC) == TOLD, "released before it was withdrawn: it was sent"
    # The Decisions list says each as its page does (a reader found the list's "told to delete it" beside a
    # page's "has confirmed it deleted it").
    listing = await Person(gateway, SCHOOL, "dsl", "dsl-wd-01").opened("/ui/decisions")
    for sent, recipient, said in [
        (both, shared, TOLD),
        (both, unshared, UNSHARED),
        (held, CSC, HELD),
        (advised, CSC, TOLD),
    ]:
        seq = logged_decision(gateway.engine, sent["notification_id"], recipient).seq
        row = listing.split(f'href="/ui/decisions/{seq}"', 1)[1].split("</tr>", 1)[0]
        assert f"now: {html.escape(said, quote=False)}" in row.replace("&#39;", "'"), row
    # The API keeps its published state for each.
    answer = await Person(gateway, SCHOOL, "dsl", "dsl-wd-01").api("GET", "/v1/decisions", params={"limit": 50})
    assert {i["state"] for i in answer.json()["items"]} == {"withdrawn"}, answer.text


def _shares(outcome: str) -> bool:
    return outcome.startswith("share")


def _no_share(outcome: str) -> bool:
    return outcome == "no_share"


def test_a_withdrawal_its_recipient_confirmed_says_so() -> None:
    from broker.review.detail import state_line

    withdrawn = {"kind": "withdrawn", "actor_agency": SCHOOL, "outcome": "withdrawn"}
    detail = {"state": "withdrawn", "outcome": "share", "recipient_agency": CSC, "events": [withdrawn]}
    assert state_line(detail) == "withdrawn", "told to delete it, not yet confirmed"
    confirmed = {
        **detail,
        "events": [withdrawn, {"kind": "withdrawal_confirmed", "actor_agency": None, "outcome": "confirmed"}],
    }
    assert state_line(confirmed) == "withdrawn_confirmed"

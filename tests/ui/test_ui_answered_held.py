"""A held share answered since says at its head who ended the wait, when and why, before the findings
that held it: a reader took "Waiting for authorisation" under "Decided by" on a released share for a wait
still on. Over HTTP on the real gateway and OPA; the people are fictional."""

from __future__ import annotations

import html
import re

import pytest

from broker.ui.words import local_time
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, _refer
from tests.factories import logged_decision

pytestmark = pytest.mark.stack

_BANNER = re.compile(r'<p class="notice answered" role="status">(.*?)</p>', re.S)


def _banner(page: str) -> str | None:
    found = _BANNER.search(page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split()) if found else None


async def test_a_released_and_a_refused_held_share_say_who_answered_at_their_head(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    dsl, adviser = Person(gateway, SCHOOL, "dsl", "dsl-ans-01"), Person(gateway, SCHOOL, "dsl", "dsl-ans-02")
    sent = [
        await _refer(dsl, f"pupil-ans-{n}", nhs_number(f"40000006{n}"), [TO_CSC], sender_in_doubt=True)
        for n in (1, 2, 3)
    ]
    assert {s["recipients"][0]["outcome"] for s in sent} == {"needs_advice"}
    for notice, decision, reason in [
        (sent[0], "release", "Fictional: share it."),
        (sent[1], "refuse", "Fictional: no."),
    ]:
        answered = await adviser.api(
            "POST",
            f"/v1/queues/{notice['recipients'][0]['delivery_id']}",
            json={"decision": decision, "reason": reason},
        )
        assert answered.status_code == 200, answered.text
    pages = []
    for notice in sent:
        seq = logged_decision(gateway.engine, notice["notification_id"], CSC).seq
        pages.append(await Person(gateway, SCHOOL, "dsl", "dsl-ans-01").opened(f"/ui/decisions/{seq}"))
    events = (
        await dsl.api("GET", f"/v1/decisions/{logged_decision(gateway.engine, sent[0]['notification_id'], CSC).seq}")
    ).json()["events"]
    (given,) = [e for e in events if e["kind"] == "advice_given"]
    released, refused, waiting = (_banner(p) for p in pages)
    assert released is not None and released.startswith(f"Released on {local_time(given['recorded_at'])} by "), released
    assert "dsl-ans-02" in released and released.endswith(
        ": Fictional: share it. Why it was held is under “Decided by” below."
    ), released
    assert refused is not None and refused.startswith("Refused on ") and ": Fictional: no." in refused, refused
    assert waiting is None, "a share still held has no answer to head it"
    # Its recipient is not given the sending side's reason: the head says so, not as if it were the reason.
    seq = logged_decision(gateway.engine, sent[0]["notification_id"], CSC).seq
    theirs = _banner(await Person(gateway, CSC, "dsl", "csc-dsl-ans-01").opened(f"/ui/decisions/{seq}"))
    assert theirs is not None and "Fictional: share it." not in theirs, theirs
    assert "(their reason is the sending agency's own record, not a recipient's to read). Why" in theirs, theirs
    # Its head before the findings that held it.
    assert pages[0].index('class="notice answered"') < pages[0].index('id="h-decided-by"')

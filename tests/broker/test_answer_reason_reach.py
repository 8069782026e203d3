"""An adviser's or authoriser's reason for releasing a held share is the sending side's record, in its own
words: the recipient reads that the share was released on advice, when and by whom at the sending agency
(not "another agency", which would say a third one acted), not why. The words may
name what its minimised share withheld from it (C3), as an adviser weighing a share writes what they
weighed. The sending agency and the partnership's offices read the reason. Over HTTP and the pages, on the real gateway
and OPA; the people are fictional."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from broker.review.detail import SENDERS_REASON
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import logged_decision, school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}
WEIGHED = "Released: the stepfather's caution for assault, not shared with them, weighs for it."


async def _released(gateway: Gateway) -> int:
    """A referral to children's social care its sender was in doubt about, released on the advice of
    another of the school's DSLs with `WEIGHED`; the seq of its decision."""
    sent = await gateway.post(school_referral(recipients=[TO_CSC], sender_in_doubt=True))
    assert sent.status_code == 202, sent.text
    (held,) = sent.json()["recipients"]
    assert held["outcome"] == "needs_advice", held
    adviser = Person(gateway, SCHOOL, "dsl", "dsl-reason-00")
    answer = {"decision": "release", "reason": WEIGHED}
    released = await adviser.api("POST", f"/v1/queues/{held['delivery_id']}", json=answer)
    assert released.status_code == 200, released.text
    return logged_decision(gateway.engine, sent.json()["notification_id"], CSC).seq


async def _read(reader: Person, seq: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The advice as `reader` reads it: in the detail's events and `reviewed_by`, and the page's words."""
    detail = await reader.api("GET", f"/v1/decisions/{seq}")
    assert detail.status_code == 200, detail.text
    page = await reader.opened(f"/ui/decisions/{seq}")
    words = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    granted = [e for e in detail.json()["events"] if e["kind"] == "advice_given"]
    return granted, detail.json()["reviewed_by"], words


async def test_the_recipient_reads_that_a_share_was_released_on_advice_but_not_why(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    seq = await _released(gateway)

    for reader in (
        Person(gateway, SCHOOL, "dsl", "dsl-reason-01"),
        Person(gateway, CSC, "ig_lead", "ig-reason-01"),  # the partnership's IG lead, at the front door
    ):
        granted, reviewed, words = await _read(reader, seq)
        assert [r["message"] for e in granted for r in e["reasons"]] == [WEIGHED], (reader.role, granted)
        assert reviewed == granted and WEIGHED in words, reader.role

    granted, reviewed, words = await _read(Person(gateway, CSC, "dsl", "csc-dsl-reason-01"), seq)
    (event,) = granted
    assert event["actor"] == "dsl-reason-00" and event["actor_agency"] == SCHOOL, event
    assert [r["message"] for r in event["reasons"]] == [SENDERS_REASON], event
    assert reviewed == granted, reviewed
    assert "caution" not in words and SENDERS_REASON in words, words

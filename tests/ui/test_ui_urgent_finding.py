"""What follows an urgent share's review that does not uphold it: the reviewer is told which decision and
what is still to do, its sending side reads the finding on the decision's page, and the withdrawal from that
recipient gives "not upheld" as its reason, offered only on an urgent share. Through the UI as a browser
posts, on the real gateway, OPA and database."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person

pytestmark = pytest.mark.stack

HV = "health-visiting-fenmere"


def _said(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _withdrawn(served: Gateway, notification_id: str) -> list[audit.Entry]:
    with Session(served.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.WITHDRAWN
        )
        return list(session.exec(query).all())


async def test_a_share_not_upheld_is_followed_to_its_withdrawal(gateway: Gateway) -> None:  # noqa: F811
    sent = await Person(gateway, HV, "practitioner", "hv-finding-01").send("share_urgent_review_after")
    plain = await Person(gateway, HV, "practitioner", "hv-finding-02").send("share")
    dsl = Person(gateway, HV, "dsl", "hv-finding-dsl")
    (urgent,) = [
        i
        for i in (await dsl.api("GET", "/v1/queues")).json()["urgent_review"]
        if i["delivery_id"] == sent["delivery_id"]
    ]
    seq = urgent["decided_seq"]
    await dsl.sign_in()
    try:
        note = "No immediate danger after all: the DSL should have been asked first."
        done = await dsl.page("POST", f"/ui/urgent/{seq}", {"reason": note, "finding": "not_upheld"})
        assert done.status_code == 303, done.text[:300]
        told = _said((await dsl.page("GET", done.headers["location"])).text)
        shown = (await dsl.page("GET", f"/ui/decisions/{seq}")).text
        page = _said(shown)
        plain_seq = next(e.seq for e in _decided(gateway, plain["notification_id"]))
        elsewhere = (await dsl.page("GET", f"/ui/decisions/{plain_seq}")).text
        url = f"/ui/notifications/{sent['notification_id']}/withdrawal"
        ask = {"reason": "not_upheld", "seq": str(seq), "scope_of": "police-fenmere", "only": "police-fenmere"}
        withdrawn = await dsl.page("POST", url, {**ask, "confirm": "yes"})
    finally:
        await dsl.close()
    assert f"Your review of decision #{seq} was recorded as log entry #" in told, told
    assert "Reviewed: not upheld, it should not have gone to this recipient." in told
    assert "Until it is withdrawn, " in told and "giving the reason “Not upheld on review”" in told
    assert "Now: reviewed after sharing: not upheld, so to be withdrawn from this recipient" in page, page
    assert 'value="not_upheld"' in shown, "offered on the urgent share's page"
    assert 'value="not_upheld"' not in elsewhere, "a share that was not urgent was never reviewed so"
    assert withdrawn.status_code == 303, _said(withdrawn.text)[-600:]
    (entry,) = _withdrawn(gateway, sent["notification_id"])
    assert "not upheld when its urgent share was reviewed" in entry.reasons[0]["message"]
    # The partnership's IG lead audits what the reviews found, and what a share not upheld led to.
    audited = _said(await Person(gateway, "csc-fenmere-mash", "ig_lead", "ig-finding-01").opened("/ui/audit"))
    assert "Reviewed: not upheld, it should not have gone to this recipient: 1" in audited, audited
    assert f"#{seq} Safeguarding referral (M01), " in audited and ": since withdrawn from it" in audited


def _decided(served: Gateway, notification_id: str) -> list[audit.Entry]:
    with Session(served.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.DECIDED
        )
        return list(session.exec(query).all())

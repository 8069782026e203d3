"""An urgent share's review afterwards (`review_urgent_share`, C7, I14) is the sending agency's own duty:
its decision's page and `GET /v1/decisions/{seq}` give that clock to the sender's side and to the
partnership's offices, never to the recipient, whose deadlines are what it owes. On the real gateway and
OPA: a school refers a child at immediate risk to children's social care, whose front door holds both
partnership offices; the people are fictional."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from broker.db.tables import ObligationClock
from broker.delivery.clocks import mark_overdue
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import URGENT_RISK, Person
from tests.factories import logged_decision, school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
REVIEW = "review_urgent_share"
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}


async def _sent(sender: Person) -> dict[str, Any]:
    """The referral's one recipient's receipt, with its notification's id."""
    body = school_referral(recipients=[TO_CSC], risk=URGENT_RISK)
    body["sender"] = {"agency_id": SCHOOL, "role": "dsl", "user_ref": sender.user_ref, "is_professional": True}
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    (recipient,) = response.json()["recipients"]
    assert recipient["outcome"] == "share_urgent_review_after", recipient
    return {"notification_id": body["notification_id"], **recipient}


def _review_description(gateway: Gateway, delivery_id: str) -> str:
    with Session(gateway.engine) as session:
        clocks = select(ObligationClock).where(ObligationClock.delivery_id == delivery_id)
        found = clocks.where(ObligationClock.kind == REVIEW)
        return session.exec(found).one().description


async def _read(reader: Person, seq: int) -> tuple[list[dict[str, Any]], str]:
    """The detail's deadlines and the page's words, as `reader` gets them."""
    detail = await reader.api("GET", f"/v1/decisions/{seq}")
    assert detail.status_code == 200, detail.text
    page = await reader.opened(f"/ui/decisions/{seq}")
    words = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    return detail.json()["deadlines"], words


async def test_the_recipient_is_not_given_the_senders_review_of_an_urgent_share(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    urgent = await _sent(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-01"))
    duty = _review_description(gateway, urgent["delivery_id"]).split(" [", 1)[0]
    seq = logged_decision(gateway.engine, urgent["notification_id"], CSC).seq

    sender, sender_page = await _read(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-02"), seq)
    assert [d["rule"] for d in sender if d["description"].startswith(duty)] == ["I14"], sender
    assert len(sender) > 1 and duty in sender_page, "the front door's own clocks beside it"

    recipient, recipient_page = await _read(Person(gateway, CSC, "dsl", "csc-dsl-urgent-clock-01"), seq)
    assert recipient == [d for d in sender if not d["description"].startswith(duty)], "its own clocks stay"
    assert duty not in recipient_page and "Deadlines" in recipient_page, recipient_page

    # The partnership's IG lead, though of the receiving agency, reads every clock.
    office, office_page = await _read(Person(gateway, CSC, "ig_lead", "ig-urgent-clock-01"), seq)
    assert office == sender and duty in office_page, office


def _past_due(gateway: Gateway, delivery_id: str) -> None:
    """The review clock as it stands once its time has run out (the sweep's clock is the wall's)."""
    with Session(gateway.engine) as session:
        clock = session.exec(
            select(ObligationClock).where(ObligationClock.delivery_id == delivery_id, ObligationClock.kind == REVIEW)
        ).one()
        clock.due_at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        session.add(clock)
        session.commit()


async def _listed(reader: Person, seq: int) -> tuple[bool, bool, str | None]:
    """Whether `reader`'s list marks the decision overdue, whether the overdue filter finds it, and the
    state the list and the page give it."""
    listed = await reader.api("GET", "/v1/decisions", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    (row,) = [d for d in listed.json()["items"] if d["seq"] == seq]
    only_late = await reader.api("GET", "/v1/decisions", params={"overdue": "true", "limit": 200})
    assert only_late.status_code == 200, only_late.text
    detail = await reader.api("GET", f"/v1/decisions/{seq}")
    assert detail.status_code == 200 and detail.json()["state"] == row["state"], (detail.text, row)
    return row["overdue"], seq in [d["seq"] for d in only_late.json()["items"]], row["state"]


async def test_the_senders_overdue_review_marks_only_the_senders_lists(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    """The lists mark a decision overdue as its page shows it: a recipient whose own clocks all run is
    not told the decision is overdue because the sender's review of it is."""
    gateway = await gateway_factory()
    urgent = await _sent(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-03"))
    seq = logged_decision(gateway.engine, urgent["notification_id"], CSC).seq
    _past_due(gateway, urgent["delivery_id"])
    assert await _listed(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-04"), seq) == (True, True, "review_due")
    # Nor is the recipient told the sender's review is due: its list and page say only that it was shared.
    assert await _listed(Person(gateway, CSC, "dsl", "csc-dsl-urgent-clock-02"), seq) == (False, False, None)
    assert await _listed(Person(gateway, CSC, "ig_lead", "ig-urgent-clock-02"), seq) == (True, True, "review_due")
    # The page's head says so beside where it stands, as the list's row does, to the same readers.
    for reader, told in (("dsl-urgent-clock-10", True), ("csc-dsl-urgent-clock-05", False)):
        agency = SCHOOL if told else CSC
        _, words = await _read(Person(gateway, agency, "dsl", reader), seq)
        assert ("A deadline is overdue. See the deadlines" in words) is told, words[:600]


async def test_the_senders_review_and_its_missed_clock_are_not_the_recipients_events(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    """The review afterwards, its reviewer's reason, and the sweep's entry when its clock ran out are the
    sending agency's; the recipient's decision lists what happened to its own delivery without them."""
    gateway = await gateway_factory()
    urgent = await _sent(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-05"))
    seq = logged_decision(gateway.engine, urgent["notification_id"], CSC).seq
    with Session(gateway.engine) as session:
        (review,) = session.exec(
            select(ObligationClock).where(
                ObligationClock.delivery_id == urgent["delivery_id"], ObligationClock.kind == REVIEW
            )
        )
        assert mark_overdue(session, review.due_at + timedelta(minutes=1)), "the review's clock ran out"
        session.commit()
    reviewer = Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-06")
    reviewed = await reviewer.api(
        "POST", f"/v1/urgent/{seq}", json={"reason": "Reviewed late: it had to go.", "finding": "upheld"}
    )
    assert reviewed.status_code == 200, reviewed.text

    duty = f"Overdue: {_review_description(gateway, urgent['delivery_id'])}"

    async def events(reader: Person) -> list[tuple[str, str]]:
        detail = await reader.api("GET", f"/v1/decisions/{seq}")
        assert detail.status_code == 200, detail.text
        return [(e["kind"], e["reasons"][0]["message"] if e["reasons"] else "") for e in detail.json()["events"]]

    sender = await events(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-07"))
    senders_own = [e for e in sender if e[0] == "urgent_reviewed" or e[1] == duty[:500]]
    assert [kind for kind, _ in senders_own] == ["overdue", "urgent_reviewed"], sender
    # The recipient's own clocks that ran out stay in its list; only the sender's review goes.
    recipient = await events(Person(gateway, CSC, "dsl", "csc-dsl-urgent-clock-03"))
    # (The relay's published and delivered entries may land between the two reads.)
    answered = ("overdue", "urgent_reviewed")
    theirs = [e for e in sender if e not in senders_own and e[0] in answered]
    assert theirs and [e for e in recipient if e[0] in answered] == theirs, (sender, recipient)


async def test_the_senders_missed_review_is_on_the_senders_overdue_page_only(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    """The Overdue page, in the API and the browser, lists the sweep's entry for the sender's review of an
    urgent share to the sending agency and the partnership's offices, each with that clock's deadline
    (the entry records its clock, b0008); the recipient, whose page hides the review, is not given it."""
    gateway = await gateway_factory()
    urgent = await _sent(Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-08"))
    with Session(gateway.engine) as session:
        (review,) = session.exec(
            select(ObligationClock).where(
                ObligationClock.delivery_id == urgent["delivery_id"], ObligationClock.kind == REVIEW
            )
        )
        due = review.due_at
        late = mark_overdue(session, review.due_at + timedelta(minutes=1))
        session.commit()
        missed = next(c.overdue_seq for c in late if c.kind == REVIEW)
        theirs = {c.overdue_seq for c in late if c.kind != REVIEW}
    assert missed is not None and theirs, late

    async def overdue(reader: Person) -> tuple[dict[int, str | None], bool]:
        listed = await reader.api("GET", "/v1/overdue", params={"limit": 200})
        assert listed.status_code == 200, listed.text
        page = await reader.opened("/ui/overdue")
        found = {e["seq"]: (e["deadline"] or {}).get("due_at") for e in listed.json()}
        return found, f"<td>#{missed}</td>" in page

    expected = due.replace(tzinfo=UTC).isoformat()
    for reader in (
        Person(gateway, SCHOOL, "dsl", "dsl-urgent-clock-09"),
        Person(gateway, CSC, "ig_lead", "ig-urgent-clock-03"),
    ):
        found, on_page = await overdue(reader)
        assert found.get(missed) == expected and on_page, (reader.role, found)
    found, on_page = await overdue(Person(gateway, CSC, "dsl", "csc-dsl-urgent-clock-04"))
    assert missed not in found and not on_page, found
    assert theirs <= set(found), "the recipient's own clocks that ran out stay on its page"

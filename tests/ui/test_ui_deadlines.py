"""A decision's page and its API detail show the clocks it started: what is owed, by when, and where each
stands (running, overdue, met, met late, or stopped because its message no longer stands).

On the real gateway and OPA: a school's referral starts children's social care's two clocks, its front
door's signed receipt answers one; time is moved on by setting the other's due time in the past.
`clock_state` is also read on its own for each way a clock can end."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

import audit
from broker.db.tables import BrokerTable, ObligationClock
from broker.delivery import event_clocks
from broker.delivery.clocks import mark_overdue
from broker.review.timescales import clock_state, overdue_among
from broker.ui.words import local_time
from schemas.deadlines import Deadline
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_clock_gateway import acknowledged_referral
from tests.factories import school_referral

SCHOOL = "school-oakfield-primary"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _clock(**fields: object) -> ObligationClock:
    base: dict[str, object] = {
        "delivery_id": "d-1",
        "notification_id": "n-1",
        "recipient_agency": "csc",
        "sender_agency": "school",
        "kind": "decide_referral",
        "rule": "GR6",
        "description": "Decide within 1 working day (T05).",
        "due_at": NOW,
        "stops_on": "referral_outcome",
        "log_context": {},
    }
    return ObligationClock.model_validate(base | fields)


_CASES: list[tuple[dict[str, object], str, datetime | None]] = [
    ({"due_at": NOW + timedelta(hours=1)}, "running", None),
    ({"due_at": NOW - timedelta(hours=1)}, "overdue", NOW - timedelta(hours=1)),
    # Logged overdue by a sweep whose clock ran ahead (the demo's): the page agrees with the log.
    ({"due_at": NOW + timedelta(hours=1), "overdue_at": NOW + timedelta(days=7)}, "overdue", NOW + timedelta(hours=1)),
    ({"stopped_at": NOW - timedelta(hours=2)}, "met", NOW - timedelta(hours=2)),
    ({"stopped_at": NOW + timedelta(hours=2)}, "met_late", NOW + timedelta(hours=2)),
    (
        {"stopped_at": NOW, "log_context": {event_clocks.STOP_REASON: event_clocks.WITHDRAWN}},
        "withdrawn",
        NOW,
    ),
    (
        {"stopped_at": NOW, "log_context": {event_clocks.STOP_REASON: event_clocks.SHREDDED}},
        "shredded",
        NOW,
    ),
    (
        {"stopped_at": NOW, "log_context": {event_clocks.STOP_REASON: event_clocks.SUPERSEDED}},
        "superseded",
        NOW,
    ),
    # SQLite gives times back without their zone: they are UTC.
    ({"due_at": (NOW - timedelta(hours=1)).replace(tzinfo=None)}, "overdue", NOW - timedelta(hours=1)),
]


@pytest.mark.parametrize(("fields", "state", "since"), _CASES)
def test_each_way_a_clock_stands(fields: dict[str, object], state: str, since: datetime | None) -> None:
    assert clock_state(_clock(**fields), NOW) == (state, since)


def test_a_lists_marker_reads_overdue_as_the_page_does() -> None:
    """`overdue_among`, in SQL (as the `overdue_now` filter is), against `clock_state`, case by case, on SQLite."""
    stored = [(fields, state) for fields, state, _ in _CASES if getattr(fields.get("due_at"), "tzinfo", UTC)]
    engine = create_engine("sqlite://")  # it keeps times without their zone, as the gateway's does
    BrokerTable.metadata.create_all(engine)
    with Session(engine) as session:
        for n, (fields, _) in enumerate(stored):
            session.add(_clock(**{**fields, "delivery_id": f"d-{n}"}))
        session.commit()
        expected = {f"d-{n}" for n, (_, state) in enumerate(stored) if state == "overdue"}
        assert len(expected) == 2 and overdue_among(session, [f"d-{n}" for n in range(len(stored))], NOW) == expected
    engine.dispose()


def test_the_api_declares_every_state_a_clock_can_be_in() -> None:
    declared = get_args(Deadline.model_fields["state"].annotation)
    assert sorted(declared) == sorted({state for _, state, _ in _CASES})


@pytest.mark.stack
async def test_a_referrals_page_shows_the_clock_its_receipt_met_and_the_one_overdue(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    referral, to_mash = await acknowledged_referral(gateway)  # and no outcome sent
    recipient = {"agency_id": "csc-fenmere-mash", "delivery_id": to_mash}
    assert (await gateway.post(school_referral())).status_code == 202  # another, none of its clocks late
    with Session(gateway.engine) as session:
        clocks = {
            c.kind: c
            for c in session.exec(
                select(ObligationClock).where(ObligationClock.delivery_id == recipient["delivery_id"])
            )
        }
        late = clocks["decide_referral"]
        late.due_at = datetime.now(UTC) - timedelta(minutes=5)  # time moves on: nobody decided it
        session.add(late)
        session.commit()
        due = {kind: c.due_at.replace(tzinfo=UTC).isoformat() for kind, c in clocks.items()}
        met_at = clocks["acknowledge_referral"].stopped_at
        assert met_at is not None
        decided = session.exec(
            select(audit.Entry).where(
                audit.Entry.delivery_id == recipient["delivery_id"], audit.Entry.kind == "decided"
            )
        ).one()
    reader = Person(gateway, SCHOOL, "dsl", "dsl-deadline-01")
    detail = (await reader.api("GET", f"/v1/decisions/{decided.seq}")).json()
    status = (await reader.api("GET", f"/v1/notifications/{referral['notification_id']}")).json()
    (to_csc,) = [d for d in status["recipients"] if d["delivery_id"] == recipient["delivery_id"]]
    assert to_csc["deadlines"] == detail["deadlines"], "the sender's status gives the same clocks"
    by_due = {d["due_at"]: d for d in detail["deadlines"]}
    assert by_due[due["decide_referral"]]["state"] == "overdue", detail["deadlines"]
    met = by_due[due["acknowledge_referral"]]
    assert (met["state"], met["since"]) == ("met", met_at.replace(tzinfo=UTC).isoformat()), met
    assert [d["due_at"] for d in detail["deadlines"]] == sorted(due.values()), "soonest due first"
    assert detail["overdue"] is True, "the detail's flag agrees with its clocks"
    items = (await reader.api("GET", f"/v1/decisions?agency={recipient['agency_id']}")).json()["items"]
    assert {i["seq"]: i["overdue"] for i in items} == {i["seq"]: i["seq"] == decided.seq for i in items}, items
    late = (await reader.api("GET", f"/v1/decisions?agency={recipient['agency_id']}&overdue=true")).json()
    assert [i["seq"] for i in late["items"]] == [decided.seq] and len(items) > 1, "the filter keeps only that one"
    await reader.sign_in()
    try:
        page = (await reader.page("GET", f"/ui/decisions/{decided.seq}")).text
        listed = (await reader.page("GET", f"/ui/decisions?agency={recipient['agency_id']}")).text
        filtered = (await reader.page("GET", f"/ui/decisions?agency={recipient['agency_id']}&overdue=yes")).text
    finally:
        await reader.close()
    words = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    section = words.split(" Deadlines ", 1)[1]
    assert f"Met on {local_time(met['since'])}" in section, section[:800]
    assert f"Overdue since {local_time(due['decide_referral'])}" in section, section[:800]
    # The duty, then its sources beneath it (not mid-sentence in brackets), then its due time.
    overdue = by_due[due["decide_referral"]]
    duty, sources = overdue["description"].split(" [")
    expected = f"{duty}. {sources.split(']')[0]} (timescales T01, T05) {local_time(overdue['due_at'])}"
    assert expected in section, section
    row = listed.split(f'href="/ui/decisions/{decided.seq}"', 1)[1].split("</tr>", 1)[0]
    assert "a deadline is overdue" in row, row
    assert listed.count("a deadline is overdue") == 1, "only the decision whose clock ran out is marked"
    assert re.findall(r'href="/ui/decisions/(\d+)"', filtered) == [str(decided.seq)], "the page's filter agrees"
    assert 'name="overdue" value="yes" checked' in filtered


@pytest.mark.stack
async def test_an_urgent_shares_review_due_is_its_clocks_due_time_and_reads_overdue_once_past(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    urgent = await Person(gateway, SCHOOL, "dsl", "dsl-deadline-02").send("share_urgent_review_after")
    with Session(gateway.engine) as session:
        found = select(ObligationClock).where(
            ObligationClock.delivery_id == urgent["delivery_id"], ObligationClock.kind == "review_urgent_share"
        )
        clock = session.exec(found).one()
        due = clock.due_at.replace(tzinfo=UTC).isoformat()
    reviewer = Person(gateway, SCHOOL, "dsl", "dsl-deadline-03")
    (item,) = (await reviewer.api("GET", "/v1/queues")).json()["urgent_review"]
    assert (item["delivery_id"], item["review_due"]) == (urgent["delivery_id"], due), item
    await reviewer.sign_in()
    try:
        page = (await reviewer.page("GET", "/ui/urgent")).text
        assert local_time(due) in html.unescape(page) and "(overdue)" not in page, page
        # An adult at risk's urgent share is reviewed here too, not only a child's (readers of the demo, session 55).
        assert "because delay could harm a child or an adult at risk" in page, page
        with Session(gateway.engine) as session:
            late = session.exec(found).one()
            late.due_at = datetime.now(UTC) - timedelta(minutes=5)  # time moves on: nobody reviewed it
            session.add(late)
            session.commit()
        assert "(overdue)" in (await reviewer.page("GET", "/ui/urgent")).text
    finally:
        await reviewer.close()


@pytest.mark.stack
async def test_a_clock_marked_overdue_by_a_check_run_ahead_is_not_overdue_since_a_time_to_come(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    # A check run for a later date (a worker whose clock runs ahead, as the demo's once did) read "Overdue since
    # 10 Dec" on 7 Dec, and "Still overdue" on the Overdue page for a deadline not yet due (readers, session 55).
    gateway = await gateway_factory()
    sent = await gateway.post(school_referral())
    assert sent.status_code == 202, sent.text
    (recipient,) = [r for r in sent.json()["recipients"] if r["agency_id"] == "csc-fenmere-mash"]
    with Session(gateway.engine) as session:
        marked = mark_overdue(session, datetime.now(UTC) + timedelta(days=7))
        session.commit()
        ahead = [c for c in marked if c.delivery_id == recipient["delivery_id"]]
        assert ahead, "the check run a week ahead found the referral's clocks overdue"
        decided = session.exec(
            select(audit.Entry).where(
                audit.Entry.delivery_id == recipient["delivery_id"], audit.Entry.kind == "decided"
            )
        ).one()
    reader = Person(gateway, SCHOOL, "dsl", "dsl-deadline-07")
    await reader.sign_in()
    try:
        page = (await reader.page("GET", f"/ui/decisions/{decided.seq}")).text
        overdue = (await reader.page("GET", "/ui/overdue")).text
    finally:
        await reader.close()
    section = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).split(" Deadlines ", 1)[1]
    assert "Not due yet: marked overdue by a check run for a later date" in section, section[:800]
    assert "Overdue since" not in section, section[:800]
    heads = [
        html.unescape(re.sub(r"<[^>]+>", " ", p.split("</p>", 1)[0])) for p in page.split('class="state-line"')[1:]
    ]
    assert any("marked overdue by a check run for a later date: it is not due yet" in h for h in heads), heads
    assert not any("A deadline is overdue." in h for h in heads), heads
    listed = html.unescape(overdue)
    assert "Not due yet: marked overdue by a check run for a later date" in listed and "Still overdue" not in listed

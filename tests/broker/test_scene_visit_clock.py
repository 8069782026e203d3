"""One scene-documentation clock (T34) per scene visit: the death notice and the ICMD record that
replies to it may both give the visit's time; the record starts the same clock again, not a second
one, and the documentation answers it in reply to either message. The same for any clock run from
an event the payload names (T35: a further provisional report gives the same examination), and for
a message further down the thread. Another time given for the visit corrects it: the earlier clock
stops as superseded and the new one runs, unless the documentation was already sent. A notice's
withdrawal, or its case's shredding, leaves its visit to the next message that names it; a
correction's withdrawal gives the visit back the time it corrected, if the message that gave that
time still stands and no other clock runs for the visit. The thread is the whole reply chain, so a
correction in one reply to the notice supersedes the clock a sibling reply started, and a notice
withdrawn leaves its clock running for the ICMD record that gave the same time.

On the real gateway and OPA, on SQLite and on the stack's PostgreSQL (their stored times differ in
zone), in a partnership with a (fictional) pathology service and Coroner's office.

Source: CPSCP-Procedures, Child death > 3.6.1 On call Health Professional; 3.9 Role of Coroner and
Pathologist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from broker.db.tables import ObligationClock, OutboxRow
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.clocks import overdue
from tests.broker.conftest import Gateway, GatewayFactory, demo_agencies, demo_offices, gateway_factory  # noqa: F401
from tests.broker.people import Person
from tests.broker.test_catalogue_clocks import (
    CORONER,
    PATHOLOGIST,
    PATHOLOGY_SENDER,
    POLICE_SENDER,
    _m19,
    _overdue_now,
    _shared,
)
from tests.broker.test_catalogue_clocks import death_partnership as partnership  # noqa: F401

pytestmark = pytest.mark.stack
SCENE = "scene_documentation_to_pathologist"
CALENDAR = WorkingCalendar(school_holidays=())
HEALTH_SENDER = ("health-visiting-fenmere", "health_visitor")
MINUTES = {"meeting_at": datetime.now(UTC).isoformat(), "actions_agreed": "Fictional: actions and owners."}
DOCUMENTATION = {"stage": "scene_documentation", "scene_visit_record": "Fictional: scene visited with the family."}


@pytest.fixture(params=["sqlite", "postgresql"])
async def gateway(
    request: pytest.FixtureRequest,
    gateway_factory: GatewayFactory,  # noqa: F811
    private_opa: str,
) -> AsyncIterator[Gateway]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    started: Gateway = await gateway_factory(database_url=url, opa_url=private_opa)
    yield started


def _clocks(gateway: Gateway, kind: str, *notification_ids: str) -> list[ObligationClock]:
    with Session(gateway.engine) as session:
        query = select(ObligationClock).where(
            col(ObligationClock.kind) == kind, col(ObligationClock.notification_id).in_(notification_ids)
        )
        return list(session.exec(query))


async def _notice_and_record(gateway: Gateway, visit: datetime, **record: Any) -> tuple[str, str]:
    """A police death notice to the pathologist giving the visit's time, and the police's ICMD record
    in reply giving it again (or `record`'s payload over it); their ids."""
    notice = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, notice)
    icmd = await _reply(gateway, notice, **record)
    return notice["notification_id"], icmd["notification_id"]


async def _reply(
    gateway: Gateway, to: dict[str, Any], *, sender: tuple[str, str] = POLICE_SENDER, **record: Any
) -> dict[str, Any]:
    """An ICMD record to the pathologist in reply to `to`, giving its facts again (`record` over them), shared."""
    payload = {**to["payload"], "stage": "icmd_record", **MINUTES, **record}
    icmd = _m19(sender, PATHOLOGIST, payload, to["notification_id"])
    await _shared(gateway, icmd)
    return icmd


@pytest.mark.parametrize("answered", ["notice", "icmd_record"])
async def test_the_visit_given_twice_starts_one_clock_that_either_reply_answers(
    gateway: Gateway, answered: str
) -> None:
    visit = _visit(10)
    notice, icmd = await _notice_and_record(gateway, visit)
    [clock] = _clocks(gateway, SCENE, notice, icmd)
    assert clock.notification_id == notice, "the second start was kept instead of the first"
    assert _overdue_now(gateway) >= {notice} and icmd not in _overdue_now(gateway)
    # The documentation in reply to the ICMD record answers it as well as one in reply to the notice.
    reply_to = notice if answered == "notice" else icmd
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, reply_to))
    [answered_clock] = _clocks(gateway, SCENE, notice, icmd)
    assert answered_clock.stopped_at is not None


async def test_another_sender_is_another_clock(gateway: Gateway) -> None:
    visit = _visit(3)
    # Health's record of the same visit: its own documentation is owed, so its own clock.
    notice = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, notice)
    health = await _reply(gateway, notice, sender=HEALTH_SENDER)
    ids = notice["notification_id"], health["notification_id"]
    owed = {(c.notification_id, c.sender_agency) for c in _clocks(gateway, SCENE, *ids)}
    assert owed == {(ids[0], POLICE_SENDER[0]), (ids[1], HEALTH_SENDER[0])}
    # Each is answered on its own: the police's documentation leaves health's clock running.
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, ids[0]))
    assert {c.notification_id for c in _clocks(gateway, SCENE, *ids) if c.stopped_at is None} == {ids[1]}


async def test_a_further_provisional_report_restarts_no_complete_report_clock(gateway: Gateway) -> None:
    examined = datetime.now(UTC) - timedelta(days=10)
    report = {
        "stage": "pm_provisional_report",
        "post_mortem_at": examined.isoformat(),
        "post_mortem_findings": "Fictional: preliminary cause of death; samples retained.",
    }
    provisional = _m19(PATHOLOGY_SENDER, CORONER, report)
    await _shared(gateway, provisional)
    further = _m19(PATHOLOGY_SENDER, CORONER, report, provisional["notification_id"])
    await _shared(gateway, further)
    ids = provisional["notification_id"], further["notification_id"]
    [clock] = _clocks(gateway, "post_mortem_complete_report", *ids)
    assert clock.notification_id == provisional["notification_id"]
    # The complete report in reply to the further one answers it.
    await _shared(gateway, _m19(PATHOLOGY_SENDER, CORONER, {**report, "stage": "pm_complete_report"}, ids[1]))
    assert all(c.stopped_at is not None for c in _clocks(gateway, "post_mortem_complete_report", *ids))


async def test_a_record_further_down_the_thread_restarts_the_notices_clock(gateway: Gateway) -> None:
    visit = _visit(10)
    notice = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, notice)
    # A message in reply that names no visit, then the ICMD record in reply to that one.
    between = _m19(POLICE_SENDER, PATHOLOGIST, {"died_at": notice["payload"]["died_at"]}, notice["notification_id"])
    await _shared(gateway, between)
    record = await _reply(gateway, {**between, "payload": notice["payload"]})
    ids = notice["notification_id"], between["notification_id"], record["notification_id"]
    [clock] = _clocks(gateway, SCENE, *ids)
    assert clock.notification_id == ids[0], "the record two replies down started a second clock"
    # The documentation in reply to the record answers the notice's clock, which it restarted.
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, ids[2]))
    [answered] = _clocks(gateway, SCENE, *ids)
    assert answered.stopped_at is not None


async def test_a_loop_in_the_thread_ends_the_walk(gateway: Gateway) -> None:
    """A reply may name an id before that message is sent: two messages replying to each other."""
    visit = {"scene_visit_at": (datetime.now(UTC) - timedelta(days=2)).isoformat()}
    second = _m19(POLICE_SENDER, PATHOLOGIST, visit)
    first = _m19(POLICE_SENDER, PATHOLOGIST, {**second["payload"]}, second["notification_id"])
    await _shared(gateway, first)
    await _shared(gateway, {**second, "in_reply_to": first["notification_id"]})
    third = await _reply(gateway, second)
    ids = first["notification_id"], second["notification_id"], third["notification_id"]
    # The third's walk up the thread (second, first, second again) stops at the loop and finds the first's.
    assert [c.notification_id for c in _clocks(gateway, SCENE, *ids)] == [ids[0]]


@pytest.mark.parametrize("answered", ["notice", "correction"])
async def test_a_corrected_visit_time_stops_the_earlier_clock(gateway: Gateway, answered: str) -> None:
    visit = _visit(10)
    notice, correction = await _notice_and_record(
        gateway, visit, scene_visit_at=(visit + timedelta(hours=5)).isoformat()
    )
    clocks = {c.notification_id: c for c in _clocks(gateway, SCENE, notice, correction)}
    assert clocks[notice].stopped_at is not None, "the clock of the time corrected still runs"
    assert clocks[notice].log_context["stop_reason"] == "superseded"
    assert clocks[notice].log_context["superseded_by"] == correction
    assert clocks[correction].stopped_at is None and clocks[correction].due_at > clocks[notice].due_at
    assert _overdue_now(gateway) >= {correction} and notice not in _overdue_now(gateway)
    # The documentation answers the corrected clock, in reply to the notice as to the correction.
    reply_to = notice if answered == "notice" else correction
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, reply_to))
    after = {c.notification_id: c for c in _clocks(gateway, SCENE, notice, correction)}
    assert after[correction].stopped_at is not None and "stop_reason" not in after[correction].log_context
    assert after[notice].log_context["superseded_by"] == correction


async def test_after_the_documentation_neither_a_repeat_nor_a_correction_starts_a_clock(gateway: Gateway) -> None:
    visit, notice = await _police_notice(gateway)
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, notice["notification_id"]))
    # The obligation was met: the visit's time given again, or corrected later, owes nothing more.
    repeat = await _reply(gateway, notice)
    correction = await _reply(gateway, repeat, scene_visit_at=(visit + timedelta(hours=5)).isoformat())
    [clock] = _clocks(
        gateway, SCENE, notice["notification_id"], repeat["notification_id"], correction["notification_id"]
    )
    assert clock.notification_id == notice["notification_id"]
    assert clock.stopped_at is not None and "stop_reason" not in clock.log_context


async def _withdraw(gateway: Gateway, notification_id: str) -> None:
    """The police withdraw their notification, through the API."""
    headers = {"Authorization": f"Bearer {gateway.token(POLICE_SENDER[0])}"}
    url = f"/v1/notifications/{notification_id}/withdrawal"
    withdrawn = await gateway.client.post(url, json={"reason": "sent_in_error"}, headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text


def _visit(days: int) -> datetime:
    """A working Wednesday's 09:00 UTC at least `days` ago: a visit and its corrections hours later then fall on
    one working day, due on the next at different times. From a weekend or a Friday evening every one of them
    is due at the end of the next working day alike, where rightly no second clock starts (the tests failed on
    the small hours of a Tuesday, their visit three and ten days before on a Saturday)."""
    day = (datetime.now(UTC) - timedelta(days=days)).date()
    while day.weekday() != 2 or not CALENDAR.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=UTC)


def _later(visit: datetime, hours: int) -> str:
    return (visit + timedelta(hours=hours)).isoformat()


def _running(gateway: Gateway, *notification_ids: str) -> set[str]:
    """Of these notifications, those whose scene-documentation clock runs."""
    return {c.notification_id for c in _clocks(gateway, SCENE, *notification_ids) if c.stopped_at is None}


async def test_a_repeat_after_the_notice_was_withdrawn_starts_the_clock_again(gateway: Gateway) -> None:
    _, notice = await _police_notice(gateway)
    await _withdraw(gateway, notice["notification_id"])
    # The notice no longer stands: the record giving the same visit owes its documentation itself.
    record = await _reply(gateway, notice)
    ids = notice["notification_id"], record["notification_id"]
    clocks = {c.notification_id: c for c in _clocks(gateway, SCENE, *ids)}
    assert ids[1] in clocks, "the withdrawn notice's clock kept the record's from starting"
    assert clocks[ids[1]].stopped_at is None
    assert clocks[ids[0]].stopped_at is not None and clocks[ids[0]].log_context["stop_reason"] == "withdrawn"
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, ids[1]))
    assert all(c.stopped_at is not None for c in _clocks(gateway, SCENE, *ids))


@pytest.mark.parametrize("marked", ["before", "after"])
async def test_withdrawing_the_correction_runs_the_earlier_clock_again(gateway: Gateway, marked: str) -> None:
    visit = _visit(10)
    notice = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, notice)
    if marked == "before":  # the notice's clock was overdue before the correction stopped it
        assert notice["notification_id"] in _overdue_now(gateway)
    correction = await _reply(gateway, notice, scene_visit_at=_later(visit, 5))
    ids = notice["notification_id"], correction["notification_id"]
    [first] = [c for c in _clocks(gateway, SCENE, *ids) if c.notification_id == ids[0]]
    await _withdraw(gateway, ids[1])
    clocks = {c.notification_id: c for c in _clocks(gateway, SCENE, *ids)}
    assert clocks[ids[0]].stopped_at is None, "the withdrawn correction left the visit with no clock"
    assert not {"stop_reason", "superseded_by"} & clocks[ids[0]].log_context.keys()
    assert clocks[ids[0]].due_at == first.due_at and clocks[ids[0]].overdue_at == first.overdue_at
    assert clocks[ids[1]].log_context["stop_reason"] == "withdrawn"
    # Past due, it is overdue: at once if it was marked so, else at the scheduler's next tick.
    if marked == "after":
        assert ids[0] in _overdue_now(gateway)
    with Session(gateway.engine) as session:
        assert ids[0] in {c.notification_id for c in overdue(session, agency_id=POLICE_SENDER[0])}
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, ids[0]))
    assert _running(gateway, *ids) == set()


async def _police_notice(gateway: Gateway) -> tuple[datetime, dict[str, Any]]:
    """The police's death notice with a scene visit three days ago, shared: the visit's time and the notice."""
    visit = _visit(3)
    notice = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, notice)
    return visit, notice


async def _corrected_twice(gateway: Gateway) -> tuple[str, str, str]:
    """The notice, a correction of its visit time, and a correction of that: their ids."""
    visit, notice = await _police_notice(gateway)
    first = await _reply(gateway, notice, scene_visit_at=_later(visit, 5))
    second = await _reply(gateway, first, scene_visit_at=_later(visit, 7))
    return notice["notification_id"], first["notification_id"], second["notification_id"]


async def test_withdrawing_a_correction_corrected_again_restores_nothing_until_the_last_goes(gateway: Gateway) -> None:
    ids = await _corrected_twice(gateway)
    # The first correction was corrected again: its withdrawal leaves the second's time running.
    await _withdraw(gateway, ids[1])
    assert _running(gateway, *ids) == {ids[2]}
    # The second's withdrawal gives the visit back the notice's time, past the withdrawn first.
    await _withdraw(gateway, ids[2])
    assert _running(gateway, *ids) == {ids[0]}


async def test_a_correction_withdrawn_gives_back_only_a_time_whose_message_stands(gateway: Gateway) -> None:
    ids = await _corrected_twice(gateway)
    await _withdraw(gateway, ids[0])
    # The first correction stands: the second's withdrawal gives the visit back its time.
    await _withdraw(gateway, ids[2])
    assert _running(gateway, *ids) == {ids[1]}
    # The notice was withdrawn: no time of it comes back with the first's withdrawal.
    await _withdraw(gateway, ids[1])
    assert _running(gateway, *ids) == set()
    [notice_clock] = [c for c in _clocks(gateway, SCENE, *ids) if c.notification_id == ids[0]]
    assert notice_clock.log_context["superseded_by"] == ids[1]


async def test_a_correction_sent_through_the_api_takes_over_what_the_corrected_message_superseded(
    gateway: Gateway,
) -> None:
    visit, notice = await _police_notice(gateway)
    wrong = await _reply(gateway, notice, scene_visit_at=_later(visit, 5))
    # The police correct their record: its replacement, in reply to the notice, gives another time.
    replacement = _m19(POLICE_SENDER, PATHOLOGIST, {**wrong["payload"], "scene_visit_at": _later(visit, 6)})
    replacement["in_reply_to"] = notice["notification_id"]
    headers = {"Authorization": f"Bearer {gateway.token(POLICE_SENDER[0])}"}
    url = f"/v1/notifications/{wrong['notification_id']}/correction"
    corrected = await gateway.client.post(url, json=replacement, headers=headers)
    assert corrected.status_code == 202, corrected.text
    ids = notice["notification_id"], wrong["notification_id"], replacement["notification_id"]
    assert _running(gateway, *ids) == {ids[2]}, "the notice's time came back beside the replacement's"
    # The replacement stands in the record's place: its own withdrawal gives the notice's time back.
    [notice_clock] = [c for c in _clocks(gateway, SCENE, *ids) if c.notification_id == ids[0]]
    assert notice_clock.log_context["superseded_by"] == ids[2]
    await _withdraw(gateway, ids[2])
    assert _running(gateway, *ids) == {ids[0]}


async def test_a_repeat_after_the_case_was_shredded_starts_the_clock_again(gateway: Gateway) -> None:
    _, notice = await _police_notice(gateway)
    shredding = {"agency_id": POLICE_SENDER[0], "subject_ref": "subj-1", "reason_code": "court_order"}
    lead = Person(gateway, "csc-fenmere-mash", "ig_lead", "csc-ig-lead-71")
    shredded = await lead.api("POST", "/v1/case-shredding", json={**shredding, "decision_ref": "IG-2026-0104"})
    assert shredded.status_code == 200, shredded.text
    [clock] = _clocks(gateway, SCENE, notice["notification_id"])
    assert clock.stopped_at is not None and clock.log_context["stop_reason"] == "shredded"
    # The erased notice no longer stands: the record giving the same visit owes its documentation itself.
    record = await _reply(gateway, notice)
    assert _running(gateway, notice["notification_id"], record["notification_id"]) == {record["notification_id"]}


async def test_a_correction_in_one_sibling_reply_stops_the_clock_of_the_other(gateway: Gateway) -> None:
    """Two replies to the notice, each giving the visit: the later correction supersedes the running
    clock, though that one was started by a sibling no walk up the thread from it reaches."""
    visit, notice = await _police_notice(gateway)
    first = await _reply(gateway, notice, scene_visit_at=_later(visit, 5))
    # A week apart, so always another due time: two hours apart fell on one due day from 19:00 UTC on a
    # Friday (both on Saturday), where the same due time is the same event named again and starts nothing.
    second = await _reply(gateway, notice, scene_visit_at=_later(visit, -7 * 24))
    ids = notice["notification_id"], first["notification_id"], second["notification_id"]
    with Session(gateway.engine) as session:
        rows = session.exec(select(OutboxRow.thread_id).where(col(OutboxRow.notification_id).in_(ids)))
        assert set(rows) == {ids[0]}, "each delivery keeps the notice as its thread"
    assert _running(gateway, *ids) == {ids[2]}, "the sibling's corrected time still runs beside the correction"
    clocks = {c.notification_id: c for c in _clocks(gateway, SCENE, *ids)}
    assert clocks[ids[1]].log_context["stop_reason"] == "superseded"
    assert clocks[ids[1]].log_context["superseded_by"] == ids[2]
    # The documentation in reply to the first sibling answers the one clock that runs.
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, ids[1]))
    assert _running(gateway, *ids) == set()


async def test_withdrawing_a_correction_beside_a_running_sibling_clock_restores_nothing_extra(
    gateway: Gateway,
) -> None:
    visit, notice = await _police_notice(gateway)
    first = await _reply(gateway, notice, scene_visit_at=_later(visit, 5))
    second = await _reply(gateway, notice, scene_visit_at=_later(visit, 7))
    ids = notice["notification_id"], first["notification_id"], second["notification_id"]
    # The second sibling's time runs: the first's withdrawal gives the notice's time back beside it no more.
    await _withdraw(gateway, ids[1])
    assert _running(gateway, *ids) == {ids[2]}, "the notice's time came back beside the sibling's correction"
    # The second's withdrawal gives the visit back the notice's time, past the withdrawn first.
    await _withdraw(gateway, ids[2])
    assert _running(gateway, *ids) == {ids[0]}


async def test_the_notice_withdrawn_leaves_its_clock_running_for_the_record_that_repeated_its_time(
    gateway: Gateway,
) -> None:
    """The ICMD record gave the visit's time again and started no clock of its own: the notice's
    withdrawal leaves the record naming the visit, so the clock runs on as the record's, due as it was."""
    visit = _visit(10)
    notice, icmd = await _notice_and_record(gateway, visit)
    assert notice in _overdue_now(gateway)
    [before] = _clocks(gateway, SCENE, notice, icmd)
    await _withdraw(gateway, notice)
    [clock] = _clocks(gateway, SCENE, notice, icmd)
    assert clock.stopped_at is None, "the record's visit was left with no clock"
    assert clock.notification_id == icmd and clock.log_context["carried_from"] == notice
    assert (clock.due_at, clock.overdue_at) == (before.due_at, before.overdue_at)
    with Session(gateway.engine) as session:
        assert icmd in {c.notification_id for c in overdue(session, agency_id=POLICE_SENDER[0])}
    # The documentation in reply to the record answers it.
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, icmd))
    assert _running(gateway, notice, icmd) == set()

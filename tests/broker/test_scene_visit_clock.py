"""One scene-documentation clock (T34) per scene visit: the death notice and the ICMD record that
replies to it may both give the visit's time; the record starts the same clock again, not a second
one, and the documentation answers it in reply to either message. The same for any clock run from
an event the payload names (T35: a further provisional report gives the same examination).

On the real gateway and OPA, on SQLite and on the stack's PostgreSQL (their stored times differ in
zone), in a partnership with a (fictional) pathology service and Coroner's office.

Source: CPSCP-Procedures, Child death > 3.6.1 On call Health Professional; 3.9 Role of Coroner and
Pathologist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from broker.db.tables import ObligationClock
from tests.broker.conftest import Gateway, GatewayFactory, demo_agencies, demo_offices, gateway_factory  # noqa: F401
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
    payload = {**notice["payload"], "stage": "icmd_record", **MINUTES, **record}
    icmd = _m19(POLICE_SENDER, PATHOLOGIST, payload, notice["notification_id"])
    await _shared(gateway, icmd)
    return notice["notification_id"], icmd["notification_id"]


@pytest.mark.parametrize("answered", ["notice", "icmd_record"])
async def test_the_visit_given_twice_starts_one_clock_that_either_reply_answers(
    gateway: Gateway, answered: str
) -> None:
    visit = datetime.now(UTC) - timedelta(days=10)
    notice, icmd = await _notice_and_record(gateway, visit)
    [clock] = _clocks(gateway, SCENE, notice, icmd)
    assert clock.notification_id == notice, "the second start was kept instead of the first"
    assert _overdue_now(gateway) >= {notice} and icmd not in _overdue_now(gateway)
    # The documentation in reply to the ICMD record answers it as well as one in reply to the notice.
    reply_to = notice if answered == "notice" else icmd
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, reply_to))
    [answered_clock] = _clocks(gateway, SCENE, notice, icmd)
    assert answered_clock.stopped_at is not None


async def test_another_visit_time_or_another_sender_is_another_clock(gateway: Gateway) -> None:
    visit = datetime.now(UTC) - timedelta(days=3)
    # The ICMD record gives another time: another visit, another clock (each answered on its own).
    notice, icmd = await _notice_and_record(gateway, visit, scene_visit_at=(visit + timedelta(hours=5)).isoformat())
    assert {c.notification_id for c in _clocks(gateway, SCENE, notice, icmd)} == {notice, icmd}
    # Health's record of the same visit: its own documentation is owed, so its own clock.
    first = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, first)
    payload = {**first["payload"], "stage": "icmd_record", **MINUTES}
    health = _m19(HEALTH_SENDER, PATHOLOGIST, payload, first["notification_id"])
    await _shared(gateway, health)
    owed = {
        (c.notification_id, c.sender_agency)
        for c in _clocks(gateway, SCENE, first["notification_id"], health["notification_id"])
    }
    assert owed == {(first["notification_id"], POLICE_SENDER[0]), (health["notification_id"], HEALTH_SENDER[0])}
    # A documentation in reply to the ICMD record that started its own clock stops only that one.
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, DOCUMENTATION, icmd))
    running = {c.notification_id for c in _clocks(gateway, SCENE, notice, icmd) if c.stopped_at is None}
    assert running == {notice}


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

"""Clocks as the source documents count them, on the real gateway: the child-death ICMD runs from the
death being confirmed and stops only on the meeting's record; the LADO's AMM stops only on its record
or the outcome, never on a read receipt or an invitation; the scene-of-death documentation runs from
the visit and the post-mortem reports from the examination, each stopped only by its own stage.

Sources: CPSCP-Procedures, Child death > 3.6.1 On call Health Professional; 3.9 Role of Coroner and
Pathologist; 4.5 Initial Case Management Discussion; CPSCP-Procedures, LADO > 6. LADO Allegation
Management Meetings (AMM).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from broker.app import create_app
from broker.db.tables import ObligationClock
from broker.delivery.clocks import mark_overdue, stop_clocks
from devstack.partnership import AgencySpec, LocalPartnership, provision
from tests.broker.conftest import Gateway, GatewayFactory, demo_agencies, demo_offices, gateway_settings
from tests.policy.bases import consent_given, patched

pytestmark = pytest.mark.stack

CDOP = {"agency_id": "cdop-fenmere", "role": "cdop_manager", "need_to_know": "statutory_notification"}
POLICE = {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "statutory_notification"}
EMPLOYER = {
    "agency_id": "school-hollins-academy",
    "role": "designated_senior_manager",
    "need_to_know": "attend_meeting",
}
LADO_SENDER = {"agency_id": "lado-fenmere", "role": "lado_officer", "user_ref": "lado-1", "is_professional": True}


@pytest.fixture
async def gateway(gateway_factory: GatewayFactory, private_opa: str) -> Gateway:
    """A gateway on an OPA serving this checkout's policies (the stack's may serve another copy)."""
    started: Gateway = await gateway_factory(opa_url=private_opa)
    return started


def _clock(gateway: Gateway, notification_id: str, kind: str) -> ObligationClock:
    with Session(gateway.engine) as session:
        query = select(ObligationClock).where(
            ObligationClock.notification_id == notification_id, ObligationClock.kind == kind
        )
        [clock] = session.exec(query)
        return clock


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _death(died_at: datetime, **payload: Any) -> dict[str, Any]:
    created = datetime.now(UTC).isoformat()
    body = {"died_at": died_at.isoformat(), **payload}
    return patched("death", {"notification_id": str(uuid.uuid4()), "created_at": created, "payload": body})


def _icmd_record(notice: dict[str, Any], *, stage: str = "icmd_record") -> dict[str, Any]:
    minutes = {"meeting_at": datetime.now(UTC).isoformat(), "actions_agreed": "Fictional: actions and owners."}
    return patched(
        "death",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": datetime.now(UTC).isoformat(),
            "in_reply_to": notice["notification_id"],
            "payload": {**notice["payload"], "stage": stage, **(minutes if stage == "icmd_record" else {})},
        },
    )


async def test_the_icmd_clock_runs_from_the_death_not_from_the_notice(gateway: Gateway) -> None:
    died = datetime.now(UTC) - timedelta(hours=11)
    notice = _death(died)
    assert (await gateway.post(notice)).status_code == 202
    clock = _clock(gateway, notice["notification_id"], "initial_case_management_discussion")
    assert abs((_utc(clock.due_at) - (died + timedelta(hours=12))).total_seconds()) < 1
    assert clock.stops_on == "either:child_death_notification@icmd_record"


async def test_an_icmd_already_late_opens_overdue(gateway: Gateway) -> None:
    notice = _death(datetime.now(UTC) - timedelta(hours=13))
    response = await gateway.post(notice)
    assert response.status_code == 202
    [recipient] = response.json()["recipients"]
    assert datetime.fromisoformat(recipient["deadline"]) < datetime.now(UTC), "the receipt shows it late"
    with Session(gateway.engine, expire_on_commit=False) as session:
        late = mark_overdue(session, datetime.now(UTC))
        session.commit()
    assert notice["notification_id"] in {clock.notification_id for clock in late}


async def test_a_read_receipt_or_another_notice_is_no_icmd(gateway: Gateway) -> None:
    notice = _death(datetime.now(UTC) - timedelta(hours=1))
    assert (await gateway.post(notice)).status_code == 202
    clock = _clock(gateway, notice["notification_id"], "initial_case_management_discussion")
    with Session(gateway.engine) as session:
        assert stop_clocks(session, clock.delivery_id, "acknowledged", datetime.now(UTC)) == 0
    # A further notice in reply (not the meeting's record) leaves it running.
    assert (await gateway.post(_icmd_record(notice, stage="notification"))).status_code == 202
    assert _clock(gateway, notice["notification_id"], "initial_case_management_discussion").stopped_at is None
    record = _icmd_record(notice)
    response = await gateway.post(record)
    assert response.status_code == 202, response.text
    assert response.json()["recipients"][0]["outcome"] == "share"
    assert _clock(gateway, notice["notification_id"], "initial_case_management_discussion").stopped_at is not None


async def test_the_record_needs_its_minutes() -> None:
    from pydantic import ValidationError

    from schemas.notifications import parse_notification

    record = _icmd_record(_death(datetime.now(UTC)))
    del record["payload"]["actions_agreed"]
    with pytest.raises(ValidationError, match="actions_agreed"):
        parse_notification(record)


def _lado_reply(referral: dict[str, Any], stage: str, **payload: Any) -> dict[str, Any]:
    return patched(
        "lado",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": datetime.now(UTC).isoformat(),
            "in_reply_to": referral["notification_id"],
            "sender": LADO_SENDER,
            "recipients": [EMPLOYER],
            "payload": {**referral["payload"], "stage": stage, **payload},
        },
    )


async def test_the_amm_clock_stops_on_the_meetings_record_only(gateway: Gateway) -> None:
    referral = patched("lado", {"notification_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat()})
    assert (await gateway.post(referral)).status_code == 202
    clock = _clock(gateway, referral["notification_id"], "convene_amm")
    with Session(gateway.engine) as session:
        assert stop_clocks(session, clock.delivery_id, "acknowledged", datetime.now(UTC)) == 0
    meeting = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    invitation = await gateway.post(_lado_reply(referral, "amm_invitation", meeting_at=meeting))
    assert invitation.status_code == 202, invitation.text
    assert invitation.json()["recipients"][0]["outcome"] in {"share", "share_minimised"}
    assert _clock(gateway, referral["notification_id"], "convene_amm").stopped_at is None, "an invitation is no meeting"
    record = _lado_reply(referral, "amm_record", meeting_at=meeting, actions_agreed="Fictional: safeguards agreed.")
    assert (await gateway.post(record)).status_code == 202
    assert _clock(gateway, referral["notification_id"], "convene_amm").stopped_at is not None


def test_a_held_icmd_released_later_keeps_the_deaths_start() -> None:
    from broker.delivery.calendar import WorkingCalendar
    from broker.delivery.held import _due_from

    died = datetime(2026, 3, 1, 6, tzinfo=UTC)
    obligation = {"kind": "initial_case_management_discussion", "amount": 12, "unit": "hours"}
    released = datetime(2026, 3, 2, 9, tzinfo=UTC)
    anchored = _due_from({**obligation, "started_at": died.isoformat()}, released, WorkingCalendar())
    assert anchored["due_at"] == (died + timedelta(hours=12)).isoformat(), "the death, not the release, starts it"
    assert _due_from(obligation, released, WorkingCalendar())["due_at"] == (released + timedelta(hours=12)).isoformat()


async def test_a_cpch_referral_starts_the_strategy_clock_its_strategy_request_answers(gateway: Gateway) -> None:
    now = datetime.now(UTC)
    referral = patched(
        "referral",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": now.isoformat(),
            "concern_tags": ["cpch"],
            "consent": consent_given(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": False},
        },
    )
    assert (await gateway.post(referral)).status_code == 202
    clock = _clock(gateway, referral["notification_id"], "strategy_meeting")
    assert abs((_utc(clock.due_at) - gateway.app.state.calendar.due(now, 2, "working_days")).total_seconds()) < 60
    school = {"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "attend_meeting"}
    request = patched(
        "strategy",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": datetime.now(UTC).isoformat(),
            "in_reply_to": referral["notification_id"],
            "recipients": [school],
            "consent": consent_given(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": False},
            "payload": {"strategy_kind": "cpch"},
        },
    )
    response = await gateway.post(request)
    assert response.status_code == 202, response.text
    assert response.json()["recipients"][0]["outcome"] in {"share", "share_minimised"}, response.text
    assert _clock(gateway, referral["notification_id"], "strategy_meeting").stopped_at is not None


async def test_the_unclear_days_setting_reaches_the_child_on_child_strategy_clock(
    gateway_factory: GatewayFactory, private_opa: str
) -> None:
    gateway: Gateway = await gateway_factory(opa_url=private_opa, unclear_days_unit="working_days")
    now = datetime.now(UTC)
    referral = patched(
        "peer",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": now.isoformat(),
            "consent": consent_given(),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": False},
        },
    )
    assert (await gateway.post(referral)).status_code == 202
    clock = _clock(gateway, referral["notification_id"], "strategy_meeting")
    # T11's "5 days" is the partnership's setting: here working days (Derby and Derbyshire's reading).
    expected = gateway.app.state.calendar.due(now, 5, "working_days")
    assert abs((_utc(clock.due_at) - expected).total_seconds()) < 60


async def test_an_s47_outcome_deciding_a_conference_starts_the_icpc_clock_its_invitation_answers(
    gateway: Gateway,
) -> None:
    now = datetime.now(UTC)
    police = {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "attend_meeting"}
    outcome = patched(
        "s47",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": now.isoformat(),
            "recipients": [police],
            "payload": {"stage": "outcome", "outcome": "Fictional: threshold met, conference.", "icpc_required": True},
        },
    )
    response = await gateway.post(outcome)
    assert response.status_code == 202, response.text
    clock = _clock(gateway, outcome["notification_id"], "initial_child_protection_conference")
    # The default setting reads the source's "15 days" as calendar days.
    assert abs((_utc(clock.due_at) - gateway.app.state.calendar.due(now, 15, "days")).total_seconds()) < 60
    invitation = patched(
        "conference",
        {
            "notification_id": str(uuid.uuid4()),
            "created_at": datetime.now(UTC).isoformat(),
            "in_reply_to": outcome["notification_id"],
            "recipients": [police],
        },
    )
    answer = await gateway.post(invitation)
    assert answer.status_code == 202, answer.text
    assert answer.json()["recipients"][0]["outcome"] in {"share", "share_minimised"}, answer.text
    assert _clock(gateway, outcome["notification_id"], "initial_child_protection_conference").stopped_at is not None


def test_a_clock_never_starts_after_its_decision_nor_at_a_field_that_is_no_time() -> None:
    from broker.errors import PolicyUnavailable
    from broker.sharing.plan import clock_start
    from schemas.notifications import parse_notification
    from schemas.policy_decision import Obligation

    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    icmd = Obligation(kind="icmd", due_in=None, description="Fictional.", rule="GR6", starts_at="payload.died_at")
    later = parse_notification(_death(now + timedelta(hours=3)))
    assert clock_start(icmd, later, now) == now, "a death typed in the future starts the clock now"
    earlier = parse_notification(_death(now - timedelta(hours=3)))
    assert clock_start(icmd, earlier, now) == now - timedelta(hours=3)
    wrong = icmd.model_copy(update={"starts_at": "payload.circumstances"})
    with pytest.raises(PolicyUnavailable, match="not a time"):
        clock_start(wrong, earlier, now)


# --- M19 scene documentation (T34) and post-mortem reports (T35): a partnership with a pathology
# service and a Coroner's office, which the demo partnership lacks.
PATHOLOGIST = {"agency_id": "pathologist-fenmere", "role": "pathologist", "need_to_know": "statutory_notification"}
CORONER = {"agency_id": "coroner-fenmere", "role": "coroners_officer", "need_to_know": "statutory_notification"}


@pytest.fixture(scope="module")
def death_partnership(tmp_path_factory: pytest.TempPathFactory, relay_namespace: str) -> LocalPartnership:
    partnership_id, specs = demo_agencies()
    extra = [
        AgencySpec("pathologist-fenmere", "pathologist", "Fenmere Paediatric Pathology (fictional)"),
        AgencySpec("coroner-fenmere", "coroner", "Fenmere Coroner's Office (fictional)"),
    ]
    return provision(tmp_path_factory.mktemp("death-partnership"), partnership_id, specs + extra, demo_offices())


@pytest.fixture
async def death_gateway(
    death_partnership: LocalPartnership, sqlite_url: str, private_opa: str
) -> AsyncIterator[Gateway]:
    settings = gateway_settings(death_partnership, sqlite_url, opa_url=private_opa)
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            yield Gateway(app, client, settings, death_partnership)
    finally:
        await lifespan.__aexit__(None, None, None)


def _m19(
    sender: tuple[str, str], recipient: dict[str, str], payload: dict[str, Any], reply_to: str | None = None
) -> dict[str, Any]:
    """An M19 message: the death an hour ago, `payload` over it, in reply to `reply_to` if given."""
    body: dict[str, Any] = {
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "sender": {"agency_id": sender[0], "role": sender[1]},
        "recipients": [recipient],
        "payload": {"died_at": (datetime.now(UTC) - timedelta(days=12)).isoformat(), **payload},
    }
    return patched("death", {**body, **({"in_reply_to": reply_to} if reply_to else {})})


POLICE_SENDER = ("police-fenmere", "police_public_protection")
CORONER_SENDER = ("coroner-fenmere", "coroners_officer")
PATHOLOGY_SENDER = ("pathologist-fenmere", "pathologist")


def _overdue_now(gateway: Gateway) -> set[str]:
    """The notifications with a clock overdue now, after a check: marked by this one, or by the gateway's
    own scheduled check, which may have run first (then this one marks nothing, and was read as "none")."""
    with Session(gateway.engine, expire_on_commit=False) as session:
        mark_overdue(session, datetime.now(UTC))
        session.commit()
        late = select(ObligationClock.notification_id).where(col(ObligationClock.overdue_at).is_not(None))
        return set(session.exec(late))


async def _shared(gateway: Gateway, body: dict[str, Any]) -> None:
    response = await gateway.post(body)
    assert response.status_code == 202, response.text
    assert response.json()["recipients"][0]["outcome"] in {"share", "share_minimised"}, response.text


async def test_scene_documentation_runs_from_the_visit_and_stops_on_the_documentation(death_gateway: Gateway) -> None:
    gateway = death_gateway
    visit = datetime.now(UTC) - timedelta(days=10)
    notice = _m19(POLICE_SENDER, PATHOLOGIST, {"scene_visit_at": visit.isoformat()})
    await _shared(gateway, notice)
    clock = _clock(gateway, notice["notification_id"], "scene_documentation_to_pathologist")
    # 24 hours over the working week: one working day from the visit, not from the notice.
    assert _utc(clock.due_at) == gateway.app.state.calendar.due(visit, 1, "working_days")
    assert clock.stops_on == "sender:child_death_notification@scene_documentation"
    assert notice["notification_id"] in _overdue_now(gateway), "a visit ten days ago is long overdue"
    with Session(gateway.engine) as session:
        assert stop_clocks(session, clock.delivery_id, "acknowledged", datetime.now(UTC)) == 0
    # Another notice in reply is not the documentation.
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, {}, notice["notification_id"]))
    assert _clock(gateway, notice["notification_id"], "scene_documentation_to_pathologist").stopped_at is None
    record = {"stage": "scene_documentation", "scene_visit_record": "Fictional: scene visited with the family."}
    await _shared(gateway, _m19(POLICE_SENDER, PATHOLOGIST, record, notice["notification_id"]))
    assert _clock(gateway, notice["notification_id"], "scene_documentation_to_pathologist").stopped_at is not None


async def test_post_mortem_reports_run_from_the_examination_and_stop_on_their_stage(death_gateway: Gateway) -> None:
    gateway = death_gateway
    examined = datetime.now(UTC) - timedelta(days=10)
    held = _m19(CORONER_SENDER, PATHOLOGIST, {"stage": "post_mortem_held", "post_mortem_at": examined.isoformat()})
    await _shared(gateway, held)
    provisional_clock = _clock(gateway, held["notification_id"], "post_mortem_provisional_report")
    assert _utc(provisional_clock.due_at) == gateway.app.state.calendar.due(examined, 5, "working_days")
    assert held["notification_id"] in _overdue_now(gateway)
    report = {
        "stage": "pm_provisional_report",
        "post_mortem_at": examined.isoformat(),
        "post_mortem_findings": "Fictional: preliminary cause of death; samples retained.",
    }
    provisional = _m19(PATHOLOGY_SENDER, CORONER, report, held["notification_id"])
    await _shared(gateway, provisional)
    assert _clock(gateway, held["notification_id"], "post_mortem_provisional_report").stopped_at is not None
    # The provisional report starts the complete one: a week from the examination, already late here.
    complete_clock = _clock(gateway, provisional["notification_id"], "post_mortem_complete_report")
    assert _utc(complete_clock.due_at) == gateway.app.state.calendar.due(examined, 7, "days")
    assert provisional["notification_id"] in _overdue_now(gateway)
    # A further provisional report is not the complete one; the complete report is.
    await _shared(gateway, _m19(PATHOLOGY_SENDER, CORONER, report, provisional["notification_id"]))
    assert _clock(gateway, provisional["notification_id"], "post_mortem_complete_report").stopped_at is None
    complete = {**report, "stage": "pm_complete_report"}
    await _shared(gateway, _m19(PATHOLOGY_SENDER, CORONER, complete, provisional["notification_id"]))
    assert _clock(gateway, provisional["notification_id"], "post_mortem_complete_report").stopped_at is not None


async def test_complex_investigations_start_no_complete_report_clock(death_gateway: Gateway) -> None:
    report = {
        "stage": "pm_provisional_report",
        "post_mortem_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        "post_mortem_findings": "Fictional: preliminary cause of death.",
        "complex_investigations": "Fictional: metabolic and neuropathology studies.",
    }
    provisional = _m19(PATHOLOGY_SENDER, CORONER, report)
    await _shared(death_gateway, provisional)
    with Session(death_gateway.engine) as session:
        query = select(ObligationClock).where(ObligationClock.notification_id == provisional["notification_id"])
        assert list(session.exec(query)) == []

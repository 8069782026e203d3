"""A held share, once released, starts the clocks of the share it becomes.

A held or advice outcome owes nothing while it waits, so its clocks cannot come from its own
obligations: the policy names the release's (`obligations_on_release`), the gateway's plan and
record steps keep them with the held row, and `held.release` starts them. Each test takes the
real policy's decision (this suite's own OPA), plans and records it into SQLite as the gateway
does, with a stand-in sealer, and releases it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

import audit
from broker.db.provisioning import prepare_database
from broker.db.tables import ObligationClock
from broker.delivery import held
from broker.delivery.calendar import WorkingCalendar
from broker.sharing.decide import read_decision
from broker.sharing.flow import receipt_body
from broker.sharing.plan import Planned, plan
from broker.sharing.record import write_rows
from broker.sharing.seal import Sealed, Sealer
from schemas.notifications import Notification, parse_notification
from schemas.policy_decision import PolicyDecision, RecipientDecision
from schemas.policy_input import build_policy_input
from schemas.vocab import Outcome
from tests.policy.bases import CSC, POLICE, not_sought, patched
from tests.policy.conftest import REGISTRY, Decide

pytestmark = pytest.mark.stack

DECIDED = datetime(2026, 3, 2, 10, tzinfo=UTC)  # a Monday
RELEASED = DECIDED + timedelta(days=2)  # answered on the Wednesday
CALENDAR = WorkingCalendar(school_holidays=())
PREJUDICE = not_sought("prejudice_crime")
LIKELY = {"likely_significant_harm": True}
TOLD = {"parents_informed": True, "parent_withheld_permission": False}


class _Sealer(Sealer):
    """Sealing is not what these tests are about: a fixed envelope, routed as the real one."""

    def __init__(self) -> None:
        pass

    def seal(
        self, notification: Notification, decision: RecipientDecision, *, delivery_id: str, now: datetime
    ) -> Sealed:
        return Sealed(
            delivery_id=delivery_id,
            notification_id=str(notification.notification_id),
            recipient_agency=decision.agency_id,
            topic=f"sgb.inbox.{decision.agency_id}",
            key="routing-key",
            envelope=b"sealed",
            headers={},
            created_at=now,
        )


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = audit.create_engine_for(sqlite_url)
    prepare_database(engine)
    yield engine
    engine.dispose()


def _planned(decide: Decide, body: dict[str, Any]) -> tuple[Notification, list[Planned]]:
    notification = parse_notification(body)
    policy_input = build_policy_input(notification, REGISTRY["partnership_id"]).model_dump(mode="json")
    decision = read_decision(PolicyDecision.model_validate(decide(policy_input)), None, notification)
    return notification, plan(notification, decision, sealer=_Sealer(), calendar=CALENDAR, now=DECIDED)


def _record(engine: Engine, notification: Notification, planned: list[Planned]) -> None:
    drafts = [
        audit.EntryDraft(
            notification_id=str(notification.notification_id),
            delivery_id=p.delivery_id,
            kind=audit.EventKind.DECIDED,
            outcome=p.decision.outcome.value,
            sender_agency=notification.sender.agency_id,
            sender_role=notification.sender.role.value,
            recipient_agency=p.decision.agency_id,
            message_type=notification.message_type.value,
            reasons=tuple(audit.Reason(rule=r.rule, message=r.message) for r in p.decision.reasons),
        )
        for p in planned
    ]
    with Session(engine) as session:
        entries = audit.append(session, drafts)
        write_rows(
            session,
            entries,
            notification=notification,
            planned=planned,
            now=DECIDED,
            expires_at=DECIDED + timedelta(days=7),
            first_answer=None,
        )
        session.commit()


def _clocks(engine: Engine, delivery_id: str) -> dict[str, datetime | None]:
    with Session(engine) as session:
        found = session.exec(select(ObligationClock).where(ObligationClock.delivery_id == delivery_id))
        return {c.kind: c.due_at.replace(tzinfo=UTC) if c.due_at else None for c in found}


def _release(engine: Engine, delivery_id: str) -> None:
    with Session(engine) as session:
        held.release(session, delivery_id, now=RELEASED, calendar=CALENDAR)
        session.commit()


def _receipt_kinds(notification: Notification, planned: list[Planned], delivery_id: str) -> list[str]:
    receipt = receipt_body(notification, planned, checkpoint=None)
    (mine,) = [r for r in receipt["recipients"] if r["delivery_id"] == delivery_id]
    return [o["kind"] for o in mine["obligations"]]


def test_a_cpch_strategy_request_signed_off_late_still_gets_its_two_day_meeting_clock(
    decide: Decide, engine: Engine
) -> None:
    body = patched("strategy", {"payload": {"strategy_kind": "cpch"}, "risk": LIKELY, "consent": PREJUDICE})
    notification, planned = _planned(decide, body)
    (waiting,) = planned
    assert waiting.decision.outcome == Outcome.HOLD_FOR_AUTHORISATION
    _record(engine, notification, planned)
    # Held, nothing runs, and the sender's receipt shows nothing running.
    assert _clocks(engine, waiting.delivery_id) == {}
    assert _receipt_kinds(notification, planned, waiting.delivery_id) == []
    _release(engine, waiting.delivery_id)
    clocks = _clocks(engine, waiting.delivery_id)
    # T10: two working days from the line manager's sign-off, not from the decision.
    assert clocks["strategy_meeting"] == CALENDAR.due(RELEASED, 2, "working_days")


def test_a_referral_released_after_advice_starts_the_csc_clocks(decide: Decide, engine: Engine) -> None:
    doubt = {"sender_in_doubt": True, "initial_contact": "phone", "consent": PREJUDICE, "parental_position": TOLD}
    body = patched("referral", {**doubt, "recipients": [CSC, POLICE]})
    notification, planned = _planned(decide, body)
    to_csc = next(p for p in planned if p.decision.agency_id == CSC["agency_id"])
    assert to_csc.decision.outcome == Outcome.NEEDS_ADVICE
    _record(engine, notification, planned)
    assert _clocks(engine, to_csc.delivery_id) == {}
    # What the outcome itself owes (the phone referral's written confirmation) is all the receipt shows.
    assert _receipt_kinds(notification, planned, to_csc.delivery_id) == ["written_confirmation"]
    _release(engine, to_csc.delivery_id)
    clocks = _clocks(engine, to_csc.delivery_id)
    assert {"acknowledge_referral", "decide_referral", "written_confirmation"} <= set(clocks)
    assert clocks["decide_referral"] == CALENDAR.due(RELEASED, 1, "working_days")


# --- Catalogue clocks that run from a payload moment, as the plan counts them (T34, T35, CPCH) -----
PATHOLOGIST = {"agency_id": "pathologist-fenmere", "role": "pathologist", "need_to_know": "statutory_notification"}
CORONER = {"agency_id": "coroner-fenmere", "role": "coroners_officer", "need_to_know": "statutory_notification"}
FRIDAY_EVENING = datetime(2026, 2, 27, 19, tzinfo=UTC)  # the Friday before DECIDED (London is on GMT)


def _due(planned: list[Planned], kind: str) -> datetime | None:
    (one,) = planned
    due = {d["kind"]: d["due_at"] for d in one.due}
    return datetime.fromisoformat(due[kind]) if due.get(kind) else None


def _kinds(planned: list[Planned]) -> set[str]:
    return {o.kind for p in planned for o in p.decision.obligations}


def test_scene_documentation_after_a_friday_evening_visit_is_due_on_monday_evening(decide: Decide) -> None:
    visit = {"recipients": [PATHOLOGIST], "payload": {"scene_visit_at": FRIDAY_EVENING.isoformat()}}
    _, planned = _planned(decide, patched("death", visit))
    # 24 hours counted over the working week: the weekend does not count (T34).
    due = _due(planned, "scene_documentation_to_pathologist")
    assert due == datetime(2026, 3, 2, 19, tzinfo=UTC)
    # Overdue once Monday evening has passed: the due time is before the next morning.
    assert due < DECIDED + timedelta(days=1)


def test_no_scene_documentation_clock_without_a_visit_or_from_a_sender_who_does_not_owe_it(decide: Decide) -> None:
    _, no_visit = _planned(decide, patched("death", {"recipients": [PATHOLOGIST]}))
    assert "scene_documentation_to_pathologist" not in _kinds(no_visit)
    cdop = {"agency_id": "cdop-fenmere", "role": "cdop_manager"}
    visit = {"sender": cdop, "recipients": [PATHOLOGIST], "payload": {"scene_visit_at": FRIDAY_EVENING.isoformat()}}
    _, from_cdop = _planned(decide, patched("death", visit))
    assert "scene_documentation_to_pathologist" not in _kinds(from_cdop)


def _post_mortem(stage: str, **payload: str) -> dict[str, Any]:
    sender, recipient = ("coroner-fenmere", "coroners_officer"), PATHOLOGIST
    if stage != "post_mortem_held":
        sender, recipient = ("pathologist-fenmere", "pathologist"), CORONER
        payload.setdefault("post_mortem_findings", "Fictional: preliminary cause of death.")
    return patched(
        "death",
        {
            "sender": {"agency_id": sender[0], "role": sender[1]},
            "recipients": [recipient],
            "payload": {"stage": stage, "post_mortem_at": FRIDAY_EVENING.isoformat(), **payload},
        },
    )


def test_the_provisional_post_mortem_report_is_due_five_working_days_after_the_examination(decide: Decide) -> None:
    _, planned = _planned(decide, _post_mortem("post_mortem_held"))
    assert _due(planned, "post_mortem_provisional_report") == datetime(2026, 3, 6, 19, tzinfo=UTC)
    assert "post_mortem_complete_report" not in _kinds(planned)


def test_the_complete_report_is_due_a_week_after_the_examination_unless_complex(decide: Decide) -> None:
    _, planned = _planned(decide, _post_mortem("pm_provisional_report"))
    assert _due(planned, "post_mortem_complete_report") == FRIDAY_EVENING + timedelta(days=7)
    _, complex_case = _planned(decide, _post_mortem("pm_provisional_report", complex_investigations="Fictional."))
    assert "post_mortem_complete_report" not in _kinds(complex_case)
    assert "post_mortem_further_results" in _kinds(complex_case)
    assert _due(complex_case, "post_mortem_further_results") is None


@pytest.mark.parametrize(
    ("age", "high_risk", "expected"),
    [
        (16, True, {"refer_to_marac"}),
        (17, True, {"refer_to_marac"}),
        (15, True, {"consider_marac"}),
        (16, False, set()),
    ],
)
def test_a_cpch_referral_tells_the_sender_to_refer_to_marac_only_for_a_child_of_16_plus_at_high_risk(
    decide: Decide, age: int, high_risk: bool, expected: set[str]
) -> None:
    cpch = {
        "concern_tags": ["cpch"],
        "risk": {"da_high_risk_marac": high_risk},
        "subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": age}],
        "consent": PREJUDICE,
        "parental_position": TOLD,
        "recipients": [CSC],
    }
    _, planned = _planned(decide, patched("referral", cpch))
    assert planned[0].decision.outcome in (Outcome.SHARE, Outcome.SHARE_MINIMISED)
    assert _kinds(planned) & {"refer_to_marac", "consider_marac"} == expected

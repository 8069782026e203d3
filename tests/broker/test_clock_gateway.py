"""Clocks on the real gateway stop only on an answer that was itself shared: a referral outcome held
for a manager's authorisation answers nobody yet; the same outcome with the manager's own token is
shared and stops the decision clock (and nothing else)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time
from typing import Any

import httpx
import pytest
from sqlmodel import Session, create_engine, select

from broker.admission.authorisation import DIGEST_CLAIM, HEADER, body_digest
from broker.db.tables import BrokerTable, ObligationClock
from broker.delivery.calendar import LONDON, WorkingCalendar
from broker.delivery.clocks import ACKNOWLEDGED, stop_clocks
from broker.partnership.cli import issue_token
from tests.broker.conftest import AUDIENCE, Gateway
from tests.broker.test_clock_answers import HOSPITAL, _reply, _start
from tests.broker.test_clock_answers import _stopped as _stopped_on
from tests.broker.test_clocks import _outcome_reply
from tests.factories import school_referral
from tests.policy.bases import patched

pytestmark = pytest.mark.stack

MASH = "csc-fenmere-mash"
MANAGER = "csc-manager-07"


async def acknowledged_referral(gateway: Gateway) -> tuple[dict[str, Any], str]:
    """A school's referral whose front door's system acknowledged it (its signed receipt meets that deadline,
    by no reply), and that delivery's id; the decision's deadline still runs."""
    referral = school_referral()
    sent = await gateway.post(referral)
    assert sent.status_code == 202, sent.text
    (to_mash,) = [r["delivery_id"] for r in sent.json()["recipients"] if r["agency_id"] == MASH]
    with Session(gateway.engine) as session:
        assert stop_clocks(session, to_mash, ACKNOWLEDGED, datetime.now(UTC)) == 1
        session.commit()
    return referral, to_mash


async def post_outcome(gateway: Gateway, reply: dict[str, Any], *, authorised: bool) -> httpx.Response:
    """Post a referral outcome from the MASH; `authorised`: with its line manager's own token for this body."""
    if authorised:
        reply = {
            **reply,
            "authorisation": {
                "authoriser_role": "line_manager",
                "authoriser_ref": MANAGER,
                "authorised_at": "2026-11-30T09:00:00Z",
                "reason": "Fictional: outcome reviewed and approved.",
            },
        }
    body = json.dumps(reply).encode()
    headers = {"Authorization": f"Bearer {gateway.token(MASH)}", "Content-Type": "application/json"}
    if authorised:
        keys = gateway.partnership.agency_keys(MASH)
        bound = {DIGEST_CLAIM: body_digest(body)}
        headers[HEADER] = issue_token(keys, role="line_manager", audience=AUDIENCE, subject=MANAGER, extra_claims=bound)
    return await gateway.client.post("/v1/notifications", content=body, headers=headers)


def _stopped(gateway: Gateway) -> dict[str, bool]:
    with Session(gateway.engine) as session:
        rows = session.exec(select(ObligationClock).where(ObligationClock.recipient_agency == MASH))
        return {clock.kind: clock.stopped_at is not None for clock in rows}


async def test_a_held_outcome_stops_nothing_a_shared_one_stops_its_clock(gateway: Gateway) -> None:
    referral = school_referral()
    assert (await gateway.post(referral)).status_code == 202
    held = await post_outcome(gateway, _outcome_reply(referral), authorised=False)
    assert held.status_code == 202, held.text
    assert [r["outcome"] for r in held.json()["recipients"]] == ["hold_for_authorisation"]
    assert _stopped(gateway) == {"acknowledge_referral": False, "decide_referral": False}
    shared = await post_outcome(gateway, _outcome_reply(referral), authorised=True)
    assert shared.status_code == 202, shared.text
    assert [r["outcome"] for r in shared.json()["recipients"]] == ["share"]
    # The outcome tells the referrer more than an acknowledgement would: it meets both (T01, T03, T05).
    assert _stopped(gateway) == {"acknowledge_referral": True, "decide_referral": True}


def test_on_postgresql_the_shared_reply_is_found_by_its_sealing_time(postgres_url: str) -> None:
    """PostgreSQL keeps wall times without a zone: the reply's rows are still matched exactly."""
    engine = create_engine(postgres_url)
    try:
        BrokerTable.metadata.create_all(engine)
        with Session(engine) as session:
            _start(session, "hospital_discharge_hold", "strategy_before_discharge", sender=HOSPITAL, recipient=MASH)
            session.commit()
        assert _reply(engine, "strategy_discussion_request", sender=MASH, shared_to=("police-fenmere",)) == 0
        assert _reply(engine, "referral_outcome", sender=MASH, shared_to=(HOSPITAL,)) == 1
        assert _stopped_on(engine) == {f"strategy_before_discharge@{MASH}": True}
    finally:
        engine.dispose()


async def test_the_school_notice_is_due_before_the_next_school_day(gateway: Gateway) -> None:
    """M35 end to end: the policy's `school_days` unit becomes a clock at the next school day's start."""
    notice = patched("da_school", {"notification_id": str(uuid.uuid4())})
    before = datetime.now(UTC)
    response = await gateway.post(notice)
    assert response.status_code == 202, response.text
    with Session(gateway.engine) as session:
        (clock,) = session.exec(select(ObligationClock).where(ObligationClock.kind == "acknowledge_before_school_day"))
    due = clock.due_at.replace(tzinfo=UTC) if clock.due_at.tzinfo is None else clock.due_at
    assert due == WorkingCalendar().due(before, 1, "school_days")
    assert due.astimezone(LONDON).time() == time(8, 30)
    assert clock.stops_on == "acknowledged"

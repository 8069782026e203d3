"""A shredding tells every agency that may hold a delivery of the case, and stops the case's clocks.

The relay produces a batch and only then marks it published. If the batch fails after a record went
out (another record's send fails, the database fails, the relay's lease runs out), a shredding in that
window found the row still queued; the relay's next read then finds its key gone and marks it done
without a word. So the shredding sends an erasure notice for queued rows too. Real gateway, the
stack's Kafka and OPA; this test is the relay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import CaseKey, ObligationClock, OutboxRow
from broker.delivery.background import build_relay
from broker.delivery.clocks import mark_overdue
from broker.metrics import Metrics
from schemas.notice import Notice
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CHILD_A, CSC, SCHOOL, TO_CSC, _entries, _refer

pytestmark = pytest.mark.stack
SHRED = {"nhs_number": CHILD_A, "reason_code": "court_order", "decision_ref": "IG-2026-0101"}


def _notices(gateway: Gateway, delivery_id: str) -> list[OutboxRow]:
    with Session(gateway.engine) as session:
        return [r for r in session.exec(select(OutboxRow)) if r.log_context.get("notice_for") == delivery_id]


async def test_a_delivery_produced_by_a_batch_that_then_failed_still_gets_its_erasure_notice(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(run_relay_in_gateway=False)
    sent = await _refer(Person(gateway, SCHOOL, "dsl", "dsl-school-41"), "pupil-4101", CHILD_A, [TO_CSC])
    relay = build_relay(settings=gateway.settings, engine=gateway.engine, metrics=Metrics())
    ((row, envelope),) = [(r, v) for r, v in relay._pending() if r.notification_id == sent["notification_id"]]
    assert isinstance(envelope, bytes)  # produced to Kafka; the batch then fails before it is marked
    answer = await Person(gateway, CSC, "ig_lead", "csc-ig-lead-41").api("POST", "/v1/case-shredding", json=SHRED)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["published_deliveries"], answer.json()["erasure_notices"]) == (0, 1)
    # The relay's next read: the key is gone, so the row is marked done unpublished, and logged nowhere.
    again = [(r, v) for r, v in relay._pending() if r.delivery_id == row.delivery_id]
    assert [isinstance(v, bytes) for _, v in again] == [False]
    relay._mark_published([], [again[0][0]])
    (notice,) = _notices(gateway, row.delivery_id)
    parsed = Notice.from_bytes(notice.envelope)
    assert (parsed.kind, parsed.reason, parsed.delivery_id) == ("erasure", "court_order", row.delivery_id)
    assert (notice.topic, notice.key) == (row.topic, row.key)  # same partition, after the delivery
    assert [e.delivery_id for e in _entries(gateway, audit.EventKind.PUBLISHED)].count(row.delivery_id) == 0


async def test_a_shredded_cases_clocks_stop_and_never_fall_overdue(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory(run_relay_in_gateway=False)
    sent = await _refer(Person(gateway, SCHOOL, "dsl", "dsl-school-42"), "pupil-4201", CHILD_A, [TO_CSC])
    with Session(gateway.engine) as session:
        running = select(ObligationClock).where(
            col(ObligationClock.notification_id) == sent["notification_id"], col(ObligationClock.stopped_at).is_(None)
        )
        assert session.exec(running).all(), "a referral to the front door starts its clocks"
    answer = await Person(gateway, CSC, "ig_lead", "csc-ig-lead-42").api("POST", "/v1/case-shredding", json=SHRED)
    assert answer.status_code == 200, answer.text
    with Session(gateway.engine) as session, session.begin():
        assert session.exec(running).all() == []
        late = mark_overdue(session, datetime.now(UTC) + timedelta(days=30))
    assert [c for c in late if c.notification_id == sent["notification_id"]] == []


async def test_shredding_a_person_named_in_another_childs_case_says_so_and_destroys_nothing(
    gateway_factory: GatewayFactory,
) -> None:
    """A sibling named in a child's referral has no case of their own: "nothing was shared about them"
    would be false while the child's case still holds the referral."""
    gateway = await gateway_factory(run_relay_in_gateway=False)
    sibling_nhs = nhs_number("400000047")
    sibling = {"subject_ref": "pupil-4302", "role_in_case": "sibling", "age_years": 9, "nhs_number": sibling_nhs}
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-43")
    sent = await _refer(sender, "pupil-4301", CHILD_A, [TO_CSC], extra_subjects=[sibling])
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-43")
    of_sibling = {**SHRED, "nhs_number": sibling_nhs}
    refused = await lead.api("POST", "/v1/case-shredding", json=of_sibling)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "shared_in_another_case"
    assert sent["notification_id"] in refused.json()["detail"] and sibling_nhs not in refused.text
    assert "went in 1 notification kept under the case of the child it was about" in refused.json()["detail"]
    with Session(gateway.engine) as session:
        assert [k.key is not None for k in session.exec(select(CaseKey))] == [True], "nothing was destroyed"
    assert (await lead.api("POST", "/v1/case-shredding", json=SHRED)).status_code == 200
    gone = await lead.api("POST", "/v1/case-shredding", json=of_sibling)
    assert gone.status_code == 404, gone.text  # the child's case is shredded: no readable copy names them

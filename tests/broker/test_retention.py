"""Issue 14, retention: each stored copy lives as long as the settings say, the purge removes what
outlived it (and nothing younger), logs the counts in the same transaction, and the log verifies.
Real gateway: the rows are those its own decisions wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, func, select

import audit
from broker.admission.replay import SeenToken
from broker.db.tables import HeldDelivery, IdempotencyRecord, OutboxRow
from broker.delivery.retention import Retention, purge_and_log
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"
RETENTION = Retention(delivered_days=30, resolved_days=30, idempotency_days=7)


def _count(gateway: Gateway, table: type) -> int:
    with Session(gateway.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _age(gateway: Gateway, days: float) -> None:
    """Make every row written so far `days` old, as if time had passed."""
    then = datetime.now(UTC) - timedelta(days=days)
    with Session(gateway.engine) as session, session.begin():
        session.execute(update(OutboxRow).values(published_at=then, created_at=then))
        session.execute(update(HeldDelivery).where(col(HeldDelivery.resolved_at).is_not(None)).values(resolved_at=then))
        session.execute(update(IdempotencyRecord).values(created_at=then))
        session.execute(update(SeenToken).values(expires_at=then))


async def test_the_purge_removes_only_what_outlived_its_retention_and_logs_the_counts(gateway: Gateway) -> None:
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-school-09")
    held = await dsl.send("hold_for_authorisation")
    refused = await Person(gateway, SCHOOL, "line_manager", "school-manager-09").api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "refuse", "reason": "No basis named."}
    )
    assert refused.status_code == 200, refused.text
    retried = await gateway.post(school_referral(), headers={"Idempotency-Key": "retention-test-0001"})
    assert retried.status_code == 202, retried.text
    assert _count(gateway, OutboxRow) > 0 and _count(gateway, IdempotencyRecord) == 1
    assert purge_and_log(gateway.engine, RETENTION) == dict.fromkeys(
        ("delivered envelopes", "resolved held deliveries", "idempotency records", "seen token ids"), 0
    )  # nothing is old enough yet: nothing goes, nothing is logged
    _age(gateway, days=31)
    younger = await gateway.post(school_referral())  # written after the ageing: must survive
    assert younger.status_code == 202
    counts = purge_and_log(gateway.engine, RETENTION)
    assert counts["delivered envelopes"] > 0 and counts["resolved held deliveries"] == 1
    assert counts["idempotency records"] == 1 and counts["seen token ids"] >= 3
    with Session(gateway.engine) as session:
        rows = list(session.exec(select(OutboxRow)))
        left = {r.notification_id for r in rows if r.envelope}
        (purged,) = session.exec(select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.PURGED)).all()
        report = audit.verify_log(session)
    assert left == {younger.json()["notification_id"]}
    assert len(rows) > len(left)  # emptied, not deleted: where each went stays, for a later erasure notice
    assert purged.reasons[0]["message"].startswith(f"Purged {counts['delivered envelopes']} delivered envelopes")
    assert report.size > purged.seq  # the log still verifies, the purge's own entry included

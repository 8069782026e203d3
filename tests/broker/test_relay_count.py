"""The relay counts what it published only once the log says so: a batch whose transaction fails after
its `published` entries were drafted is not counted (it goes out again, and is counted then). Real
gateway on SQLite, the stack's OPA; the failure is the chain head's move refused by the database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from broker.db.tables import OutboxRow
from broker.delivery.background import build_relay
from broker.metrics import Metrics
from tests.broker.conftest import GatewayFactory
from tests.broker.people import Person
from tests.factories import school_referral

SCHOOL = "school-oakfield-primary"
TO_CSC = {"agency_id": "csc-fenmere-mash", "role": "mash_intake", "need_to_know": "assess_and_decide"}


class CommitRefused(Exception):
    pass


def _published(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("sgb_published_total")
    assert value is not None
    return value


async def test_a_batch_whose_commit_fails_is_not_counted_as_published(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory(run_relay_in_gateway=False)  # this test is the relay
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-41")
    body = school_referral(recipients=[TO_CSC])
    body["sender"] = {
        "agency_id": SCHOOL,
        "role": sender.sends_as,
        "user_ref": sender.user_ref,
        "is_professional": True,
    }
    answer = await sender.api("POST", "/v1/notifications", json=body)
    assert answer.status_code == 202, answer.text
    metrics = Metrics()
    relay = build_relay(settings=gateway.settings, engine=gateway.engine, metrics=metrics)
    rows = [row for row, value in relay._pending() if isinstance(value, bytes)]
    assert len(rows) == 1

    def refuse(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE audit_chain_head"):  # after the hook drafted the entries
            raise CommitRefused

    event.listen(gateway.engine, "before_cursor_execute", refuse)
    try:
        with pytest.raises(CommitRefused):
            relay._mark_published(rows)  # as `publish_once` marks the batch it produced
    finally:
        event.remove(gateway.engine, "before_cursor_execute", refuse)
    with Session(gateway.engine) as session:
        assert [r.published_at for r in session.exec(select(OutboxRow))] == [None]
    assert _published(metrics) == 0

    relay._mark_published(rows)  # the next look sends it again and this time it commits
    assert _published(metrics) == 1
    relay._mark_published(rows)  # marked already: nothing new logged, nothing counted
    assert _published(metrics) == 1

"""The demo's overdue deadline is real: the police's notice of an infant's death arrives after the 12 hours
its initial case management discussion was due in, so the check on the real clock finds it overdue, and
finds no other of the demo's deadlines overdue before it is due. On the real gateway and OPA."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from broker.delivery.clocks import mark_overdue
from demo.__main__ import overdue_now
from demo.cases import cases
from tests.broker.conftest import Gateway, gateway  # noqa: F401 - fixture

pytestmark = pytest.mark.stack


async def test_the_demos_one_late_deadline_ran_out_before_the_check_that_finds_it(gateway: Gateway) -> None:  # noqa: F811
    sent = {}
    for title, body in cases():
        response = await gateway.post(copy.deepcopy(body))
        assert response.status_code == 202, (title, response.text)
        sent[str(body["notification_id"])] = title
    now = datetime.now(UTC)
    with Session(gateway.engine, expire_on_commit=False) as session:
        late = [c for c in mark_overdue(session, now) if c.notification_id in sent]
        session.commit()
        # What the demo prints: every deadline overdue now, though the gateway's worker marked it first.
        assert mark_overdue(session, now) == [], "marked once"
        shown = [c for c in overdue_now(session) if c.notification_id in sent]
    assert [(sent[c.notification_id], c.kind) for c in late] == [
        ("Police notify a sudden unexpected infant death 13 hours after it (M19)", "initial_case_management_discussion")
    ]
    assert all(c.due_at.replace(tzinfo=c.due_at.tzinfo or UTC) < now for c in late), "due before it was found"
    assert [c.id for c in shown] == [c.id for c in late], "the demo lists it whoever marked it"

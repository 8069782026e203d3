"""A full gateway refuses the next notification at once (503, Retry-After, the phone route), before it
checks the token or reads the body, and decides, logs and sends nothing for it; a place freed is
used by the next. Real gateway (SQLite, the stack's OPA); the places are held the way the route
holds them, so the test does not depend on timing."""

from __future__ import annotations

import contextlib

import pytest
from sqlmodel import Session, col, func, select

import audit
from broker.admission.capacity import Capacity
from broker.errors import Overloaded
from tests.broker.conftest import GatewayFactory
from tests.factories import school_referral

pytestmark = pytest.mark.stack


def test_the_ceiling_counts_places_and_frees_them_on_error() -> None:
    capacity = Capacity(2)
    with capacity.admit(), capacity.admit():
        with pytest.raises(Overloaded), capacity.admit():
            pass
        assert capacity.in_flight == 2
    with contextlib.suppress(RuntimeError), capacity.admit():
        raise RuntimeError("a failed decision still gives its place back")
    assert capacity.in_flight == 0
    with pytest.raises(ValueError):
        Capacity(0)


async def test_a_full_gateway_answers_503_at_once_and_decides_nothing(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory(max_in_flight=2)
    capacity: Capacity = gateway.app.state.capacity
    with Session(gateway.engine) as session:
        logged = session.exec(select(func.count()).select_from(audit.Entry)).one()
    with capacity.admit(), capacity.admit():  # two notifications being decided
        refused = await gateway.post(school_referral())
        garbage = await gateway.client.post("/v1/notifications", content=b"{", headers={"Authorization": "Bearer x"})
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["error"] == "busy" and "send again" in body["detail"] and body["urgent"]
    assert refused.headers["Retry-After"].isdigit()
    assert garbage.status_code == 503  # neither the token nor the body was looked at
    with Session(gateway.engine) as session:
        assert session.exec(select(func.count()).select_from(audit.Entry)).one() == logged
        decided = select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.DECIDED)
        assert session.exec(decided).all() == []
    assert capacity.in_flight == 0
    accepted = await gateway.post(school_referral())  # places free again: decided as ever
    assert accepted.status_code == 202, accepted.text
    assert capacity.in_flight == 0

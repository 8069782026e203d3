"""Issue 14: an inbox consumer that fell behind Kafka's retention asks for a delivery again while the
outbox keeps it; only the agency it was sealed to may ask; the request and the new publication are
logged. Real gateway, its own relay, the stack's Kafka."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from tests.broker.conftest import Gateway
from tests.broker.people import POLICE, Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack


def _row(gateway: Gateway, delivery_id: str) -> OutboxRow | None:
    with Session(gateway.engine) as session:
        return session.exec(select(OutboxRow).where(col(OutboxRow.delivery_id) == delivery_id)).first()


def _published(gateway: Gateway, delivery_id: str) -> int:
    with Session(gateway.engine) as session:
        entries = session.exec(
            select(audit.Entry).where(
                col(audit.Entry.delivery_id) == delivery_id, col(audit.Entry.kind) == audit.EventKind.PUBLISHED
            )
        )
        return len(list(entries))


async def _until_published(gateway: Gateway, delivery_id: str, times: int) -> int:
    for _ in range(120):
        if _published(gateway, delivery_id) >= times:
            break
        await asyncio.sleep(0.25)
    return _published(gateway, delivery_id)


async def test_the_recipient_asks_for_a_delivery_again_and_it_is_published_again(gateway: Gateway) -> None:
    sent = await gateway.post(school_referral(recipients=[POLICE]))
    (delivery,) = sent.json()["recipients"]
    delivery_id = delivery["delivery_id"]
    assert await _until_published(gateway, delivery_id, 1) == 1
    url = f"/v1/deliveries/{delivery_id}/republish"

    other = await Person(gateway, "csc-fenmere-mash", "agency_system", None).api("POST", url)
    assert other.status_code == 404, other.text  # sealed to the police: as if it did not exist
    person = await Person(gateway, "police-fenmere", "practitioner", "pc-0042").api("POST", url)
    assert person.status_code == 403, person.text  # the agency's system asks, not a person
    asked = await Person(gateway, "police-fenmere", "agency_system", None).api("POST", url)
    assert asked.status_code == 202 and asked.json() == {"delivery_id": delivery_id, "queued": True}, asked.text

    assert await _until_published(gateway, delivery_id, 2) == 2
    row = _row(gateway, delivery_id)
    assert row is not None and row.published_at is not None
    with Session(gateway.engine) as session:
        (request,) = session.exec(
            select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.REPUBLISH_REQUESTED)
        ).all()
    assert (request.delivery_id, request.actor_agency, request.actor_role) == (
        delivery_id,
        "police-fenmere",
        "agency_system",
    )

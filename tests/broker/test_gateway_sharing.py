"""Decide, record, seal and route on the real stack: OPA decides, SQLite logs, Kafka carries."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from schemas.topics import inbox_topic
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.kafka_reader import records, wait_published
from tests.conftest import TEST_NAMESPACE
from tests.factories import PERSONAL_VALUES, school_referral
from transport.sealing import EnvelopeError, open_bytes

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

SHARED = {"share", "share_minimised", "share_urgent_review_after"}


def _log(gateway: Gateway) -> list[audit.Entry]:
    """What requests wrote, in order.

    The registry entries the gateway logs at start are left out, and so are the relay's ``published``
    entries: the relay runs beside the requests, so when those land is a race the tests must not count.
    """
    background = (audit.EventKind.REGISTRY_CHANGED, audit.EventKind.PUBLISHED)
    with Session(gateway.engine) as session:
        written = select(audit.Entry).where(col(audit.Entry.kind).not_in(background))
        return list(session.exec(written.order_by(col(audit.Entry.seq))))


def _outbox(gateway: Gateway) -> list[OutboxRow]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(OutboxRow)))


async def test_each_recipient_gets_only_its_own_sealed_projection(
    gateway: Gateway, kafka_admin_config: dict[str, Any]
) -> None:
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    body = response.json()
    decisions = {r["agency_id"]: r for r in body["recipients"]}
    assert set(decisions) == {"csc-fenmere-mash", "police-fenmere", "housing-brookside"}
    assert {r["outcome"] for r in decisions.values()} & SHARED, "the referral should reach someone"
    assert [e.kind for e in _log(gateway)] == ["decided"] * 3
    await wait_published(gateway.outbox)
    keys = {agency: gateway.partnership.agency_keys(agency) for agency in decisions}
    broker_keys = gateway.keys.verify_key_map()
    for agency, decision in decisions.items():
        topic = inbox_topic(agency, namespace=TEST_NAMESPACE)
        found = await records(
            kafka_admin_config,
            topic,
            want={decision["delivery_id"]},
            timeout=15 if decision["outcome"] in SHARED else 2,
        )
        if decision["outcome"] not in SHARED:
            assert found == [], f"{agency} ({decision['outcome']}) must receive nothing"
            continue
        assert len(found) == 1
        raw = found[0].value
        note = dict(found[0].headers)["sgb_checkpoint"].decode()
        checkpoint = audit.Checkpoint.open(note, gateway.keys.signing_key.public_key())
        assert checkpoint.size >= 0, "every delivery carries a checkpoint signed by the broker"
        for value in PERSONAL_VALUES:
            assert value.encode() not in raw, f"{value!r} in plaintext on the wire"
        opened = open_bytes(
            raw, recipient_agency=agency, broker_keys=broker_keys, recipient_keys=keys[agency].decryption_keys()
        )
        assert set(opened.payload) <= set(decision["allowed_fields"])
        assert set(opened.payload), "a share carries at least one field"
        for other, other_keys in keys.items():
            if other != agency:
                with pytest.raises(EnvelopeError):
                    open_bytes(
                        raw,
                        recipient_agency=agency,
                        broker_keys=broker_keys,
                        recipient_keys=other_keys.decryption_keys(),
                    )


async def test_response_and_log_hold_no_payload_values(gateway: Gateway) -> None:
    response = await gateway.post(school_referral())
    assert response.status_code == 202
    text = response.text + repr([e.model_dump() for e in _log(gateway)])
    for value in PERSONAL_VALUES:
        assert value not in text


async def test_same_idempotency_key_returns_the_first_receipt(gateway: Gateway) -> None:
    notification = school_referral()
    first = await gateway.post(notification, headers={"Idempotency-Key": "retry-1"})
    again = await gateway.post(notification, headers={"Idempotency-Key": "retry-1"})
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.content == first.content, "a retry gets the first answer's own bytes"
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert len(_log(gateway)) == 3, "a retry must never make a second decision"
    changed = school_referral(purpose_statement="A different request under the same key.")
    conflict = await gateway.post(changed, headers={"Idempotency-Key": "retry-1"})
    assert conflict.status_code == 409
    assert len(_log(gateway)) == 3


async def test_a_retry_gets_its_first_answer_even_while_opa_is_down(
    gateway: Gateway, gateway_factory: GatewayFactory
) -> None:
    """The first answer is looked up while OPA decides; it still wins when deciding fails."""
    notification = school_referral()
    first = await gateway.post(notification, headers={"Idempotency-Key": "retry-2"})
    # Another gateway worker on the same database, whose OPA cannot be reached.
    cut_off = await gateway_factory(opa_url="http://127.0.0.1:9", opa_timeout_seconds=0.5)
    again = await cut_off.post(notification, headers={"Idempotency-Key": "retry-2"})
    changed = school_referral(purpose_statement="A different request under the same key.")
    conflict = await cut_off.post(changed, headers={"Idempotency-Key": "retry-2"})
    fresh = await cut_off.post(school_referral(), headers={"Idempotency-Key": "retry-3"})
    assert first.status_code == 202
    assert (again.status_code, again.json()) == (200, first.json())
    assert conflict.status_code == 409
    assert fresh.status_code == 503
    assert len(_log(gateway)) == 3


async def test_opa_down_means_503_no_share_nothing_written(gateway_factory: GatewayFactory) -> None:
    gateway: Gateway = await gateway_factory(opa_url="http://127.0.0.1:9", opa_timeout_seconds=0.5)
    response = await gateway.post(school_referral())
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "telephone" in response.json()["urgent"]
    assert _log(gateway) == []
    assert _outbox(gateway) == []


async def test_sender_sees_status_and_others_do_not(gateway: Gateway) -> None:
    posted = (await gateway.post(school_referral())).json()
    await wait_published(gateway.outbox)
    url = f"/v1/notifications/{posted['notification_id']}"
    own = await gateway.client.get(url, headers={"Authorization": f"Bearer {gateway.token('school-oakfield-primary')}"})
    other = await gateway.client.get(url, headers={"Authorization": f"Bearer {gateway.token('police-fenmere')}"})
    assert own.status_code == 200
    statuses = {r["agency_id"]: r["status"] for r in own.json()["recipients"]}
    for recipient in posted["recipients"]:
        expected = "published" if recipient["outcome"] in SHARED else "decided"
        assert statuses[recipient["agency_id"]] == expected
    assert other.status_code == 404

"""Oversized and deeply nested bodies; agency A's token on agency B's resources; A against B's envelopes.

JWT forgeries (alg none, HS256 with the public key, expired, wrong audience, unknown kid, replay) are
in tests/broker/test_gateway_admission.py, and A's Kafka principal reading B's inbox on the real
broker in tests/broker/test_kafka_access.py; here is what those leave out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from consumers.errors import RejectedMessage
from consumers.keys import load_agency_keyring, load_broker_public_keys
from consumers.opener import EnvelopeOpener
from consumers.validation import default_validator
from devstack.partnership import LocalPartnership
from schemas.envelope import EnvelopeHeader, SealedEnvelope
from tests.broker.conftest import Gateway
from tests.factories import school_referral
from transport.sealing import DecryptFailed, _decrypt, seal

pytestmark = pytest.mark.stack

SENDER, CSC, POLICE, BYSTANDER = "school-oakfield-primary", "csc-fenmere-mash", "police-fenmere", "probation-fenmere"


def _auth(gateway: Gateway, agency: str, role: str = "agency_system") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {gateway.token(agency, role=role, subject=f'{role}-1')}",
        "Content-Type": "application/json",
    }


def _entries(gateway: Gateway) -> list[audit.Entry]:
    """What requests wrote (the registry entries the gateway logs at start aside)."""
    with Session(gateway.engine) as session:
        return list(session.exec(select(audit.Entry).where(audit.Entry.kind != audit.EventKind.REGISTRY_CHANGED)))


# --- bodies ------------------------------------------------------------------------------------------


async def _chunks(data: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [256 * 1024 + 1, 2 * 1024 * 1024])
async def test_oversized_bodies_are_413_with_or_without_content_length(gateway: Gateway, size: int) -> None:
    notification = school_referral()
    notification["payload"]["concern_summary"] = "x" * size
    body = json.dumps(notification).encode()
    declared = await gateway.client.post("/v1/notifications", content=body, headers=_auth(gateway, SENDER))
    streamed = await gateway.client.post("/v1/notifications", content=_chunks(body), headers=_auth(gateway, SENDER))
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "payload_too_large"
    assert _entries(gateway) == []


@pytest.mark.parametrize("depth", [100, 900, 5_000, 100_000])
@pytest.mark.parametrize("shape", ["array", "object"])
async def test_deeply_nested_bodies_are_refused_cleanly(gateway: Gateway, depth: int, shape: str) -> None:
    opening, closing = ("[", "]") if shape == "array" else ('{"a":', "}")
    nested = opening * depth + "1" + closing * depth
    notification = json.dumps(school_referral()).replace('"concern_summary": ', f'"concern_summary": {nested}, "x": ')
    for body in (nested, notification):
        response = await gateway.client.post("/v1/notifications", content=body.encode(), headers=_auth(gateway, SENDER))
        assert response.status_code in (413, 422), (depth, shape, response.status_code)
    typed = b'{"decision": "release", "reason": ' + nested.encode() + b"}"
    response = await gateway.client.post("/v1/queues/some-delivery", content=typed, headers=_auth(gateway, CSC, "dsl"))
    assert response.status_code in (400, 404, 413, 422), response.text
    assert _entries(gateway) == []


# --- agency A on agency B's resources ----------------------------------------------------------------


async def _shared(gateway: Gateway) -> dict[str, Any]:
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_cannot_read_bs_notification_status(gateway: Gateway) -> None:
    receipt = await _shared(gateway)
    path = f"/v1/notifications/{receipt['notification_id']}"
    assert (await gateway.client.get(path, headers=_auth(gateway, SENDER))).status_code == 200
    for other in (CSC, POLICE, BYSTANDER):
        response = await gateway.client.get(path, headers=_auth(gateway, other))
        assert response.status_code == 404, (other, response.text)


async def test_a_cannot_read_decisions_it_is_not_party_to(gateway: Gateway) -> None:
    receipt = await _shared(gateway)
    seqs = [e.seq for e in _entries(gateway) if e.notification_id == receipt["notification_id"]]
    listing = await gateway.client.get("/v1/decisions?limit=200", headers=_auth(gateway, BYSTANDER, "dsl"))
    assert listing.status_code == 200
    assert not {item["seq"] for item in listing.json()["items"]} & set(seqs)
    for seq in seqs:
        response = await gateway.client.get(f"/v1/decisions/{seq}", headers=_auth(gateway, BYSTANDER, "dsl"))
        assert response.status_code in (403, 404), response.text


async def test_a_cannot_answer_bs_review_queue(gateway: Gateway) -> None:
    response = await gateway.post(school_referral(sender_in_doubt=True))
    assert response.status_code == 202, response.text
    held = [r for r in response.json()["recipients"] if r["outcome"] == "needs_advice"]
    assert held
    for other in (POLICE, BYSTANDER):
        answer = await gateway.client.post(
            f"/v1/queues/{held[0]['delivery_id']}",
            headers=_auth(gateway, other, "dsl"),
            json={"decision": "release", "reason": "Not my agency's item."},
        )
        assert answer.status_code in (403, 404), (other, answer.text)
    queue = await gateway.client.get("/v1/queues", headers=_auth(gateway, BYSTANDER, "dsl"))
    assert held[0]["delivery_id"] not in queue.text


async def test_a_cannot_send_as_b_even_with_bs_name_in_every_field(gateway: Gateway) -> None:
    notification = school_referral()
    response = await gateway.client.post("/v1/notifications", json=notification, headers=_auth(gateway, POLICE))
    assert response.status_code == 422  # the sender is the token: the body's sender is a wrong field
    assert [e["loc"] for e in response.json()["errors"]] == [["sender", "agency_id"]]
    # Nothing decided or shared; the attempt itself is on record for the police's IG lead.
    assert [(e.kind, e.actor_agency) for e in _entries(gateway)] == [(audit.EventKind.ACCESS_REFUSED, POLICE)]


# --- agency A against agency B's envelopes -----------------------------------------------------------


def _sealed_to(partnership: LocalPartnership, gateway: Gateway, agency: str) -> SealedEnvelope:
    registry_agency = gateway.registry.agency(agency)
    assert registry_agency is not None
    key = registry_agency.current_encryption_key
    header = EnvelopeHeader(
        delivery_id="d-attack-1",
        notification_id="n-attack-1",
        sender_agency=SENDER,
        recipient_agency=agency,
        message_type="safeguarding_referral",
        schema_version="1.0",
        recipient_key_id=key.kid,
    )
    keys = gateway.keys
    return seal(
        {"concern_summary": "Fictional: sealed for the police only."},
        header=header,
        recipient_public_key=key.x25519(),
        signing_key=keys.signing_key,
        signing_key_id=keys.signing_key_id,
        sealed_at=datetime.now(UTC),
    )


def _opener(partnership: LocalPartnership, agency: str) -> EnvelopeOpener:
    keyring = load_agency_keyring(partnership.agency_keys_dir(agency), agency_id=agency)
    return EnvelopeOpener(
        agency_id=agency,
        broker_keys=load_broker_public_keys(partnership.broker_keys_dir),
        decryption_keys=keyring.decryption_keys,
        validate=default_validator(),
    )


async def test_a_cannot_open_bs_envelope_however_it_relabels_it(gateway: Gateway) -> None:
    partnership = gateway.partnership
    envelope = _sealed_to(partnership, gateway, POLICE)
    csc = _opener(partnership, CSC)
    with pytest.raises(RejectedMessage):  # as sent: sealed and addressed to someone else
        csc(envelope.to_bytes())
    own_kid = next(iter(load_agency_keyring(partnership.agency_keys_dir(CSC), agency_id=CSC).decryption_keys))
    relabelled = envelope.model_copy(
        update={"header": envelope.header.model_copy(update={"recipient_agency": CSC, "recipient_key_id": own_kid})}
    )
    with pytest.raises(RejectedMessage):  # the header is signed: relabelling breaks the signature
        csc(relabelled.to_bytes())
    keyring = load_agency_keyring(partnership.agency_keys_dir(CSC), agency_id=CSC)
    for candidate in (envelope, relabelled):  # even skipping the signature, CSC's key cannot decrypt it
        for private_key in keyring.decryption_keys.values():
            with pytest.raises(DecryptFailed):
                _decrypt(candidate, private_key)
    assert b"sealed for the police" not in envelope.to_bytes()

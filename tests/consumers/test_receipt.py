"""Receipts pass the gateway's own agency-token checks, with the claims the decision log needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from broker.admission.tokens import verify_token
from broker.errors import InvalidClaim, TokenExpired
from broker.partnership.keys import AgencyKeys, generate_agency_keys
from broker.partnership.registry import Registry, encryption_public_key, jwt_verification_key, register_agency
from consumers.keys import load_agency_keyring
from consumers.receipt import ReceiptKind, ReceiptSigner
from consumers.sinks import Delivery
from tests.consumers.conftest import AUDIENCE, DECIDED_BY, NOW

AGENCY = "csc-fictional"


def _registry(keys: AgencyKeys) -> Registry:
    return register_agency(
        Registry(partnership_id="fictional-partnership"),
        agency_id=AGENCY,
        name="Fictional Children's Services",
        agency_type="csc_front_door",
        jwt_key=jwt_verification_key(keys.current_jwt_key.private_key.public_key(), created_at=NOW),
        encryption_key=encryption_public_key(keys.current_encryption_key.private_key.public_key(), created_at=NOW),
        now=NOW,
    )


def _delivery() -> Delivery:
    return Delivery(
        decided_by=DECIDED_BY,
        delivery_id="dlv-42",
        notification_id="ntf-42",
        message_type="safeguarding_referral",
        sender_agency="school-fictional",
        recipient_agency=AGENCY,
        payload={"concern_summary": "x"},
        schema_version="1",
        envelope_digest="sha256:" + "ab" * 32,
        sealed_at="2026-01-05T09:00:00Z",
    )


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_receipt_verifies_as_an_agency_token(tmp_path: Path, alg: str) -> None:
    keys = generate_agency_keys(tmp_path, agency_id=AGENCY, now=NOW, alg=alg)  # type: ignore[arg-type]
    signer = ReceiptSigner(
        agency_id=AGENCY, audience=AUDIENCE, key=load_agency_keyring(tmp_path, agency_id=AGENCY).jwt_key
    )
    token = signer.for_delivery(_delivery(), "delivered").decode()
    caller = verify_token(token, registry=_registry(keys), audience=AUDIENCE, receipt=True)
    assert (caller.agency_id, caller.role, caller.key_id) == (AGENCY, "agency_system", keys.current_jwt_key.kid)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["kind"] == "delivered"
    assert (claims["delivery_id"], claims["notification_id"]) == ("dlv-42", "ntf-42")
    assert claims["envelope_digest"] == _delivery().envelope_digest
    assert claims["exp"] - claims["iat"] == 300
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": keys.current_jwt_key.kid, "typ": "JWT"}


def test_every_receipt_has_a_fresh_jti(tmp_path: Path) -> None:
    generate_agency_keys(tmp_path, agency_id=AGENCY, now=NOW)
    signer = ReceiptSigner(
        agency_id=AGENCY, audience=AUDIENCE, key=load_agency_keyring(tmp_path, agency_id=AGENCY).jwt_key
    )
    tokens = [signer.sign(kind=ReceiptKind.ACKNOWLEDGED, delivery_id="d", notification_id="n") for _ in range(3)]
    jtis = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 3


def test_an_old_receipt_is_refused_by_the_gateway(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path, agency_id=AGENCY, now=NOW)
    signer = ReceiptSigner(
        agency_id=AGENCY,
        audience=AUDIENCE,
        key=load_agency_keyring(tmp_path, agency_id=AGENCY).jwt_key,
        clock=lambda: datetime.now(UTC) - timedelta(minutes=10),
    )
    token = signer.sign(kind=ReceiptKind.DELIVERED, delivery_id="d", notification_id="n")
    with pytest.raises(TokenExpired):
        verify_token(token, registry=_registry(keys), audience=AUDIENCE, receipt=True)


def test_a_receipt_verifies_only_as_a_receipt(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path, agency_id=AGENCY, now=NOW)
    signer = ReceiptSigner(
        agency_id=AGENCY, audience=AUDIENCE, key=load_agency_keyring(tmp_path, agency_id=AGENCY).jwt_key
    )
    receipt = signer.sign(kind=ReceiptKind.DELIVERED, delivery_id="d", notification_id="n")
    with pytest.raises(InvalidClaim, match="delivery receipt"):
        verify_token(receipt, registry=_registry(keys), audience=AUDIENCE)
    caller = verify_token(signer.api_token(), registry=_registry(keys), audience=AUDIENCE)
    assert caller.role == "agency_system"

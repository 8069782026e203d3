"""Admission: every token failure, bad bodies and size limits are refused before any decision."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlmodel import Session, select

import audit
from tests.broker.conftest import AUDIENCE, Gateway
from tests.factories import school_referral

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

SENDER = "school-oakfield-primary"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _entries(gateway: Gateway) -> list[audit.Entry]:
    """What requests wrote (the registry entries the gateway logs at start aside)."""
    with Session(gateway.engine) as session:
        return list(session.exec(select(audit.Entry).where(audit.Entry.kind != audit.EventKind.REGISTRY_CHANGED)))


def _forge(gateway: Gateway, case: str) -> str:
    keys = gateway.partnership.agency_keys(SENDER)
    key = keys.current_jwt_key
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": SENDER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": f"jti-{case}-{now.timestamp()}",
        "role": "agency_system",
    }
    headers = {"kid": key.kid}
    if case == "alg_none":
        return f"{_b64({'alg': 'none', 'kid': key.kid})}.{_b64(claims)}."
    if case == "hs256_with_public_key":
        public = gateway.registry.agencies[SENDER].jwt_keys[0].jwk["x"]
        return jwt.encode(claims, public, algorithm="HS256", headers=headers)
    if case == "unknown_kid":
        headers["kid"] = "not-a-registered-kid"
    if case == "bad_signature":
        other = gateway.partnership.agency_keys("police-fenmere").current_jwt_key.private_key
        return jwt.encode(claims, other, algorithm=key.alg, headers=headers)
    if case == "expired":
        claims["iat"] = int((now - timedelta(minutes=10)).timestamp())
        claims["exp"] = int((now - timedelta(minutes=5)).timestamp())
    if case == "not_yet_valid":
        claims["nbf"] = int((now + timedelta(minutes=5)).timestamp())
    if case == "wrong_audience":
        claims["aud"] = "some-other-service"
    if case == "unknown_issuer":
        claims["iss"] = "agency-that-does-not-exist"
    if case == "missing_role":
        del claims["role"]
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=headers)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("alg_none", "disallowed_algorithm"),
        ("hs256_with_public_key", "disallowed_algorithm"),
        ("unknown_kid", "unknown_key"),
        ("bad_signature", "bad_signature"),
        ("expired", "expired"),
        ("not_yet_valid", "not_yet_valid"),
        ("wrong_audience", "wrong_audience"),
        ("unknown_issuer", "unknown_issuer"),
        ("missing_role", "missing_claim"),
    ],
)
async def test_token_failures_are_401_with_reason(gateway: Gateway, case: str, reason: str) -> None:
    token = _forge(gateway, case)
    response = await gateway.client.post(
        "/v1/notifications", json=school_referral(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["reason"] == reason
    assert _entries(gateway) == []


async def test_missing_token_is_401(gateway: Gateway) -> None:
    response = await gateway.client.post("/v1/notifications", json=school_referral())
    assert response.status_code == 401
    assert response.json()["reason"] == "malformed_token"


async def test_replayed_jti_is_refused(gateway: Gateway) -> None:
    token = gateway.token(SENDER, jti="once-only-jti")
    headers = {"Authorization": f"Bearer {token}"}
    first = await gateway.client.post("/v1/notifications", json={"not": "valid"}, headers=headers)
    second = await gateway.client.post("/v1/notifications", json={"not": "valid"}, headers=headers)
    assert first.status_code == 422
    assert second.status_code == 401
    assert second.json()["reason"] == "replayed"


async def test_unknown_field_is_422_naming_the_path(gateway: Gateway) -> None:
    notification = school_referral()
    notification["payload"]["favourite_colour"] = "blue"
    response = await gateway.post(notification)
    assert response.status_code == 422
    locations = [error["loc"] for error in response.json()["errors"]]
    assert ["payload", "favourite_colour"] in locations
    assert _entries(gateway) == []


async def test_unknown_enum_value_is_422_naming_the_path(gateway: Gateway) -> None:
    response = await gateway.post(school_referral(purpose="curiosity"))
    assert response.status_code == 422
    assert ["purpose"] in [e["loc"] for e in response.json()["errors"]]


async def test_body_that_is_not_json_is_422(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {gateway.token(SENDER)}", "Content-Type": "application/json"}
    response = await gateway.client.post("/v1/notifications", content=b"{not json", headers=headers)
    assert response.status_code == 422


async def test_oversized_body_is_413(gateway: Gateway) -> None:
    notification = school_referral()
    notification["payload"]["concern_summary"] = "x" * (gateway.settings.max_body_bytes + 1)
    response = await gateway.post(notification)
    assert response.status_code == 413
    assert _entries(gateway) == []


async def test_an_agency_cannot_send_as_another(gateway: Gateway) -> None:
    response = await gateway.post(school_referral(), agency_id="police-fenmere")
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [["sender", "agency_id"]]
    # Nothing decided; the attempt is on record as an access refusal for the police's IG lead.
    assert [(e.kind, e.actor_agency) for e in _entries(gateway)] == [(audit.EventKind.ACCESS_REFUSED, "police-fenmere")]

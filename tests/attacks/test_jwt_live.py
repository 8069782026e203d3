"""Forged and misused tokens against every authenticated operation of a real uvicorn gateway.

tests/broker/test_gateway_admission.py proves each refusal in-process on one route; this sends each
forgery to every route over HTTP and checks the answer is a 401 naming the reason, before any work.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from broker.partnership.registry import load_registry
from tests.attacks.conftest import LiveGateway
from tests.factories import school_referral

pytestmark = pytest.mark.stack

AUDIENCE = "safeguarding-broker"
SENDER = "school-oakfield-primary"
OPERATIONS = [
    ("POST", "/v1/notifications"),
    ("GET", "/v1/notifications/n-1"),
    ("GET", "/v1/decisions"),
    ("GET", "/v1/decisions/1"),
    ("GET", "/v1/queues"),
    ("POST", "/v1/queues/d-1"),
    ("POST", "/v1/urgent/1"),
    ("GET", "/v1/overdue"),
]
FORGERIES = {
    "alg_none": "disallowed_algorithm",
    "hs256_with_public_key": "disallowed_algorithm",
    "expired": "expired",
    "wrong_audience": "wrong_audience",
    "unknown_kid": "unknown_key",
    "bad_signature": "bad_signature",
    "unknown_issuer": "unknown_issuer",
    "lifetime_too_long": "lifetime_too_long",
}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forge(gateway: LiveGateway, case: str) -> str:
    keys = gateway.partnership.agency_keys(SENDER)
    key = keys.current_jwt_key
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": SENDER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": str(uuid.uuid4()),
        "role": "dsl",
        "sub": "dsl-attack-01",  # complete, so each forgery is refused for what was forged
    }
    headers: dict[str, str] = {"kid": key.kid}
    if case == "alg_none":
        return f"{_b64({'alg': 'none', 'kid': key.kid})}.{_b64(claims)}."
    if case == "hs256_with_public_key":
        # The registered public key (its JWK `x`, as published) used as the HMAC secret.
        public = load_registry(gateway.partnership.registry_file).agencies[SENDER].jwt_keys[0].jwk["x"]
        return jwt.encode(claims, public, algorithm="HS256", headers=headers)
    if case == "expired":
        claims["iat"] = int((now - timedelta(minutes=10)).timestamp())
        claims["exp"] = int((now - timedelta(minutes=5)).timestamp())
    if case == "wrong_audience":
        claims["aud"] = "some-other-service"
    if case == "unknown_kid":
        headers["kid"] = "not-a-registered-kid"
    if case == "unknown_issuer":
        claims["iss"] = "agency-that-does-not-exist"
    if case == "lifetime_too_long":
        claims["exp"] = int((now + timedelta(days=30)).timestamp())
    if case == "bad_signature":
        other = gateway.partnership.agency_keys("police-fenmere").current_jwt_key
        return jwt.encode(claims, other.private_key, algorithm=other.alg, headers=headers)
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=headers)


def _send(client: httpx.Client, gateway: LiveGateway, method: str, path: str, token: str) -> httpx.Response:
    body = school_referral() if path == "/v1/notifications" else {"decision": "release", "reason": "x"}
    return client.request(
        method,
        f"{gateway.url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body if method == "POST" else None,
    )


def test_every_forgery_on_every_operation_is_401(live_gateway: LiveGateway) -> None:
    tried = 0
    with httpx.Client(timeout=15) as client:
        for case, reason in FORGERIES.items():
            for method, path in OPERATIONS:
                response = _send(client, live_gateway, method, path, forge(live_gateway, case))
                tried += 1
                assert response.status_code == 401, (case, method, path, response.text)
                assert reason is None or response.json()["reason"] == reason, (case, response.text)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
    print(f"jwt: {tried} forged tokens over {len(OPERATIONS)} operations, all 401")


def test_a_replayed_token_is_refused_on_every_operation(live_gateway: LiveGateway) -> None:
    with httpx.Client(timeout=15) as client:
        for method, path in OPERATIONS:
            token = live_gateway.token(SENDER, "dsl")
            first = _send(client, live_gateway, method, path, token)
            again = _send(client, live_gateway, method, path, token)
            assert first.status_code != 401, (method, path, first.text)
            assert again.status_code == 401 and again.json()["reason"] == "replayed", (method, path, again.text)

"""Hostile bodies are clean 422s that never repeat what was sent (found by the attack suite)."""

from __future__ import annotations

import pytest

from tests.broker.conftest import Gateway
from tests.factories import school_referral

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack


async def _post_raw(gateway: Gateway, body: bytes) -> tuple[int, str]:
    headers = {
        "Authorization": f"Bearer {gateway.token('school-oakfield-primary')}",
        "Content-Type": "application/json",
    }
    response = await gateway.client.post("/v1/notifications", content=body, headers=headers)
    return response.status_code, response.text


async def test_deeply_nested_body_under_the_size_limit_is_422(gateway: Gateway) -> None:
    status, text = await _post_raw(gateway, b"[" * 50_000 + b"]" * 50_000)
    assert status == 422, text
    assert "nested too deeply" in text


async def test_unknown_message_type_is_not_echoed(gateway: Gateway) -> None:
    hostile = "' OR '1'='1 {{7*7}}"
    response = await gateway.post(school_referral(message_type=hostile))
    assert response.status_code == 422
    assert hostile not in response.text
    assert "safeguarding_referral" in response.text  # still says what would be accepted

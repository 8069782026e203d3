"""The database going away is a clear 503 (found by the fault suite: it was a bare 500)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.factories import school_referral

# Needs the running stack: the stack's PostgreSQL, and the gateway fixture's Kafka and OPA.
pytestmark = pytest.mark.stack


async def test_database_gone_is_503_with_retry_after_and_no_details(
    gateway_factory: Any, postgres_url: str, postgres_admin_url: str
) -> None:
    gateway = await gateway_factory(database_url=postgres_url)
    assert (await gateway.post(school_referral())).status_code == 202
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    response = await gateway.post(school_referral(), headers={"Idempotency-Key": "after-the-database-went"})
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "log_unavailable"
    assert "Retry-After" in response.headers and body["urgent"]
    assert "127.0.0.1" not in body["detail"] and "postgres" not in body["detail"].lower()

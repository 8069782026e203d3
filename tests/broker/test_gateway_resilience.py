"""The gateway under failure and concurrency: Kafka down, two worker processes on one log."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

import audit
from devstack import kafka as stack_kafka
from devstack.partnership import LocalPartnership
from devstack.settings import StackSettings
from schemas.topics import inbox_topic
from tests.broker.conftest import AUDIENCE, Gateway, gateway_settings
from tests.broker.kafka_reader import records, wait_published
from tests.conftest import TEST_NAMESPACE
from tests.factories import school_referral

# Needs the running stack: the stack's Kafka and OPA, stopped and slowed on purpose.
pytestmark = pytest.mark.stack

SHARED = {"share", "share_minimised", "share_urgent_review_after"}


async def test_kafka_down_still_accepts_and_publishes_after_restart(
    gateway: Gateway, kafka_admin_config: dict[str, Any]
) -> None:
    stack = StackSettings()
    await asyncio.to_thread(stack_kafka.stop, stack)
    try:
        response = await gateway.post(school_referral())
        assert response.status_code == 202, response.text
        shared = [r for r in response.json()["recipients"] if r["outcome"] in SHARED]
        assert shared
        await asyncio.sleep(1.0)
        assert await asyncio.to_thread(gateway.outbox.depth) == len(shared)
    finally:
        await asyncio.to_thread(stack_kafka.start, stack)
    await wait_published(gateway.outbox, timeout=60)
    for recipient in shared:
        found = await records(
            kafka_admin_config,
            inbox_topic(recipient["agency_id"], namespace=TEST_NAMESPACE),
            want={recipient["delivery_id"]},
        )
        assert len(found) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(partnership: LocalPartnership, database_url: str) -> dict[str, str]:
    settings = gateway_settings(partnership, database_url)
    return {
        **os.environ,
        "SGB_DATABASE_URL": settings.database_url,
        "SGB_PARTNERSHIP_ID": settings.partnership_id,
        "SGB_REGISTRY_FILE": str(settings.registry_file),
        "SGB_KEYS_DIR": str(settings.keys_dir),
        "SGB_AUDIENCE": AUDIENCE,
        "SGB_TOPIC_NAMESPACE": settings.topic_namespace,
    }


async def _wait_live(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(150):
            assert proc.poll() is None, "gateway exited early"
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("gateway did not become ready")


async def test_two_workers_never_duplicate_a_decision_or_break_the_log(
    partnership: LocalPartnership, tmp_path: Path
) -> None:
    from broker.partnership.cli import issue_token

    database_url = f"sqlite:///{tmp_path / 'shared.db'}"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker.gateway", "--port", str(port), "--workers", "2"],
        env=_env(partnership, database_url),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_live(url, proc)
        keys = partnership.agency_keys("school-oakfield-primary")
        notifications = [school_referral() for _ in range(20)]

        def post(client: httpx.AsyncClient, i: int, notification: dict[str, Any]) -> Any:
            token = issue_token(keys, role="agency_system", audience=AUDIENCE)
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"key-{i}"}
            return client.post("/v1/notifications", json=notification, headers=headers)

        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            # Every notification twice at once, as a retrying client might: one decision each.
            responses = await asyncio.gather(
                *[post(client, i, n) for i, n in enumerate(notifications)],
                *[post(client, i, n) for i, n in enumerate(notifications)],
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    codes = sorted(r.status_code for r in responses)
    assert codes.count(202) == 20, codes
    assert codes.count(200) == 20, codes
    by_id: dict[str, list[Any]] = {}
    for response in responses:
        by_id.setdefault(response.json()["notification_id"], []).append(response.json())
    assert all(first == second for first, second in by_id.values()), "a retry must get the first receipt"
    engine = audit.create_engine_for(database_url)
    with Session(engine) as session:
        entries = list(session.exec(select(audit.Entry).where(audit.Entry.kind == "decided")))
        report = audit.verify_log(session)
    assert len(entries) == 20 * 3
    assert len({e.delivery_id for e in entries}) == len(entries)
    assert report.size >= len(entries)


async def test_opa_stopped_means_503_and_nothing_logged_or_published(gateway: Gateway) -> None:
    from devstack import opa as stack_opa

    stack = StackSettings()
    policies = Path(__file__).resolve().parents[2] / "policies"
    await asyncio.to_thread(stack_opa.stop, stack)
    try:
        response = await gateway.post(school_referral())
    finally:
        await asyncio.to_thread(stack_opa.start, stack, policies)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    with Session(gateway.engine) as session:
        written = select(audit.Entry).where(audit.Entry.kind != audit.EventKind.REGISTRY_CHANGED)
        assert list(session.exec(written)) == []
    assert await asyncio.to_thread(gateway.outbox.depth) == 0
    # Once OPA is back (and has been given the registry again) sharing resumes.
    again = await gateway.post(school_referral())
    assert again.status_code == 202, again.text


async def test_opa_too_slow_means_503(gateway_factory: Any) -> None:
    gateway: Gateway = await gateway_factory(opa_timeout_seconds=0.000_001)
    response = await gateway.post(school_referral())
    assert response.status_code == 503
    assert response.json()["error"] == "policy_unavailable"


async def test_an_undefined_decision_means_503_and_nothing_logged(gateway_factory: Any) -> None:
    # The stack's OPA answers a rule it does not have with no `result` at all: never permission.
    gateway: Gateway = await gateway_factory(opa_entrypoint="safeguarding/decision/no_such_rule")
    response = await gateway.post(school_referral())
    assert response.status_code == 503
    assert response.json()["error"] == "policy_unavailable"
    assert "Retry-After" in response.headers
    with Session(gateway.engine) as session:
        written = select(audit.Entry).where(audit.Entry.kind != audit.EventKind.REGISTRY_CHANGED)
        assert list(session.exec(written)) == []

"""A partnership end to end: the real gateway served over HTTP, its relay on the real Kafka, agency consumers.

The partnership is the fixture one (same ids, types and partnership id as the other gateway tests, so
the registry this gateway pushes to the shared OPA decides alike for everyone), but freshly keyed, and
the police agency seals with the post-quantum hybrid. Everything on Kafka is this test's alone: a
namespace of the run's, and consumer principals named with the run's prefix, granted exactly the
topics of the agency they stand for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import Session

import audit
from broker.app import create_app
from broker.partnership import kafka_access
from consumers.ledger import Ledger
from consumers.runner import AgencyConsumer
from consumers.settings import ConsumerSettings
from devstack.partnership import provision
from schemas.envelope import HYBRID_SUITE_NAME
from schemas.topics import dead_letter_topic, inbox_topic, receipts_topic
from tests.broker.conftest import AUDIENCE, Gateway, demo_agencies, demo_offices, gateway_settings
from tests.conftest import _admin_properties, run_agency_id, run_namespace
from tests.consumers.conftest import wait_until
from tests.factories import school_referral
from transport.kafka import TopicSettings, ensure_topics

CSC, POLICE = "csc-fenmere-mash", "police-fenmere"
CONSUMERS = (CSC, POLICE)


async def post_accepted(gateway: Gateway, attempts: int = 5) -> httpx.Response:
    """Post a school referral until it is accepted (202).

    The stack's OPA is shared: another gateway (another test run) may push its registry between this
    gateway's reload and its question, which the gateway answers, rightly, with 503. Asking again is
    what a sender does; anything else fails the test at once.
    """
    for _ in range(attempts):
        response = await gateway.post(school_referral())
        if response.status_code != 503 or response.json().get("error") != "policy_unavailable":
            break
        await asyncio.sleep(0.5)
    assert response.status_code == 202, response.text
    return response


async def run_consumers(
    consumers: dict[str, AgencyConsumer], stop: asyncio.Event, done: Callable[[], bool], *, timeout: float = 90.0
) -> None:
    """Run the consumers until `done()`; a consumer that ends early fails the test with its own error."""
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers.values()]
    try:
        await wait_until(lambda: done() or any(t.done() for t in tasks), timeout=timeout)
        for task in tasks:
            if task.done():
                task.result()
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)


@dataclass
class Site:
    """The running gateway (its app's state readable, its URL reachable) and the consumers' credentials."""

    gateway: Gateway
    url: str
    namespace: str
    principals: dict[str, tuple[str, str]]  # agency id -> (Kafka user, password)
    root: Path

    def consumer_settings(self, agency_id: str, **overrides: Any) -> ConsumerSettings:
        user, password = self.principals[agency_id]
        values: dict[str, Any] = {
            # development: the gateway is served over plain HTTP on loopback here.
            "environment": "development",
            "agency_id": agency_id,
            "kafka_user": user,
            "kafka_password": password,
            "kafka_bootstrap": os.environ["SGB_KAFKA_BOOTSTRAP"],
            "topic_namespace": self.namespace,
            "key_dir": self.gateway.partnership.agency_keys_dir(agency_id),
            "broker_public_keys": self.gateway.partnership.broker_keys_dir,
            "sink": f"sqlite:{self.root / f'inbox-{agency_id}.db'}",
            "ledger_path": self.root / f"ledger-{agency_id}.db",
            "broker_audience": AUDIENCE,
            "gateway_url": self.url,
            **overrides,
        }
        return ConsumerSettings(**values)


def _grant(admin_config: dict[str, Any], namespace: str, principals: dict[str, tuple[str, str]]) -> None:
    """The relay in this namespace, and each consumer principal on its agency's topics only (one JVM run)."""
    grants = kafka_access.relay_grants(os.environ["SGB_KAFKA_USER"], namespace=namespace)
    for agency_id, (user, _) in principals.items():
        grants += [
            dataclasses.replace(g, principal=user) for g in kafka_access.agency_grants(agency_id, namespace=namespace)
        ]
    kafka_access.apply(
        kafka_libs=Path(os.environ["SGB_KAFKA_LIBS"]),
        admin_properties=_admin_properties(admin_config),
        users=dict(principals.values()),
        grants=grants,
    )


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """Serve `app` (lifespan included) with uvicorn on a free loopback port; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def site(tmp_path: Path, kafka_admin_config: dict[str, Any], topic_namespace: str) -> AsyncIterator[Site]:
    # `topic_namespace`: the run's namespaces (this one included) are deleted when the run ends.
    namespace = run_namespace(f"w{uuid.uuid4().hex[:8]}")
    partnership_id, specs = demo_agencies()
    specs = [dataclasses.replace(s, suite=HYBRID_SUITE_NAME) if s.agency_id == POLICE else s for s in specs]
    # With the fixture's office holders: the partnership's IG lead shreds cases (tests/witness/test_withdrawal.py).
    partnership = await asyncio.to_thread(provision, tmp_path / "partnership", partnership_id, specs, demo_offices())
    principals = {agency: (run_agency_id(), secrets.token_urlsafe(18)) for agency in CONSUMERS}
    await asyncio.to_thread(_grant, kafka_admin_config, namespace, principals)
    topics = [receipts_topic(namespace=namespace)]
    for agency in CONSUMERS:
        topics += [inbox_topic(agency, namespace=namespace), dead_letter_topic(agency, namespace=namespace)]
    await ensure_topics(kafka_admin_config, topics, settings=TopicSettings())
    settings = gateway_settings(partnership, f"sqlite:///{tmp_path / 'broker.db'}", topic_namespace=namespace)
    app = create_app(settings)
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield Site(Gateway(app, client, settings, partnership), url, namespace, principals, tmp_path)


@dataclass
class LoneGateway:
    """A gateway served over HTTP with no relay (no Kafka): a log, its checkpoints and its witness API."""

    gateway: Gateway
    url: str
    root: Path

    async def checkpoint_after_a_referral(self) -> str:
        """Post a notification, sign a checkpoint of the log as it now stands, return its note."""
        await post_accepted(self.gateway)
        await asyncio.to_thread(self.gateway.decision_log.refresh_checkpoint)
        note = self.gateway.decision_log.checkpoint_note
        assert note is not None
        return note

    async def insider_checkpoint_after_a_referral(self) -> str:
        """Post a notification, then sign the log as it now stands with the broker's key, as an insider
        holding that key would: the running gateway signs only what it can vouch for."""
        await post_accepted(self.gateway)
        with Session(self.gateway.engine) as session, session.begin():
            return audit.write_checkpoint(session, self.gateway.decision_log.signer).note


@pytest.fixture
async def lone_gateway(tmp_path: Path, opa_url: str) -> AsyncIterator[LoneGateway]:
    partnership_id, specs = demo_agencies()
    partnership = await asyncio.to_thread(provision, tmp_path / "partnership", partnership_id, specs)
    # Checkpoints only when a test signs one, so each test knows exactly which trees exist.
    settings = gateway_settings(
        partnership,
        f"sqlite:///{tmp_path / 'broker.db'}",
        run_relay_in_gateway=False,
        checkpoint_seconds=3600,
        opa_url=opa_url,
    )
    app = create_app(settings)
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield LoneGateway(Gateway(app, client, settings, partnership), url, tmp_path)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    """A witness's ledger of kept checkpoints, the test's own."""
    return Ledger(tmp_path / "csc-ledger.db")

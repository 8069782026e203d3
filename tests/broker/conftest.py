"""A real gateway for tests: provisioned partnership, SQLite log, the stack's OPA and Kafka."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from broker.app import create_app
from broker.db.log import DecisionLog
from broker.delivery.outbox import Outbox
from broker.partnership.cli import issue_token
from broker.partnership.keys import BrokerKeys
from broker.partnership.registry import Registry
from broker.partnership.roles import Office
from broker.settings import BrokerSettings
from devstack.partnership import AgencySpec, LocalPartnership, provision
from faults.harness import PrivateOpa
from tests.conftest import TEST_NAMESPACE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AUDIENCE = "safeguarding-broker"


def demo_agencies() -> tuple[str, list[AgencySpec]]:
    data = json.loads((FIXTURES / "registry.json").read_text())
    specs = [
        AgencySpec(agency_id, a["type"], a["name"], roles=tuple(data["grants"].get(agency_id, ())))
        for agency_id, a in data["agencies"].items()
    ]
    return data["partnership_id"], specs


def demo_offices() -> dict[Office, str]:
    offices: dict[Office, str] = json.loads((FIXTURES / "registry.json").read_text())["offices"]
    return offices


@pytest.fixture(scope="session")
def partnership(tmp_path_factory: pytest.TempPathFactory, relay_namespace: str) -> LocalPartnership:
    # `relay_namespace`: the stack's relay principal may publish in this run's topic namespace.
    partnership_id, specs = demo_agencies()
    return provision(tmp_path_factory.mktemp("partnership"), partnership_id, specs, demo_offices())


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    settings: BrokerSettings
    partnership: LocalPartnership

    # What the tests inspect of a running gateway: the same objects its lifespan opened.
    @property
    def decision_log(self) -> DecisionLog:
        decision_log: DecisionLog = self.app.state.decision_log
        return decision_log

    @property
    def engine(self) -> Engine:
        return self.decision_log.engine

    @property
    def outbox(self) -> Outbox:
        outbox: Outbox = self.app.state.outbox
        return outbox

    @property
    def keys(self) -> BrokerKeys:
        keys: BrokerKeys = self.app.state.keys
        return keys

    @property
    def registry(self) -> Registry:
        registry: Registry = self.app.state.registry
        return registry

    def token(self, agency_id: str, role: str = "agency_system", **claims: Any) -> str:
        if role != "agency_system":
            claims.setdefault("subject", f"{role}-test-01")  # a person's token names the person
        return issue_token(self.partnership.agency_keys(agency_id), role=role, audience=AUDIENCE, **claims)

    async def post(
        self, notification: dict[str, Any], *, agency_id: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sender = agency_id or notification["sender"]["agency_id"]
        auth = {"Authorization": f"Bearer {self.token(sender)}"}
        return await self.client.post("/v1/notifications", json=notification, headers={**auth, **(headers or {})})


# What the tests' Prometheus carries: without it (or with none set) the gateway serves no /metrics.
METRICS_TOKEN = "scrape-token-for-tests"


def gateway_settings(partnership: LocalPartnership, database_url: str, **overrides: Any) -> BrokerSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "partnership_id": partnership.partnership_id,
        "registry_file": partnership.registry_file,
        "keys_dir": partnership.broker_keys_dir,
        "audience": AUDIENCE,
        "checkpoint_seconds": 0.5,
        "topic_namespace": TEST_NAMESPACE,
        "metrics_token": METRICS_TOKEN,
        **overrides,
    }
    return BrokerSettings(**values)


GatewayFactory = Callable[..., Any]


@pytest.fixture
async def gateway_factory(partnership: LocalPartnership, sqlite_url: str) -> AsyncIterator[GatewayFactory]:
    """Start gateways (lifespan included) with settings overrides; all stop at teardown."""
    stack: list[Any] = []

    async def start(**overrides: Any) -> Gateway:
        settings = gateway_settings(partnership, overrides.pop("database_url", sqlite_url), **overrides)
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        stack.append(lifespan)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        stack.append(client)
        return Gateway(app, client, settings, partnership)

    yield start
    for item in reversed(stack):
        if isinstance(item, httpx.AsyncClient):
            await item.aclose()
        else:
            await item.__aexit__(None, None, None)


@pytest.fixture
async def gateway(gateway_factory: GatewayFactory) -> Gateway:
    started: Gateway = await gateway_factory()
    return started


@pytest.fixture
def private_opa(tmp_path: Path) -> Iterator[str]:
    """The URL of an OPA of the test's own, serving this checkout's policies: the stack's may serve
    another copy, and a test that changes OPA's data must not change it under others."""
    opa = PrivateOpa(tmp_path / "private-opa")
    opa.start()
    try:
        yield opa.url
    finally:
        opa.stop()

"""Attack fixtures: the in-process gateway of tests/broker, and a real uvicorn gateway for the fuzzer."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.partnership.cli import issue_token
from broker.partnership.registry import load_registry
from broker.partnership.roles import AGENCY_SYSTEM, ROLES
from broker.review.access import sender_roles
from devstack.partnership import LocalPartnership
from faults.harness import AUDIENCE, Child, PrivateOpa, clean_env, free_port, http_ok, running, wait_for
from tests.broker.conftest import gateway, gateway_factory, partnership

__all__ = ["gateway", "gateway_factory", "partnership"]


@dataclass
class LiveGateway:
    url: str
    partnership: LocalPartnership
    agencies: list[str]
    # From the registry's grants: agency -> the roles its tokens may assert, and the sender.role
    # values its agency_system token may send as (agencies that may send at all).
    granted: dict[str, list[str]]
    senders: dict[str, list[str]]

    def token(self, agency: str | None = None, role: str | None = None) -> str:
        """A fresh, valid token: a random registered agency and a role granted to it, unless given."""
        agency = agency or random.choice(self.agencies)  # noqa: S311 - test data, not security
        role = role or random.choice(self.granted.get(agency) or sorted(ROLES))  # noqa: S311
        # A person's token must name the person acting; an agency system's names nobody.
        subject = None if role == AGENCY_SYSTEM else f"{role}-fuzz"
        return issue_token(self.partnership.agency_keys(agency), role=role, audience=AUDIENCE, subject=subject)


@pytest.fixture(scope="session")
def live_gateway(partnership: LocalPartnership, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    """uvicorn serving the gateway on loopback with its own OPA and SQLite log.

    Kafka points at a closed port: whatever the fuzzer gets accepted waits in the outbox, so no
    fuzzed delivery ever reaches the shared stack's topics.
    """
    root = tmp_path_factory.mktemp("attack-gateway")
    opa = PrivateOpa(root)
    opa.start()
    port = free_port()
    env = {
        **clean_env(),
        "SGB_DATABASE_URL": f"sqlite:///{root / 'broker.db'}",
        "SGB_PARTNERSHIP_ID": partnership.partnership_id,
        "SGB_REGISTRY_FILE": str(partnership.registry_file),
        "SGB_KEYS_DIR": str(partnership.broker_keys_dir),
        "SGB_AUDIENCE": AUDIENCE,
        "SGB_OPA_URL": opa.url,
        "SGB_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "SGB_KAFKA_PASSWORD": "unused-closed-port",
    }
    server = Child(
        "gateway",
        [sys.executable, "-m", "broker.gateway", "--port", str(port), "--log-level", "warning"],
        env,
        root / "gateway.log",
    )
    server.start()
    url = f"http://127.0.0.1:{port}"
    with running(opa, server):
        wait_for(lambda: server.alive and http_ok(f"{url}/readyz"), what="gateway", timeout=90, log=server.log)
        agencies = sorted(p.name for p in (Path(partnership.root) / "agencies").iterdir())
        registry = load_registry(partnership.registry_file)
        granted = {a: sorted(registry.granted_roles(a)) for a in agencies}
        types = {a: registry.agencies[a].type for a in agencies}
        senders = {a: sorted(sender_roles(AGENCY_SYSTEM, granted[a], agency_type=types[a])) for a in agencies}
        yield LiveGateway(url, partnership, agencies, granted, {a: roles for a, roles in senders.items() if roles})


# The fuzzer lives in the `attack` extra (`make attacks` installs it); without it the rest still runs.
collect_ignore = [] if importlib.util.find_spec("schemathesis") else ["test_openapi_fuzz.py"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    fuzz = sys.modules.get("tests.attacks.test_openapi_fuzz")
    if fuzz is not None and fuzz.CASES:
        terminalreporter.write_line(fuzz.summary())

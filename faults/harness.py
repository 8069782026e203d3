"""Real processes for the fault suite, each started and killed by its own pid, all on 127.0.0.1.

A `Site` is one partnership with its own agencies (ids carry a per-run prefix, so Kafka principals
never collide with the shared stack's other users) and its own topic namespace (so its inboxes,
receipts and consumer groups are not a running demo's or a test run's), a gateway and a separate worker
(relay, receipts, clocks), one consumer per agency with a SQLite sink, and a private OPA. Kafka is
the shared stack's broker, a private broker (`PrivateKafka`) or a three-broker cluster; the
database is SQLite or a private PostgreSQL cluster (`faults.postgres.PrivatePostgres`) that can be killed.
`faults.fleet` runs several gateways and workers of one site.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.partnership import kafka_access
from broker.partnership.cli import issue_token
from demo.cases import AGENCIES, PARTNERSHIP_ID
from devstack.partnership import AgencySpec, LocalPartnership, provision
from devstack.settings import StackSettings
from devstack.topics import delete_topics

# Re-exported: the suite's tests and the attack suite import these from here.
from faults.kafka import KafkaTarget as KafkaTarget
from faults.kafka import PrivateKafka as PrivateKafka
from faults.kafka import shared_kafka as shared_kafka
from faults.kafka import topic_names
from faults.process import HOST as HOST
from faults.process import REPO as REPO
from faults.process import Child as Child
from faults.process import clean_env as clean_env
from faults.process import free_port as free_port
from faults.process import http_ok as http_ok
from faults.process import wait_for as wait_for
from schemas.policy_bundle import SERVE_FLAGS
from transport.kafka import ensure_topics

AUDIENCE = "safeguarding-broker"
SHARE_OUTCOMES = frozenset({"share", "share_minimised", "share_urgent_review_after"})


# --- OPA ---------------------------------------------------------------------------------------------


class PrivateOpa:
    """The stack's OPA binary serving this checkout's policies on a port of our own.

    The registry lives in OPA's global data, so sharing the stack's OPA would flip it under others.
    """

    def __init__(self, root: Path, *, serve_flags: tuple[str, ...] = SERVE_FLAGS) -> None:
        """`serve_flags`: how `opa run` is told what to serve; `()` serves the tests too, as OPA was
        run before SERVE_FLAGS (a test of decisions logged then)."""
        self.port = free_port()
        binary = str(StackSettings().opa_binary)
        self.child = Child(
            "opa",
            [
                binary,
                "run",
                "--server",
                f"--addr={HOST}:{self.port}",
                "--log-level=error",
                *serve_flags,
                str(REPO / "policies"),
            ],
            clean_env(),
            root / "opa.log",
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def urls(self) -> list[str]:
        """Every gateway of the site (the load spreads over them); one here, several in a fleet."""
        return [self.url]

    def start(self) -> None:
        self.child.start()
        wait_for(lambda: http_ok(f"{self.url}/health"), what="OPA", timeout=30, log=self.child.log)

    def kill9(self) -> None:
        self.child.kill9()

    def stop(self) -> None:
        self.child.stop()


# --- the site ----------------------------------------------------------------------------------------


@dataclass
class Site:
    """One partnership's gateway, worker and consumers, wired to the given Kafka, OPA and database."""

    root: Path
    kafka: KafkaTarget
    opa_url: str
    database_url: str
    prefix: str = field(default_factory=lambda: f"f{uuid.uuid4().hex[:6]}")
    port: int = field(default_factory=free_port)
    agencies: list[AgencySpec] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)
    gateway: Child | None = None
    worker: Child | None = None
    consumers: dict[str, Child] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def urls(self) -> list[str]:
        """Every gateway of the site (the load spreads over them); one here, several in a fleet."""
        return [self.url]

    @property
    def partnership(self) -> LocalPartnership:
        return LocalPartnership(self.root / "partnership", PARTNERSHIP_ID)

    @property
    def namespace(self) -> str:
        """This run's topic namespace: never the demo's "sgb", never another run's."""
        return f"sgbfaults-{self.prefix}"

    def agency(self, demo_id: str) -> str:
        """This run's id for one of the demo agencies."""
        return f"{self.prefix}-{demo_id}"

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.agencies = [AgencySpec(self.agency(a.agency_id), a.agency_type, a.name) for a in AGENCIES]
        provision(self.root / "partnership", PARTNERSHIP_ID, self.agencies)
        self.passwords = {a.agency_id: secrets.token_urlsafe(18) for a in self.agencies}
        self._provision_kafka()
        env = self._broker_env()
        self.gateway = Child(
            "gateway",
            [sys.executable, "-m", "broker.gateway", "--port", str(self.port), "--log-level", "warning"],
            env,
            self.root / "gateway.log",
        )
        self.worker = Child("worker", [sys.executable, "-m", "broker.worker"], env, self.root / "worker.log")
        for agency in self.passwords:
            self.consumers[agency] = Child(
                f"consumer-{agency}",
                [sys.executable, "-m", "consumers", "run", "--agency", agency],
                self._consumer_env(agency),
                self.root / f"consumer-{agency}.log",
            )

    def _provision_kafka(self) -> None:
        """Principals and ACLs in this run's namespace, then the topics the operator creates."""
        agencies = [a.agency_id for a in self.agencies]
        grants = [
            *kafka_access.relay_grants(namespace=self.namespace),
            *(g for a in agencies for g in kafka_access.agency_grants(a, namespace=self.namespace)),
        ]
        kafka_access.apply(
            kafka_libs=self.kafka.libs,
            admin_properties=self.kafka.admin_properties,
            users={**self.passwords, kafka_access.RELAY_PRINCIPAL: self.kafka.relay_password},
            grants=grants,
        )
        asyncio.run(ensure_topics(self.kafka.admin, topic_names(agencies, self.namespace), settings=self.kafka.topics))

    def _broker_env(self) -> dict[str, str]:
        topics = self.kafka.topics
        return {
            **clean_env(),
            "SGB_DATABASE_URL": self.database_url,
            "SGB_PARTNERSHIP_ID": PARTNERSHIP_ID,
            "SGB_REGISTRY_FILE": str(self.partnership.registry_file),
            "SGB_KEYS_DIR": str(self.partnership.broker_keys_dir),
            "SGB_AUDIENCE": AUDIENCE,
            "SGB_OPA_URL": self.opa_url,
            "SGB_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "SGB_KAFKA_USER": kafka_access.RELAY_PRINCIPAL,
            "SGB_KAFKA_PASSWORD": self.kafka.relay_password,
            "SGB_RUN_RELAY_IN_GATEWAY": "false",
            "SGB_CHECKPOINT_SECONDS": "2",
            "SGB_RELAY_POLL_SECONDS": "0.2",
            "SGB_CLOCK_CHECK_SECONDS": "5",
            "SGB_TOPIC_NAMESPACE": self.namespace,
            "SGB_KAFKA_PARTITIONS": str(topics.partitions),
            "SGB_KAFKA_REPLICATION_FACTOR": str(topics.replication_factor),
            "SGB_KAFKA_MIN_INSYNC_REPLICAS": str(topics.min_insync_replicas),
        }

    def _consumer_env(self, agency: str) -> dict[str, str]:
        return {
            **clean_env(),
            "CONSUMER_AGENCY_ID": agency,
            "CONSUMER_ENVIRONMENT": "development",  # loopback Kafka without TLS
            "CONSUMER_KAFKA_PASSWORD": self.passwords[agency],
            "CONSUMER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "CONSUMER_TOPIC_NAMESPACE": self.namespace,
            "CONSUMER_KEY_DIR": str(self.partnership.agency_keys_dir(agency)),
            "CONSUMER_BROKER_PUBLIC_KEYS": str(self.partnership.broker_keys_dir),
            "CONSUMER_SINK": f"sqlite:{self.sink_path(agency)}",
            "CONSUMER_LEDGER_PATH": str(self.root / f"ledger-{agency}.db"),
            "CONSUMER_BROKER_AUDIENCE": AUDIENCE,
        }

    def sink_path(self, agency: str) -> Path:
        return self.root / f"inbox-{agency}.db"

    def children(self) -> list[Child]:
        assert self.gateway is not None and self.worker is not None
        return [self.gateway, self.worker, *self.consumers.values()]

    def start(self) -> None:
        for child in self.children():
            child.start()
        self.wait_gateway()

    def wait_gateway(self, timeout: float = 90) -> None:
        assert self.gateway is not None
        gateway = self.gateway
        wait_for(
            lambda: gateway.alive and http_ok(f"{self.url}/readyz"), what="gateway", timeout=timeout, log=gateway.log
        )

    def restart_gateway(self) -> None:
        assert self.gateway is not None
        self.gateway.start()
        self.wait_gateway()

    def stop(self) -> None:
        for child in reversed(self.children()):
            child.stop()

    def drop(self) -> None:
        """Stop every process, then delete this run's topics (the shared Kafka outlives the run)."""
        self.stop()
        with contextlib.suppress(Exception):  # clean-up only: never hide the run's own result
            asyncio.run(
                asyncio.wait_for(
                    delete_topics(self.kafka.admin, namespaces=lambda found: found == self.namespace), timeout=30
                )
            )

    def token(self, agency: str, role: str = "agency_system") -> str:
        return issue_token(self.partnership.agency_keys(agency), role=role, audience=AUDIENCE)

    def notifications(self) -> Iterator[dict[str, Any]]:
        """The demo's fictional cases, endlessly, with this run's agency ids and fresh notification ids."""
        from demo.cases import cases

        while True:
            for _title, case in cases():
                text = json.dumps(case)
                for spec in AGENCIES:
                    text = text.replace(f'"{spec.agency_id}"', f'"{self.agency(spec.agency_id)}"')
                yield json.loads(text)


@contextlib.contextmanager
def running(*parts: Any) -> Iterator[None]:
    """Stop (or drop) every part on the way out, last started first, whatever happened."""
    try:
        yield
    finally:
        for part in reversed(parts):
            with contextlib.suppress(Exception):
                (part.drop if hasattr(part, "drop") else part.stop)()

"""Real processes for the fault suite, each started and killed by its own pid, all on 127.0.0.1.

A `Site` is one partnership with its own agencies (ids carry a per-run prefix, so topics and Kafka
principals never collide with the shared stack's other users), a gateway and a separate worker
(relay, receipts, clocks), one consumer per agency with a SQLite sink, and a private OPA. Kafka is
the shared stack's broker, a private broker (`PrivateKafka`) or a three-broker cluster; the
database is SQLite or a private PostgreSQL cluster (`PrivatePostgres`) that can be killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from broker.partnership import kafka_access
from broker.partnership.cli import issue_token
from demo.cases import AGENCIES, PARTNERSHIP_ID
from devstack import kafka as stack_kafka
from devstack.partnership import AgencySpec, LocalPartnership, provision
from devstack.settings import StackSettings
from schemas.topics import RECEIPTS_TOPIC, dead_letter_topic, inbox_topic

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
AUDIENCE = "safeguarding-broker"
SHARE_OUTCOMES = frozenset({"share", "share_minimised", "share_urgent_review_after"})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], *, what: str, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    raise TimeoutError(f"{what} not ready within {timeout:.0f}s\n{tail}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def clean_env() -> dict[str, str]:
    """This process's environment without any SGB_/CONSUMER_ setting that could leak into a child."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SGB_", "CONSUMER_"))}


@dataclass
class Child:
    """A process this suite starts; killed with SIGKILL by its own pid, restarted with the same command."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen(  # noqa: S603 - our own fixed command lines
                self.args, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO,
                env=self.env, start_new_session=True,
            )
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill9()


# --- Kafka -------------------------------------------------------------------------------------------


@dataclass
class KafkaTarget:
    """How the suite reaches a Kafka cluster: bootstrap, its super-user, the relay's password."""

    bootstrap: str
    admin: dict[str, Any]
    admin_properties: str
    relay_password: str
    libs: Path
    replication: int = 1


def shared_kafka() -> KafkaTarget:
    """The shared stack's broker (never killed by this suite)."""
    settings = StackSettings()
    return KafkaTarget(
        bootstrap=f"{settings.host}:{settings.kafka_port}", admin=stack_kafka.admin_config(settings),
        admin_properties=stack_kafka.admin_properties(settings), relay_password=stack_kafka.relay_password(settings),
        libs=settings.kafka_libs,
    )


class PrivateKafka:
    """A single KRaft broker of the suite's own (the stack's recipe on other ports and a private state dir)."""

    def __init__(self, root: Path) -> None:
        self.settings = StackSettings(
            state_dir=root, kafka_port=free_port(), kafka_controller_port=free_port(), kafka_heap="384m",
        )

    def start(self) -> None:
        stack_kafka.start(self.settings)

    @property
    def pid_file(self) -> Path:
        return self.settings.kafka_state / "broker.pid"

    def kill9(self) -> None:
        pid = int(self.pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # started by this process: reap it, or it lingers as a zombie
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), what="Kafka to die", timeout=10)

    def stop(self) -> None:
        stack_kafka.stop(self.settings)

    def target(self) -> KafkaTarget:
        s = self.settings
        return KafkaTarget(
            bootstrap=f"{s.host}:{s.kafka_port}", admin=stack_kafka.admin_config(s),
            admin_properties=stack_kafka.admin_properties(s), relay_password=stack_kafka.relay_password(s),
            libs=s.kafka_libs,
        )


async def create_topics(admin_config: dict[str, Any], agencies: list[str], replication: int) -> None:
    names = [RECEIPTS_TOPIC] + [inbox_topic(a) for a in agencies] + [dead_letter_topic(a) for a in agencies]
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        missing = [n for n in names if n not in set(await admin.list_topics())]
        with contextlib.suppress(TopicAlreadyExistsError):
            if missing:
                await admin.create_topics([NewTopic(n, num_partitions=3, replication_factor=replication)
                                           for n in missing])
    finally:
        await admin.close()


# --- OPA ---------------------------------------------------------------------------------------------


class PrivateOpa:
    """The stack's OPA binary serving this checkout's policies on a port of our own.

    The registry lives in OPA's global data, so sharing the stack's OPA would flip it under others.
    """

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        binary = str(StackSettings().opa_binary)
        self.child = Child("opa", [binary, "run", "--server", f"--addr={HOST}:{self.port}", "--log-level=error",
                                   str(REPO / "policies")], clean_env(), root / "opa.log")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.child.start()
        wait_for(lambda: http_ok(f"{self.url}/health"), what="OPA", timeout=30, log=self.child.log)

    def kill9(self) -> None:
        self.child.kill9()

    def stop(self) -> None:
        self.child.stop()


# --- PostgreSQL --------------------------------------------------------------------------------------


class PrivatePostgres:
    """A throw-away Debian PostgreSQL cluster on its own port: killable without touching the stack's."""

    ROLE = "sgbfaults"

    def __init__(self) -> None:
        self.port = free_port()
        self.name = f"sgbfaults{uuid.uuid4().hex[:6]}"
        self.password = secrets.token_urlsafe(16)
        versions = sorted((p.name for p in Path("/usr/lib/postgresql").glob("*") if (p / "bin/postgres").exists()),
                          key=int)
        self.version = versions[-1]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.ROLE}:{self.password}@{HOST}:{self.port}/{self.ROLE}"

    def _psql(self, sql: str) -> None:
        subprocess.run(["su", "postgres", "-c", f'psql -q -p {self.port} -c "{sql}"'],  # noqa: S603, S607
                       check=True, capture_output=True)

    def start(self) -> None:
        subprocess.run(["pg_createcluster", self.version, self.name, "--port", str(self.port),  # noqa: S603, S607
                        "--", "--auth-local=peer", "--auth-host=scram-sha-256"], check=True, capture_output=True)
        self.restart()
        self._psql(f"CREATE ROLE {self.ROLE} LOGIN PASSWORD '{self.password}'")
        self._psql(f"CREATE DATABASE {self.ROLE} OWNER {self.ROLE}")

    def restart(self) -> None:
        subprocess.run(["pg_ctlcluster", self.version, self.name, "start"],  # noqa: S603, S607
                       check=True, capture_output=True)
        wait_for(self.healthy, what="PostgreSQL", timeout=60)

    def healthy(self) -> bool:
        return subprocess.run(["pg_isready", "-q", "-h", HOST, "-p", str(self.port)],  # noqa: S603, S607
                              check=False).returncode == 0

    def _postmaster(self) -> int:
        data = Path(f"/var/lib/postgresql/{self.version}/{self.name}")
        return int((data / "postmaster.pid").read_text().splitlines()[0])

    def kill9(self) -> None:
        """A crash of the whole server: SIGKILL to the postmaster and every one of its processes."""
        postmaster = self._postmaster()
        children = [int(p.name) for p in Path("/proc").iterdir()
                    if p.name.isdigit() and _ppid(int(p.name)) == postmaster]
        for pid in [postmaster, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not self.healthy(), what="PostgreSQL to die", timeout=10)

    def drop(self) -> None:
        subprocess.run(["pg_dropcluster", "--stop", self.version, self.name],  # noqa: S603, S607
                       check=False, capture_output=True)


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


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
    def partnership(self) -> LocalPartnership:
        return LocalPartnership(self.root / "partnership", PARTNERSHIP_ID)

    def agency(self, demo_id: str) -> str:
        """This run's id for one of the demo agencies."""
        return f"{self.prefix}-{demo_id}"

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.agencies = [AgencySpec(self.agency(a.agency_id), a.agency_type, a.name) for a in AGENCIES]
        provision(self.root / "partnership", PARTNERSHIP_ID, self.agencies)
        self.passwords = {a.agency_id: secrets.token_urlsafe(18) for a in self.agencies}
        kafka_access.apply(
            kafka_libs=self.kafka.libs, admin_properties=self.kafka.admin_properties,
            users={**self.passwords, kafka_access.RELAY_PRINCIPAL: self.kafka.relay_password},
            grants=[*kafka_access.relay_grants(), *(g for a in self.agencies
                                                     for g in kafka_access.agency_grants(a.agency_id))],
        )
        asyncio.run(create_topics(self.kafka.admin, [a.agency_id for a in self.agencies], self.kafka.replication))
        env = {
            **clean_env(), "SGB_DATABASE_URL": self.database_url, "SGB_PARTNERSHIP_ID": PARTNERSHIP_ID,
            "SGB_REGISTRY_FILE": str(self.partnership.registry_file),
            "SGB_KEYS_DIR": str(self.partnership.broker_keys_dir), "SGB_AUDIENCE": AUDIENCE,
            "SGB_OPA_URL": self.opa_url, "SGB_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "SGB_KAFKA_USER": kafka_access.RELAY_PRINCIPAL, "SGB_KAFKA_PASSWORD": self.kafka.relay_password,
            "SGB_RUN_RELAY_IN_GATEWAY": "false", "SGB_CHECKPOINT_SECONDS": "2", "SGB_RELAY_POLL_SECONDS": "0.2",
            "SGB_CLOCK_CHECK_SECONDS": "5",
        }
        self.gateway = Child("gateway", [sys.executable, "-m", "broker.gateway", "--port", str(self.port),
                                         "--log-level", "warning"], env, self.root / "gateway.log")
        self.worker = Child("worker", [sys.executable, "-m", "broker.worker"], env, self.root / "worker.log")
        for spec in self.agencies:
            agency = spec.agency_id
            consumer_env = {
                **clean_env(), "CONSUMER_AGENCY_ID": agency, "CONSUMER_KAFKA_PASSWORD": self.passwords[agency],
                "CONSUMER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "CONSUMER_KEY_DIR": str(self.partnership.agency_keys_dir(agency)),
                "CONSUMER_BROKER_PUBLIC_KEYS": str(self.partnership.broker_keys_dir),
                "CONSUMER_SINK": f"sqlite:{self.sink_path(agency)}",
                "CONSUMER_LEDGER_PATH": str(self.root / f"ledger-{agency}.db"), "CONSUMER_BROKER_AUDIENCE": AUDIENCE,
            }
            self.consumers[agency] = Child(f"consumer-{agency}", [sys.executable, "-m", "consumers", "run",
                                                                  "--agency", agency],
                                           consumer_env, self.root / f"consumer-{agency}.log")

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
        wait_for(lambda: gateway.alive and http_ok(f"{self.url}/readyz"), what="gateway", timeout=timeout,
                 log=gateway.log)

    def restart_gateway(self) -> None:
        assert self.gateway is not None
        self.gateway.start()
        self.wait_gateway()

    def stop(self) -> None:
        for child in reversed(self.children()):
            child.stop()

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

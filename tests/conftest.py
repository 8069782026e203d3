"""Shared fixtures: the real local stack (Kafka, OPA, PostgreSQL) started by `python -m devstack up`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.postgres import scratch_database
from devstack.settings import StackSettings
from devstack.topics import delete_topics

# One id per test run. Everything the tests make on the shared Kafka carries it: topic and group
# names start with TEST_NAMESPACE (a deployment's, and `make demo`'s, is "sgb") and the agency
# principals the tests create start with AGENCY_PREFIX. So a running demo, a benchmark or another
# engineer's run on the same stack never receives, consumes or commits what this run produces.
RUN_ID = uuid.uuid4().hex[:8]
TEST_NAMESPACE = f"sgbtest-{RUN_ID}"
AGENCY_PREFIX = f"t{RUN_ID}"


def run_agency_id() -> str:
    """A fresh agency id (and so Kafka principal) of this test run."""
    return f"{AGENCY_PREFIX}-{uuid.uuid4().hex[:8]}"


def run_namespace(name: str) -> str:
    """A further namespace of this test run (for tests that need two); cleaned up with the run's own."""
    return f"{TEST_NAMESPACE}-{name}"


def _load_stack_env() -> None:
    """Make the stack's connection settings visible to every test, unless the caller set them."""
    env_file = StackSettings().env_file
    if not env_file.exists():
        return
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key and key not in os.environ:
            os.environ[key] = value


_load_stack_env()


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: start the stack with `make stack` (python -m devstack up)")
    return value


async def tasks_outliving(before: set[asyncio.Task[Any]], *, grace: float) -> list[asyncio.Task[Any]]:
    """Tasks started since `before` that are still pending after `grace` seconds: what a test left running."""
    started = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()]
    if started:
        await asyncio.wait(started, timeout=grace)  # a client still closing is given its moment
    return [t for t in started if not t.done()]


@pytest.fixture(autouse=True)
async def _no_task_outlives_its_test() -> AsyncIterator[None]:
    """Every test stops what it started. The tests share one event loop (pyproject: loop scope "session"),
    so a Kafka client left running polls on into later tests and logs into their captures, as a refused
    consumer in `test_kafka_access` once did into the supervisor's."""
    before = asyncio.all_tasks()
    yield
    left = await tasks_outliving(before, grace=2.0)
    for task in left:
        task.cancel()
    if left:
        pytest.fail(f"tasks left running by this test: {[repr(t.get_coro()) for t in left]}")


@pytest.fixture(scope="session")
def opa_url() -> str:
    return _required("SGB_OPA_URL")


@pytest.fixture(scope="session")
def opa_bin() -> str:
    return _required("SGB_OPA_BIN")


@pytest.fixture(scope="session")
def kafka_admin_config() -> dict[str, Any]:
    """aiokafka keyword arguments for the stack's super-user (test set-up only)."""
    return {
        "bootstrap_servers": _required("SGB_KAFKA_BOOTSTRAP"),
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": _required("SGB_KAFKA_ADMIN_USER"),
        "sasl_plain_password": _required("SGB_KAFKA_ADMIN_PASSWORD"),
    }


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of the stack's PostgreSQL as a role that may create databases."""
    return _required("SGB_PG_URL")


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with scratch_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'broker.db'}"


@pytest.fixture
def unique_name() -> str:
    """A name no other test run on this shared stack uses (topics, groups, policies)."""
    return f"t{uuid.uuid4().hex[:12]}"


def provision_principals(admin_config: dict[str, Any], users: dict[str, str], *, namespace: str) -> None:
    """Create agency SCRAM principals with their least-privilege ACLs in `namespace` (one JVM run)."""
    from broker.partnership import kafka_access

    kafka_access.apply(
        kafka_libs=Path(_required("SGB_KAFKA_LIBS")),
        admin_properties=_admin_properties(admin_config),
        users=users,
        grants=[grant for agency in users for grant in kafka_access.agency_grants(agency, namespace=namespace)],
    )


def _admin_properties(admin_config: dict[str, Any]) -> str:
    from broker.partnership import kafka_access

    return kafka_access.admin_properties(
        bootstrap=admin_config["bootstrap_servers"],
        user=admin_config["sasl_plain_username"],
        password=admin_config["sasl_plain_password"],
    )


@pytest.fixture(scope="session")
async def topic_namespace(kafka_admin_config: dict[str, Any]) -> AsyncIterator[str]:
    """This run's topic namespace; its topics (and those of `run_namespace`s) go when the run ends."""
    yield TEST_NAMESPACE
    with contextlib.suppress(Exception):  # clean-up only: a failure here must not hide the results
        await asyncio.wait_for(delete_topics(kafka_admin_config, namespaces=is_run_namespace), timeout=30)


@pytest.fixture(scope="session")
def relay_namespace(kafka_admin_config: dict[str, Any], topic_namespace: str) -> str:
    """This run's namespace, with the stack's relay principal (SGB_KAFKA_USER) granted its ACLs there.

    For gateways under test: `BrokerSettings(topic_namespace=relay_namespace)`.
    """
    from broker.partnership import kafka_access

    kafka_access.apply(
        kafka_libs=Path(_required("SGB_KAFKA_LIBS")),
        admin_properties=_admin_properties(kafka_admin_config),
        users={},
        grants=kafka_access.relay_grants(_required("SGB_KAFKA_USER"), namespace=topic_namespace),
    )
    return topic_namespace


def is_run_namespace(namespace: str) -> bool:
    """Whether `namespace` is TEST_NAMESPACE or one of its `run_namespace`s (another run's never is)."""
    return namespace == TEST_NAMESPACE or namespace.startswith(f"{TEST_NAMESPACE}-")

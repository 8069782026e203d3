"""Shared fixtures: the real local stack (Kafka, OPA, PostgreSQL) started by `python -m devstack up`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.postgres import scratch_database
from devstack.settings import StackSettings


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


def provision_principals(admin_config: dict[str, Any], users: dict[str, str]) -> None:
    """Create agency SCRAM principals with their least-privilege ACLs on the real broker (one JVM run)."""
    from broker.partnership import kafka_access

    kafka_access.apply(
        kafka_libs=Path(_required("SGB_KAFKA_LIBS")),
        admin_properties=kafka_access.admin_properties(
            bootstrap=admin_config["bootstrap_servers"],
            user=admin_config["sasl_plain_username"],
            password=admin_config["sasl_plain_password"],
        ),
        users=users,
        grants=[grant for agency in users for grant in kafka_access.agency_grants(agency)],
    )

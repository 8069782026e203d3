"""Shared fixtures: the real local stack (Kafka, OPA, PostgreSQL) started by `python -m broker.stack up`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from broker.stack.settings import StackSettings


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
        pytest.fail(f"{name} is not set: start the stack with `make stack` (python -m broker.stack up)")
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
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'broker.db'}"


@pytest.fixture
def unique_name() -> str:
    """A name no other test run on this shared stack uses (topics, groups, policies)."""
    return f"t{uuid.uuid4().hex[:12]}"

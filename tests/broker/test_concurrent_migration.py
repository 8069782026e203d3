"""Processes starting together on a fresh PostgreSQL database all migrate it and start.

Found by the fault suite: a gateway and a worker started at once raced to create the Alembic
version table and the gateway failed to start.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import audit
from broker.db.provisioning import prepare_database

# Needs the running stack: the stack's PostgreSQL.
pytestmark = pytest.mark.stack


def test_concurrent_first_migrations_all_succeed(postgres_url: str) -> None:
    engines = [audit.create_engine_for(postgres_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            for future in [pool.submit(prepare_database, engine) for engine in engines]:
                future.result(timeout=60)  # before the fix this could hang
    finally:
        for engine in engines:
            engine.dispose()

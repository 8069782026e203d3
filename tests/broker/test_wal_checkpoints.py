"""On SQLite the gateway copies the WAL into the database file beside its commits, not inside them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.audit.conftest import autocheckpoint_pages
from tests.broker.conftest import GatewayFactory
from tests.factories import school_referral

# Posting decides through the stack's OPA.
pytestmark = pytest.mark.stack


async def _grows(path: Path, size: int, *, within: float) -> bool:
    for _ in range(int(within / 0.05)):
        if path.stat().st_size > size:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_the_gateway_checkpoints_the_wal_in_the_background(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory(wal_checkpoint_seconds=0.05)
    engine = gateway.engine
    database = Path(str(make_url(str(engine.url)).database))
    assert autocheckpoint_pages(engine) == 0  # no commit of the gateway's checkpoints the WAL itself
    await asyncio.sleep(0.2)  # what start-up wrote is copied first
    before = database.stat().st_size

    response = await gateway.post(school_referral())

    assert response.status_code == 202, response.text
    assert await _grows(database, before, within=5.0), "the decisions never reached the database file"


async def test_with_no_interval_sqlite_checkpoints_inside_commits_as_it_does_by_default(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(wal_checkpoint_seconds=0)
    assert autocheckpoint_pages(gateway.engine) == 1000

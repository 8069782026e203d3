"""The receipt recorder outlives a database outage (found by the fault suite killing PostgreSQL).

Before the fix, a database error escaped `ReceiptIngester.run`, which ended `python -m broker.worker`
(and with it the relay) and silently ended the gateway's in-process receipts task.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.exc import OperationalError

import audit
from broker.delivery.receipts import ReceiptIngester
from broker.partnership.registry import Registry


class _FlakyDatabase(ReceiptIngester):
    """The real loop; `_consume` fails as a lost database connection does, then stops the run."""

    def __init__(self, engine_path: Path, stop: asyncio.Event) -> None:
        super().__init__(
            engine=audit.create_engine_for(f"sqlite:///{engine_path}"),
            registry=Registry(partnership_id="p"),
            audience="a",
            kafka_config={},
        )
        self.calls = 0
        self._stop = stop

    async def _consume(self, stop: asyncio.Event) -> None:
        self.calls += 1
        if self.calls == 1:
            raise OperationalError("COMMIT", None, Exception("server closed the connection unexpectedly"))
        self._stop.set()


async def test_a_database_error_is_retried_not_fatal(tmp_path: Path) -> None:
    stop = asyncio.Event()
    ingester = _FlakyDatabase(tmp_path / "log.db", stop)
    await asyncio.wait_for(ingester.run(stop), timeout=10)
    assert ingester.calls == 2

"""Reading inbox topics as the stack's administrator, to see exactly what the relay published."""

from __future__ import annotations

import asyncio
from typing import Any

from demo.site import read_deliveries


async def records(admin_config: dict[str, Any], topic: str, *, want: set[str], timeout: float = 20.0) -> list[Any]:
    """Records on `topic` whose ce_id header is in `want` (waits until all arrive or time runs out)."""
    return await read_deliveries(admin_config, topic, want=want, timeout=timeout)


async def wait_published(outbox: Any, timeout: float = 30.0) -> None:
    """Until the outbox is empty (every committed delivery handed to Kafka)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await asyncio.to_thread(outbox.depth) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the relay did not publish the outbox in time")

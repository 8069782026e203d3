"""Reading inbox topics as the stack's administrator, to see exactly what the relay published."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import UnknownTopicOrPartitionError


async def records(admin_config: dict[str, Any], topic: str, *, want: set[str], timeout: float = 20.0) -> list[Any]:
    """Records on `topic` whose ce_id header is in `want` (waits until all arrive or time runs out)."""
    consumer = AIOKafkaConsumer(
        topic, group_id=f"test-reader-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
        enable_auto_commit=False, **admin_config,
    )
    found: list[Any] = []
    try:
        await consumer.start()
    except UnknownTopicOrPartitionError:
        return found
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for items in batch.values():
                found += [r for r in items if dict(r.headers).get("ce_id", b"").decode() in want]
            if {dict(r.headers)["ce_id"].decode() for r in found} >= want:
                break
    finally:
        await consumer.stop()
    return found


async def wait_published(gateway_runtime: Any, timeout: float = 30.0) -> None:
    """Until the outbox is empty (every committed delivery handed to Kafka)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await asyncio.to_thread(gateway_runtime.outbox_depth) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the relay did not publish the outbox in time")

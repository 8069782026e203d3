"""Reading inbox topics as the stack's administrator, to see exactly what the relay published."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


async def records(admin_config: dict[str, Any], topic: str, *, want: set[str], timeout: float = 20.0,
                  since_ms: int | None = None) -> list[Any]:
    """Records on `topic` whose ce_id header is in `want` (waits until all arrive or time runs out).

    Reads only what was written in the last few minutes: inboxes on the shared stack keep every
    earlier test run's records, and scanning them all would make each check slow.
    """
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **admin_config)
    await consumer.start()
    found: list[Any] = []
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            return found
        consumer.assign(partitions)
        start = since_ms if since_ms is not None else int(time.time() * 1000) - 300_000
        offsets = await consumer.offsets_for_times(dict.fromkeys(partitions, start))
        for partition, found_offset in offsets.items():
            if found_offset is None:
                await consumer.seek_to_end(partition)
            else:
                consumer.seek(partition, found_offset.offset)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
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

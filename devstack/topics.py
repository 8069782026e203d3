"""Removing what a test, benchmark or fault run left on the shared Kafka: its namespaces' topics.

Each such run publishes in a topic namespace of its own (schemas/topics.py), so its topics can be
deleted by namespace without touching a running demo's (`sgb`) or another run's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient


def namespace_of(topic: str) -> str:
    """The namespace a topic belongs to: everything before the first "." (namespaces hold none)."""
    return topic.split(".", 1)[0]


async def delete_topics(
    admin_config: dict[str, Any], *, namespaces: Callable[[str], bool], wait_seconds: float = 0.0
) -> list[str]:
    """Delete every topic whose namespace `namespaces` accepts; return the names deleted. With
    `wait_seconds`, wait until they are gone, so the same names can be made again at once (Kafka
    answers before it deletes, and a topic marked for deletion counts as existing)."""
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        doomed = sorted(t for t in await admin.list_topics() if namespaces(namespace_of(t)))
        if doomed:
            await admin.delete_topics(doomed)
        deadline = time.monotonic() + wait_seconds
        while wait_seconds and set(await admin.list_topics()) & set(doomed):
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kafka had not deleted {doomed} after {wait_seconds:.0f}s")
            await asyncio.sleep(0.25)
        return doomed
    finally:
        await admin.close()

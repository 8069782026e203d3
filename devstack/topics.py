"""Removing what a test, benchmark or fault run left on the shared Kafka: its namespaces' topics.

Each such run publishes in a topic namespace of its own (schemas/topics.py), so its topics can be
deleted by namespace without touching a running demo's (`sgb`) or another run's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient


def namespace_of(topic: str) -> str:
    """The namespace a topic belongs to: everything before the first "." (namespaces hold none)."""
    return topic.split(".", 1)[0]


async def delete_topics(admin_config: dict[str, Any], *, namespaces: Callable[[str], bool]) -> list[str]:
    """Delete every topic whose namespace `namespaces` accepts; return the names deleted."""
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        doomed = sorted(t for t in await admin.list_topics() if namespaces(namespace_of(t)))
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()

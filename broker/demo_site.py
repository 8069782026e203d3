"""Where the demo runs: its folder, its gateway's address, and the Kafka chores it needs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from broker.agency_cli import issue_token
from broker.partnership import LocalPartnership
from schemas.topics import RECEIPTS_TOPIC, dead_letter_topic, inbox_topic

AUDIENCE = "safeguarding-broker"


@dataclass(frozen=True)
class DemoSite:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def partnership(self) -> LocalPartnership:
        from broker.demo_cases import PARTNERSHIP_ID

        return LocalPartnership(self.root / "partnership", PARTNERSHIP_ID)

    def notification(self, receipt: dict[str, Any]) -> dict[str, Any]:
        """The sender's status view of a posted notification, asked as the sender."""
        token = issue_token(self.partnership.agency_keys(receipt["sender"]), role="agency_system", audience=AUDIENCE)
        response = httpx.get(f"{self.url}/v1/notifications/{receipt['notification_id']}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def status(self, receipt: dict[str, Any], agency: str, delivery_id: str) -> str:
        for item in self.notification(receipt)["recipients"]:
            if item["delivery_id"] == delivery_id:
                return str(item["status"])
        return "unknown"

    def wait_for(self, check: Callable[[], bool], *, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.5)
        raise TimeoutError(f"the demo waited {timeout:.0f}s for {what}; see the logs in {self.root}")


async def create_topics(admin_config: dict[str, Any], agencies: list[str]) -> None:
    """Inboxes, dead-letter topics and the receipts topic: agencies may not create topics themselves."""
    names = [RECEIPTS_TOPIC] + [inbox_topic(a) for a in agencies] + [dead_letter_topic(a) for a in agencies]
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        missing = [n for n in names if n not in set(await admin.list_topics())]
        with contextlib.suppress(TopicAlreadyExistsError):
            if missing:
                await admin.create_topics([NewTopic(n, num_partitions=3, replication_factor=1) for n in missing])
    finally:
        await admin.close()


async def first_record(admin_config: dict[str, Any], agency: str, delivery_id: str) -> bytes | None:
    """The raw bytes of one delivery as they sit on the agency's inbox topic."""
    topic = inbox_topic(agency)
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **admin_config)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for _ in range(50):
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=200), timeout=5)
            for records in batch.values():
                for record in records:
                    if dict(record.headers).get("ce_id", b"").decode() == delivery_id:
                        value: bytes = record.value
                        return value
    finally:
        await consumer.stop()
    return None

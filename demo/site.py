"""Where the demo runs: its folder, its gateway's address, and the Kafka chores it needs."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from broker.partnership.cli import issue_token
from devstack.partnership import LocalPartnership
from devstack.topics import delete_topics
from schemas.topics import DEFAULT_NAMESPACE, dead_letter_topic, inbox_topic, receipts_topic
from transport.kafka import TopicSettings, ensure_topics

AUDIENCE = "safeguarding-broker"
# The demo is the product as deployed, so it uses the product's topic namespace; tests, benchmarks
# and the fault suite each use one of their own and never reach these inboxes.
NAMESPACE = DEFAULT_NAMESPACE


@dataclass(frozen=True)
class DemoSite:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def partnership(self) -> LocalPartnership:
        from demo.cases import PARTNERSHIP_ID

        return LocalPartnership(self.root / "partnership", PARTNERSHIP_ID)

    def notification(self, receipt: dict[str, Any]) -> dict[str, Any]:
        """The sender's status view of a posted notification, asked as the sender."""
        token = issue_token(self.partnership.agency_keys(receipt["sender"]), role="agency_system", audience=AUDIENCE)
        response = httpx.get(
            f"{self.url}/v1/notifications/{receipt['notification_id']}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
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


def decided_by(recipient: dict[str, Any]) -> str:
    """What set a recipient's outcome, as a reviewer reads it first: its rules, then the first deciding
    message, long enough to say why and shortened only past that (every other finding is in the UI)."""
    deciding = recipient["decided_by"] or recipient["reasons"][:1]
    rules = " ".join(dict.fromkeys(r["rule"] for r in deciding))
    message = textwrap.shorten(deciding[0]["message"], width=170, placeholder=" …") if deciding else ""
    return f"{rules}\n{message}".strip()


async def create_topics(admin_config: dict[str, Any], agencies: list[str], *, namespace: str = NAMESPACE) -> None:
    """Inboxes, dead-letter topics and the receipts topic: agencies may not create topics themselves.

    Made afresh each run. A run stopped before its consumers read everything leaves records sealed and
    signed with that run's keys, which this run's partnership does not hold: a consumer reading one
    would rightly stop with a witness alarm, and every demo after it would wait for deliveries in vain.
    """
    await delete_topics(admin_config, namespaces=lambda found: found == namespace, wait_seconds=60)
    names = [
        receipts_topic(namespace=namespace),
        *(inbox_topic(a, namespace=namespace) for a in agencies),
        *(dead_letter_topic(a, namespace=namespace) for a in agencies),
    ]
    await ensure_topics(admin_config, names, settings=TopicSettings())


async def read_deliveries(
    admin_config: dict[str, Any], topic: str, *, want: set[str], timeout: float = 20.0, since_ms: int | None = None
) -> list[Any]:
    """Records on `topic` whose CloudEvents id (the delivery id) is in `want`, as raw Kafka records.

    Reads from `since_ms` (default: five minutes ago) with no consumer group, so it neither moves an
    agency's offsets nor scans every earlier run's records.
    """
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **admin_config)
    await consumer.start()
    found: list[Any] = []
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            return found
        consumer.assign(partitions)
        start = since_ms if since_ms is not None else int(time.time() * 1000) - 300_000
        for partition, position in (await consumer.offsets_for_times(dict.fromkeys(partitions, start))).items():
            if position is None:
                await consumer.seek_to_end(partition)
            else:
                consumer.seek(partition, position.offset)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                found += [r for r in items if dict(r.headers).get("ce_id", b"").decode() in want]
            if {dict(r.headers)["ce_id"].decode() for r in found} >= want:
                break
    finally:
        await consumer.stop()
    return found

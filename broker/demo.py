"""`make demo`: show the real parts working end to end on the local default."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from opa_client import AsyncOpaClient
from rich.console import Console

from broker.stack import kafka, opa
from broker.stack.settings import KAFKA_VERSION, StackSettings

console = Console()

PROBE_POLICY = """package demo.probe

default reachable := false

reachable if input.probe == "safeguarding-broker"
"""


async def _kafka_round_trip(settings: StackSettings) -> None:
    config = kafka.admin_config(settings)
    topic = f"demo.probe.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**config)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **config)
        await producer.start()
        try:
            meta = await producer.send_and_wait(topic, b"hello from the safeguarding broker")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, auto_offset_reset="earliest", **config)
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=10)
        finally:
            await consumer.stop()
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    console.print(
        f"Kafka {KAFKA_VERSION} cluster [bold]{cluster['cluster_id']}[/bold]: produced offset {meta.offset} "
        f"(idempotent, acks=all) and consumed {record.value!r} over SASL/SCRAM"
    )


async def _opa_decision(settings: StackSettings) -> None:
    async with AsyncOpaClient(host=settings.host, port=settings.opa_port, retries=0, timeout=5) as client:
        await client.update_policy_from_string(PROBE_POLICY, "demo-probe")
        try:
            result = await client.query_rule({"probe": "safeguarding-broker"}, "demo/probe", "reachable")
        finally:
            await client.delete_policy("demo-probe")
    decided = result["result"]
    console.print(f"OPA {opa.version(settings)} decided reachable={decided} (a decision from the server)")


def main() -> None:
    settings = StackSettings()
    asyncio.run(_kafka_round_trip(settings))
    asyncio.run(_opa_decision(settings))


if __name__ == "__main__":
    main()

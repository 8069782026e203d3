"""The agency consumer loop: read own inbox, open, hand to the sink, then commit and send a receipt.

The offset is committed only after the sink has the message, so a crash redelivers rather than
loses; the ledger and the idempotent sinks make that redelivery harmless. A record that can never be
delivered (bad signature, sealed for someone else, invalid) goes to the agency's own dead-letter
topic with the reason, and the loop carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from consumers.errors import RejectedMessage, SinkError
from consumers.ledger import Ledger
from consumers.sinks import Delivery, Sink
from schemas.topics import RECEIPTS_TOPIC, dead_letter_topic, inbox_topic

log = logging.getLogger("consumers.runner")

Opener = Callable[[bytes], Delivery]
ReceiptSigner = Callable[[Delivery, str], bytes]


class AgencyConsumer:
    """One agency's consumer; its Kafka principal may read only this agency's inbox."""

    def __init__(
        self,
        *,
        agency_id: str,
        group_id: str,
        kafka_config: dict[str, Any],
        opener: Opener,
        sink: Sink,
        ledger: Ledger,
        sign_receipt: ReceiptSigner,
        on_delivered: Callable[[Delivery], Awaitable[None]] | None = None,
    ) -> None:
        self.agency_id = agency_id
        self._group = group_id
        self._kafka = kafka_config
        self._open = opener
        self._sink = sink
        self._ledger = ledger
        self._sign = sign_receipt
        self._on_delivered = on_delivered
        self.delivered = 0
        self.dead_lettered = 0

    async def run(self, stop: asyncio.Event, *, retry_seconds: float = 1.0) -> None:
        """Consume until `stop` is set; reconnect after Kafka errors."""
        while not stop.is_set():
            try:
                await self._consume(stop)
            except KafkaError as exc:
                log.warning("consumer %s waiting for Kafka: %s", self.agency_id, type(exc).__name__)
                await asyncio.sleep(retry_seconds)

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            inbox_topic(self.agency_id), group_id=self._group, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", **self._kafka,
        )
        producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **self._kafka)
        await consumer.start()
        await producer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=100)
                for partition, records in batch.items():
                    await self._partition(consumer, producer, partition, records)
        finally:
            await producer.stop()
            await consumer.stop()

    async def _partition(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer,
        partition: TopicPartition, records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        for record in records:
            try:
                await self.handle(producer, record)
            except SinkError as exc:
                # Not committed: rewind so this record is tried again, in order, after a pause.
                log.warning("sink refused delivery, will retry: %s", exc)
                consumer.seek(partition, record.offset)
                await asyncio.sleep(1.0)
                return
            await consumer.commit({partition: record.offset + 1})

    async def handle(self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes]) -> None:
        """Deliver one record, or park it on the dead-letter topic; raises SinkError to retry."""
        try:
            delivery = self._open(record.value or b"")
        except RejectedMessage as exc:
            await self._dead_letter(producer, record, exc)
            return
        if not await asyncio.to_thread(self._ledger.seen, delivery.delivery_id):
            await self._sink.deliver(delivery)
            await asyncio.to_thread(self._ledger.remember, delivery.delivery_id, delivery.notification_id)
            self.delivered += 1
        # Sent again after a redelivery too: the gateway records a receipt once per delivery.
        await producer.send_and_wait(
            RECEIPTS_TOPIC, self._sign(delivery, "delivered"), key=delivery.delivery_id.encode()
        )
        if self._on_delivered is not None:
            await self._on_delivered(delivery)

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes], exc: RejectedMessage
    ) -> None:
        self.dead_lettered += 1
        log.warning("dead-lettered offset %s: %s", record.offset, exc.reason)
        headers = [
            ("sgb_reason", exc.reason.encode()),
            ("sgb_source_topic", record.topic.encode()),
            ("sgb_source_offset", str(record.offset).encode()),
        ]
        await producer.send_and_wait(
            dead_letter_topic(self.agency_id), record.value or b"", key=record.key, headers=headers
        )

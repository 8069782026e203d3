"""The agency consumer loop: read own inbox, open, hand to the sink, then commit and send a receipt.

The offset is committed only after the sink has the message, so a crash redelivers rather than
loses; the ledger and the idempotent sinks make that redelivery harmless. A record that can never be
delivered (bad signature, sealed for someone else, invalid) goes to the agency's own dead-letter
topic with the reason, and the loop carries on. So does a delivery the agency's system refuses for
good (`SinkRejected`: reason `sink_refused`, the status only, no `delivered` receipt; counted and
logged as `SINK REFUSED` for alerting), so that it does not hold up the records behind it; a sink
that fails otherwise (down, busy, misconfigured) is retried, in order, until it takes the record.

A record the consumer lacks the key for is not a bad record, since only the broker's relay may write
to an agency's inbox: signed with a broker key it does not hold (`UnknownBrokerKey`, naming the key,
whether the envelope, the notice or the checkpoint it carries is so signed), or sealed (under a valid
broker signature) to an agency key its key directory does not hold even after reloading it, it stops
the consumer with a `ConfigurationError`, uncommitted, until the operator installs the key.

A record with the notice content type is the broker's signed withdrawal, correction or erasure of a
delivery: the sink removes that delivery, the ledger remembers it (so the delivery is never handed
over if it arrives later) and a signed `withdrawn` or `erased` receipt goes back.

A recalled delivery read again (the ledger remembers the recall, or, with the ledger lost, the sink
refuses it for its tombstone) is not handed over and gets no receipt at all: `delivered` would tell
the broker's record that the agency holds what it removed, and the `withdrawn` or `erased` receipt
belongs to the notice, which follows the delivery on its partition and is read again too. The record
is committed, counted (`recalled_not_delivered`) and logged with outcome `not_delivered`.

Before a record is opened, the checkpoint of the decision log it carries is shown to the agency's
witness (`consumers.witness`). A checkpoint that contradicts the one the agency kept is not a bad
record but a broken log: the consumer stops there, commits nothing and dead-letters nothing (so the
record is read again once people have looked), logs the alarm with its evidence and ends `run` by
raising `WitnessAlarm` (the command exits with status 3).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from consumers.errors import (
    ConfigurationError,
    DeliveryWithdrawn,
    RejectedMessage,
    SinkError,
    SinkRejected,
    UnknownBrokerKey,
    WitnessAlarm,
)
from consumers.kafka_session import KafkaPlace, keep_connected
from consumers.ledger import Ledger
from consumers.opener import UNKNOWN_SIGNING_KEY
from consumers.sinks import Delivery, Sink
from schemas.envelope import SealedEnvelope
from schemas.notice import NOTICE_CONTENT_TYPE, Notice
from schemas.topics import DEFAULT_NAMESPACE, dead_letter_topic, inbox_topic, receipts_topic

log = logging.getLogger("consumers.runner")

Opener = Callable[[bytes], Delivery]
ReceiptSigner = Callable[[Delivery, str], bytes]
NoticeReader = Callable[[bytes], Notice]
# The Kafka header carrying the decision log's latest signed checkpoint (broker/sharing/seal.py).
CHECKPOINT_HEADER = "sgb_checkpoint"
# The dead-letter reason of a delivery the agency's own system refused for good.
SINK_REFUSED: Final = "sink_refused"


class Witness(Protocol):
    async def observe(self, note: str, *, source: Mapping[str, object]) -> None: ...


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
        namespace: str = DEFAULT_NAMESPACE,
        witness: Witness | None = None,
        read_notice: NoticeReader | None = None,
        sign_notice_receipt: Callable[[Notice], bytes] | None = None,
    ) -> None:
        self.agency_id = agency_id
        self._inbox = inbox_topic(agency_id, namespace=namespace)
        self._dead_letters = dead_letter_topic(agency_id, namespace=namespace)
        self._receipts = receipts_topic(namespace=namespace)
        self._group = group_id
        self._kafka = kafka_config
        self._place = KafkaPlace(
            principal=str(kafka_config.get("sasl_plain_username", agency_id)),
            bootstrap=str(kafka_config.get("bootstrap_servers", "")),
            namespace=namespace,
            group=group_id,
        )
        self._open = opener
        self._sink = sink
        self._ledger = ledger
        self._sign = sign_receipt
        self._on_delivered = on_delivered
        self._witness = witness
        self._read_notice = read_notice
        self._sign_notice_receipt = sign_notice_receipt
        self.delivered = 0
        self.dead_lettered = 0
        self.withdrawn = 0
        # Recalled deliveries read again and, rightly, neither handed over nor receipted.
        self.recalled_not_delivered = 0
        # Deliveries the agency's system refused for good: parked (also counted in `dead_lettered`).
        self.sink_refused = 0
        # Set when the log contradicted what this agency kept: the consumer is unhealthy and has stopped.
        self.alarm: WitnessAlarm | None = None

    @property
    def healthy(self) -> bool:
        return self.alarm is None

    async def run(self, stop: asyncio.Event, *, retry_seconds: float = 1.0, most_seconds: float = 30.0) -> None:
        """Consume until `stop` is set; raise `WitnessAlarm` and stop on a broken log.

        After a Kafka error (unreachable, or refusing the login, the group or a topic) it logs what
        failed and which setting to check, and connects again after `retry_seconds`, doubling to
        `most_seconds` while the failures go on (`consumers.kafka_session`). Anything else stops the
        consumer: its offsets stay put.
        """
        try:
            await keep_connected(
                lambda: self._consume(stop),
                stop=stop,
                place=self._place,
                name=f"consumer {self.agency_id}",
                log=log,
                initial=retry_seconds,
                most=most_seconds,
            )
        except WitnessAlarm as exc:
            self.alarm = exc
            # One line an operator's alerting can match, with the evidence as JSON (no case data in it).
            log.critical(
                "WITNESS ALARM agency=%s reason=%s %s evidence=%s",
                self.agency_id,
                exc.reason,
                exc,
                json.dumps(exc.evidence, sort_keys=True, default=str),
                extra={"witness_alarm": {"agency_id": self.agency_id, "reason": exc.reason, **exc.evidence}},
            )
            raise

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self._inbox,
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            **self._kafka,
        )
        producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **self._kafka)
        try:
            await producer.start()
            await self._check_topics(producer)
            await consumer.start()
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=100)
                for partition, records in batch.items():
                    await self._partition(consumer, producer, partition, records, stop)
        finally:
            await producer.stop()
            await consumer.stop()

    async def _check_topics(self, producer: AIOKafkaProducer) -> None:
        # This principal may not create topics; without these, every dead letter and receipt would
        # block until a timeout, so refuse to start and say what the operator must create.
        metadata = await producer.client.fetch_all_metadata()
        missing = {self._receipts, self._dead_letters} - set(metadata.topics())
        if missing:
            # A principal sees only the topics it is granted, so a wrong namespace looks the same.
            raise ConfigurationError(
                f"topics {sorted(missing)} do not exist or this agency may not use them: check "
                "CONSUMER_TOPIC_NAMESPACE (it must equal the gateway's SGB_TOPIC_NAMESPACE); the operator "
                "creates the topics and grants them"
            )

    async def _partition(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        partition: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
        stop: asyncio.Event,
    ) -> None:
        for record in records:
            if stop.is_set():
                return  # the rest were not committed, so the next start reads them again
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
        """Deliver one record, or park it on the dead-letter topic; raises SinkError to retry.

        Raises `WitnessAlarm` before anything else happens if the record's checkpoint contradicts the kept one.
        """
        note = _header(record, CHECKPOINT_HEADER)
        if self._witness is not None and note is not None:
            source = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
            await self._witness.observe(note, source=source)
        if _header(record, "content-type") == NOTICE_CONTENT_TYPE:
            await self._notice(producer, record)
            return
        try:
            delivery = self._open(record.value or b"")
        except RejectedMessage as exc:
            await self._dead_letter(producer, record, _refuse_unknown_key(exc, record.value or b"", notice=False))
            return
        if await asyncio.to_thread(self._ledger.withdrawn, delivery.delivery_id):
            self._not_delivered(delivery, kind=None)
            return
        if not await asyncio.to_thread(self._ledger.seen, delivery.delivery_id):
            # After a crash between the sink and the ledger the sink itself refuses the repeat.
            try:
                handed = await self._sink.deliver(delivery)
            except DeliveryWithdrawn as exc:
                # The ledger is left alone: it records what was handed over, and this was not.
                self._not_delivered(delivery, kind=exc.kind)
                return
            except SinkRejected as exc:
                await self._refused(producer, record, delivery, exc)
                return
            if handed:
                self.delivered += 1
            await asyncio.to_thread(self._ledger.remember, delivery.delivery_id, delivery.notification_id)
        # Sent again after a redelivery too: the gateway records a receipt once per delivery.
        await producer.send_and_wait(
            self._receipts,
            self._sign(delivery, "delivered"),
            key=delivery.delivery_id.encode(),
            headers=[("content-type", b"application/jwt")],
        )
        if self._on_delivered is not None:
            await self._on_delivered(delivery)

    def _not_delivered(self, delivery: Delivery, *, kind: str | None) -> None:
        """Count and log a recalled delivery read again; ids and the recall's kind only, never content."""
        self.recalled_not_delivered += 1
        reason = kind or "withdrawn"
        log.info(
            "delivery %s not delivered: recalled (%s) before this read; no receipt sent",
            delivery.delivery_id,
            reason,
            extra={
                "outcome": "not_delivered",
                "reason": reason,
                "agency_id": self.agency_id,
                "delivery_id": delivery.delivery_id,
                "notification_id": delivery.notification_id,
            },
        )

    async def _refused(
        self,
        producer: AIOKafkaProducer,
        record: ConsumerRecord[bytes, bytes],
        delivery: Delivery,
        exc: SinkRejected,
    ) -> None:
        """Park a delivery the agency's system refused for good, and say so in a line alerting can match.

        Not remembered in the ledger (it was not handed over), so once the case system is put right,
        the gateway's `POST /v1/deliveries/{id}/republish`, asked as this agency's system, sends it
        again and it is delivered: this agency's Kafka principal can neither read its dead-letter
        topic nor write its inbox. The detail is the system's status, never the payload.
        """
        await self._dead_letter(producer, record, RejectedMessage(SINK_REFUSED, exc.detail))
        self.sink_refused += 1
        log.warning(
            "SINK REFUSED agency=%s delivery=%s (%s): parked on the dead-letter topic, no receipt sent; find out "
            "why the agency's system refused it, put that right, then ask the gateway to send it again: "
            "POST /v1/deliveries/%s/republish with this agency's agency_system token (possible for "
            "SGB_RETENTION_DELIVERED_DAYS, 30 by default, after it was published)",
            self.agency_id,
            delivery.delivery_id,
            exc.detail,
            delivery.delivery_id,
            extra={
                "outcome": SINK_REFUSED,
                "reason": exc.detail,
                "agency_id": self.agency_id,
                "delivery_id": delivery.delivery_id,
                "notification_id": delivery.notification_id,
            },
        )

    async def _notice(self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes]) -> None:
        """Remove the delivery a verified notice names, remember it, and send the signed receipt."""
        if self._read_notice is None or self._sign_notice_receipt is None:
            await self._dead_letter(producer, record, RejectedMessage("unsupported", "this consumer reads no notices"))
            return
        try:
            notice = self._read_notice(record.value or b"")
        except RejectedMessage as exc:
            await self._dead_letter(producer, record, _refuse_unknown_key(exc, record.value or b"", notice=True))
            return
        if not await asyncio.to_thread(self._ledger.notice_done, notice.notice_id):
            # Per notice, not per delivery: an erasure after a withdrawal must still reach the sink
            # before this agency confirms it. Sink first: after a crash between the two, the sink's
            # removal is simply done again.
            await self._sink.withdraw(notice)
            await asyncio.to_thread(
                self._ledger.remember_withdrawal,
                delivery_id=notice.delivery_id,
                notice_id=notice.notice_id,
                kind=notice.kind,
                reason=notice.reason,
            )
            self.withdrawn += 1
            log.info("%s of delivery %s (%s) done", notice.kind, notice.delivery_id, notice.reason)
        await producer.send_and_wait(
            self._receipts,
            self._sign_notice_receipt(notice),
            key=notice.delivery_id.encode(),
            headers=[("content-type", b"application/jwt")],
        )

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord[bytes, bytes], exc: RejectedMessage
    ) -> None:
        log.warning("dead-lettered %s offset %s: %s", record.topic, record.offset, exc)
        headers = [
            ("sgb_reason", exc.reason.encode()),
            ("sgb_detail", exc.detail.encode()),
            ("sgb_source_topic", record.topic.encode()),
            ("sgb_source_partition", str(record.partition).encode()),
            ("sgb_source_offset", str(record.offset).encode()),
        ]
        await producer.send_and_wait(self._dead_letters, record.value or b"", key=record.key, headers=headers)
        self.dead_lettered += 1


def _refuse_unknown_key(exc: RejectedMessage, value: bytes, *, notice: bool) -> RejectedMessage:
    """Stop, uncommitted, on a broker key this consumer does not hold: only the broker's relay may
    write to an agency's inbox, so it is a rotation not yet installed here, not a bad record. Parked
    and committed, a withdrawal or an erasure would be lost for good and the delivery left in place."""
    if exc.reason == UNKNOWN_SIGNING_KEY:
        # It parsed, or the reason would be `malformed`. Only the key id is named: the rest is unverified.
        kid = Notice.from_bytes(value).signing_key_id if notice else SealedEnvelope.from_bytes(value).signing_key_id
        raise UnknownBrokerKey("a notice" if notice else "a record", kid) from exc
    return exc


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            # Undecodable bytes stay visible (and fail the signature check) rather than vanish.
            return bytes(value).decode("utf-8", "replace")
    return None

"""Receipts from agency consumers (`delivered`, `acknowledged`, and `withdrawn` or `erased` after a
notice), recorded in the decision log.

A receipt is a JWT signed with the recipient agency's registered key, and its signature and claims
are checked as an agency's API token's are, except that it is accepted up to a week late and its
`jti` is not burned (a repeat is harmless: each kind is logged once per delivery). Only the agency a
delivery was sealed for may sign its receipts; each receipt is linked to the decision, and an
acknowledgement stops its clocks as of when it was signed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from aiokafka import AIOKafkaConsumer
from sqlalchemy import Engine
from sqlmodel import col, select

import audit
from audit.log import shared_appender
from broker.admission.tokens import verify_token
from broker.db.tables import OutboxRow
from broker.delivery.clocks import stop_clocks
from broker.delivery.events import follow_up
from broker.errors import AuthError, BrokerError
from broker.partnership.registry import Registry
from schemas.topics import DEFAULT_NAMESPACE, receipts_topic, relay_group
from transport.kafka import DEFAULT_TOPIC_SETTINGS, TopicSettings, ensure_topics, running
from transport.supervisor import supervise

log = logging.getLogger("broker.delivery.receipts")

RECEIPT_LEEWAY = timedelta(days=7)
KINDS = {
    "delivered": audit.EventKind.DELIVERED,
    "acknowledged": audit.EventKind.ACKNOWLEDGED,
    # The consumer removed the delivery on the broker's withdrawal/correction or erasure notice.
    "withdrawn": audit.EventKind.WITHDRAWAL_CONFIRMED,
    "erased": audit.EventKind.ERASURE_CONFIRMED,
}


class ReceiptRejected(BrokerError):
    """A receipt that is not signed by the delivery's recipient, or names no known delivery."""


def record_receipt(engine: Engine, registry: Registry, audience: str, token: str) -> bool:
    """Verify one receipt and log it; False if this delivery already has a receipt of that kind."""
    # A receipt is evidence of when it was signed, and may wait on the topic while the gateway is
    # down, so an expired receipt is still accepted for a week; its signature must verify as usual.
    caller = verify_token(token, registry=registry, audience=audience, leeway=RECEIPT_LEEWAY, receipt=True)
    # The signature and standard claims were verified just above; this only reads the extra claims.
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    kind = KINDS.get(str(claims.get("kind")))
    delivery_id = str(claims.get("delivery_id", ""))
    if kind is None:
        raise ReceiptRejected("receipt kind must be delivered, acknowledged, withdrawn or erased")
    # Its entry's insert, the chain head's move and the COMMIT go in one round trip (`audit.one_commit`).
    with audit.one_commit(engine) as session:
        shared_appender(session)  # the chain head before the row, the order every log transaction takes
        # The delivery's outbox row is locked for the rest of the transaction, so two workers that
        # read the same receipt (a rebalance hands a partition over while the old owner is still on
        # it; a consumer re-sends after a crash) take turns: the second then sees the first's entry.
        row = session.exec(select(OutboxRow).where(col(OutboxRow.delivery_id) == delivery_id).with_for_update()).first()
        if row is None or row.recipient_agency != caller.agency_id:
            raise ReceiptRejected("no delivery of that id was sealed for this agency")
        seen = session.exec(
            select(audit.Entry.seq).where(
                col(audit.Entry.delivery_id) == delivery_id, col(audit.Entry.kind) == kind.value
            )
        ).first()
        if seen is not None:
            return False
        draft = follow_up(
            row.log_context,
            delivery_id=delivery_id,
            notification_id=row.notification_id,
            kind=kind,
            actor=caller.subject or caller.agency_id,
            actor_role=caller.role,
            actor_agency=caller.agency_id,
        )
        audit.append(session, [draft])
        if kind is audit.EventKind.ACKNOWLEDGED:
            # Answered when it was signed, not when the gateway got round to it: a receipt that waited
            # on the topic must not make an answer in time look late. Never later than now, as `iat`
            # is the agency's own clock and may run ahead (the week's leeway covers `iat` too).
            answered = min(caller.issued_at, datetime.now(UTC))
            stop_clocks(session, delivery_id, "acknowledged", answered)
    return True


class ReceiptIngester:
    """Reads the namespace's receipts topic (as the relay's principal) and records each receipt once."""

    def __init__(
        self,
        *,
        engine: Engine,
        registry: Registry,
        audience: str,
        kafka_config: dict[str, Any],
        on_recorded: Callable[[], None] | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        topics: TopicSettings = DEFAULT_TOPIC_SETTINGS,
    ) -> None:
        self._engine, self._registry, self._audience = engine, registry, audience
        self._kafka = kafka_config
        self._topic, self._group = receipts_topic(namespace=namespace), relay_group(namespace=namespace)
        self._topic_settings = topics
        self._on_recorded = on_recorded
        self.recorded = 0
        self.rejected = 0

    async def use(self, registry: Registry) -> None:
        """Check receipts against the keys of `registry` from now on (a rotated or revoked agency key)."""
        self._registry = registry

    async def run(self, stop: asyncio.Event) -> None:
        """Record receipts until `stop` is set, reconnecting whenever Kafka goes away. Any other
        failure (the database restarting) is tried again too: uncommitted receipts are read again."""
        await supervise(
            lambda: self._consume(stop),
            stop=stop,
            name="receipts",
            log=log,
            retry_on=(Exception,),
            wait_initial=2.0,
            wait_max=2.0,
        )

    async def _consume(self, stop: asyncio.Event) -> None:
        await ensure_topics(self._kafka, [self._topic], settings=self._topic_settings)
        consumer = AIOKafkaConsumer(
            self._topic,
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self._kafka,
        )
        async with running(consumer):
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=300, max_records=200)
                for partition, records in batch.items():
                    for record in records:
                        await self._handle(record.value or b"")
                    await consumer.commit({partition: records[-1].offset + 1})

    async def _handle(self, value: bytes) -> None:
        try:
            if await asyncio.to_thread(
                record_receipt, self._engine, self._registry, self._audience, value.decode("ascii", "replace")
            ):
                self.recorded += 1
                if self._on_recorded is not None:
                    self._on_recorded()
        except (AuthError, ReceiptRejected) as exc:
            # A forged or misdirected receipt is dropped (and counted), never logged as delivered.
            self.rejected += 1
            log.warning("receipt rejected: %s", exc)

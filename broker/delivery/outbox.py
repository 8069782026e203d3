"""The outbox: sealed deliveries committed with their decisions, waiting for the relay to publish them."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from broker.db.tables import OutboxRow
from broker.delivery.relay import Relay


class Outbox:
    """How deep the outbox is, and the bell that wakes this process's relay (if it runs one)."""

    def __init__(self, *, engine: Engine, relay: Relay | None = None) -> None:
        self._engine = engine
        self.relay = relay

    def depth(self) -> int:
        with Session(self._engine) as session:
            query = select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            return int(session.exec(query).one())

    def wake(self) -> None:
        """New rows were committed: publish now rather than at the next poll."""
        if self.relay is not None:
            self.relay.wakeup.set()

    def kafka_state(self) -> Literal["connected", "disconnected", "not_used"]:
        """What /readyz says of Kafka: this process's relay's connection, or "not_used" when the relay
        runs in a worker (SGB_RUN_RELAY_IN_GATEWAY=false), since then this gateway never connects
        and "disconnected" was read as Kafka being down."""
        if self.relay is None:
            return "not_used"
        return "connected" if self.relay.kafka_connected else "disconnected"

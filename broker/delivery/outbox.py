"""The outbox: sealed deliveries committed with their decisions, waiting for the relay to publish them."""

from __future__ import annotations

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

    def kafka_connected(self) -> bool:
        return self.relay is not None and self.relay.kafka_connected

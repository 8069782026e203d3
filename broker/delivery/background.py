"""The delivery side's long-running tasks: relay, receipt recorder and statutory clocks.

The gateway runs them in its lifespan by default; `python -m broker.worker` runs them alone when
gateways run with `SGB_RUN_RELAY_IN_GATEWAY=false`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from broker.db.tables import OutboxRow
from broker.delivery.clocks import run_scheduler
from broker.delivery.events import record_published
from broker.delivery.receipts import ReceiptIngester
from broker.delivery.relay import Relay
from broker.metrics import Metrics
from broker.partnership.registry import Registry
from broker.settings import BrokerSettings


def build_relay(*, settings: BrokerSettings, engine: Engine, metrics: Metrics,
                read_engine: Engine | None = None) -> Relay:
    def on_published(session: Session, rows: Sequence[OutboxRow], now: datetime) -> None:
        record_published(session, rows)
        metrics.published.inc(len(rows))

    return Relay(
        engine=engine, read_engine=read_engine, kafka_config=kafka_config(settings), on_published=on_published,
        batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
    )


def build_ingester(*, settings: BrokerSettings, engine: Engine, registry: Registry) -> ReceiptIngester:
    return ReceiptIngester(engine=engine, registry=registry, audience=settings.audience,
                           kafka_config=kafka_config(settings))


def delivery_tasks(*, relay: Relay, ingester: ReceiptIngester, engine: Engine, settings: BrokerSettings,
                   metrics: Metrics, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Start the relay, the receipt recorder and the clock scheduler; they end when `stop` is set."""
    return [
        asyncio.create_task(relay.run(stop), name="relay"),
        asyncio.create_task(ingester.run(stop), name="receipts"),
        asyncio.create_task(run_scheduler(engine, stop, every=settings.clock_check_seconds,
                                          on_overdue=metrics.overdue.inc), name="clocks"),
    ]


def kafka_config(settings: BrokerSettings) -> dict[str, Any]:
    from aiokafka.helpers import create_ssl_context

    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": settings.kafka_user,
        "sasl_plain_password": settings.kafka_password.get_secret_value(),
    }
    if settings.kafka_security_protocol == "SASL_SSL":
        config["ssl_context"] = create_ssl_context(
            cafile=str(settings.kafka_ca_file) if settings.kafka_ca_file else None
        )
    return config

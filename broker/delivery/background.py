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
from broker.delivery.events import record_published
from broker.delivery.listener import OutboxListener
from broker.delivery.receipts import ReceiptIngester
from broker.delivery.relay import Relay
from broker.delivery.retention import Retention, keep_purging
from broker.delivery.scheduler import run_scheduler
from broker.metrics import Metrics
from broker.partnership.registry import Registry
from broker.settings import BrokerSettings
from transport.kafka import TopicSettings, client_config


def build_relay(
    *,
    settings: BrokerSettings,
    engine: Engine,
    metrics: Metrics,
    read_engine: Engine | None = None,
) -> Relay:
    def on_published(session: Session, rows: Sequence[OutboxRow], _: datetime) -> None:
        # Takes the chain head lock, which a shredding holds too. A shredding has already queued the
        # erasure notice of every row it found waiting, so a row produced in that instant needs none here.
        record_published(session, rows)

    # PostgreSQL tells the listener of each waiting row and it wakes the relay through this event.
    wakeup = asyncio.Event()
    listens = engine.dialect.name == "postgresql" and settings.relay_listens
    return Relay(
        engine=engine,
        read_engine=read_engine,
        kafka_config=kafka_config(settings),
        on_published=on_published,
        on_committed=metrics.published.inc,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        idle_poll_seconds=settings.relay_idle_poll_seconds,
        gather_seconds=settings.relay_gather_seconds,
        topics=topic_settings(settings),
        wakeup=wakeup,
        listener=OutboxListener(url=engine.url, wake=wakeup) if listens else None,
    )


def build_ingester(*, settings: BrokerSettings, engine: Engine, registry: Registry) -> ReceiptIngester:
    return ReceiptIngester(
        engine=engine,
        registry=registry,
        audience=settings.audience,
        kafka_config=kafka_config(settings),
        namespace=settings.topic_namespace,
        topics=topic_settings(settings),
    )


def delivery_tasks(
    *,
    relay: Relay,
    ingester: ReceiptIngester,
    engine: Engine,
    settings: BrokerSettings,
    metrics: Metrics,
    stop: asyncio.Event,
) -> list[asyncio.Task[None]]:
    """Start the relay, the receipt recorder, the clock scheduler and the retention purge; they end
    when `stop` is set."""
    tasks = [
        asyncio.create_task(relay.run(stop), name="relay"),
        *([asyncio.create_task(relay.listener.run(stop), name="outbox-listener")] if relay.listener else []),
        asyncio.create_task(ingester.run(stop), name="receipts"),
        asyncio.create_task(
            run_scheduler(engine, stop, every=settings.clock_check_seconds, on_overdue=metrics.overdue.inc),
            name="clocks",
        ),
    ]
    if settings.purge_seconds > 0:
        purging = keep_purging(engine, retention_of(settings), stop, every=settings.purge_seconds)
        tasks.append(asyncio.create_task(purging, name="retention"))
    return tasks


def retention_of(settings: BrokerSettings) -> Retention:
    return Retention(
        delivered_days=settings.retention_delivered_days,
        resolved_days=settings.retention_resolved_days,
        idempotency_days=settings.retention_idempotency_days,
    )


def kafka_config(settings: BrokerSettings) -> dict[str, Any]:
    return client_config(
        bootstrap=settings.kafka_bootstrap,
        security_protocol=settings.kafka_security_protocol,
        user=settings.kafka_user,
        password=settings.kafka_password.get_secret_value(),
        ca_file=settings.kafka_ca_file,
    )


def topic_settings(settings: BrokerSettings) -> TopicSettings:
    return TopicSettings(
        partitions=settings.kafka_partitions,
        replication_factor=settings.kafka_replication_factor,
        min_insync_replicas=settings.kafka_min_insync_replicas,
        retention_hours=settings.kafka_topic_retention_hours,
    )

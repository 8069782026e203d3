"""Gauges of stored state, read when Prometheus scrapes rather than tracked on every change.

The outbox, the held store and the clocks are changed by gateways, workers and people's answers
in several processes; counting the rows at scrape time is the one way every process reports the
same numbers; a scrape every 15-60 s costs three counts over small, mostly-resolved tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from broker.db.tables import HeldDelivery, ObligationClock, OutboxRow
from broker.metrics import Metrics

log = logging.getLogger("broker.metrics")


async def keep_refreshing(metrics: Metrics, engine: Engine, stop: asyncio.Event, *, every: float = 15.0) -> None:
    """Refresh the gauges every `every` seconds until `stop` (for the worker, which has no scrape hook)."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(refresh, metrics, engine)
        except Exception:  # the database may be down for a while; the next round retries
            log.warning("metrics refresh failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def refresh(metrics: Metrics, engine: Engine) -> None:
    """Set the outbox, held and overdue gauges from the database (blocking: run it in a thread)."""
    with Session(engine) as session:
        outbox = select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
        held = select(func.count()).select_from(HeldDelivery).where(col(HeldDelivery.resolved_at).is_(None))
        overdue = (
            select(func.count())
            .select_from(ObligationClock)
            .where(col(ObligationClock.overdue_at).is_not(None), col(ObligationClock.stopped_at).is_(None))
        )
        metrics.outbox_depth.set(int(session.exec(outbox).one()))
        metrics.held.set(int(session.exec(held).one()))
        metrics.overdue_clocks.set(int(session.exec(overdue).one()))

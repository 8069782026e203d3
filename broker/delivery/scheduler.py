"""The worker's periodic check: statutory clocks past their due time, and held shares past their expiry.

Both are time passing with nobody acting, so one loop looks at both. Each is its own transaction, so
a failure in one never holds back the other, and each logs what it did in the transaction that did it
(`overdue` entries with the clocks marked, `expired` entries with the held keys destroyed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from broker.delivery import clocks, held

log = logging.getLogger("broker.delivery.scheduler")


async def run_scheduler(
    engine: Engine,
    stop: asyncio.Event,
    *,
    every: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_overdue: Callable[[int], None] | None = None,
) -> None:
    """Check the clocks and the held shares every `every` seconds until stopped."""
    while not stop.is_set():
        try:
            late = await asyncio.to_thread(tick, engine, clock())
            if late and on_overdue is not None:
                on_overdue(late)
        except Exception:  # the next tick retries; a failed check never stops the worker
            log.exception("scheduled check failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def tick(engine: Engine, now: datetime) -> int:
    """One check at `now`: mark late clocks overdue, then expire held shares nobody answered in time;
    return how many clocks went overdue."""
    with Session(engine) as session:
        late = clocks.mark_overdue(session, now)
        session.commit()
    with Session(engine) as session:
        gone = held.expire(session, now=now)
        session.commit()
    if gone:
        log.info("held shares expired unanswered: %d", len(gone))
    return len(late)

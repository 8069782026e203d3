"""The gateway's checkpoint rounds run for a test until one of them is counted as failed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from broker.db.log import DecisionLog


async def failed_rounds(
    decision_log: DecisionLog,
    *,
    every: float,
    carry_every: float = 0,
    meanwhile: Callable[[], object] = lambda: None,
) -> int:
    """Run `keep_checkpoints` until a round fails (5 s at most), doing `meanwhile` once they run; how many failed."""
    failures: list[int] = []
    stop = asyncio.Event()
    rounds = asyncio.create_task(
        decision_log.keep_checkpoints(stop, every=every, carry_every=carry_every, on_failure=lambda: failures.append(1))
    )
    meanwhile()
    for _ in range(250):
        if failures:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await rounds
    return len(failures)

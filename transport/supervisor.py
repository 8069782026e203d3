"""Keep a long-running session going until told to stop, for both sides.

The gateway's relay and receipt recorder and an agency's consumer each run one Kafka session (a
producer or consumer loop) until `stop` is set, and start it again when Kafka or the database fails
under it; the relay's outbox listener does the same with its PostgreSQL connection.
The loop of tries, which errors are tried again and when to log are tenacity's. Two things are ours:
a wait ends the moment `stop` is set, so a worker asked to stop while Kafka is down stops at once
rather than after its back-off; and the back-off starts again from the shortest wait once a session
has run for a while (`Backoff`), which tenacity's waits, counting every try since the start, do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_result, stop_never

# What "Kafka is away" looks like to a client: the broker's own errors, a refused or dropped
# connection, a request that timed out. Logged as a wait, without a traceback.
KAFKA_AWAY: tuple[type[BaseException], ...] = (KafkaError, OSError, TimeoutError)


class Backoff:
    """The wait before the next try: `initial`, doubling with each failure in a row up to `most`. A
    session that ran `settled` seconds before failing was working, so its failure is a first one
    again: a Kafka restart hours after the last one is tried again in `initial`, not in `most`."""

    def __init__(self, *, initial: float, most: float, settled: float, clock: Callable[[], float]) -> None:
        self._initial, self._most, self._settled, self._clock = initial, most, settled, clock
        self._since = clock()
        self._in_a_row = 0

    def started(self) -> None:
        self._since = self._clock()

    def __call__(self, state: RetryCallState) -> float:
        ran = self._clock() - self._since
        self._in_a_row = 1 if ran >= self._settled else self._in_a_row + 1
        return float(min(self._initial * 2 ** (self._in_a_row - 1), self._most))


async def supervise(
    session: Callable[[], Awaitable[None]],
    *,
    stop: asyncio.Event,
    name: str,
    log: logging.Logger,
    retry_on: tuple[type[BaseException], ...] = KAFKA_AWAY,
    wait_initial: float = 0.5,
    wait_max: float = 5.0,
    away: tuple[type[BaseException], ...] = KAFKA_AWAY,
    waiting_for: str = "Kafka",
    settled_seconds: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    report: Callable[[BaseException | None, float], None] | None = None,
) -> None:
    """Run `session` until `stop` is set; after an error in `retry_on`, wait (doubling from
    `wait_initial` to `wait_max`) and run it again. Any other error is raised at once. An error in
    `away` is logged as waiting for `waiting_for`, any other with its traceback, unless `report` says
    what each one means instead (the error, None for a session that ended, and the seconds until the
    next try). A session that ran `settled_seconds` before it failed starts the waits again from
    `wait_initial`."""
    backoff = Backoff(initial=wait_initial, most=wait_max, settled=settled_seconds, clock=clock)

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def once() -> None:
        if not stop.is_set():  # a stop set during the wait ends here, not with another connection
            backoff.started()
            await session()

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if report is not None:
            report(error, state.upcoming_sleep)
            return
        again = f"again in {state.upcoming_sleep:g} s"
        if error is None:
            log.warning("%s session ended before it was stopped; starting it %s", name, again)
        elif isinstance(error, away):
            log.warning("%s waiting for %s: %s; trying %s", name, waiting_for, type(error).__name__, again)
        else:  # e.g. the database restarting: what was not committed is done again
            log.error("%s failed; retrying %s", name, again, exc_info=error)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(retry_on) | retry_if_result(lambda _: not stop.is_set()),
        wait=backoff,
        stop=stop_never,
        sleep=pause,
        before_sleep=before_sleep,
        reraise=True,
    )
    await retrying(once)

"""Keep a long-running session going until told to stop, for both sides.

The gateway's relay and receipt recorder and an agency's consumer each run one Kafka session (a
producer or consumer loop) until `stop` is set, and start it again when Kafka or the database fails
under it; the relay's outbox listener does the same with its PostgreSQL connection.
The tries, the waits between them and their log lines are tenacity's; what is ours is that a wait
ends the moment `stop` is set, so a worker asked to stop while Kafka is down stops at once rather
than after its back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_result, stop_never
from tenacity.wait import wait_exponential

# What "Kafka is away" looks like to a client: the broker's own errors, a refused or dropped
# connection, a request that timed out. Logged as a wait, without a traceback.
KAFKA_AWAY: tuple[type[BaseException], ...] = (KafkaError, OSError, TimeoutError)


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
) -> None:
    """Run `session` until `stop` is set; after an error in `retry_on`, wait (doubling from
    `wait_initial` to `wait_max`) and run it again. Any other error is raised at once. An error in
    `away` is logged as waiting for `waiting_for`, any other with its traceback."""

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def once() -> None:
        if not stop.is_set():  # a stop set during the wait ends here, not with another connection
            await session()

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if error is None:
            log.warning("%s session ended before it was stopped; starting it again", name)
        elif isinstance(error, away):
            log.warning("%s waiting for %s: %s", name, waiting_for, type(error).__name__)
        else:  # e.g. the database restarting: what was not committed is done again
            log.error("%s failed; retrying", name, exc_info=error)

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(retry_on) | retry_if_result(lambda _: not stop.is_set()),
        wait=wait_exponential(multiplier=wait_initial, max=wait_max),
        stop=stop_never,
        sleep=pause,
        before_sleep=before_sleep,
        reraise=True,
    )
    await retrying(once)

"""The sessions' supervisor: a failed session is started again after a wait, a stop ends the
wait at once, and an error it was not told to retry is raised. The sessions here are plain coroutines
that fail as a Kafka client does (`OSError`, `KafkaConnectionError`); the relay, receipt recorder and
consumer run it against the real Kafka in the fault suite, and the outbox listener against PostgreSQL
(tests/broker/test_outbox_listener.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.errors import KafkaConnectionError

from transport.supervisor import supervise

log = logging.getLogger("tests.supervisor")


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the supervisor's own logger said: an earlier test's Kafka client, still closing, may log
    into the capture meanwhile (CI saw aiokafka's "not authorized" error land in one)."""
    return [r.getMessage() for r in caplog.records if r.name == log.name]


class Session:
    """Fails `failures` times in turn, then runs until stopped; counts its starts."""

    def __init__(self, stop: asyncio.Event, failures: list[BaseException]) -> None:
        self.stop, self.failures, self.starts = stop, failures, 0

    async def __call__(self) -> None:
        self.starts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.stop.set()  # the session's own loop would run until this


async def test_a_failed_session_is_started_again_until_it_runs(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    session = Session(stop, [OSError("refused"), KafkaConnectionError("gone"), RuntimeError("database")])
    with caplog.at_level(logging.WARNING, logger=log.name):
        await supervise(session, stop=stop, name="relay", log=log, retry_on=(Exception,), wait_initial=0.001)
    assert session.starts == 4
    ours = [r for r in caplog.records if r.name == log.name]  # as `said`, with each record's level
    levelled = [(r.levelname, r.getMessage()) for r in ours]
    assert levelled == [  # each wait twice the one before, as failures come in a row
        ("WARNING", "relay waiting for Kafka: OSError; trying again in 0.001 s"),
        ("WARNING", "relay waiting for Kafka: KafkaConnectionError; trying again in 0.002 s"),
        ("ERROR", "relay failed; retrying again in 0.004 s"),  # not Kafka: logged with its traceback
    ], levelled
    assert ours[-1].exc_info is not None


async def test_a_stop_during_the_wait_ends_it_without_another_start() -> None:
    stop = asyncio.Event()
    session = Session(stop, [OSError("refused")] * 5)
    running = asyncio.create_task(supervise(session, stop=stop, name="relay", log=log, wait_initial=600, wait_max=600))
    while session.starts == 0:
        await asyncio.sleep(0)
    stop.set()  # ten minutes into its back-off, the worker is told to stop
    await asyncio.wait_for(running, timeout=30)
    assert session.starts == 1


async def test_an_error_not_to_retry_is_raised_at_once() -> None:
    stop = asyncio.Event()
    session = Session(stop, [ValueError("a witness alarm, say")])
    with pytest.raises(ValueError, match="witness alarm"):
        await supervise(session, stop=stop, name="consumer", log=log, retry_on=(OSError,), wait_initial=0.001)
    assert session.starts == 1


async def test_a_session_that_ends_unasked_is_started_again(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    starts = 0

    async def returns_early() -> None:
        nonlocal starts
        starts += 1
        if starts == 3:
            stop.set()

    with caplog.at_level(logging.WARNING, logger=log.name):
        await supervise(returns_early, stop=stop, name="receipts", log=log, wait_initial=0.001)
    assert starts == 3
    assert said(caplog) == [
        "receipts session ended before it was stopped; starting it again in 0.001 s",
        "receipts session ended before it was stopped; starting it again in 0.002 s",
    ]


async def test_another_resource_is_waited_for_by_its_own_name(caplog: pytest.LogCaptureFixture) -> None:
    class ConnectionLost(Exception):  # as psycopg's errors are, to the outbox listener
        pass

    stop = asyncio.Event()
    session = Session(stop, [ConnectionLost("server closed the connection")])
    with caplog.at_level(logging.WARNING, logger=log.name):
        await supervise(
            session,
            stop=stop,
            name="outbox listener",
            log=log,
            retry_on=(ConnectionLost,),
            away=(ConnectionLost,),
            waiting_for="PostgreSQL",
            wait_initial=0.001,
        )
    assert said(caplog) == ["outbox listener waiting for PostgreSQL: ConnectionLost; trying again in 0.001 s"]
    assert session.starts == 2


async def test_a_session_that_ran_a_while_starts_its_waits_again(caplog: pytest.LogCaptureFixture) -> None:
    now = 0.0
    stop = asyncio.Event()
    runs = iter([0.0, 0.0, 0.0, 3600.0, 0.0])  # how long each start runs before it fails: the fourth, an hour

    async def session() -> None:
        nonlocal now
        ran = next(runs, None)
        if ran is None:
            stop.set()  # the sixth start runs until stopped
            return
        now += ran
        raise OSError("refused")

    with caplog.at_level(logging.WARNING, logger=log.name):
        await supervise(
            session, stop=stop, name="relay", log=log, wait_initial=0.001, wait_max=0.004, clock=lambda: now
        )
    waits = [message.rsplit(" in ", 1)[1] for message in said(caplog)]
    # Up to the most, then a first failure again after the hour's run, then doubling again.
    assert waits == ["0.001 s", "0.002 s", "0.004 s", "0.001 s", "0.002 s"], waits

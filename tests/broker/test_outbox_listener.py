"""On PostgreSQL a waiting outbox row wakes the relay (LISTEN/NOTIFY): another process's relay
publishes at once although it polls only every minute, and its listener survives losing its connection."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import psycopg
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import make_url, update

from broker.db.provisioning import migrate
from broker.db.tables import OutboxRow
from broker.delivery.listener import APPLICATION_NAME, CHANNEL, OutboxListener, conninfo
from broker.delivery.relay import Relay
from tests.broker.conftest import Gateway, GatewayFactory
from tests.factories import school_referral

pytestmark = pytest.mark.stack


def _notified(connection: psycopg.Connection[tuple[object, ...]], seconds: float = 5.0) -> bool:
    return any(True for _ in connection.notifies(timeout=seconds, stop_after=1))


async def test_a_decision_in_one_process_is_published_by_another_without_waiting_for_its_poll(
    gateway_factory: GatewayFactory, postgres_url: str
) -> None:
    deciding: Gateway = await gateway_factory(database_url=postgres_url, run_relay_in_gateway=False)
    # The relay of another process, which polls only once a minute: only the notification wakes it.
    relaying: Gateway = await gateway_factory(
        database_url=postgres_url, relay_poll_seconds=60.0, relay_idle_poll_seconds=60.0
    )
    relay = relaying.outbox.relay
    assert relay is not None
    listener = relay.listener
    assert listener is not None
    # One look, counted, once the listener listens (its own first wake-up is set by then): after it the
    # relay waits with no wake-up pending, and only a notification can make it look within the minute.
    looks = _counted_looks(relay)
    await _until(lambda: listener.listening)
    looked = len(looks)
    relay.wakeup.set()
    await _until(lambda: len(looks) > looked and not relay.wakeup.is_set())
    started = time.monotonic()
    assert (await deciding.post(school_referral())).status_code == 202
    while await asyncio.to_thread(relaying.outbox.depth) > 0:
        assert time.monotonic() - started < 20, "the relay was not woken"
        await asyncio.sleep(0.05)


async def test_only_a_waiting_row_notifies(gateway_factory: GatewayFactory, postgres_url: str) -> None:
    gateway: Gateway = await gateway_factory(database_url=postgres_url, run_relay_in_gateway=False)
    with psycopg.connect(conninfo(make_url(postgres_url)), autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        assert (await gateway.post(school_referral())).status_code == 202
        assert _notified(listening), "a new delivery must notify"
        with gateway.engine.begin() as connection:
            connection.execute(update(OutboxRow).values(published_at=datetime.now(UTC)))
        assert not _notified(listening, seconds=1.0), "a published row must not"
        with gateway.engine.begin() as connection:
            connection.execute(update(OutboxRow).values(published_at=None))
        assert _notified(listening), "a row waiting again (a redelivery) must notify"


async def test_the_listener_wakes_the_relay_and_listens_again_after_losing_its_connection(postgres_url: str) -> None:
    await asyncio.to_thread(migrate, postgres_url)
    wake, stop = asyncio.Event(), asyncio.Event()
    listener = OutboxListener(url=make_url(postgres_url), wake=wake, retry_seconds=0.2)
    task = asyncio.create_task(listener.run(stop))
    try:
        with psycopg.connect(conninfo(make_url(postgres_url)), autocommit=True) as other:
            for _ in range(2):
                await _until(lambda: listener.listening)
                wake.clear()
                other.execute(f"SELECT pg_notify('{CHANNEL}', '')")
                await asyncio.wait_for(wake.wait(), timeout=10)
                # Its connection is cut, as when PostgreSQL restarts: it must connect and listen again.
                other.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND datname = current_database()",
                    (APPLICATION_NAME,),
                )
                await _until(lambda: not listener.listening)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


def _counted_looks(relay: Relay, *, empty: bool = True) -> list[int]:
    """How many rows each of the relay's looks from now on published (`empty`: looks that found none too)."""
    looks: list[int] = []
    publish_once = relay.publish_once

    async def counted(producer: AIOKafkaProducer) -> int:
        n = await publish_once(producer)
        if n or empty:
            looks.append(n)
        return n

    relay.publish_once = counted  # type: ignore[method-assign]
    return looks


async def _until(condition: object, seconds: float = 20.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_deliveries_committed_close_together_go_out_in_one_batch(
    gateway_factory: GatewayFactory, postgres_url: str
) -> None:
    """A row waking an idle relay leaves at once; the rows that follow it within the gather window
    go together in the next look (each look that publishes is a log transaction)."""
    gather = 3.0
    gateway: Gateway = await gateway_factory(database_url=postgres_url, relay_gather_seconds=gather)
    relay = gateway.outbox.relay
    assert relay is not None
    await _until(lambda: relay.listener is not None and relay.listener.listening)
    published = _counted_looks(relay, empty=False)
    # Looks that found nothing (its start, its listener's first wake-up) hold nothing back.
    started = time.monotonic()
    assert (await gateway.post(school_referral())).status_code == 202
    await _until(lambda: published == [2])
    first = time.monotonic() - started
    # Two shared recipients each: the two posted, one after the other (so each commits alone and
    # wakes the relay), inside the window after that look go out together.
    for _ in range(2):
        assert (await gateway.post(school_referral())).status_code == 202
    inside = time.monotonic() - started - first
    await _until(lambda: sum(published) == 6)
    assert published == [2, 4], f"the second pair took {inside:.2f} s of a {gather} s window"
    assert first < gather, "the first delivery waited for a window it should not have"

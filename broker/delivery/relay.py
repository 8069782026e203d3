"""The relay: publishes committed outbox rows to the agencies' Kafka inboxes.

Only rows whose decision is already durably logged exist in the outbox, so nothing reaches Kafka
without a record (golden rule 7, write-ahead). One relay publishes at a time, held by a lease row in
the database. If Kafka is down the rows wait; after a crash between publishing and marking, a row is
published again with the same bytes, and consumers drop the repeat by delivery id.

An envelope stored under a case key is decrypted just before it is produced. A row whose case was
shredded is never published: the relay marks it done without producing it and logs nothing (the
shredding already logged it). So is a row whose stored copy was emptied (withdrawn, or past retention)
yet queued again: there is nothing left to send, and the withdrawal or purge logged it. A row that
cannot be opened for any other reason is kept waiting and reported, as a tampered one is, so one bad
row never stops the rows behind it. Between the relay reading a batch and a shredding committing, a row
can still go out; its `published` entry then follows the `shredded` one, so the log shows it. Its
erasure notice was queued by the shredding, which notices every row it finds waiting: this relay may
have produced it already, or produced it in a batch that then failed and will never be marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from audit.commit import one_commit
from audit.log import shared_appender, transient
from broker.db.tables import OutboxRow, RelayLease
from broker.delivery.case_keys import CASE_KEYS, CaseShredded, opened
from transport.kafka import DEFAULT_TOPIC_SETTINGS, TopicSettings, ensure_topics
from transport.supervisor import supervise

log = logging.getLogger("broker.delivery.relay")

LEASE = "relay"
# What `_pending` gives instead of an envelope: a row to mark done unpublished (its copy was shredded
# or emptied), a row to leave waiting.
_DESTROYED, _TAMPERED = object(), object()
# Write-ahead durability (idempotent, every in-sync replica) with the client's own batching. A batch
# holds up to 1 MiB, under Kafka's default 1 MiB message limit: aiokafka's 16 KiB default fits two
# ~6 KB envelopes, so each batch of the outbox went out as a hundred small requests (issue #17
# measured 1,212 records/s against 11,334/s with 1 MiB batches on the same broker).
PRODUCER_OPTIONS: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "request_timeout_ms": 10_000,
    "linger_ms": 2,
    "max_batch_size": 1 << 20,
}
PublishedHook = Callable[[Session, Sequence[OutboxRow], datetime], None]
CommittedHook = Callable[[int], None]

# Core statements on the tables, once per look: through the ORM (its loading, bulk-update and compile
# machinery) reading two waiting rows took more than twice the CPU, and marking them a quarter more.
_OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]
_WAITING = (
    select(_OUTBOX, CASE_KEYS.c.key.label("case_key"))
    .outerjoin(CASE_KEYS, CASE_KEYS.c.id == _OUTBOX.c.case_key_id)
    .where(_OUTBOX.c.published_at.is_(None))
    .order_by(_OUTBOX.c.id)
    .limit(bindparam("batch"))
)
_MARK = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.published_at.is_(None))
    .values(published_at=bindparam("now"))
    .returning(_OUTBOX.c.id)
)


class WakeSource(Protocol):
    """Something that sets the relay's `wakeup` event when a row waits (`broker.delivery.listener`)."""

    @property
    def listening(self) -> bool: ...

    async def run(self, stop: asyncio.Event) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class Relay:
    """Moves outbox rows to Kafka; run one `run()` task per process, one active per deployment."""

    def __init__(
        self,
        *,
        engine: Engine,
        kafka_config: dict[str, Any],
        read_engine: Engine | None = None,
        on_published: PublishedHook,
        on_committed: CommittedHook | None = None,
        batch_size: int = 200,
        poll_seconds: float = 0.05,
        idle_poll_seconds: float | None = None,
        gather_seconds: float = 0.0,
        lease_seconds: float = 15.0,
        topics: TopicSettings = DEFAULT_TOPIC_SETTINGS,
        wakeup: asyncio.Event | None = None,
        listener: WakeSource | None = None,
    ) -> None:
        self._engine = engine
        # The pending rows are read without taking SQLite's write lock (the gateway's log writer
        # holds it while it commits); marking them published still goes through `engine`.
        self._read_engine = read_engine or engine
        self._kafka_config = kafka_config
        self._on_published = on_published
        # Told how many rows went out once their `published` entries have committed, so a count
        # (a metric) never includes a batch whose transaction rolled back and goes out again.
        self._on_committed = on_committed
        self._batch_size = batch_size
        self._poll = poll_seconds
        # While `listener` listens (PostgreSQL tells it of each waiting row and it sets `wakeup`), the
        # poll is only a fallback and may be slow. The listener is built with the same event.
        self._idle_poll = idle_poll_seconds if idle_poll_seconds is not None else poll_seconds
        self.listener = listener
        self._gather = gather_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._lease_until = datetime(2000, 1, 1, tzinfo=UTC)
        # Each row names its inbox (sealed under the gateway's topic namespace); missing inboxes are
        # created with these settings, and remembered so the admin call is made once per topic.
        self._topic_settings = topics
        self._topics: set[str] = set()
        self.kafka_connected = False
        self.wakeup = wakeup if wakeup is not None else asyncio.Event()
        # Rows whose ciphertext fails its tag under a live key (changed in the database): kept
        # waiting, never published or dropped, and reported once each.
        self._tampered: set[int | None] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, reconnecting to Kafka whenever it goes away. Any other failure
        (the database briefly away) is tried again too: unpublished rows stay in the outbox."""
        await supervise(lambda: self._session(stop), stop=stop, name="relay", log=log, retry_on=(Exception,))

    async def _session(self, stop: asyncio.Event) -> None:
        producer = AIOKafkaProducer(**PRODUCER_OPTIONS, **self._kafka_config)
        try:
            await producer.start()  # inside the try: a start that fails after connecting is stopped too
            self.kafka_connected = True
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                # Cleared before looking, not after: a row that commits while we look wakes us again.
                self.wakeup.clear()
                looked = loop.time()
                published = await self.publish_once(producer)
                if published >= self._batch_size:
                    continue  # a backlog: the next batch at once
                await _wait_any(stop, self.wakeup, self._idle_poll if self._heard() else self._poll)
                if published:
                    # Each look that publishes is a log transaction, so the next is at least `gather`
                    # later: a row waking an idle relay leaves at once, rows that follow it go together.
                    await _sleep_or_stop(stop, self._gather - (loop.time() - looked))
        finally:
            self.kafka_connected = False
            await producer.stop()

    def _heard(self) -> bool:
        return self.listener is not None and self.listener.listening

    async def publish_once(self, producer: AIOKafkaProducer) -> int:
        """Publish one batch if this instance holds the lease; return how many rows went out."""
        if not await asyncio.to_thread(self._hold_lease):
            return 0
        pending = await asyncio.to_thread(self._pending)
        ready = [(row, value) for row, value in pending if isinstance(value, bytes)]
        destroyed = [row for row, value in pending if value is _DESTROYED]
        if not ready and not destroyed:
            return 0
        await self._ensure_topics({row.topic for row, _ in ready})
        futures = [
            await producer.send(
                row.topic,
                value=value,
                key=row.key.encode(),
                headers=[(name, header.encode()) for name, header in row.headers.items()],
            )
            for row, value in ready
        ]
        await asyncio.gather(*futures)
        await asyncio.to_thread(self._mark_published, [row for row, _ in ready], destroyed)
        return len(ready) + len(destroyed)

    def _hold_lease(self) -> bool:
        now = _now()
        # Renew only when half the lease has gone, so an idle relay does not write every poll.
        if now < self._lease_until - self._lease / 2:
            return True
        until = now + self._lease
        with Session(self._engine) as session:
            # One conditional UPDATE, not read-then-write: two relays that both saw an expired lease
            # would both have taken it (PostgreSQL re-checks this WHERE once the first commits, so
            # the second now updates nothing and stays standby).
            taken = session.execute(
                update(RelayLease)
                .where(
                    col(RelayLease.name) == LEASE,
                    (col(RelayLease.holder) == self._holder) | (col(RelayLease.expires_at) < now),
                )
                .values(holder=self._holder, expires_at=until)
            )
            if taken.rowcount == 0:  # type: ignore[attr-defined]
                if session.get(RelayLease, LEASE) is not None:
                    return False
                session.add(RelayLease(name=LEASE, holder=self._holder, expires_at=until))
            try:
                session.commit()
            except IntegrityError:  # another relay created the lease first: it holds it
                return False
        self._lease_until = until
        return True

    def _pending(self) -> list[tuple[OutboxRow, bytes | object]]:
        """The next rows with what to publish for each: the envelope, `_DESTROYED` or `_TAMPERED`."""
        with self._read_engine.connect() as connection:
            found = connection.execute(_WAITING, {"batch": self._batch_size}).all()
        waiting = []
        for values in found:
            columns = dict(values._mapping)
            key = columns.pop("case_key")
            row = transient(OutboxRow, columns)
            waiting.append((row, self._envelope(row, key)))
        return waiting

    def _envelope(self, row: OutboxRow, key: bytes | None) -> bytes | object:
        # Withdrawal and retention empty a row in place; a republish racing them (or any other path)
        # can queue it again, and it must neither go out empty nor fail the whole batch.
        if not row.envelope:
            return _DESTROYED
        try:
            return opened(row, key)
        except CaseShredded:
            return _DESTROYED
        # ValueError: AES-GCM refuses the nonce (missing or the wrong length), so not ours as stored.
        except (InvalidTag, ValueError):
            if row.id not in self._tampered:
                self._tampered.add(row.id)
                log.error("outbox row %s does not decrypt under its case key; it is kept, not published", row.id)
            return _TAMPERED

    def _mark_published(self, rows: Sequence[OutboxRow], destroyed: Sequence[OutboxRow] = ()) -> None:
        """Mark published rows (logging them) and shredded or emptied rows (done, never produced: not logged)."""
        now = _now()
        ids = [row.id for row in rows] + [row.id for row in destroyed]
        # Committed as the group commit commits: the chain head is locked from the first append, and the
        # entries' insert, the head's move and the COMMIT go in one round trip.
        with one_commit(self._engine) as session:
            # The chain head before the rows, the order the group commit takes them in: a withdrawal or
            # shredding there holds the head and then changes these rows, so the other order could
            # deadlock on PostgreSQL.
            shared_appender(session)
            marked = set(session.scalars(_MARK, {"ids": ids, "now": now}))
            # Only the rows this relay marked get a `published` entry: a row another relay marked
            # first (a lease that ran out mid-batch) is already logged, and must not be logged twice.
            logged = [row for row in rows if row.id in marked]
            self._on_published(session, logged, now)
        if self._on_committed is not None and logged:
            self._on_committed(len(logged))

    async def _ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._topics
        if not missing:
            return
        await ensure_topics(self._kafka_config, missing, settings=self._topic_settings)
        self._topics |= missing


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _wait_any(stop: asyncio.Event, wakeup: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wakeup.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()

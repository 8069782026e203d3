"""Everything the gateway holds for its lifetime, opened in the lifespan and closed after it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka.helpers import create_ssl_context
from sqlalchemy import Engine, func, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

import audit
from broker.admission.tokens import DEFAULT_LEEWAY, Caller, SeenToken, remember_jti, replay_key
from broker.db import migration
from broker.db.tables import OutboxRow
from broker.delivery.calendar import DueUnit, WorkingCalendar
from broker.delivery.clocks import run_scheduler
from broker.delivery.receipts import ReceiptIngester
from broker.delivery.relay import Relay
from broker.metrics import Metrics
from broker.partnership.keys import BrokerKeys, load_broker_keys
from broker.partnership.registry import Registry, load_registry
from broker.settings import BrokerSettings
from broker.sharing.policy import PolicyEngine

log = logging.getLogger("broker.runtime")


@dataclass
class Runtime:
    settings: BrokerSettings
    engine: Engine
    keys: BrokerKeys
    registry: Registry
    policy: PolicyEngine
    batcher: audit.AppendBatcher
    signer: audit.Signer
    calendar: WorkingCalendar
    metrics: Metrics = field(default_factory=Metrics)
    relay: Relay | None = None
    receipts: ReceiptIngester | None = None
    checkpoint_note: str | None = None
    # Reads that must not queue behind the log's writer (SQLite: BEGIN DEFERRED in WAL, never the
    # write lock). None: read through `engine`.
    read_engine: Engine | None = None
    _revision: tuple[Registry, str] | None = field(default=None, init=False, repr=False)
    _burner: TokenBurner | None = field(default=None, init=False, repr=False)

    @property
    def token_burner(self) -> TokenBurner:
        if self._burner is None:
            self._burner = TokenBurner(self.engine)
        return self._burner

    @property
    def registry_revision(self) -> str:
        """This registry's revision, hashed once per registry object (it hashes the whole registry)."""
        cached = self._revision
        if cached is None or cached[0] is not self.registry:
            cached = self._revision = (self.registry, self.registry.revision)
        return cached[1]

    @property
    def reader(self) -> Engine:
        return self.read_engine or self.engine

    def relay_connected(self) -> bool:
        return self.relay is not None and self.relay.kafka_connected

    def outbox_depth(self) -> int:
        with Session(self.engine) as session:
            query = select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            return int(session.exec(query).one())

    async def load_registry_into_policy(self) -> None:
        await self.policy.push_registry(self.registry.to_opa_data())

    def refresh_checkpoint(self) -> None:
        """Sign a checkpoint of the log as it is now (cheap when nothing was appended)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            checkpoint = audit.write_checkpoint(session, self.signer)
        self.checkpoint_note = checkpoint.note

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wakeup.set()


class TokenBurner:
    """Group commit for token ids: requests admitted together burn their jtis in one transaction.

    Each jti is still committed before its request goes on (``burn`` returns after the commit), and
    each is inserted under its own SAVEPOINT (`remember_jti`), so a replayed jti fails only its own
    request. What changes is that concurrent admissions share one BEGIN IMMEDIATE/COMMIT and one
    worker-thread hop instead of taking SQLite's write lock once each.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 500) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[tuple[Caller, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def burn(self, caller: Caller) -> None:
        """Record `caller`'s jti (committed on return), or raise ReplayError if it was used before."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((caller, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="jti-burner")
        await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                outcomes = await asyncio.to_thread(self._commit, [caller for caller, _ in batch])
            except Exception as exc:  # the commit itself failed: every request in the batch fails
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)

    def _commit(self, callers: list[Caller]) -> list[Exception | None]:
        # Fast path: one multi-row insert. Any conflict (a replay, or the same jti twice in this
        # batch) rolls it back and the batch is redone one SAVEPOINT per token, so only it fails.
        try:
            with Session(self._engine) as session:
                session.add_all([SeenToken(jti=replay_key(c), expires_at=c.expires_at + DEFAULT_LEEWAY)
                                 for c in callers])
                session.commit()
            return [None] * len(callers)
        except SQLAlchemyError:
            pass
        outcomes: list[Exception | None] = []
        with Session(self._engine) as session:
            for caller in callers:
                try:
                    remember_jti(session, caller)
                    outcomes.append(None)
                except Exception as exc:  # ReplayError (its savepoint rolled back) or a database error
                    outcomes.append(exc)
            session.commit()
        return outcomes


def prepare_database(engine: Engine) -> None:
    """Migrate the log (audit's Alembic history) and the gateway's own tables (broker's history)."""
    with migration.exclusive(engine):
        audit.upgrade(engine)
        migration.upgrade(engine)


def _now() -> datetime:
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def open_runtime(settings: BrokerSettings) -> AsyncIterator[Runtime]:
    """Open the database, log writer, OPA client and (optionally) the relay; close them after."""
    engine = audit.create_engine_for(settings.database_url)
    read_engine = _read_engine(settings.database_url)
    await asyncio.to_thread(prepare_database, engine)
    keys = load_broker_keys(settings.keys_dir)
    registry = load_registry(settings.registry_file)
    calendar = WorkingCalendar(unclear_days_as=DueUnit(settings.unclear_days_unit))
    signer = audit.Signer(settings.log_origin, keys.signing_key)
    policy = PolicyEngine(settings.opa_url, timeout=settings.opa_timeout_seconds, entrypoint=settings.opa_entrypoint)
    async with policy, audit.AppendBatcher(engine) as batcher:
        runtime = Runtime(settings, engine, keys, registry, policy, batcher, signer, calendar,
                          read_engine=read_engine)
        await _load_registry(runtime)
        await asyncio.to_thread(runtime.refresh_checkpoint)
        _settle_garbage_collector()
        async with _background(runtime):
            yield runtime
    engine.dispose()
    if read_engine is not None:
        read_engine.dispose()


_gc_settled = False


def _settle_garbage_collector() -> None:
    """Keep the cyclic GC off the start-up heap and out of the request path (once per process).

    Measured at saturation: full (generation 2) collections re-walked every module, pydantic schema
    and SQLAlchemy structure about once a second for ~110 ms each, with the event loop stopped, and
    GC took ~15% of the gateway's CPU. `gc.freeze()` moves what start-up built (alive now, after a
    collection) out of the collector's view; a larger generation-0 threshold means fewer, cheaper
    passes over each request's short-lived objects. Nothing is leaked: garbage made later is
    collected as before.
    """
    global _gc_settled
    if _gc_settled:
        return
    _gc_settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _read_engine(url: str) -> Engine | None:
    """A second engine for lock-free reads; none for in-memory SQLite (it would be another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return None
    return audit.create_engine_for(url, read_only=True)


async def _load_registry(runtime: Runtime) -> None:
    try:
        await runtime.load_registry_into_policy()
    except Exception as exc:  # OPA may start after us; readiness reloads it, decisions fail closed
        log.warning("registry not loaded into OPA yet: %s", exc)


@contextlib.asynccontextmanager
async def _background(runtime: Runtime) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_checkpoints(runtime, stop), name="checkpoints")]
    if runtime.settings.run_relay_in_gateway:
        runtime.relay = build_relay(runtime.settings, runtime.engine, runtime.metrics,
                                    read_engine=runtime.read_engine)
        tasks.append(asyncio.create_task(runtime.relay.run(stop), name="relay"))
        runtime.receipts = build_ingester(runtime.settings, runtime.engine, runtime.registry)
        tasks.append(asyncio.create_task(runtime.receipts.run(stop), name="receipts"))
        tasks.append(asyncio.create_task(run_scheduler(
            runtime.engine, stop, every=runtime.settings.clock_check_seconds,
            on_overdue=runtime.metrics.overdue.inc), name="clocks"))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _checkpoints(runtime: Runtime, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=runtime.settings.checkpoint_seconds)
        try:
            await asyncio.to_thread(runtime.refresh_checkpoint)
        except Exception:  # the next round retries; a failure here never blocks decisions
            log.exception("checkpoint failed")


def build_relay(settings: BrokerSettings, engine: Engine, metrics: Metrics,
                read_engine: Engine | None = None) -> Relay:
    from broker.delivery.events import record_published

    def on_published(session: Session, rows: Sequence[OutboxRow], now: datetime) -> None:
        record_published(session, rows)
        metrics.published.inc(len(rows))

    return Relay(
        engine=engine, read_engine=read_engine, kafka_config=kafka_config(settings), on_published=on_published,
        batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
    )


def build_ingester(settings: BrokerSettings, engine: Engine, registry: Registry) -> ReceiptIngester:
    return ReceiptIngester(engine=engine, registry=registry, audience=settings.audience,
                           kafka_config=kafka_config(settings))


def kafka_config(settings: BrokerSettings) -> dict[str, Any]:
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

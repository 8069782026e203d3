"""The decision log as the gateway holds it: reads, appends through one group-commit writer, checkpoints.

`audit` owns the log's rows, hashes and proofs; this is the gateway's handle on one database:
a writer engine, a reader that never queues behind the writer (SQLite WAL: BEGIN DEFERRED), the
batcher every append goes through, and the latest signed checkpoint handed out with each answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, make_url
from sqlmodel import Session

import audit
from broker.db import migration

log = logging.getLogger("broker.db.log")


class DecisionLog:
    """One database's log: open it with `DecisionLog.opened(...)`, which migrates first."""

    def __init__(self, *, engine: Engine, reader: Engine | None, batcher: audit.AppendBatcher,
                 signer: audit.Signer) -> None:
        self.engine = engine
        self._reader = reader
        self._batcher = batcher
        self._signer = signer
        self.checkpoint_note: str | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, url: str, *, signer: audit.Signer) -> AsyncIterator[DecisionLog]:
        engine = audit.create_engine_for(url)
        reader = _read_engine(url)
        try:
            await asyncio.to_thread(prepare_database, engine)
            async with audit.AppendBatcher(engine) as batcher:
                decision_log = cls(engine=engine, reader=reader, batcher=batcher, signer=signer)
                await asyncio.to_thread(decision_log.refresh_checkpoint)
                yield decision_log
        finally:
            engine.dispose()
            if reader is not None:
                reader.dispose()

    @property
    def reader(self) -> Engine:
        """Reads that must not wait for the log's write lock; the writer where there is no second engine."""
        return self._reader or self.engine

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._signer.public_key

    @property
    def signer(self) -> audit.Signer:
        return self._signer

    async def append(self, drafts: Sequence[audit.EntryDraft],
                     extra_rows: audit.ExtraRows | None = None) -> list[audit.Entry]:
        """Append entries (and the caller's rows) in one transaction shared with concurrent callers."""
        return await self._batcher.submit(drafts, extra_rows)

    def refresh_checkpoint(self) -> None:
        """Sign a checkpoint of the log as it is now (cheap when nothing was appended)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            checkpoint = audit.write_checkpoint(session, self._signer)
        self.checkpoint_note = checkpoint.note

    async def keep_checkpoints(self, stop: asyncio.Event, *, every: float) -> None:
        """Sign a fresh checkpoint every `every` seconds until `stop`."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
            try:
                await asyncio.to_thread(self.refresh_checkpoint)
            except Exception:  # the next round retries; a failure here never blocks decisions
                log.exception("checkpoint failed")


def prepare_database(engine: Engine) -> None:
    """Migrate the log (audit's Alembic history) and the gateway's own tables (broker's history)."""
    with migration.exclusive(engine):
        audit.upgrade(engine)
        migration.upgrade(engine)


def _read_engine(url: str) -> Engine | None:
    """A second engine for lock-free reads; none for in-memory SQLite (it would be another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return None
    return audit.create_engine_for(url, read_only=True)

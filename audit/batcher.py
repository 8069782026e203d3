"""Group commit: many concurrent requests' entries share one transaction and one fsync.

The gateway submits each request's drafts (and, optionally, a function that adds its own rows,
such as outbox rows, to the same transaction) and awaits the entries. One worker thread commits
whatever has queued up while the previous commit ran, so batching grows with load and costs no
added latency when idle. Each request runs under its own SAVEPOINT: if its extra rows fail, only
that request fails and the others in the batch still commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from audit.commit import one_commit
from audit.errors import BatcherClosed, Pushback
from audit.log import Clock, append, shared_appender, utc_now
from audit.models import Entry, EntryDraft

ExtraRows = Callable[[Session, list[Entry]], None]
"""Adds the caller's own rows (e.g. outbox rows) to the transaction, given the request's entries.

Called after the entries are added to the session (autoflush writes them before any query). It may
be called a second time if another request in its batch fails, so it must only add rows.
"""

Prepare = Callable[[Session, list[object]], None]
"""Reads, once for a whole group commit, what its requests' `ExtraRows` would each read for themselves
(one query instead of one a request), given the `hint` every request of the batch submitted with.

Called with the chain head locked, before any request's rows; what it reads it leaves in the
session (`Session.info`) for them. It must not write: the one-request-at-a-time retry skips it.
"""


@dataclass
class _Request:
    drafts: tuple[EntryDraft, ...]
    extra_rows: ExtraRows | None
    future: asyncio.Future[list[Entry]] = field(repr=False)
    hint: object = None


class AppendBatcher:
    """An asyncio front for :func:`audit.append` that commits concurrent requests together.

    Use as ``async with AppendBatcher(engine) as batcher: entries = await batcher.submit(drafts)``.
    ``submit`` returns once the commit is durable. Cancelling the awaiting task does not withdraw
    the request: once queued, it is committed (or fails) with its batch.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch_entries: int = 1_000,
        max_pending: int = 10_000,
        clock: Clock = utc_now,
        prepare: Prepare | None = None,
    ) -> None:
        self._engine = engine
        self._prepare = prepare
        self._max_batch = max_batch_entries
        self._max_pending = max_pending
        self._clock = clock
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-append")
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        """Number of transactions committed (for metrics)."""

    async def __aenter__(self) -> AppendBatcher:
        self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def start(self) -> None:
        """Start the writer task on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-append-batcher")

    async def stop(self) -> None:
        """Commit what is queued, then stop the writer and its thread."""
        task, self._task = self._task, None
        if task is not None:
            await self._queue.put(None)
            await task
        self._executor.shutdown(wait=True)

    async def submit(
        self, drafts: Sequence[EntryDraft], extra_rows: ExtraRows | None = None, *, hint: object = None
    ) -> list[Entry]:
        """Queue ``drafts`` and the caller's ``extra_rows`` for the next commit; return the entries.

        ``hint``: what this request's rows will read, for the batcher's `Prepare` to read for all.
        """
        if self._task is None:
            raise BatcherClosed("the append batcher is not running")
        if self._queue.qsize() >= self._max_pending:
            raise Pushback(f"{self._max_pending} requests already waiting for the decision log")
        request = _Request(tuple(drafts), extra_rows, asyncio.get_running_loop().create_future(), hint)
        await self._queue.put(request)
        return await request.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            batch, stopping = await self._collect()
            if not batch:
                continue
            try:
                outcomes = await loop.run_in_executor(self._executor, self._commit, batch)
            except Exception as exc:  # the commit itself failed: every request in the batch fails
                outcomes = [exc] * len(batch)
            for request, outcome in zip(batch, outcomes, strict=True):
                if request.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    request.future.set_exception(outcome)
                else:
                    request.future.set_result(outcome)

    async def _collect(self) -> tuple[list[_Request], bool]:
        """Wait for one request, then take whatever else is already queued (up to the batch limit)."""
        first = await self._queue.get()
        if first is None:
            return [], True
        batch, entries = [first], len(first.drafts)
        while entries < self._max_batch and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                return batch, True
            batch.append(item)
            entries += len(item.drafts)
        return batch, False

    def _commit(self, batch: list[_Request]) -> list[list[Entry] | Exception]:
        """Commit the batch in one transaction (runs in the worker thread).

        Fast path: one chain-head lock and update for the whole batch. If anything in it fails,
        retry with a SAVEPOINT per request so that only the failing request fails.
        """
        try:
            outcomes = self._commit_together(batch)
        except Exception:  # some request's rows failed: isolate it (cost paid only on failure)
            outcomes = self._commit_isolated(batch)
        self.batches += 1
        return outcomes

    def _commit_together(self, batch: list[_Request]) -> list[list[Entry] | Exception]:
        outcomes: list[list[Entry] | Exception] = []
        with one_commit(self._engine, clock=self._clock) as session:
            # The chain head is locked first, so what `prepare` reads no shredding can change before the
            # COMMIT (a shredding takes the same lock).
            writer = shared_appender(session)
            if self._prepare is not None:
                self._prepare(session, [request.hint for request in batch if request.hint is not None])
            for request in batch:
                entries = writer.add(request.drafts)
                if request.extra_rows is not None:
                    request.extra_rows(session, entries)
                outcomes.append(entries)
        return outcomes

    def _commit_isolated(self, batch: list[_Request]) -> list[list[Entry] | Exception]:
        outcomes: list[list[Entry] | Exception] = []
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            for request in batch:
                try:
                    with session.begin_nested():
                        entries = append(session, request.drafts, clock=self._clock)
                        if request.extra_rows is not None:
                            request.extra_rows(session, entries)
                        session.flush()
                    outcomes.append(entries)
                except Exception as exc:  # this request alone fails; its savepoint is rolled back
                    outcomes.append(exc)
        return outcomes

"""Replay refusal: a token id is used once, across every gateway worker and host.

The primary key of `seen_token` makes a second use fail in any worker. `TokenBurner` commits the
token ids of requests admitted together in one transaction (group commit). A notification's token id
is instead inserted with its decisions (`insert_burn`), in their transaction: its own commit then
refuses a replay, and a second use in the same worker is refused before any work (`TokenBurner.claim`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Table, delete, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session

from broker.admission.tokens import DEFAULT_LEEWAY, Caller
from broker.db.tables import BrokerTable
from broker.errors import ReplayError

log = logging.getLogger("broker.admission.replay")


class SeenToken(BrokerTable, table=True):
    """A token id already used; the primary key makes a second use fail in any worker."""

    __tablename__ = "seen_token"

    jti: str = Field(primary_key=True, max_length=200)  # "<iss>:<jti>"
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


_SEEN_TOKEN: Table = SeenToken.__table__  # type: ignore[attr-defined]


def replay_key(caller: Caller) -> str:
    """Return the database key of a token: jti is unique per issuer, not across agencies."""
    return f"{caller.agency_id}:{caller.jti}"


def remember_jti(session: Session, caller: Caller, *, leeway: timedelta = DEFAULT_LEEWAY) -> None:
    """Record a verified token's jti, or raise `ReplayError` if any worker recorded it before.

    Runs in a savepoint, so a replay leaves the caller's transaction usable. The caller commits;
    commit promptly (ideally in its own short transaction at admission) so other workers see it.
    The row outlives the token by the leeway, after which the token is refused as expired anyway.
    """
    row = SeenToken(**burn_row(caller, leeway=leeway))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise _used(caller) from exc


def _used(caller: Caller) -> ReplayError:
    return ReplayError(f"token id (jti) {caller.jti!r} was already used: a token is good for one request")


def burn_row(caller: Caller, *, leeway: timedelta = DEFAULT_LEEWAY) -> dict[str, Any]:
    """The `seen_token` row of a verified token, as the group commits insert it."""
    return {"jti": replay_key(caller), "expires_at": caller.expires_at + leeway}


def insert_burn(
    session: Session, caller: Caller, *, write: Callable[[Session, Table, list[dict[str, Any]]], None]
) -> None:
    """Insert `caller`'s jti with the rest of a transaction's rows (`write`: `audit.insert_later` or
    `insert_now`); the transaction then fails on a token any worker has used before.

    Inserted at once (a request retried alone, or a reply), a used jti raises `ReplayError` here. Left
    for later with a group commit's other rows, it fails that commit, whose requests are then retried
    one at a time, so the replay alone is refused.
    """
    try:
        write(session, _SEEN_TOKEN, [burn_row(caller)])
    except IntegrityError as exc:
        raise _used(caller) from exc


def purge_seen_tokens(session: Session, *, now: datetime) -> int:
    """Delete replay records of tokens that can no longer verify; return how many. Caller commits."""
    statement = delete(SeenToken).where(SeenToken.expires_at < now)  # type: ignore[arg-type]
    return int(session.exec(statement).rowcount)


# Claims of tokens that have expired are dropped when this many are held (a few minutes of traffic).
_CLAIMS_BEFORE_PURGE = 50_000


class TokenBurner:
    """Group commit for token ids: requests admitted together burn their jtis in one transaction.

    Each jti is still committed before its request goes on (``burn`` returns after the commit), and
    each is inserted under its own SAVEPOINT (`remember_jti`), so a replayed jti fails only its own
    request. What changes is that concurrent admissions share one BEGIN IMMEDIATE/COMMIT and one
    worker-thread hop instead of taking SQLite's write lock once each.

    It also remembers the token ids this worker has claimed or burned, so a second use here is
    refused without asking the database (`claim`).
    """

    def __init__(self, engine: Engine, *, max_batch: int = 500) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[tuple[Caller, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._claimed: dict[str, datetime] = {}
        self._purge_at = _CLAIMS_BEFORE_PURGE

    def claim(self, caller: Caller) -> None:
        """Refuse a token id this worker has seen before (`ReplayError`), without a database write.

        For a request whose jti is committed later, with its own rows (`insert_burn`): a second use in
        this worker is refused at once, before any work is done for it; a second use in another worker
        is refused when it commits. Remembered until the token can no longer verify.
        """
        self._refuse_seen(caller)
        self._remember(caller)

    def _refuse_seen(self, caller: Caller) -> None:
        if replay_key(caller) in self._claimed:
            raise _used(caller)

    def _remember(self, caller: Caller) -> None:
        if len(self._claimed) >= self._purge_at:
            now = datetime.now(UTC)
            self._claimed = {k: until for k, until in self._claimed.items() if until >= now}
            self._purge_at = max(_CLAIMS_BEFORE_PURGE, 2 * len(self._claimed))
        self._claimed[replay_key(caller)] = caller.expires_at + DEFAULT_LEEWAY

    async def burn(self, caller: Caller) -> None:
        """Record `caller`'s jti (committed on return), or raise ReplayError if it was used before."""
        self._refuse_seen(caller)
        await self._commit_later(caller)
        self._remember(caller)

    async def burn_claimed(self, caller: Caller) -> None:
        """Commit the jti of a token this worker claimed, for a request that ended before its rows were
        committed (refused, invalid, answered from an earlier receipt): ReplayError if another worker
        used it first."""
        await self._commit_later(caller)

    async def _commit_later(self, caller: Caller) -> None:
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
        # A Core insert: the ORM's unit of work cost more than the insert itself.
        rows = [burn_row(c) for c in callers]
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(_SEEN_TOKEN), rows)
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


@dataclass
class OwedBurn:
    """A claimed token id still to be committed: with the request's rows (`insert_burn`, then whoever
    committed them sets `committed`), or on its own when the request ends (`burned_by_the_end`)."""

    caller: Caller
    committed: bool = False


@asynccontextmanager
async def burned_by_the_end(burner: TokenBurner, caller: Caller) -> AsyncIterator[OwedBurn]:
    """Make sure a claimed token id is committed once the block ends, however it ends.

    A request that ends without its rows (refused, invalid, answered from an earlier receipt, or its
    rows' commit failed) commits the jti on its own. If another worker used the token first, the
    answer is that refusal (`ReplayError`), never the block's answer; any other failure to commit the
    jti leaves the block's own error standing, as nothing was shared.
    """
    owed = OwedBurn(caller)
    try:
        yield owed
    except ReplayError:
        raise
    except Exception:
        if not owed.committed:
            try:
                await burner.burn_claimed(caller)
            except ReplayError:
                raise
            except Exception:  # the request's own error is the answer; nothing was shared
                log.warning("could not commit the jti of a request that failed", exc_info=True)
        raise
    if not owed.committed:
        await burner.burn_claimed(caller)
